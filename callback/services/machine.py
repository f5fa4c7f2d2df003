"""The shell around `flow.transition`: load the state, apply an event, carry out the actions.

`apply()` runs inside the caller's transaction. It persists the new state and
the timeline event, performs the database actions (agent reservations, due
times, reasons) at once, and returns `Effects`: the work that must wait until
after the commit (enqueue a dispatch, hang up legs through the carrier) or that
shapes the webhook's answer (serve the whisper, dial the customer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import flow, jobs
from ..models import CallbackRequest, Event, Leg, RoutingRule
from ..routing.page_routes import widget_routes
from ..routing.reservation import mark_on_call, release
from ..routing.selection import Route, rule_for
from . import scheduling, timeline
from .notifications import status_changed

log = logging.getLogger(__name__)

# Seconds an agent stays in wrap-up after a conversation before the next callback.
WRAP_UP_S = 5.0
# While an agent talks, the sweeper asks the carrier this often whether the call is still up:
# the bound on how long a call whose final status callbacks (and Dial action) were all lost
# keeps its callback `connected` and its agent on_call. Cost: one REST GET per live call.
CALL_CHECK_S = 30
LEG_FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass
class Effects:
    dispatch: bool = False
    hang_up: dict[int, str] = field(default_factory=dict)  # leg id -> reason
    prompt_agent: bool = False
    dial_customer: flow.DialCustomer | None = None

    def run_after_commit(self, callback_id: str, answering_leg: int | None = None) -> None:
        """Enqueue the carrier work; the leg whose webhook is being answered ends by TwiML."""
        if self.dispatch:
            jobs.enqueue(jobs.DISPATCH, callback_id)
        for leg_id in self.hang_up:
            if leg_id != answering_leg:
                jobs.enqueue(jobs.CANCEL_LEG, leg_id)


def lock_callback(session: Session, callback_id: str) -> CallbackRequest | None:
    """The callback row, locked for this transaction: its events apply one at a time."""
    return session.scalars(
        select(CallbackRequest).where(CallbackRequest.id == callback_id).with_for_update()
    ).one_or_none()


def rule_of(
    session: Session, callback: CallbackRequest, routes: list[Route] | None = None
) -> RoutingRule:
    """The widget's rule, or the rule of its first page route matching the callback's page.
    `routes`: the widget's page routes when the caller has read them already (the sweep reads
    them once per widget, not once per callback)."""
    widget = callback.widget
    if routes is None:
        routes = widget_routes(session, widget.id)
    rule_id = rule_for(routes, widget.routing_rule_id, callback.page_url) if routes else None
    return session.get_one(RoutingRule, rule_id or widget.routing_rule_id)


# A callback nobody could take becomes a scheduled one this many times, then it fails.
MAX_RESCHEDULES = 1
_MAY_RESCHEDULE = (flow.EventType.NO_AGENT_AVAILABLE, flow.EventType.QUEUE_TIMEOUT)


def _reschedules_left(session: Session, callback: CallbackRequest) -> int:
    done = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.callback_id == callback.id, Event.type.in_([t.value for t in _MAY_RESCHEDULE]))
    )
    return max(0, MAX_RESCHEDULES - (done or 0))


def state_of(callback: CallbackRequest, rule: RoutingRule) -> flow.CallbackState:
    ringing = frozenset(
        str(leg.id)
        for leg in callback.legs
        if leg.kind == "agent"
        and leg.id != callback.accepted_leg_id
        and leg.status not in LEG_FINAL_STATUSES
        and leg.ended_at is None
    )
    return flow.CallbackState(
        status=flow.Status(callback.status),
        accepted_leg=str(callback.accepted_leg_id) if callback.accepted_leg_id else None,
        active_legs=ringing,
        customer_attempts=callback.customer_attempts,
        max_customer_attempts=rule.customer_max_attempts,
        reason=flow.Reason(callback.reason) if callback.reason in set(flow.Reason) else None,
        retry_delay_s=rule.customer_retry_delay,
    )


def new_state(callback: CallbackRequest) -> flow.CallbackState:
    """The state of a callback intake has just made: no legs, no attempts, nothing rung yet,
    so nothing its routing rule sets (attempts, retry delay) can matter to its first event."""
    return flow.CallbackState(status=flow.Status(callback.status))


def apply(
    session: Session,
    callback: CallbackRequest,
    event: flow.Event,
    now: datetime,
    state: flow.CallbackState | None = None,
) -> tuple[flow.Outcome, Effects]:
    """Apply `event` to `callback`; `state` is read from the callback and its rule if not given."""
    if state is None:
        state = state_of(callback, rule_of(session, callback))
    if event.type in _MAY_RESCHEDULE:
        state = replace(state, reschedules_left=_reschedules_left(session, callback))
    outcome = flow.transition(state, event)
    effects = Effects()
    previous = callback.status
    if outcome.applied:
        _persist(session, callback, outcome.state, event, now)
    elif outcome.kind is not flow.OutcomeKind.DUPLICATE:
        log.info("callback %s: %s %s (%s)", callback.id, outcome.kind, event.type, outcome.note)
    for action in outcome.actions:
        _carry_out(session, callback, action, effects, now)
    if outcome.applied:  # SMS, CRM webhooks, admin email: recorded now, sent after the commit
        status_changed(session, callback, previous, event, now)
    return outcome, effects


def _persist(
    session: Session,
    callback: CallbackRequest,
    state: flow.CallbackState,
    event: flow.Event,
    now: datetime,
) -> None:
    callback.status = state.status.value
    callback.accepted_leg_id = int(state.accepted_leg) if state.accepted_leg else None
    callback.customer_attempts = state.customer_attempts
    callback.reason = state.reason.value if state.reason else None
    details: dict[str, object] = {k: v for k, v in event.data.items() if v is not None}
    if event.leg_id:
        details["leg"] = int(event.leg_id)
    timeline.record(session, callback.id, event.type.value, now, **details)


def _leg(session: Session, leg_id: str) -> Leg:
    return session.get_one(Leg, int(leg_id))


def _carry_out(
    session: Session,
    callback: CallbackRequest,
    action: flow.Action,
    effects: Effects,
    now: datetime,
) -> None:
    match action:
        case flow.EnqueueDispatch() | flow.RingNextAgents():
            effects.dispatch = True
        case flow.PromptAgent():
            effects.prompt_agent = True
        case flow.DialCustomer():
            effects.dial_customer = action
        case flow.HangUpLeg(leg_id=leg_id, reason=reason):
            effects.hang_up[int(leg_id)] = reason
        case flow.CancelOtherLegs(leg_ids=leg_ids):
            # Their agents stay reserved until the carrier reports their calls ended (the
            # legs' final statuses free them, their leases at the latest): freed at once, an
            # agent whose phone still rings could be rung for the next callback over it.
            for leg_id in leg_ids:
                effects.hang_up[int(leg_id)] = flow.ALREADY_TAKEN
        case flow.ReleaseAgent(leg_id=leg_id):
            leg = _leg(session, leg_id)
            if not _call_still_up(leg):
                release_leg(session, leg, now)
            # else: our TwiML is ending the call ("already taken", "the customer did not
            # answer"); its final status frees the agent (carrier_events.agent_status), or
            # the reservation's lease does if that news is lost.
        case flow.MarkAgentOnCall(leg_id=leg_id):
            leg = _leg(session, leg_id)
            if leg.agent_id is not None and leg.reservation:
                check_at = now + timedelta(seconds=CALL_CHECK_S)
                mark_on_call(session, leg.agent_id, leg.reservation, check_at=check_at)
            callback.agent_id = leg.agent_id
        case flow.MarkAgentWrapUp(leg_id=leg_id):
            leg = _leg(session, leg_id)
            # Wrap-up counts from the end of the agent's own call: until the carrier says it
            # ended (the customer may hang up first, and the agent's call lasts until our Dial
            # action answers), the agent's phone is still busy; the call check frees them if
            # that news is lost (carrier_events.agent_status shortens it when it comes).
            ended = leg.status in LEG_FINAL_STATUSES
            release_leg(session, leg, now, wrap_up_seconds=WRAP_UP_S if ended else CALL_CHECK_S)
        case flow.Reschedule():
            callback.due_at = scheduling.next_slot(callback.widget, now)
        case flow.ScheduleRetry(delay_s=delay):
            callback.due_at = now + timedelta(seconds=delay)
        case flow.Fail():
            callback.ended_at = now
        case flow.Complete(duration_s=duration):
            callback.ended_at = now
            callback.duration_s = duration
        case flow.WatchLeg():
            pass  # the beat's sweeper watches every ringing leg (services.sweeper)


def _call_still_up(leg: Leg) -> bool:
    """The leg's call was answered and the carrier has not said it ended."""
    return leg.answered_at is not None and leg.status not in LEG_FINAL_STATUSES


def release_leg(session: Session, leg: Leg, now: datetime, wrap_up_seconds: float = 0) -> None:
    """Free the leg's agent if they still hold this leg's reservation (else nothing)."""
    if leg.agent_id is not None and leg.reservation:
        release(session, leg.agent_id, leg.reservation, wrap_up_seconds=wrap_up_seconds, now=now)
