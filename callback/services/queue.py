"""An honest estimate of the wait in the queue, from live agent states and recent calls.

The estimate a visitor sees ("we call you in about 3 minutes") must be neither the 20-second
marketing promise when every agent is busy, nor a guess: it is how many callbacks are ahead,
how many agents could serve them, and how long this rule's recent calls took.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import flow
from ..models import Agent, CallbackRequest, Presence, RuleMember, Widget
from ..routing.reservation import count_on_shift, free_members
from . import machine

# What we promise when an agent is free now.
PROMISE_SECONDS = 20
# A call's length when the rule has no finished calls to learn from yet.
DEFAULT_HANDLING_S = 180
RECENT_CALLS = 20
WRAP_UP_AND_DIAL_S = 25  # wrap-up, then ringing and the whisper for the next agent


def availability(session: Session, rule_id: int, now: datetime) -> tuple[bool, int | None]:
    """For the widget's config: whether an agent is free now, and a new request's estimated
    wait (`estimated_wait`), from one count of who is free."""
    ahead = waiting(session, rule_id, now)
    free = free_members(session, rule_id, now, enough=ahead + 1)  # at least 1 counts as free
    return free > 0, _wait(session, rule_id, now, ahead, free)


def estimated_wait(session: Session, rule_id: int, now: datetime, ahead: int) -> int | None:
    """Seconds until an agent calls back a callback with `ahead` callbacks before it. None when
    nobody on shift can serve it."""
    free = free_members(session, rule_id, now, enough=ahead + 1)
    return _wait(session, rule_id, now, ahead, free)


def _wait(session: Session, rule_id: int, now: datetime, ahead: int, free: int) -> int | None:
    """`estimated_wait` given `free`, the members free now counted up to `ahead + 1`."""
    if free > ahead:
        return PROMISE_SECONDS
    # Callbacks before this one that no free agent takes; with that many staffed agents or
    # more, one round of calls reaches it, so counting further changes nothing.
    behind = ahead - free + 1
    staffed = _staffed(session, rule_id, now, enough=behind)
    if staffed == 0:
        return None
    rounds = math.ceil(behind / staffed)
    return PROMISE_SECONDS + rounds * (_handling_s(session, rule_id) + WRAP_UP_AND_DIAL_S)


def waiting(session: Session, rule_id: int, now: datetime, before: datetime | None = None) -> int:
    """Callbacks of the rule queued (due) and not yet ringing anyone, optionally older ones."""
    query = (
        select(func.count())
        .select_from(CallbackRequest)
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .where(
            Widget.routing_rule_id == rule_id,
            CallbackRequest.status == flow.Status.QUEUED.value,
            CallbackRequest.due_at <= now,
        )
    )
    if before is not None:
        query = query.where(CallbackRequest.created_at < before)
    return session.scalar(query) or 0


def _staffed(session: Session, rule_id: int, now: datetime, enough: int) -> int:
    """Members online and on shift, busy or not (who will take the queue's next calls),
    counted no further than `enough`."""
    query = (
        select(Agent.hours, Agent.time_zone)
        .join(RuleMember, RuleMember.agent_id == Agent.id)
        .where(
            RuleMember.rule_id == rule_id,
            Agent.active.is_(True),
            Agent.presence == Presence.ONLINE,
        )
        .order_by(RuleMember.position)
    )
    return count_on_shift(session, query, now, enough)


def _handling_s(session: Session, rule_id: int) -> int:
    """The mean length of the rule's last calls, or a default before there are any."""
    recent = (
        select(CallbackRequest.duration_s)
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .where(
            Widget.routing_rule_id == rule_id,
            CallbackRequest.status == flow.Status.COMPLETED.value,
            CallbackRequest.duration_s.is_not(None),
        )
        .order_by(CallbackRequest.ended_at.desc())
        .limit(RECENT_CALLS)
        .subquery()
    )
    mean = session.scalar(select(func.avg(recent.c.duration_s)))
    return round(mean) if mean is not None else DEFAULT_HANDLING_S


def eta_for(session: Session, callback: CallbackRequest, now: datetime) -> int | None:
    """The visitor's own estimate: scheduled → until due; queued → by place in the queue."""
    if callback.status == flow.Status.SCHEDULED:
        return max(0, round((callback.due_at - now).total_seconds()))
    if callback.status != flow.Status.QUEUED:
        return None
    if callback.due_at > now:  # a customer retry waiting for its delay
        return max(0, round((callback.due_at - now).total_seconds()))
    rule_id = machine.rule_of(session, callback).id
    ahead = waiting(session, rule_id, now, before=callback.created_at)
    return estimated_wait(session, rule_id, now, ahead=ahead)


__all__ = ["PROMISE_SECONDS", "availability", "estimated_wait", "eta_for", "waiting"]
