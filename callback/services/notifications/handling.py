"""The bodies of the notification tasks: fan a status change out, send one message.

`notify()` processes one `StatusChange` exactly once (its row is locked and stamped
`processed_at` in the same transaction that records what it decided), then enqueues the
work: webhook deliveries and messages. `send_message()` claims a queued SMS or email with a
compare-and-set before sending it, so no text goes out twice even when tasks are redelivered.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from ... import jobs
from ...models import CallbackRequest, MessageChannel, MessageStatus, OutgoingMessage, StatusChange
from .. import context
from . import alerts, sms, webhooks
from .visitor import visitor_of

log = logging.getLogger(__name__)


def notify(callback_id: str, status: str, change_id: int) -> None:
    now = context.now()
    with context.transaction() as session:
        change = session.scalars(
            select(StatusChange).where(StatusChange.id == change_id).with_for_update()
        ).one_or_none()
        if change is None or change.processed_at is not None:
            return  # unknown (rolled back, purged) or done by an earlier delivery of this task
        if (change.callback_id, change.status) != (callback_id, status):
            log.warning(
                "notify task for change %s does not match the row; using the row", change_id
            )
        messages: list[int] = []
        callback = session.get(CallbackRequest, change.callback_id)
        if callback is not None:
            visitor = visitor_of(session, callback.id)
            messages += sms.plan_for_change(session, callback, change, visitor, now)
            messages += alerts.plan_for_change(session, callback, change, now)
        deliveries = webhooks.pending_of_change(session, change.id)
        change.processed_at = now
    for delivery_id in deliveries:
        jobs.enqueue(jobs.DELIVER_WEBHOOK, delivery_id)
    for message_id in messages:
        jobs.enqueue(jobs.SEND_MESSAGE, message_id)


def send_message(message_id: int) -> None:
    with context.transaction() as session:
        claimed = session.execute(
            update(OutgoingMessage)
            .where(
                OutgoingMessage.id == message_id,
                OutgoingMessage.status == MessageStatus.QUEUED.value,
            )
            .values(status=MessageStatus.SENDING.value)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return  # sent, being sent, skipped or unknown: at most once
        message = session.get_one(OutgoingMessage, message_id)
        channel, body = message.channel, message.body
        recipients, subject = message.recipients or "", message.subject or ""
        phone = session.scalar(
            select(CallbackRequest.phone).where(CallbackRequest.id == message.callback_id)
        )
    if channel == MessageChannel.SMS:
        sms.send(message_id, phone or "", body)
    else:
        alerts.send(message_id, recipients, subject, body)
