"""What Callback tells the outside world about a callback: CRM webhooks, SMS and admin email.

`StatusChange` is an outbox row written in the same transaction as the status change it
records (see `services.notifications.outbox`): the database, not the broker, remembers that
someone must still be told. Webhook deliveries are created in that transaction too, one per
endpoint, so their order per callback is the order of the changes. Each delivery attempt is
logged in `WebhookAttempt`. SMS and email share `OutgoingMessage`, whose unique `key` makes
a redelivered task unable to send the same text twice.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, one_of, utcnow


def new_webhook_secret() -> str:
    """The shared HMAC key: shown once when the endpoint is added, stored to sign with."""
    return "whsec_" + secrets.token_urlsafe(32)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # a 4xx, or out of attempts


class MessageChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class MessageKind(StrEnum):
    CONFIRMATION = "confirmation"  # SMS: the callback is scheduled for <time>
    REMINDER = "reminder"  # SMS: the scheduled call is coming up
    APOLOGY = "apology"  # SMS: we could not reach you / nobody could take it
    MISSED_CALLBACK = "missed_callback"  # email to the admins: a callback failed
    UNANSWERED = "unanswered"  # email to the admins: no agent took it, it was rescheduled


class MessageStatus(StrEnum):
    QUEUED = "queued"  # decided, the sending task not yet started
    SENDING = "sending"  # claimed by a task; never sent again (at most once)
    SENT = "sent"  # the carrier or the SMTP server accepted it
    FAILED = "failed"  # refused; `detail` says why
    SKIPPED = "skipped"  # not sent on purpose (no consent, not a mobile, ...): `detail`


class WebhookEndpoint(Base):
    """A CRM's URL that receives every status change: of one widget, or of all (widget None)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    widget_id: Mapped[int | None] = mapped_column(
        ForeignKey("widgets.id", ondelete="CASCADE"), index=True, default=None
    )
    url: Mapped[str] = mapped_column(String(2048))
    # Kept in clear: signing needs it. It is never shown again after creation.
    secret: Mapped[str] = mapped_column(String(128), default=new_webhook_secret)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} widget={self.widget_id}>"


class StatusChange(Base):
    """One status a callback entered, that somebody (CRM, visitor, admin) must hear about."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[str] = mapped_column(
        ForeignKey("callbacks.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    event_type: Mapped[str] = mapped_column(String(64))  # the flow event that caused it
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by the notify task; the sweep re-enqueues rows left unset (a lost task).
    processed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)

    def __repr__(self) -> str:
        return f"<StatusChange {self.id} {self.callback_id} {self.status}>"


class WebhookDelivery(Base):
    """One status change for one endpoint: the same body and id on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "change_id"),
        one_of("status", DeliveryStatus),
        # Deliveries of one callback to one endpoint go out in change order.
        Index("ix_webhook_deliveries_endpoint_id_callback_id", "endpoint_id", "callback_id"),
        # The sweep's "pending and overdue" scan.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    change_id: Mapped[int] = mapped_column(
        ForeignKey("status_changes.id", ondelete="CASCADE"), index=True
    )
    callback_id: Mapped[str] = mapped_column(
        ForeignKey("callbacks.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)  # the exact JSON signed and sent
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the next attempt may start; while one runs, the end of its lease.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    # Lets the delivery be added in the change's own transaction, before either has an id.
    change: Mapped[StatusChange] = relationship()

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} {self.status} after {self.attempts}>"


class WebhookAttempt(Base):
    """The log of one POST: what the receiver answered, how long it took, or what broke."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)  # 1 for the first
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)  # None: no answer
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    retry_in_s: Mapped[int | None] = mapped_column(Integer, default=None)  # None: no retry

    def __repr__(self) -> str:
        return f"<WebhookAttempt {self.delivery_id}#{self.attempt} {self.status_code}>"


class OutgoingMessage(Base):
    """An SMS to the visitor or an email to the admins, decided once and sent at most once."""

    __tablename__ = "outgoing_messages"
    __table_args__ = (
        one_of("channel", MessageChannel),
        one_of("kind", MessageKind),
        one_of("status", MessageStatus),
        Index("ix_outgoing_messages_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "<callback>:<kind>:<promised time>": one confirmation per promised time, one apology.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    callback_id: Mapped[str] = mapped_column(
        ForeignKey("callbacks.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(24))
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    # The time an SMS promises (confirmation, reminder); the reminder sweep compares it.
    promised_at: Mapped[datetime | None] = mapped_column(default=None)
    # Email recipients (comma-separated); SMS go to the callback's own number.
    recipients: Mapped[str | None] = mapped_column(Text, default=None)
    subject: Mapped[str | None] = mapped_column(String(200), default=None)
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.QUEUED.value)
    detail: Mapped[str | None] = mapped_column(String(300), default=None)
    provider_sid: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"<OutgoingMessage {self.id} {self.channel} {self.kind} {self.status}>"
