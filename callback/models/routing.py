"""Routing rules: which agents a widget's callbacks ring, in which order, and how."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, one_of, utcnow

if TYPE_CHECKING:
    from .agent import Agent

DEFAULT_WHISPER = "Web callback from {page_title}. Press 1 to connect."


class Strategy(StrEnum):
    ORDERED = "ordered"
    ROUND_ROBIN = "round_robin"
    LONGEST_IDLE = "longest_idle"
    SIMULTANEOUS = "simultaneous"
    HEDGED = "hedged"


class RoutingRule(Base):
    __tablename__ = "routing_rules"
    __table_args__ = (one_of("strategy", Strategy),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    strategy: Mapped[str] = mapped_column(String(16), default=Strategy.HEDGED.value)
    ring_timeout: Mapped[int] = mapped_column(Integer, default=15)  # seconds per agent leg
    hedge_after: Mapped[int] = mapped_column(Integer, default=6)  # seconds before the next leg
    simultaneous_count: Mapped[int] = mapped_column(Integer, default=2)
    max_rounds: Mapped[int] = mapped_column(Integer, default=2)  # passes over the member list
    customer_retry_delay: Mapped[int] = mapped_column(Integer, default=60)  # seconds
    customer_max_attempts: Mapped[int] = mapped_column(Integer, default=2)
    whisper_template: Mapped[str] = mapped_column(Text, default=DEFAULT_WHISPER)
    # Without a keypress an agent's voicemail would "answer" and swallow the customer.
    require_keypress: Mapped[bool] = mapped_column(Boolean, default=True)
    # Position of the member rung last, for round_robin; advanced with a conditional UPDATE.
    round_robin_cursor: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[RuleMember]] = relationship(
        back_populates="rule",
        order_by="RuleMember.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<RoutingRule {self.id} {self.name!r} {self.strategy}>"


class RuleMember(Base):
    """One agent's place in a rule. To reorder, replace the member list (positions are unique)."""

    __tablename__ = "rule_members"
    __table_args__ = (UniqueConstraint("rule_id", "position"),)

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("routing_rules.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)

    rule: Mapped[RoutingRule] = relationship(back_populates="members")
    agent: Mapped[Agent] = relationship()

    def __repr__(self) -> str:
        return f"<RuleMember rule={self.rule_id} agent={self.agent_id} #{self.position}>"
