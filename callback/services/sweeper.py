"""The beat's sweep: the safety net under a lossy broker and a carrier that goes quiet.

Every few seconds: free agents whose lease ran out, dispatch callbacks that are
due (scheduled ones, retries, queued ones whose task was lost or that waited
for a free agent: oldest first, and queued ones only when their rule has a free
agent or nobody who could free up), reconcile agent legs that have been
silent past their ring timeout by asking the carrier (the watchdog), and
settle an agent's hang-up that waited in vain for news of its customer leg.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import flow, jobs
from ..models import Agent, AgentState, CallbackRequest, Event, Leg, RoutingRule
from ..routing.page_routes import widget_routes
from ..routing.reservation import expire_leases, free_members, release
from ..routing.selection import Route
from ..routing.strategies import ring_plan
from . import carrier_events, context, dispatch, machine, notifications

log = logging.getLogger(__name__)

BATCH = 100
# The hedge timer is a countdown task; past this slack the sweeper fires it again.
HEDGE_SLACK_S = 1
# A leg with no news this long after its ring timeout is fetched from the carrier.
WATCHDOG_GRACE_S = 10
_WAITING = (flow.Status.QUEUED.value, flow.Status.SCHEDULED.value, flow.Status.CALLING_AGENT.value)


def sweep() -> None:
    now = context.now()
    with context.transaction() as session:
        freed = expire_leases(session, now)
        due = list(
            session.scalars(
                select(CallbackRequest)
                .options(selectinload(CallbackRequest.legs))
                .where(CallbackRequest.status.in_(_WAITING), CallbackRequest.due_at <= now)
                .order_by(CallbackRequest.due_at, CallbackRequest.created_at)
                .limit(BATCH)
            )
        )
        to_dispatch: list[str] = []
        to_hedge: list[str] = []
        memo = _SweepMemo()
        for callback in due:
            if callback.status == flow.Status.SCHEDULED:
                _, effects = machine.apply(session, callback, flow.Event(flow.EventType.DUE), now)
                if effects.dispatch:
                    to_dispatch.append(callback.id)
            elif callback.accepted_leg_id is None:
                match _next_step(session, callback, now, memo):
                    case jobs.DISPATCH if not _would_only_wait(session, callback, now, memo):
                        to_dispatch.append(callback.id)
                    case jobs.HEDGE:
                        to_hedge.append(callback.id)
        silent = _silent_legs(session, now) + _calls_to_check(session, now)
        rescheduled = _end_long_waits(session, now)
        held = _settle_held_endings(session, now)
    if freed:
        log.info("leases expired for %d agent(s)", len(freed))
    if rescheduled:
        log.info("%d callback(s) waited too long and were scheduled", len(rescheduled))
    if held:
        log.info("%d agent hang-up(s) settled with no news of the customer leg", len(held))
    for callback_id in to_dispatch:
        jobs.enqueue(jobs.DISPATCH, callback_id)
    for callback_id in to_hedge:
        jobs.enqueue(jobs.HEDGE, callback_id)
    for leg_id in silent:
        jobs.enqueue(jobs.RECONCILE_LEG, leg_id)
    notifications.sweep()  # reminder SMS for scheduled calls due soon; notifications whose task was lost


def _end_long_waits(session: Session, now: datetime) -> list[str]:
    """Queued callbacks that waited longer than QUEUE_MAX_WAIT become scheduled ones (once)."""
    cutoff = now - timedelta(seconds=context.settings().queue_max_wait_s)
    once = select(Event.id).where(
        Event.callback_id == CallbackRequest.id,
        Event.type.in_(
            [flow.EventType.QUEUE_TIMEOUT.value, flow.EventType.NO_AGENT_AVAILABLE.value]
        ),
    )
    waiting = session.scalars(
        select(CallbackRequest)
        .where(
            CallbackRequest.status == flow.Status.QUEUED.value,
            CallbackRequest.due_at < cutoff,
            ~CallbackRequest.legs.any(Leg.ended_at.is_(None)),
            ~once.exists(),
        )
        .order_by(CallbackRequest.due_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    ids = []
    for callback in waiting:
        outcome, _ = machine.apply(session, callback, flow.Event(flow.EventType.QUEUE_TIMEOUT), now)
        if outcome.applied:
            ids.append(callback.id)
    return ids


def _settle_held_endings(session: Session, now: datetime) -> list[str]:
    """Accepted agent legs that ended while their customer leg was being dialled.

    Their ending waits for the customer leg's own end (carrier_events.agent_status), which
    tells whether the two talked; when no news of it came within the grace (every callback
    of that leg and the Dial action lost), the agent hung up before the customer answered.
    """
    cutoff = now - timedelta(seconds=WATCHDOG_GRACE_S)
    callbacks = session.scalars(
        select(CallbackRequest)
        .join(Leg, Leg.id == CallbackRequest.accepted_leg_id)
        .where(
            CallbackRequest.status == flow.Status.AGENT_CONNECTED.value,
            Leg.ended_at < cutoff,
        )
        .limit(BATCH)
        .with_for_update(of=CallbackRequest, skip_locked=True)
    )
    settled = []
    for callback in callbacks:
        leg = str(callback.accepted_leg_id)
        event = flow.Event(flow.EventType.CALL_ENDED, leg_id=leg, carrier_status="completed")
        # No effects to run: the agent is released here and a retry waits for its due_at.
        outcome, _ = machine.apply(session, callback, event, now)
        if outcome.applied:
            settled.append(callback.id)
    return settled


@dataclass
class _SweepMemo:
    """What one sweep reads once per widget or rule rather than once per waiting callback:
    while every agent is busy, up to BATCH callbacks of the same few widgets wait."""

    routes: dict[int, list[Route]] = field(default_factory=dict)  # by widget
    # Held so the session's identity map (weakly referencing) keeps them: one SELECT each.
    rules: dict[int, RoutingRule] = field(default_factory=dict)
    anyone_free: dict[int, bool] = field(default_factory=dict)  # by rule
    may_free_up: dict[int, bool] = field(default_factory=dict)  # by rule, for unrung callbacks

    def rule_of(self, session: Session, callback: CallbackRequest) -> RoutingRule:
        if callback.widget_id not in self.routes:
            self.routes[callback.widget_id] = widget_routes(session, callback.widget_id)
        rule = machine.rule_of(session, callback, self.routes[callback.widget_id])
        self.rules[rule.id] = rule
        return rule


def _would_only_wait(
    session: Session, callback: CallbackRequest, now: datetime, memo: _SweepMemo
) -> bool:
    """A queued callback is dispatched again only if that could change something: while every
    agent of its rule is busy, a task per waiting callback every sweep would only burn the
    worker's CPU (a backlog of 100 is 50 fruitless tasks a second) when it is needed most.
    Nobody free and nobody who could free up still goes to dispatch, which schedules it."""
    if callback.status != flow.Status.QUEUED:
        return False
    rule = memo.rule_of(session, callback)
    if rule.id not in memo.anyone_free:
        memo.anyone_free[rule.id] = free_members(session, rule.id, now, enough=1) > 0
    if memo.anyone_free[rule.id] or callback.legs:  # rung before: its own exhausted agents
        return dispatch.would_only_wait(session, callback, rule, memo.anyone_free[rule.id])
    if rule.id not in memo.may_free_up:
        memo.may_free_up[rule.id] = dispatch.would_only_wait(session, callback, rule, False)
    return memo.may_free_up[rule.id]


def _next_step(
    session: Session, callback: CallbackRequest, now: datetime, memo: _SweepMemo
) -> str | None:
    """The task a waiting callback needs, if its own task may have been lost.

    Queued: dispatch. Ringing: nothing (the legs' outcomes decide), unless the rule
    hedges and the hedge timer is overdue. Calling with no leg left ringing: the
    task that should ring the next agent was lost, dispatch again.
    """
    if callback.status == flow.Status.QUEUED:
        return jobs.DISPATCH
    rule = memo.rule_of(session, callback)
    ringing = machine.state_of(callback, rule).active_legs
    if not ringing:
        return jobs.DISPATCH
    hedge_after = ring_plan(rule).hedge_after_s
    if hedge_after is None:
        return None
    newest = max(leg.created_at for leg in callback.legs if str(leg.id) in ringing)
    overdue = newest + timedelta(seconds=hedge_after + HEDGE_SLACK_S) <= now
    return jobs.HEDGE if overdue else None


def _silent_legs(session: Session, now: datetime) -> list[int]:
    cutoff = now - timedelta(seconds=WATCHDOG_GRACE_S)
    legs = session.scalars(
        select(Leg)
        .where(
            Leg.kind == "agent",
            Leg.ended_at.is_(None),
            Leg.answered_at.is_(None),
            Leg.status.not_in(machine.LEG_FINAL_STATUSES),
            Leg.created_at < cutoff,
        )
        .limit(BATCH)
    )
    return [leg.id for leg in legs if _overdue(session, leg, now)]


def _calls_to_check(session: Session, now: datetime) -> list[int]:
    """Answered agent legs of agents on a call whose check time came: fetch them again.

    Their final status callback may have been lost; without this the agent would stay
    `on_call` for ever. The next check is pushed back first, so a slow carrier is asked
    once per CALL_CHECK_S, not on every sweep.
    """
    agents = list(
        session.scalars(
            select(Agent)
            .where(Agent.state == AgentState.ON_CALL, Agent.lease_until < now)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    for agent in agents:
        agent.lease_until = now + timedelta(seconds=machine.CALL_CHECK_S)
    tokens = {agent.reservation: agent.id for agent in agents if agent.reservation}
    open_legs = session.execute(
        select(Leg.id, Leg.reservation).where(
            Leg.kind == "agent", Leg.reservation.in_(tokens), Leg.ended_at.is_(None)
        )
    ).all()
    talking = {token for _, token in open_legs}
    for token, agent_id in tokens.items():
        if token not in talking:  # the call ended but the agent was never released
            release(session, agent_id, token, now=now)
    return [leg_id for leg_id, _ in open_legs]


def _overdue(session: Session, leg: Leg, now: datetime) -> bool:
    rule = machine.rule_of(session, leg.callback)
    return leg.created_at + timedelta(seconds=rule.ring_timeout + WATCHDOG_GRACE_S) < now


def reconcile_leg(leg_id: int) -> None:
    """The watchdog: ask the carrier how a silent leg really ended, and apply that."""
    with context.transaction() as session:
        leg = session.get(Leg, leg_id)
        if leg is None or leg.ended_at is not None:
            return
        sid, callback_id = leg.provider_sid, leg.callback_id
    if sid is None:
        dispatch.leg_failed(callback_id, leg_id, "never_placed")
        return
    info = context.provider().fetch_call(sid)
    if info.status in machine.LEG_FINAL_STATUSES:
        params = {"CallStatus": info.status}
        if info.duration_s is not None:
            params["CallDuration"] = str(info.duration_s)
        carrier_events.agent_status(leg_id, params)
