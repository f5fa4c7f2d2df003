"""The state machine's hook: a status change that somebody must hear about becomes an outbox row.

`status_changed()` runs inside the transaction that changes the status (machine.apply). When
the change concerns anyone (a webhook endpoint, the visitor's SMS, the admins' email) it adds
a `StatusChange` row and the webhook deliveries for it, and arranges for one
`callback.notify` task to be sent when that transaction commits. The task is enqueued from
the session's `after_commit` event rather than by the caller's `Effects`: several callers
merge or drop the effects of the events they apply (a dispatch keeps only the hang-ups, the
sweep reads only `dispatch`), and a notification must not depend on that. If the broker
loses the task, the row is still there and the sweep sends it again (design §5).

Nothing is written when nobody listens, so an installation without endpoints, SMS consent or
ALERT_EMAIL pays one small query per status change and sends no task.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from ... import flow, jobs
from ...models import CallbackRequest, StatusChange
from ...phone import is_mobile
from .. import context
from . import webhooks
from .visitor import Visitor, visitor_of

log = logging.getLogger(__name__)

# Failures the visitor gets an apology SMS for; the others (busy, a dead number) would not
# reach them or are not worth a text.
APOLOGY_REASONS = frozenset(
    {flow.Reason.CUSTOMER_NO_ANSWER.value, flow.Reason.NO_AGENT_AVAILABLE.value}
)
# The admins are told when every agent stayed silent and the callback was rescheduled.
UNANSWERED_EVENT = flow.EventType.NO_AGENT_AVAILABLE.value
_PENDING = "callback.notifications.pending"
_LISTENING = "callback.notifications.listening"


def status_changed(
    session: Session, callback: CallbackRequest, previous: str, event: flow.Event, now: datetime
) -> None:
    """Call after an applied event; `previous` is the status before it."""
    entered = event.type is flow.EventType.REQUESTED  # its first status is news as well
    if callback.status == previous and not entered:
        return
    # Our reads must not flush the caller's half-made changes in an order it did not choose.
    with session.no_autoflush:
        endpoints = webhooks.endpoints_for(session, callback.widget_id)
        messages = _messages_wanted(session, callback, event, entered)
    if not endpoints and not messages:
        return
    change = StatusChange(
        callback_id=callback.id,
        status=callback.status,
        reason=callback.reason,
        event_type=event.type.value,
        at=now,
    )
    session.add(change)
    if endpoints:
        webhooks.add_deliveries(session, callback, change, endpoints, now)
    _notify_after_commit(session, callback.id, callback.status, change)


def _messages_wanted(
    session: Session, callback: CallbackRequest, event: flow.Event, entered: bool
) -> bool:
    """Could this change send an SMS or an email? (The notify task decides for good.)"""
    status = callback.status
    alerts = bool(context.settings().alert_emails)
    if status == flow.Status.FAILED and alerts:
        return True
    if status == flow.Status.SCHEDULED and alerts and event.type.value == UNANSWERED_EVENT:
        return True
    texted = status == flow.Status.SCHEDULED or (
        status == flow.Status.FAILED and callback.reason in APOLOGY_REASONS
    )
    if not texted or not is_mobile(callback.phone):
        return False
    visitor = Visitor.from_data(event.data) if entered else visitor_of(session, callback.id)
    return visitor.sms_consent


def _notify_after_commit(
    session: Session, callback_id: str, status: str, change: StatusChange
) -> None:
    session.info.setdefault(_PENDING, []).append((callback_id, status, change))
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        sa_event.listen(session, "after_commit", _send_pending)
        sa_event.listen(session, "after_rollback", _forget_pending)


def _send_pending(session: Session) -> None:
    for callback_id, status, change in session.info.pop(_PENDING, []):
        identity = inspect(change).identity  # the primary key, read without SQL
        if identity is None:
            continue
        try:
            jobs.enqueue(jobs.NOTIFY, callback_id, status, identity[0])
        except Exception:  # the commit stands; the sweep finds the unprocessed row
            log.exception("could not enqueue the notification of change %s", identity[0])


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
