"""A day of callbacks on a simulated clock, decided by the product's own routing and flow.

A discrete-event simulation: events sit in a heap by simulated time and run one at a time, so
a day of 600 callbacks takes well under a second. What the product decides is decided here by
the product's pure code, called exactly as its shell calls it:

- `flow.transition` for every event of every callback (requested, dispatched, agent answered,
  accepted, no answer, busy, declined, hedge due, customer answered, call ended, no agent
  available, queue timeout), and the actions it returns are carried out as
  `services.machine` carries them out (release an agent, wrap-up, cancel the other legs, dial
  the customer, ring the next agent, reschedule);
- `routing.strategies.order_candidates` and `ring_plan` choose whom to ring and how many.

What the shell does around them is mirrored from `services.dispatch` (one transaction per
turn: nobody rung twice before everybody once, up to max_rounds, a hedge rings one more,
older waiting callbacks first) and `services.sweeper` (every SWEEP_INTERVAL_S: wrap-up leases
end, waiting callbacks are dispatched again, overdue hedges fire, long waits become
scheduled). The constants come from those modules. The carrier is modelled as the simulator
behaves: SETUP_DELAY before ringing, a leg rings out after the rule's ring timeout, the
whisper is spoken at the simulator's speech rate.

Our own time (intake, tasks, webhooks) is added as the small constant delays in `Latency`,
close to what bench/critical_path.py measures; against seconds of ringing it hardly matters.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from promise_model import (
    AgentResponse,
    Model,
    agent_response,
    customer_response,
    whisper,
)

from callback import flow
from callback.config import Settings
from callback.flow import CallbackState, Event, Status
from callback.flow import EventType as E
from callback.jobs import SWEEP_INTERVAL_S
from callback.models import RoutingRule
from callback.routing.strategies import CandidateView, order_candidates, ring_plan
from callback.services.carrier_events import CUSTOMER_RING_TIMEOUT_S
from callback.services.dispatch import MAX_TURNS
from callback.services.machine import MAX_RESCHEDULES, WRAP_UP_S
from callback.services.reporting import PROMISE_S
from callback.services.sweeper import HEDGE_SLACK_S
from callback.simulator.runner import SETUP_DELAY

DAY_START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday; only differences matter
QUEUE_MAX_WAIT_S = Settings.from_env({}).queue_max_wait_s


def rule_default(name: str) -> Any:
    """The product's default for a routing rule's setting (the model's column default)."""
    return RoutingRule.__table__.c[name].default.arg


@dataclass(frozen=True)
class Rule:
    """A routing rule's settings (it satisfies `strategies.RuleSettings`)."""

    strategy: str
    ring_timeout: int = field(default_factory=lambda: rule_default("ring_timeout"))
    hedge_after: int = field(default_factory=lambda: rule_default("hedge_after"))
    simultaneous_count: int = field(default_factory=lambda: rule_default("simultaneous_count"))
    max_rounds: int = field(default_factory=lambda: rule_default("max_rounds"))
    customer_retry_delay: int = field(default_factory=lambda: rule_default("customer_retry_delay"))
    customer_max_attempts: int = field(
        default_factory=lambda: rule_default("customer_max_attempts")
    )
    whisper_template: str = field(default_factory=lambda: rule_default("whisper_template"))

    @property
    def label(self) -> str:
        whisper = ""
        if self.whisper_template != rule_default("whisper_template"):
            whisper = f', whisper "{self.whisper_template}"'
        return self._settings() + whisper

    def _settings(self) -> str:
        if self.strategy == "hedged":
            return f"hedged (hedge_after {self.hedge_after} s, ring_timeout {self.ring_timeout} s)"
        if self.strategy == "simultaneous":
            return (
                f"simultaneous ({self.simultaneous_count} at once, "
                f"ring_timeout {self.ring_timeout} s)"
            )
        return f"{self.strategy} (ring_timeout {self.ring_timeout} s)"


@dataclass(frozen=True)
class Latency:
    """Our own time, in seconds (bench/critical_path.py measures it)."""

    dispatch_s: float = 0.04  # an event asking for agents → the agent call at the carrier
    webhook_s: float = 0.03  # the carrier waits this long for a TwiML answer
    status_s: float = 0.02  # a status callback applied after the carrier sent it


@dataclass
class Agent:
    position: int
    state: str = "available"  # available | ringing | on_call | wrap_up
    leg: Leg | None = None  # the call holding the agent (the reservation)
    lease_until: float | None = None
    last_call_ended_at: datetime | None = None


@dataclass
class Leg:
    id: str
    callback: Callback
    agent: Agent
    response: AgentResponse
    placed_at: float
    ring_start: float
    ended_at: float | None = None
    answered_at: float | None = None
    won: bool = False

    @property
    def agent_seconds(self) -> float:
        """How long this leg kept its agent's phone busy (ringing, whisper)."""
        end = self.ended_at if self.ended_at is not None else self.ring_start
        return max(0.0, end - self.ring_start)


@dataclass
class Callback:
    index: int
    requested_at: float
    agent_free: bool  # an agent of the rule was available when the visitor clicked
    state: CallbackState
    due_at: float
    legs: list[Leg] = field(default_factory=list)
    times_rung: Counter[int] = field(default_factory=Counter)
    customer_ringing_at: float | None = None
    connected_at: float | None = None
    outcome: str | None = None  # connected | scheduled | failed
    queue_timed_out: bool = False

    @property
    def live(self) -> bool:
        return self.outcome is None and not self.state.is_terminal

    @property
    def time_to_connect(self) -> float | None:
        return None if self.connected_at is None else self.connected_at - self.requested_at


class Day:
    """One simulated day of one rule. `arrivals` pairs each callback's index (its draws) with
    its request time in seconds since the day's start."""

    def __init__(
        self,
        model: Model,
        rule: Rule,
        seed: int,
        arrivals: Sequence[tuple[int, float]],
        latency: Latency | None = None,
        sweep_phase_s: float = 0.37,
        hedge_waits_for_answer: bool = False,
    ) -> None:
        self.model, self.rule, self.seed = model, rule, seed
        self.latency = latency or Latency()
        self.plan = ring_plan(rule)
        self.whisper = whisper(model.page_title, rule.whisper_template)
        self.agents = [Agent(position) for position in range(1, model.agents + 1)]
        self.arrivals = list(arrivals)
        self.callbacks: list[Callback] = []
        self._live: list[Callback] = []  # in request order; pruned by each sweep
        self.now = 0.0
        self.cursor = 0  # round_robin: the position rung last
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self._legs = itertools.count(1)
        self._pending_arrivals = len(self.arrivals)
        self._sweep_phase = sweep_phase_s
        # A what-if, not the product: no hedge while an agent who picked up hears the whisper.
        self.hedge_waits_for_answer = hedge_waits_for_answer

    # -- the event loop -------------------------------------------------------------------

    def at(self, when: float, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._heap, (when, next(self._order), action, args))

    def run(self) -> list[Callback]:
        for index, when in self.arrivals:
            self.at(when, self._request, index)
        self.at(self._sweep_phase, self._sweep)
        while self._heap:
            self.now, _, action, args = heapq.heappop(self._heap)
            action(*args)
        return self.callbacks

    def _busy(self) -> bool:
        """Anything left that a sweep could move on."""
        return (
            self._pending_arrivals > 0
            or bool(self._live)
            or any(agent.state != "available" for agent in self.agents)
        )

    # -- the product's flow ---------------------------------------------------------------

    def apply(self, callback: Callback, event: Event) -> flow.Outcome:
        """Apply one event as services.machine.apply does, and carry out its actions."""
        if event.type in (E.NO_AGENT_AVAILABLE, E.QUEUE_TIMEOUT):
            used = int(callback.queue_timed_out)
            callback.state = replace(callback.state, reschedules_left=MAX_RESCHEDULES - used)
        outcome = flow.transition(callback.state, event)
        if outcome.applied:
            callback.state = outcome.state
        for action in outcome.actions:
            self._carry_out(callback, action)
        return outcome

    def _carry_out(self, callback: Callback, action: flow.Action) -> None:
        match action:
            case flow.EnqueueDispatch() | flow.RingNextAgents():
                self.at(self.now + self.latency.dispatch_s, self.dispatch, callback, False)
            case flow.PromptAgent(leg_id=leg_id):
                self._whisper(self._leg(callback, leg_id))
            case flow.MarkAgentOnCall(leg_id=leg_id):
                agent = self._leg(callback, leg_id).agent
                agent.state = "on_call"
            case flow.CancelOtherLegs(leg_ids=leg_ids):
                for leg_id in leg_ids:
                    leg = self._leg(callback, leg_id)
                    self._end_leg(leg)
                    self._release(leg)
            case flow.DialCustomer(leg_id=leg_id):
                self._dial_customer(callback, self._leg(callback, leg_id))
            case flow.HangUpLeg(leg_id=leg_id):
                self._end_leg(self._leg(callback, leg_id))
            case flow.ReleaseAgent(leg_id=leg_id):
                self._release(self._leg(callback, leg_id))
            case flow.MarkAgentWrapUp(leg_id=leg_id):
                self._release(self._leg(callback, leg_id), wrap_up_s=WRAP_UP_S)
            case flow.Reschedule():
                callback.outcome = "scheduled"
            case flow.ScheduleRetry(delay_s=delay):
                callback.due_at = self.now + delay
            case flow.Fail():
                callback.outcome = callback.outcome or "failed"
            case flow.Complete() | flow.WatchLeg():
                pass

    @staticmethod
    def _leg(callback: Callback, leg_id: str) -> Leg:
        return next(leg for leg in callback.legs if leg.id == leg_id)

    def _release(self, leg: Leg, wrap_up_s: float = 0.0) -> None:
        """reservation.release: only the call holding the agent frees them."""
        agent = leg.agent
        if agent.leg is not leg:
            return
        if agent.state == "on_call":
            agent.last_call_ended_at = DAY_START + timedelta(seconds=self.now)
        if wrap_up_s > 0:
            agent.state, agent.lease_until = "wrap_up", self.now + wrap_up_s
        else:
            agent.state, agent.leg, agent.lease_until = "available", None, None

    # -- visitors -------------------------------------------------------------------------

    def _request(self, index: int) -> None:
        self._pending_arrivals -= 1
        free = any(agent.state == "available" for agent in self.agents)
        callback = Callback(
            index=index,
            requested_at=self.now,
            agent_free=free,
            state=CallbackState(
                max_customer_attempts=self.rule.customer_max_attempts,
                retry_delay_s=self.rule.customer_retry_delay,
                reschedules_left=MAX_RESCHEDULES,
            ),
            due_at=self.now,
        )
        self.callbacks.append(callback)
        self._live.append(callback)
        self.apply(callback, Event(E.REQUESTED))

    # -- dispatch (services.dispatch) -----------------------------------------------------

    def dispatch(self, callback: Callback, hedge: bool) -> None:
        target = callback
        for _ in range(MAX_TURNS):
            turn = self._take_turn(target, hedge=hedge and target is callback)
            if isinstance(turn, Callback):
                target = turn  # an older callback is first in line
            elif target is not callback and turn != "waiting":
                target = callback
            else:
                return

    def _wants_agents(self, callback: Callback) -> bool:
        if not callback.live:
            return False
        status = callback.state.status
        if status is Status.CALLING_AGENT:
            return callback.state.accepted_leg is None
        return status is Status.QUEUED and callback.due_at <= self.now

    def _take_turn(self, callback: Callback, hedge: bool) -> str | Callback:
        if not self._wants_agents(callback):
            return "done"
        ringing = callback.state.active_legs
        if ringing and not hedge:
            return "done"
        if hedge and self.hedge_waits_for_answer and self._someone_answered(callback):
            return "done"
        older = self._waiting_before(callback)
        if older is not None:
            return older
        busy = {leg.agent.position for leg in callback.legs if leg.id in ringing}
        count = 1 if ringing else self.plan.initial
        chosen = self._pick(self._rung_this_round(callback) | busy, count)
        if not chosen:
            chosen = self._pick(self._exhausted(callback) | busy, count)
        if not chosen:
            everyone = {agent.position for agent in self.agents}
            if not ringing and everyone <= self._exhausted(callback):
                self.apply(callback, Event(E.NO_AGENT_AVAILABLE))
            return "waiting"  # the sweep dispatches it again
        for agent in chosen:
            self._ring(callback, agent)
        if self.plan.hedge_after_s is not None:
            self.at(self.now + self.plan.hedge_after_s, self._hedge_due, callback)
        return "rang"

    @staticmethod
    def _someone_answered(callback: Callback) -> bool:
        active = callback.state.active_legs
        return any(leg.answered_at is not None for leg in callback.legs if leg.id in active)

    def _waiting_before(self, callback: Callback) -> Callback | None:
        if callback.state.status is not Status.QUEUED or callback.legs:
            return None
        for other in self._live:  # in request order
            if other.requested_at >= callback.requested_at:
                return None
            if (
                other.live
                and other.state.status is Status.QUEUED
                and other.due_at <= self.now
                and not other.legs
            ):
                return other
        return None

    def _rung_this_round(self, callback: Callback) -> set[int]:
        rung = callback.times_rung
        current = min(rung[agent.position] for agent in self.agents)
        return {a for a, times in rung.items() if times > current} | self._exhausted(callback)

    def _exhausted(self, callback: Callback) -> set[int]:
        return {a for a, times in callback.times_rung.items() if times >= self.rule.max_rounds}

    def _pick(self, exclude: set[int], count: int) -> list[Agent]:
        candidates = [
            CandidateView(agent.position, agent.position, agent.last_call_ended_at)
            for agent in self.agents
            if agent.state == "available" and agent.position not in exclude
        ]
        ordered = order_candidates(self.rule.strategy, candidates, self.cursor)[:count]
        if self.rule.strategy == "round_robin" and ordered:
            self.cursor = ordered[-1].position
        return [self.agents[candidate.agent_id - 1] for candidate in ordered]

    def _hedge_due(self, callback: Callback) -> None:
        """jobs.HEDGE: nobody accepted within hedge_after, ring one more."""
        if not callback.live:
            return
        outcome = flow.transition(callback.state, Event(E.HEDGE_DUE))
        if outcome.applied and any(isinstance(a, flow.RingNextAgents) for a in outcome.actions):
            callback.state = outcome.state
            self.dispatch(callback, hedge=True)

    # -- the carrier: agent legs ----------------------------------------------------------

    def _ring(self, callback: Callback, agent: Agent) -> None:
        leg = Leg(
            id=str(next(self._legs)),
            callback=callback,
            agent=agent,
            response=agent_response(self.model, self.seed, callback.index, agent.position),
            placed_at=self.now,
            ring_start=self.now + SETUP_DELAY,
        )
        agent.state, agent.leg = "ringing", leg
        callback.legs.append(leg)
        callback.times_rung[agent.position] += 1
        self.apply(callback, Event(E.DISPATCHED, leg_id=leg.id, agent_id=str(agent.position)))
        response, timeout = leg.response, self.rule.ring_timeout
        if response.kind in ("answer", "decline") and response.after_s < timeout:
            self.at(leg.ring_start + response.after_s, self._agent_answered, leg)
        elif response.kind == "busy" and response.after_s < timeout:
            self.at(leg.ring_start + response.after_s, self._leg_over, leg, E.AGENT_BUSY, "busy")
        else:  # the carrier gives up after the call's Timeout
            self.at(leg.ring_start + timeout, self._leg_over, leg, E.AGENT_NO_ANSWER, "no-answer")

    def _agent_answered(self, leg: Leg) -> None:
        if leg.ended_at is not None:
            return  # canceled while ringing
        leg.answered_at = self.now
        self.apply(leg.callback, Event(E.AGENT_ANSWERED, leg_id=leg.id))

    def _whisper(self, leg: Leg) -> None:
        spoken = self.now + self.latency.webhook_s + self.whisper.speech_s
        if leg.response.kind == "answer":
            pressed = spoken + leg.response.press_after_s + self.latency.webhook_s
            self.at(pressed, self._agent_pressed, leg)
        else:  # no key: the Gather times out, the goodbye is said, the leg completes
            over = spoken + self.whisper.gather_timeout_s + self.whisper.goodbye_s
            self.at(over, self._leg_over, leg, E.AGENT_DECLINED, "completed")

    def _agent_pressed(self, leg: Leg) -> None:
        if leg.ended_at is not None:
            return
        event = Event(E.AGENT_ACCEPTED, leg_id=leg.id, agent_id=str(leg.agent.position))
        self.apply(leg.callback, event)

    def _leg_over(self, leg: Leg, event_type: E, status: str) -> None:
        """The carrier ended the leg; its status callback reaches us status_s later."""
        if leg.ended_at is not None:
            return
        self._end_leg(leg)
        event = Event(event_type, leg_id=leg.id, carrier_status=status)
        self.at(self.now + self.latency.status_s, self.apply, leg.callback, event)

    def _end_leg(self, leg: Leg) -> None:
        if leg.ended_at is None:
            leg.ended_at = self.now

    # -- the carrier: the customer --------------------------------------------------------

    def _dial_customer(self, callback: Callback, leg: Leg) -> None:
        leg.won = True
        customer = customer_response(self.model, self.seed, callback.index)
        ringing = self.now + SETUP_DELAY
        if callback.customer_ringing_at is None:
            callback.customer_ringing_at = ringing
        if customer.answers and customer.after_s < CUSTOMER_RING_TIMEOUT_S:
            self.at(ringing + customer.after_s, self._customer_answered, callback, leg)
        else:
            self.at(ringing + CUSTOMER_RING_TIMEOUT_S, self._customer_missed, callback, leg)

    def _customer_answered(self, callback: Callback, leg: Leg) -> None:
        callback.connected_at = self.now
        callback.outcome = "connected"
        self.apply(callback, Event(E.CUSTOMER_ANSWERED, leg_id=leg.id, carrier_status="answered"))
        talk = customer_response(self.model, self.seed, callback.index).talk_s
        self.at(self.now + talk, self._call_ended, callback, leg)

    def _customer_missed(self, callback: Callback, leg: Leg) -> None:
        self._end_leg(leg)
        event = Event(E.CUSTOMER_NO_ANSWER, leg_id=leg.id, carrier_status="no-answer")
        self.apply(callback, event)

    def _call_ended(self, callback: Callback, leg: Leg) -> None:
        leg.ended_at = self.now  # the agent leg ends with the bridge
        self.apply(callback, Event(E.CALL_ENDED, leg_id=leg.id, carrier_status="completed"))

    # -- the beat (services.sweeper) ------------------------------------------------------

    def _sweep(self) -> None:
        for agent in self.agents:
            expired = agent.lease_until is not None and agent.lease_until < self.now
            if agent.state == "wrap_up" and expired:
                agent.state, agent.leg, agent.lease_until = "available", None, None
        self._live = [cb for cb in self._live if cb.live]
        waiting = sorted(
            (cb for cb in self._live if cb.due_at <= self.now),
            key=lambda cb: (cb.due_at, cb.requested_at),
        )
        for callback in waiting:
            if callback.state.accepted_leg is not None:
                continue
            step = self._next_step(callback)
            if step is not None:
                self.at(self.now + self.latency.dispatch_s, self.dispatch, callback, step)
        self._end_long_waits()
        if self._busy():
            self.at(self.now + SWEEP_INTERVAL_S, self._sweep)

    def _next_step(self, callback: Callback) -> bool | None:
        """None: nothing to do; False: dispatch; True: hedge (sweeper._next_step)."""
        if callback.state.status is Status.QUEUED:
            return False
        ringing = [leg for leg in callback.legs if leg.id in callback.state.active_legs]
        if not ringing:
            return False
        if self.plan.hedge_after_s is None:
            return None
        newest = max(leg.placed_at for leg in ringing)
        return True if newest + self.plan.hedge_after_s + HEDGE_SLACK_S <= self.now else None

    def _end_long_waits(self) -> None:
        cutoff = self.now - QUEUE_MAX_WAIT_S
        for callback in self._live:
            if (
                callback.live
                and callback.state.status is Status.QUEUED
                and callback.due_at < cutoff
                and not callback.queue_timed_out
                and all(leg.ended_at is not None for leg in callback.legs)
            ):
                outcome = self.apply(callback, Event(E.QUEUE_TIMEOUT))
                callback.queue_timed_out = outcome.applied


# -- what a day comes to -----------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(callbacks: Sequence[Callback]) -> dict[str, Any]:
    """The day's numbers. within_20s counts over callbacks for which an agent was free when
    the visitor clicked (the promise's condition); a callback never connected counts as missed."""
    free = [cb for cb in callbacks if cb.agent_free]
    connect = [t for cb in free if (t := cb.time_to_connect) is not None]
    within = sum(1 for t in connect if t <= PROMISE_S)
    rang = sum(
        1
        for cb in free
        if cb.customer_ringing_at is not None
        and cb.customer_ringing_at - cb.requested_at <= PROMISE_S
    )
    wasted = [sum(leg.agent_seconds for leg in cb.legs if not leg.won) for cb in callbacks]
    legs = [len(cb.legs) for cb in callbacks]
    outcomes = Counter(cb.outcome or "unfinished" for cb in callbacks)

    def rounded(value: float | None, digits: int = 2) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "callbacks": len(callbacks),
        "agent_free_at_request": len(free),
        "within_20s": rounded(within / len(free), 4) if free else None,
        "within_20s_count": within,
        "customer_rang_within_20s": rounded(rang / len(free), 4) if free else None,
        "time_to_connect_p50_s": rounded(percentile(connect, 50)),
        "time_to_connect_p95_s": rounded(percentile(connect, 95)),
        "time_to_connect_max_s": rounded(max(connect, default=None)),
        "ring_time_wasted_s_per_callback": rounded(sum(wasted) / len(callbacks)),
        "ring_time_wasted_hours": rounded(sum(wasted) / 3600),
        "agent_legs_per_callback": rounded(sum(legs) / len(callbacks)),
        "outcomes": dict(outcomes),
    }
