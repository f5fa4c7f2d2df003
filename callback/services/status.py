"""The visitor's view of one callback: its status and timeline, never the phone number.

Read with the id and the status token that intake handed out (`intake.status_token`).
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..flow import Status
from ..models import Agent, CallbackRequest, Leg
from . import context, queue, timeline
from .intake import token_hash

# While an agent is on the line for this visitor (accepted, bridged, or the call just ended),
# the widget may say who: "Anna is on the line, calling you now". A failed or canceled call, or
# a retry that went back to the queue (another agent may take it), names nobody.
_NAMED_STATUSES = frozenset({Status.AGENT_CONNECTED, Status.CONNECTED, Status.COMPLETED})
_FIRST_NAME_MAX = 40


def status_view(callback_id: str, token: str) -> dict[str, Any] | None:
    """The public status: never the phone number. None when the id or token is wrong."""
    with context.reading() as session:
        callback = session.get(CallbackRequest, callback_id)
        if callback is None or not hmac.compare_digest(callback.token_hash, token_hash(token)):
            return None
        events = timeline.events_of(session, callback_id)
        view: dict[str, Any] = {
            "id": callback.id,
            "status": callback.status,
            "events": [{"at": e.at.isoformat(), "type": e.type} for e in events],
        }
        if callback.reason:
            view["reason"] = callback.reason
        eta = queue.eta_for(session, callback, context.now())
        if eta is not None:
            view["eta_seconds"] = eta
        agent_name = _accepting_agent_first_name(session, callback)
        if agent_name:
            view["agent_name"] = agent_name
        return view


def _accepting_agent_first_name(session: Session, callback: CallbackRequest) -> str | None:
    """The first name of the agent whose keypress won this attempt, or None.

    Only the first word of the admin's `Agent.name` leaves the service: the visitor is a
    stranger, so no surname, phone number or id. A first word with digits in it is taken for a
    number or a code, not a name (an admin may name agents by their extension) and is not shown.
    """
    if callback.accepted_leg_id is None or callback.status not in _NAMED_STATUSES:
        return None
    name = session.scalar(
        select(Agent.name)
        .join(Leg, Leg.agent_id == Agent.id)
        .where(Leg.id == callback.accepted_leg_id)
    )
    words = (name or "").split()
    first = words[0] if words else ""
    if not first or len(first) > _FIRST_NAME_MAX or any(ch.isdigit() for ch in first):
        return None
    return first
