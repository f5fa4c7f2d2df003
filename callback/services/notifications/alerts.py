"""Email to the admins (ALERT_EMAIL) through SMTP_URL when a callback is missed.

Two occasions: a callback `failed` (a missed lead: someone should call back by hand), and a
callback rescheduled because every agent stayed silent (the team is not picking up). The
number is masked; the link opens the callback's timeline in the admin, where staff who may
see it find the full number. Nothing is sent when ALERT_EMAIL is unset.

SMTP_URL: `smtp://user:password@host:587` (STARTTLS when the server offers it) or
`smtps://…:465` (TLS from the start); `?from=alerts@shop.example` sets the sender.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import flow
from ...models import (
    CallbackRequest,
    MessageChannel,
    MessageKind,
    MessageStatus,
    OutgoingMessage,
    StatusChange,
)
from ...phone import mask
from .. import context
from .outbox import UNANSWERED_EVENT
from .sms import message_key, zone_of

SMTP_TIMEOUT_S = 10


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_url(cls, url: str, public_url: str) -> SmtpServer:
        parsed = urlparse(url)
        tls = parsed.scheme == "smtps"
        sender = parse_qs(parsed.query).get("from", [""])[0]
        host = urlparse(public_url).hostname or "localhost"
        return cls(
            host=parsed.hostname or "localhost",
            port=parsed.port or (465 if tls else 587),
            tls=tls,
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            sender=sender or f"callback@{host}",
        )


def plan_for_change(
    session: Session, callback: CallbackRequest, change: StatusChange, now: datetime
) -> list[int]:
    settings = context.settings()
    if not settings.alert_emails:
        return []
    if change.status == flow.Status.FAILED:
        kind = MessageKind.MISSED_CALLBACK
        promised = None
    elif change.status == flow.Status.SCHEDULED and change.event_type == UNANSWERED_EVENT:
        kind, promised = MessageKind.UNANSWERED, callback.due_at
    else:
        return []
    key = message_key(callback.id, kind.value, promised)
    if session.scalar(select(OutgoingMessage.id).where(OutgoingMessage.key == key)) is not None:
        return []
    subject, body = compose(callback, change, kind, settings.public_url)
    message = OutgoingMessage(
        key=key,
        callback_id=callback.id,
        channel=MessageChannel.EMAIL.value,
        kind=kind.value,
        promised_at=promised,
        recipients=", ".join(settings.alert_emails),
        subject=subject,
        body=body,
        status=MessageStatus.QUEUED.value,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return [message.id]


def compose(
    callback: CallbackRequest, change: StatusChange, kind: MessageKind, public_url: str
) -> tuple[str, str]:
    """Subject and plain-text body. Pure, given the rows."""
    widget = callback.widget
    zone = zone_of(widget)
    requested = callback.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if kind is MessageKind.MISSED_CALLBACK:
        reason = change.reason or "unknown"
        subject = f"Missed callback on {widget.name}: {reason.replace('_', ' ')}"
        opening = (
            f"A callback request could not be completed ({reason}). "
            "The visitor is still waiting to hear from you."
        )
    else:
        promised = callback.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        subject = f"Nobody took a callback on {widget.name}"
        opening = (
            "Every agent on the rule stayed silent, so the callback was rescheduled "
            f"for {promised} ({widget.time_zone})."
        )
    lines = [
        opening,
        "",
        f"Widget:    {widget.name} ({widget.public_key})",
        f"Number:    {mask(callback.phone)}",
        f"Page:      {callback.page_title or '-'} {callback.page_url or ''}".rstrip(),
        f"Requested: {requested} ({widget.time_zone})",
        "",
        f"Timeline and the full number: {public_url}/admin/history/{callback.id}",
    ]
    return subject, "\n".join(lines) + "\n"


def send(message_id: int, recipients: str, subject: str, body: str) -> None:
    """Send one claimed email and record whether the server took it."""
    settings = context.settings()
    error: str | None = None
    if not settings.smtp_url:
        error = "SMTP_URL is not set"
    else:
        server = SmtpServer.from_url(settings.smtp_url, settings.public_url)
        try:
            deliver(server, [r.strip() for r in recipients.split(",") if r.strip()], subject, body)
        except (smtplib.SMTPException, OSError) as failure:
            error = f"{type(failure).__name__}: {failure}"[:300]
    with context.transaction() as session:
        message = session.get_one(OutgoingMessage, message_id)
        message.status = (MessageStatus.FAILED if error else MessageStatus.SENT).value
        message.detail = error
        message.sent_at = None if error else context.now()


def deliver(server: SmtpServer, recipients: list[str], subject: str, body: str) -> None:
    email = EmailMessage()
    email["From"] = server.sender
    email["To"] = ", ".join(recipients)
    email["Subject"] = subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=server.sender.rpartition("@")[2] or None)
    email.set_content(body)
    tls = ssl.create_default_context()
    smtp: smtplib.SMTP
    if server.tls:
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT_S, context=tls)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_S)
    with smtp:
        smtp.ehlo()
        if not server.tls and smtp.has_extn("starttls"):
            smtp.starttls(context=tls)
            smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password or "")
        smtp.send_message(email)
