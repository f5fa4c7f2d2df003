"""SMS to the visitor through the carrier: a confirmation, a reminder, an apology.

- confirmation: the callback became `scheduled`; it names the promised local time.
- reminder: a scheduled callback is due within SMS_REMINDER_MINUTES (found by the beat's
  sweep in the database, not by a countdown task).
- apology: the callback failed because nobody answered or no agent could take it.

Only with the visitor's `sms_consent`, only to mobile numbers (`phone.is_mobile`). Every
decision is recorded as an `OutgoingMessage`, the ones not sent as `skipped` with the reason,
under a unique key, so a redelivered task or a second sweep finds it and sends nothing.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from ... import flow
from ...models import (
    CallbackRequest,
    Event,
    MessageChannel,
    MessageKind,
    MessageStatus,
    OutgoingMessage,
    StatusChange,
    Widget,
)
from ...phone import is_mobile, mask
from ...telephony import ProviderError, backoff_delay
from .. import context
from .outbox import APOLOGY_REASONS
from .texts import Text, pick_language, render, say_when
from .visitor import Visitor

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3
BATCH = 100
_APOLOGIES = {
    flow.Reason.CUSTOMER_NO_ANSWER.value: Text.APOLOGY_NO_ANSWER,
    flow.Reason.NO_AGENT_AVAILABLE.value: Text.APOLOGY_NO_AGENT,
}


def message_key(callback_id: str, kind: str, promised_at: datetime | None = None) -> str:
    promised = promised_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S") if promised_at else ""
    return f"{callback_id}:{kind}:{promised}"


def zone_of(widget: Widget) -> tzinfo:
    try:
        return ZoneInfo(widget.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def plan_for_change(
    session: Session,
    callback: CallbackRequest,
    change: StatusChange,
    visitor: Visitor,
    now: datetime,
) -> list[int]:
    """The SMS a status change calls for, recorded; the ids of those to send."""
    if change.status == flow.Status.SCHEDULED:
        if callback.status != flow.Status.SCHEDULED:
            return []  # already being called: a promise of a time would be wrong now
        return _plan(
            session,
            callback,
            MessageKind.CONFIRMATION,
            Text.CONFIRMATION,
            visitor,
            now,
            promised_at=callback.due_at,
        )
    if change.status == flow.Status.FAILED and change.reason in APOLOGY_REASONS:
        text = _APOLOGIES[change.reason]
        return _plan(session, callback, MessageKind.APOLOGY, text, visitor, now)
    return []


def plan_reminders(session: Session, now: datetime, lead_minutes: int) -> list[int]:
    """Scheduled callbacks due within the lead time that have no reminder for that time yet."""
    if lead_minutes <= 0:
        return []
    lead = timedelta(minutes=lead_minutes)
    reminded = exists().where(
        OutgoingMessage.callback_id == CallbackRequest.id,
        OutgoingMessage.kind == MessageKind.REMINDER.value,
        OutgoingMessage.promised_at == CallbackRequest.due_at,
    )
    due = list(
        session.scalars(
            select(CallbackRequest)
            .where(
                CallbackRequest.status == flow.Status.SCHEDULED.value,
                CallbackRequest.due_at > now,
                CallbackRequest.due_at <= now + lead,
                ~reminded,
            )
            .order_by(CallbackRequest.due_at)
            .limit(BATCH)
        )
    )
    visitors = _visitors(session, [callback.id for callback in due])
    confirmed = _confirmed_recently(session, due, lead)
    to_send: list[int] = []
    for callback in due:
        skip = "confirmed_recently" if callback.id in confirmed else None
        to_send += _plan(
            session,
            callback,
            MessageKind.REMINDER,
            Text.REMINDER,
            visitors[callback.id],
            now,
            promised_at=callback.due_at,
            skip=skip,
        )
    return to_send


def _visitors(session: Session, callback_ids: list[str]) -> dict[str, Visitor]:
    found = {callback_id: Visitor() for callback_id in callback_ids}
    rows = session.execute(
        select(Event.callback_id, Event.data).where(
            Event.callback_id.in_(callback_ids), Event.type == "requested"
        )
    )
    for callback_id, data in rows:
        found[callback_id] = Visitor.from_data(data or {})
    return found


def _confirmed_recently(
    session: Session, callbacks: list[CallbackRequest], lead: timedelta
) -> set[str]:
    """Callbacks whose confirmation for the same time went out inside the reminder's window:
    a reminder right after the confirmation would only repeat it."""
    if not callbacks:
        return set()
    rows = session.execute(
        select(OutgoingMessage.callback_id, OutgoingMessage.created_at)
        .join(CallbackRequest, CallbackRequest.id == OutgoingMessage.callback_id)
        .where(
            OutgoingMessage.callback_id.in_([callback.id for callback in callbacks]),
            and_(
                OutgoingMessage.kind == MessageKind.CONFIRMATION.value,
                OutgoingMessage.promised_at == CallbackRequest.due_at,
                OutgoingMessage.status != MessageStatus.SKIPPED.value,
            ),
        )
    )
    due_at = {callback.id: callback.due_at for callback in callbacks}
    return {callback_id for callback_id, at in rows if at > due_at[callback_id] - lead}


def _plan(
    session: Session,
    callback: CallbackRequest,
    kind: MessageKind,
    text: Text,
    visitor: Visitor,
    now: datetime,
    promised_at: datetime | None = None,
    skip: str | None = None,
) -> list[int]:
    key = message_key(callback.id, kind.value, promised_at)
    if session.scalar(select(OutgoingMessage.id).where(OutgoingMessage.key == key)) is not None:
        return []  # decided before: a redelivered task or an earlier sweep
    widget = callback.widget
    language = pick_language(visitor.language, widget.language)
    if skip is None and not visitor.sms_consent:
        skip = "no_consent"
    if skip is None and not is_mobile(callback.phone):
        skip = "not_mobile"
    when = ""
    if promised_at is not None:
        zone = zone_of(widget)
        when = say_when(language, promised_at.astimezone(zone), now.astimezone(zone))
    message = OutgoingMessage(
        key=key,
        callback_id=callback.id,
        channel=MessageChannel.SMS.value,
        kind=kind.value,
        language=language,
        promised_at=promised_at,
        body="" if skip else render(text, language, widget.name, when),
        status=(MessageStatus.SKIPPED if skip else MessageStatus.QUEUED).value,
        detail=skip,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return [] if skip else [message.id]


def send(message_id: int, phone: str, body: str) -> None:
    """Hand one claimed SMS to the carrier (quick retries for 429/5xx) and record the answer."""
    settings = context.settings()
    sender = settings.sms_from or settings.twilio_caller_id
    sid: str | None = None
    error: str | None = None
    for attempt in range(SEND_ATTEMPTS):
        try:
            sid = context.provider().send_sms(to=phone, from_=sender, body=body)
            break
        except ProviderError as refused:
            # The carrier's message may quote the number (21211 "Invalid 'To' Phone Number: …").
            error = str(refused).replace(phone, mask(phone))[:300]
            log.warning(
                "SMS %s to %s refused: code %s, HTTP %s",
                message_id,
                mask(phone),
                refused.code,
                refused.status,
            )
            if not refused.retryable or attempt + 1 == SEND_ATTEMPTS:
                break
            time.sleep(backoff_delay(attempt, cap=2.0))
    with context.transaction() as session:
        message = session.get_one(OutgoingMessage, message_id)
        message.status = (MessageStatus.SENT if sid else MessageStatus.FAILED).value
        message.provider_sid = sid
        message.detail = None if sid else error
        message.sent_at = context.now() if sid else None
