"""One carrier call placed for a callback: an agent leg or the customer leg."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, one_of, utcnow

if TYPE_CHECKING:
    from .callback import CallbackRequest


class LegKind(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


class Leg(Base):
    __tablename__ = "legs"
    __table_args__ = (one_of("kind", LegKind),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[str] = mapped_column(
        ForeignKey("callbacks.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True, default=None
    )
    # The carrier's call sid ("CA…"); None between our INSERT and the carrier's answer.
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # The carrier's call status vocabulary (queued, ringing, in-progress, completed, ...).
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # The agent's fencing token for this leg; writes about the agent must match it.
    reservation: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # Highest status-callback SequenceNumber applied; lower or equal ones are stale duplicates.
    last_sequence: Mapped[int] = mapped_column(Integer, default=-1)

    callback: Mapped[CallbackRequest] = relationship(back_populates="legs")

    def __repr__(self) -> str:
        return f"<Leg {self.id} {self.kind} {self.provider_sid} {self.status}>"
