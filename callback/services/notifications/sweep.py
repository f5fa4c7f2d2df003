"""The beat's part in notifications: reminders, and work whose task the broker lost.

`sweep()` is called by the beat's sweep (services.sweeper) every couple of seconds. It
decides the reminder SMS for scheduled callbacks coming due (a query on `due_at`, no ETA
task), and re-enqueues what the database says is still owed: status changes not yet
processed, webhook deliveries whose next attempt is well overdue, messages still queued.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ... import jobs
from ...models import MessageStatus, OutgoingMessage, StatusChange
from .. import context
from . import sms, webhooks

BATCH = 100
# How late work must be before the sweep takes it for lost; well above a normal task's delay.
LOST_AFTER_S = 30


def sweep() -> None:
    now = context.now()
    settings = context.settings()
    lost = now - timedelta(seconds=LOST_AFTER_S)
    with context.transaction() as session:
        reminders = sms.plan_reminders(session, now, settings.sms_reminder_minutes)
        changes = session.execute(
            select(StatusChange.id, StatusChange.callback_id, StatusChange.status)
            .where(StatusChange.processed_at.is_(None), StatusChange.at < lost)
            .order_by(StatusChange.id)
            .limit(BATCH)
        ).all()
        deliveries = webhooks.overdue(session, now, LOST_AFTER_S, BATCH)
        messages = list(
            session.scalars(
                select(OutgoingMessage.id)
                .where(
                    OutgoingMessage.status == MessageStatus.QUEUED.value,
                    OutgoingMessage.created_at < lost,
                )
                .order_by(OutgoingMessage.id)
                .limit(BATCH)
            )
        )
    for change_id, callback_id, status in changes:
        jobs.enqueue(jobs.NOTIFY, callback_id, status, change_id)
    for delivery_id in deliveries:
        jobs.enqueue(jobs.DELIVER_WEBHOOK, delivery_id)
    for message_id in [*reminders, *messages]:
        jobs.enqueue(jobs.SEND_MESSAGE, message_id)
