"""Personal data: the retention purge, and export and erasure for one number (GDPR).

What we store about a visitor hangs off their callback requests: the number, the page,
the timeline (events), the carrier legs, and the notifications sent about it (status
changes, webhook deliveries, SMS and emails). Every one of those tables references
`callbacks.id` with ON DELETE CASCADE, so deleting the callback rows deletes everything
else in the same statement, on SQLite (foreign keys on) and PostgreSQL alike.

- `purge_expired()` (beat, once a day) deletes finished callbacks older than
  RETENTION_DAYS. Deleting rather than anonymising is deliberate: nothing is left that
  could be matched back to a person, at the price of statistics that reach back no further
  than the retention period. Live and scheduled callbacks are never purged.
- `export_number()` returns everything stored for one number; `erase_number()` deletes it,
  live callbacks included (a person who asks to be forgotten is not called either).

A number that belongs to an agent is reported in the export but not erased here: agents
are staff records, removed through the admin (deleting an agent).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import phonenumbers
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from ..flow import TERMINAL_STATUSES
from ..models import Agent, CallbackRequest, Event, Leg, Widget
from ..models.notification import OutgoingMessage
from ..phone import MAX_INPUT_LENGTH
from . import context

# Deleted per transaction, so a first purge of years of rows never holds a long lock.
PURGE_BATCH = 500


class PrivacyError(ValueError):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def normalise(raw: object) -> str:
    """An E.164 number from `raw` (which must start with + or 00). No calling policy:
    a person may ask about a number we would never call."""
    if not isinstance(raw, str) or not raw.strip():
        raise PrivacyError("missing_phone", "Give the number, e.g. +3725550101.", "phone")
    text = raw.strip()
    if len(text) > MAX_INPUT_LENGTH or "\x00" in text:
        raise PrivacyError("invalid_phone", "That is not a phone number.", "phone")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise PrivacyError(
            "invalid_phone", "Give the number in international form, e.g. +3725550101.", "phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def export_number(raw: object) -> dict[str, Any]:
    phone = normalise(raw)
    with context.transaction() as session:
        rows = session.execute(
            select(CallbackRequest, Widget.name)
            .join(Widget, Widget.id == CallbackRequest.widget_id)
            .where(CallbackRequest.phone == phone)
            .order_by(CallbackRequest.created_at)
        ).all()
        callbacks = [_callback_json(session, callback, widget) for callback, widget in rows]
        agents = session.execute(select(Agent.id, Agent.name).where(Agent.phone == phone)).all()
    return {
        "phone": phone,
        "exported_at": context.now().isoformat(),
        "callbacks": callbacks,
        "agents": [{"id": agent_id, "name": name} for agent_id, name in agents],
    }


def _callback_json(session: Session, callback: CallbackRequest, widget: str) -> dict[str, Any]:
    events = session.scalars(
        select(Event).where(Event.callback_id == callback.id).order_by(Event.at, Event.id)
    )
    legs = session.scalars(select(Leg).where(Leg.callback_id == callback.id).order_by(Leg.id))
    messages = session.scalars(
        select(OutgoingMessage)
        .where(OutgoingMessage.callback_id == callback.id)
        .order_by(OutgoingMessage.id)
    )
    return {
        "id": callback.id,
        "widget": widget,
        "phone": callback.phone,
        "page_url": callback.page_url,
        "page_title": callback.page_title,
        "status": callback.status,
        "reason": callback.reason,
        "created_at": _iso(callback.created_at),
        "due_at": _iso(callback.due_at),
        "connected_at": _iso(callback.connected_at),
        "ended_at": _iso(callback.ended_at),
        "duration_s": callback.duration_s,
        "events": [{"at": _iso(e.at), "type": e.type, "data": e.data} for e in events],
        "legs": [
            {
                "kind": leg.kind,
                "status": leg.status,
                "created_at": _iso(leg.created_at),
                "answered_at": _iso(leg.answered_at),
                "ended_at": _iso(leg.ended_at),
            }
            for leg in legs
        ],
        "messages": [
            {
                "channel": m.channel,
                "kind": m.kind,
                "status": m.status,
                "body": m.body,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in messages
        ],
    }


def erase_number(raw: object) -> dict[str, Any]:
    """Delete every callback of this number and everything stored with it (cascade)."""
    phone = normalise(raw)
    with context.transaction() as session:
        result = session.execute(
            delete(CallbackRequest)
            .where(CallbackRequest.phone == phone)
            .execution_options(synchronize_session=False)
        )
        agents = session.scalars(select(Agent.id).where(Agent.phone == phone)).all()
    deleted = cast(CursorResult[Any], result).rowcount
    return {"phone": phone, "callbacks_deleted": deleted, "agent_ids": list(agents)}


def purge_expired(retention_days: int | None = None, now: datetime | None = None) -> int:
    """Delete finished callbacks created more than `retention_days` ago; how many."""
    days = retention_days if retention_days is not None else context.settings().retention_days
    cutoff = (now or context.now()) - timedelta(days=days)
    finished = [status.value for status in TERMINAL_STATUSES]
    total = 0
    while True:
        with context.transaction() as session:
            ids = session.scalars(
                select(CallbackRequest.id)
                .where(
                    CallbackRequest.created_at < cutoff,
                    CallbackRequest.status.in_(finished),
                )
                .limit(PURGE_BATCH)
            ).all()
            if ids:
                session.execute(
                    delete(CallbackRequest)
                    .where(CallbackRequest.id.in_(ids))
                    .execution_options(synchronize_session=False)
                )
        total += len(ids)
        if len(ids) < PURGE_BATCH:
            return total


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
