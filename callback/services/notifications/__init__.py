"""Notifications: SMS to the visitor, signed webhooks to CRMs, email to the admins.

How it fits together (one module each):

- `outbox`: the state machine's hook. A status change someone must hear about becomes a
  `StatusChange` row (and its webhook deliveries) in the same transaction; one
  `callback.notify` task is enqueued when it commits.
- `handling`: the task bodies. `notify` decides the SMS and emails of a change and enqueues
  the deliveries; `send_message` sends one SMS or email, at most once.
- `webhooks`: payload, signature header, one delivery attempt, retry policy, order per callback.
- `sms` + `texts`: confirmation, reminder and apology, per language; `alerts`: the email.
- `sweep`: reminders due soon, and the re-enqueueing of work whose task was lost.
- `endpoints`: managing endpoints and reading the delivery log (CLI, admin).
"""

from __future__ import annotations

from .endpoints import (
    AddedEndpoint,
    Endpoint,
    add_endpoint,
    delivery_log,
    list_endpoints,
    remove_endpoint,
    rotate_secret,
    set_active,
)
from .handling import notify, send_message
from .outbox import status_changed
from .sweep import sweep
from .webhooks import deliver as deliver_webhook

__all__ = [
    "AddedEndpoint",
    "Endpoint",
    "add_endpoint",
    "deliver_webhook",
    "delivery_log",
    "list_endpoints",
    "notify",
    "remove_endpoint",
    "rotate_secret",
    "send_message",
    "set_active",
    "status_changed",
    "sweep",
]
