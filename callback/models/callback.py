"""A visitor's request to be called back, from the click to the end of the call.

`status` follows the state machine in `callback.flow`. Writers compare and set: every
UPDATE names the `version` it read, and the ORM does the same on flush (`version_id_col`),
so two workers or webhooks that race on one callback cannot both win.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..flow import TERMINAL_STATUSES, Status
from .base import Base, one_of, utcnow

if TYPE_CHECKING:
    from .leg import Leg
    from .widget import Widget


def new_callback_id() -> str:
    """The public id: 22 url-safe characters, unguessable, safe to show in status links."""
    return secrets.token_urlsafe(16)


# The status values are the state machine's own (callback.flow), not a copy of them.
CallbackStatus = Status

# A callback in one of these states blocks a duplicate request for the same number.
LIVE_STATUSES = frozenset(status for status in Status if status not in TERMINAL_STATUSES)


class CallbackRequest(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        one_of("status", CallbackStatus),
        # "Is there a live callback for this number on this widget?" on every intake.
        Index("ix_callbacks_widget_id_phone_status", "widget_id", "phone", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_callback_id)
    widget_id: Mapped[int] = mapped_column(ForeignKey("widgets.id", ondelete="RESTRICT"))
    phone: Mapped[str] = mapped_column(String(16))  # E.164
    page_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    page_title: Mapped[str | None] = mapped_column(String(300), default=None)
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.QUEUED.value)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    # sha256 hex of the status token handed to the visitor; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True, default=None
    )
    # The agent leg whose keypress won. No foreign key: legs already reference callbacks,
    # and a cycle would need ALTER TABLE, which SQLite cannot do.
    accepted_leg_id: Mapped[int | None] = mapped_column(Integer, default=None)
    customer_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the dispatcher should act; the sweeper picks due rows whose task was lost.
    due_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    connected_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_s: Mapped[int | None] = mapped_column(Integer, default=None)
    version: Mapped[int] = mapped_column(Integer)

    widget: Mapped[Widget] = relationship()
    legs: Mapped[list[Leg]] = relationship(
        back_populates="callback", order_by="Leg.id", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<CallbackRequest {self.id} {self.status}>"
