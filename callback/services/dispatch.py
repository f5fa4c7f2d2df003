"""Dispatch: reserve the next agent(s) by the rule, record the legs, then ring them.

One short transaction decides (locks the callback, reserves agents with the
conditional UPDATE, inserts the legs, applies `dispatched`); only after it has
committed do we call the carrier, so no status callback can arrive for a leg
the database does not know, and no carrier round trip holds a lock.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import flow, jobs
from ..models import Agent, CallbackRequest, Leg, RoutingRule, RuleMember, Widget
from ..phone import mask
from ..routing.reservation import Reservation, pick_agents
from ..routing.strategies import ring_plan
from ..telephony import ProviderError, backoff_delay
from ..telephony.budget import CallBudget, make_budget
from . import context, machine

log = logging.getLogger(__name__)

# A reservation outlives the ring timeout by this much before the sweeper frees the agent.
LEASE_GRACE_S = 15
# Carrier 429/5xx/network errors are retried this many times, quickly: the promise is 20 s.
PLACE_ATTEMPTS = 3


@dataclass(frozen=True)
class PlacedLeg:
    leg_id: int
    phone: str
    timeout_s: int


class Turn(Enum):
    RANG = "rang"  # agents were reserved and rung for the callback
    WAITING = "waiting"  # it needs an agent but nobody is free: the sweeper retries
    DONE = "done"  # it needs no agent (served, ringing, ended, not yet due)


# How many callbacks one task may serve while putting older ones first.
MAX_TURNS = 8


def dispatch(callback_id: str, hedge: bool = False) -> None:
    """Ring the next agent(s) for this callback, if it still needs one. Idempotent.

    First come, first served: when an older callback of the same rule is still
    waiting for its first agent, this task serves that one first, then comes back
    to its own, so a free agent always goes to the longest wait and no task is
    bounced back through the broker.
    """
    target = callback_id
    for _ in range(MAX_TURNS):
        turn = _take_turn(target, hedge=hedge and target == callback_id)
        if isinstance(turn, str):
            target = turn  # an older callback is first in line
        elif target != callback_id and turn is not Turn.WAITING:
            target = callback_id  # the older one is served: our turn
        else:
            return


def _take_turn(callback_id: str, hedge: bool) -> Turn | str:
    """Ring for this callback in one transaction; or the id of an older one to serve first."""
    now = context.now()
    with context.transaction() as session:
        callback = machine.lock_callback(session, callback_id)
        if callback is None or not _wants_agents(callback, now):
            return Turn.DONE
        rule = machine.rule_of(session, callback)
        plan = ring_plan(rule)
        state = machine.state_of(callback, rule)
        ringing = state.active_legs
        if ringing and not hedge:
            return Turn.DONE  # their outcome (or the hedge timer) decides what happens next
        older = _waiting_before(session, callback, rule, now)
        if older is not None:
            return older
        busy = _agents_of(callback, ringing)
        count = 1 if ringing else plan.initial
        lease = plan.ring_timeout_s + LEASE_GRACE_S
        # Everyone once before anyone twice; then the next round, up to max_rounds.
        this_round = _rung_this_round(session, callback, rule) | busy
        reserved = pick_agents(session, rule, now, this_round, count, lease)
        next_round = _exhausted_agents(callback, rule) | busy
        if not reserved and next_round != this_round:  # the same read would find nobody again
            reserved = pick_agents(session, rule, now, next_round, count, lease)
        if not reserved:
            effects = _nobody_free(session, callback, state, rule, now)
            placed: list[PlacedLeg] = []
        else:
            placed, effects = _start_legs(session, callback, reserved, plan.ring_timeout_s, now)
    effects.run_after_commit(callback_id)
    for leg in placed:
        _place(callback_id, leg)
    if placed and plan.hedge_after_s is not None:
        jobs.enqueue(jobs.HEDGE, callback_id, countdown=plan.hedge_after_s)
    return Turn.RANG if placed else Turn.WAITING


def _waiting_before(
    session: Session, callback: CallbackRequest, rule: RoutingRule, now: datetime
) -> str | None:
    """The oldest callback of the same rule still waiting for its first agent, if older.

    One that another dispatcher has locked is being served right now and is skipped: under a
    backlog, every worker thread would otherwise queue up behind the same oldest row, serve
    it in turn (finding it served) and move on to the next, several turns per task."""
    if callback.status != flow.Status.QUEUED or callback.legs:
        return None
    return session.scalar(
        select(CallbackRequest.id)
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .where(
            Widget.routing_rule_id == rule.id,
            CallbackRequest.status == flow.Status.QUEUED.value,
            CallbackRequest.due_at <= now,
            CallbackRequest.created_at < callback.created_at,
            ~CallbackRequest.legs.any(),
        )
        .order_by(CallbackRequest.created_at)
        .limit(1)
        .with_for_update(of=CallbackRequest, skip_locked=True)
    )


def hedge(callback_id: str) -> None:
    """Hedged routing: nobody accepted within hedge_after, so ring one more agent too."""
    dispatch(callback_id, hedge=True)


def _wants_agents(callback: CallbackRequest, now: datetime) -> bool:
    if callback.status == flow.Status.CALLING_AGENT:
        return callback.accepted_leg_id is None
    return callback.status == flow.Status.QUEUED and callback.due_at <= now


def _agents_of(callback: CallbackRequest, leg_ids: frozenset[str]) -> set[int]:
    return {leg.agent_id for leg in callback.legs if str(leg.id) in leg_ids and leg.agent_id}


def _times_rung(callback: CallbackRequest) -> Counter[int]:
    return Counter(leg.agent_id for leg in callback.legs if leg.kind == "agent" and leg.agent_id)


def _rung_this_round(session: Session, callback: CallbackRequest, rule: RoutingRule) -> set[int]:
    """Members rung more often than the least-rung member, plus the exhausted ones."""
    rung = _times_rung(callback)
    current_round = _least_rung(session, rule, rung)
    ahead = {agent_id for agent_id, times in rung.items() if times > current_round}
    return ahead | _exhausted_agents(callback, rule)


def _least_rung(session: Session, rule: RoutingRule, rung: Counter[int]) -> int:
    """How often the least-rung member of the rule was rung for this callback (0: not yet).

    A member never rung makes it 0, and one EXISTS query finds such a member; only when every
    member was rung are the members read (as many as this callback's legs, at most): a rule of
    thousands of members is not loaded on every dispatch.
    """
    if not rung:
        return 0
    never_rung = session.scalar(
        select(
            select(RuleMember.agent_id)
            .where(RuleMember.rule_id == rule.id, RuleMember.agent_id.not_in(list(rung)))
            .exists()
        )
    )
    if never_rung:
        return 0
    return min((rung[m.agent_id] for m in rule.members), default=0)


def _exhausted_agents(callback: CallbackRequest, rule: RoutingRule) -> set[int]:
    """Agents already rung max_rounds times for this callback are not rung again."""
    rung = _times_rung(callback)
    return {agent_id for agent_id, times in rung.items() if times >= rule.max_rounds}


def _start_legs(
    session: Session,
    callback: CallbackRequest,
    reserved: list[Reservation],
    timeout_s: int,
    now: datetime,
) -> tuple[list[PlacedLeg], machine.Effects]:
    placed: list[PlacedLeg] = []
    effects = machine.Effects()
    for reservation in reserved:
        leg = Leg(
            callback_id=callback.id,
            kind="agent",
            agent_id=reservation.agent_id,
            reservation=reservation.token,
            status="queued",
            created_at=now,
        )
        callback.legs.append(leg)
        session.flush()  # the leg id goes into the carrier's webhook URLs
        event = flow.Event(
            flow.EventType.DISPATCHED,
            leg_id=str(leg.id),
            agent_id=str(reservation.agent_id),
            data={"agent": reservation.name, "agent_id": reservation.agent_id},
        )
        _, leg_effects = machine.apply(session, callback, event, now)
        effects.hang_up.update(leg_effects.hang_up)
        placed.append(PlacedLeg(leg.id, reservation.phone, timeout_s))
    return placed, effects


def _nobody_free(
    session: Session,
    callback: CallbackRequest,
    state: flow.CallbackState,
    rule: RoutingRule,
    now: datetime,
) -> machine.Effects:
    """No agent could be reserved: wait in the queue if someone may free up, else give up."""
    exhausted = _exhausted_agents(callback, rule)
    if state.active_legs or _someone_may_free_up(session, rule, exhausted):
        return machine.Effects()  # stays queued/calling; the sweeper dispatches it again
    event = flow.Event(flow.EventType.NO_AGENT_AVAILABLE)
    _, effects = machine.apply(session, callback, event, now, state=state)
    return effects


def would_only_wait(
    session: Session, callback: CallbackRequest, rule: RoutingRule, anyone_free: bool
) -> bool:
    """Whether dispatching this waiting callback now could only leave it waiting: nobody in
    its rule is free (`anyone_free`, from `free_members`) and someone who may free up is busy,
    the test `_nobody_free` makes after failing to reserve anyone."""
    if anyone_free:
        return False
    return _someone_may_free_up(session, rule, _exhausted_agents(callback, rule))


def _someone_may_free_up(session: Session, rule: RoutingRule, exhausted: set[int]) -> bool:
    """An online member, not yet rung to exhaustion for this callback, busy with another call."""
    busy = session.scalar(
        select(
            select(RuleMember.agent_id)
            .join(Agent, Agent.id == RuleMember.agent_id)
            .where(
                RuleMember.rule_id == rule.id,
                Agent.active.is_(True),
                Agent.presence == "online",
                Agent.id.not_in(exhausted or {-1}),
            )
            .exists()
        )
    )
    return bool(busy)


def _place(callback_id: str, leg: PlacedLeg) -> None:
    """Ring the agent through the carrier; a refusal ends the leg like a failed call."""
    settings = context.settings()
    for attempt in range(PLACE_ATTEMPTS):
        wait = _budget().reserve()  # every worker shares CALLS_PER_SECOND
        if wait:
            time.sleep(wait)
        try:
            sid = context.provider().place_call(
                to=leg.phone,
                from_=settings.twilio_caller_id,
                answer_url=context.public_url(f"/twilio/agent/answer?leg={leg.leg_id}"),
                status_callback=context.public_url(f"/twilio/status?leg={leg.leg_id}"),
                timeout_s=leg.timeout_s,
            )
            break
        except ProviderError as error:
            log.warning("ringing agent %s failed: %s", mask(leg.phone), error)
            if not error.retryable or attempt + 1 == PLACE_ATTEMPTS:
                code = str(error.code or error.status or "network")
                # The carrier's words (numbers already scrubbed) say why on the timeline.
                leg_failed(callback_id, leg.leg_id, code, reason=error.message)
                return
            time.sleep(backoff_delay(attempt, cap=1.0))
    with context.transaction() as session:
        row = session.get_one(Leg, leg.leg_id)
        row.provider_sid = sid
        canceled_meanwhile = row.status in machine.LEG_FINAL_STATUSES
    if canceled_meanwhile:  # a colleague accepted while we were dialling
        jobs.enqueue(jobs.CANCEL_LEG, leg.leg_id)


def _budget() -> CallBudget:
    """The process's calls-per-second budget, made on first use (no connection at import)."""
    extensions = current_app.extensions
    if "call_budget" not in extensions:
        settings = context.settings()
        extensions["call_budget"] = make_budget(
            settings.calls_per_second, settings.redis_url, settings.redis_key_prefix
        )
    return extensions["call_budget"]


def leg_failed(callback_id: str, leg_id: int, code: str, reason: str | None = None) -> None:
    now = context.now()
    with context.transaction() as session:
        callback = machine.lock_callback(session, callback_id)
        leg = session.get_one(Leg, leg_id)
        leg.status, leg.ended_at = "failed", now
        if callback is None:
            return
        event = flow.Event(
            flow.EventType.AGENT_FAILED,
            leg_id=str(leg_id),
            carrier_status="failed",
            data={"error": code, **({"reason": reason} if reason else {})},
        )
        _, effects = machine.apply(session, callback, event, now)
    effects.run_after_commit(callback_id)


def cancel_leg(leg_id: int) -> None:
    """Hang up a leg that lost the race or is no longer needed (idempotent).

    Its agent stays reserved until the carrier reports the call ended (the leg's final status
    frees them, carrier_events.agent_status), or their lease runs out if that news is lost:
    asked to hang up, a carrier may still be finishing the call, and an agent freed before it
    has could be rung over it."""
    with context.transaction() as session:
        leg = session.get(Leg, leg_id)
        if leg is None:
            return
        sid = leg.provider_sid
        if sid is None:
            leg.status = "canceled"  # _place cancels it as soon as the carrier answers
            return
    context.provider().cancel_call(sid)
