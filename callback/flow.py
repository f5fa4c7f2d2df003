"""The callback state machine: transitions as data, one pure function to apply them.

`transition(state, event)` takes the current `CallbackState` and one `Event` and returns an
`Outcome`: the next state, the `Action`s the shell must carry out, and the outcome's `kind`.
Nothing here does I/O. The shell around it — a webhook, a Celery task, the beat — loads the
state, calls `transition`, persists the new state and the event in one transaction, then carries
out the actions (carrier calls, agent reservations, enqueues) after the commit.

Carriers deliver status callbacks late, twice and out of order, and timers race with webhooks,
so those are ordinary inputs here, not errors. Every input gets an explicit outcome kind and this
module never raises on one:

- `applied`: the event moved the flow on (or was recorded with no change); persist `state`.
- `duplicate`: an event with the same `dedupe_key` was already applied; change nothing.
- `ignored_late`: the event is about something that no longer matters (a leg that lost the race,
  a timer that fired after the flow moved on, anything after a terminal status). The state is
  unchanged, but the outcome may carry clean-up actions, e.g. `HangUpLeg` for an agent who
  pressed 1 after another agent already took the callback.
- `illegal`: the event contradicts the state (a customer answering before any agent accepted).
  The state is unchanged; the shell logs it loudly.

Only `applied` outcomes return a new state; for the other kinds `outcome.state is state`, so the
shell has nothing to write.

Conventions the shell must follow:

- Agent-leg events (`dispatched`, `agent_*`, `lease_expired`) carry the agent leg's id.
- Customer events (`customer_*`, `call_ended`) carry the id of the *accepted agent leg* whose
  `<Dial>` rang the customer (Twilio's ParentCallSid); that is how an event from an earlier
  attempt is told apart from the current one. The customer call's own sid may go in `data`.
- Apply `dispatched` (and commit) before placing the carrier call, so that no status callback
  can arrive for a leg the state does not know yet.
- `transition` only tests `event.dedupe_key in state.seen_keys`: the shell may load just that
  one key (a unique index on (callback, dedupe_key) also closes the race between two webhook
  workers).
- A `duplicate` carries no actions. A webhook that is retried answers from the current state,
  as it did the first time (e.g. a repeated accept from the winning leg serves the `<Dial>`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    CALLING_AGENT = "calling_agent"
    AGENT_CONNECTED = "agent_connected"  # an agent accepted; the customer is being dialled
    CONNECTED = "connected"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL_STATUSES: frozenset[Status] = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELED})
# The contract's public names, in flow order.
PUBLIC_STATUSES: tuple[str, ...] = tuple(status.value for status in Status)


class EventType(StrEnum):
    REQUESTED = "requested"  # intake stored the request
    DUE = "due"  # a scheduled callback became due (the beat)
    RETRY_DUE = "retry_due"  # the delay before calling the customer again is over
    HEDGE_DUE = "hedge_due"  # hedged routing: nobody accepted within `hedge_after`
    DISPATCHED = "dispatched"  # the worker reserved an agent and is ringing this leg
    AGENT_RINGING = "agent_ringing"
    AGENT_ANSWERED = "agent_answered"  # answer webhook: the whisper is served
    AGENT_ACCEPTED = "agent_accepted"  # the agent pressed 1: this leg claims the callback
    AGENT_DECLINED = "agent_declined"  # another key, no key, or voicemail
    AGENT_NO_ANSWER = "agent_no_answer"
    AGENT_BUSY = "agent_busy"
    AGENT_FAILED = "agent_failed"
    AGENT_LEG_CANCELED = "agent_leg_canceled"
    LEASE_EXPIRED = "lease_expired"  # the leg's reservation ran out with no news from it
    CUSTOMER_RINGING = "customer_ringing"
    CUSTOMER_ANSWERED = "customer_answered"  # bridged
    CUSTOMER_NO_ANSWER = "customer_no_answer"
    CUSTOMER_BUSY = "customer_busy"
    CUSTOMER_FAILED = "customer_failed"
    CALL_ENDED = "call_ended"  # hang-up after the bridge; data["duration_s"]
    NO_AGENT_AVAILABLE = "no_agent_available"  # the dispatcher found nobody to ring
    WATCHDOG = "watchdog"  # the sweeper found this callback idle for too long
    CANCELED = "canceled"  # by the visitor or an admin


AGENT_LEG_EVENTS: frozenset[EventType] = frozenset(
    {
        EventType.AGENT_RINGING,
        EventType.AGENT_ANSWERED,
        EventType.AGENT_ACCEPTED,
        EventType.AGENT_DECLINED,
        EventType.AGENT_NO_ANSWER,
        EventType.AGENT_BUSY,
        EventType.AGENT_FAILED,
        EventType.AGENT_LEG_CANCELED,
        EventType.LEASE_EXPIRED,
    }
)
# Agent-leg events after which the leg no longer rings.
AGENT_LEG_ENDINGS: frozenset[EventType] = AGENT_LEG_EVENTS - {
    EventType.AGENT_RINGING,
    EventType.AGENT_ANSWERED,
    EventType.AGENT_ACCEPTED,
}
CUSTOMER_EVENTS: frozenset[EventType] = frozenset(
    {
        EventType.CUSTOMER_RINGING,
        EventType.CUSTOMER_ANSWERED,
        EventType.CUSTOMER_NO_ANSWER,
        EventType.CUSTOMER_BUSY,
        EventType.CUSTOMER_FAILED,
        EventType.CALL_ENDED,
    }
)
LEG_EVENTS: frozenset[EventType] = AGENT_LEG_EVENTS | CUSTOMER_EVENTS | {EventType.DISPATCHED}


class OutcomeKind(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED_LATE = "ignored_late"
    ILLEGAL = "illegal"


class Reason(StrEnum):
    """Why a callback failed: the `reason` of the public status.

    Unreached customers keep the cause of the last attempt (no answer, busy, failed) rather than
    one catch-all: the statistics and the admin need to tell a busy line from a dead number.
    """

    NO_AGENT_AVAILABLE = "no_agent_available"
    CUSTOMER_NO_ANSWER = "customer_no_answer"
    CUSTOMER_BUSY = "customer_busy"
    CUSTOMER_FAILED = "customer_failed"
    AGENT_HUNG_UP = "agent_hung_up"  # the agent left before the customer answered


# `HangUpLeg.reason` for legs that lost a race; otherwise it is the triggering event type.
ALREADY_TAKEN = "already_taken"
NO_LONGER_NEEDED = "no_longer_needed"

DEFAULT_MAX_CUSTOMER_ATTEMPTS = 2  # the first try plus one retry
DEFAULT_RETRY_DELAY_S = 60


@dataclass(frozen=True)
class Event:
    type: EventType
    leg_id: str | None = None
    agent_id: str | None = None
    carrier_status: str | None = None  # Twilio's CallStatus / DialCallStatus, verbatim
    sequence: int | None = None  # Twilio's SequenceNumber, or an attempt number for timers
    # Excluded from the hash so events stay hashable; equality still compares it.
    data: Mapping[str, object] = field(default_factory=dict, hash=False)

    @property
    def dedupe_key(self) -> str | None:
        """What makes two deliveries "the same event"; None when only the state can tell.

        The type is part of the key because agent and customer events share the agent leg's
        id (see the module docstring) and may carry the same carrier status.
        """
        if self.type is EventType.REQUESTED:
            return "requested"  # once per callback by definition
        seq = "" if self.sequence is None else str(self.sequence)
        if self.leg_id is None:
            return None if self.sequence is None else f"{self.type}:{seq}"
        return f"{self.leg_id}:{self.type}:{self.carrier_status or ''}:{seq}"


@dataclass(frozen=True)
class CallbackState:
    status: Status = Status.QUEUED
    accepted_leg: str | None = None  # the agent leg that claimed the current attempt
    active_legs: frozenset[str] = frozenset()  # agent legs still ringing
    seen_keys: frozenset[str] = frozenset()  # dedupe keys of applied events
    customer_attempts: int = 0  # customer dials started (one per accept)
    max_customer_attempts: int = DEFAULT_MAX_CUSTOMER_ATTEMPTS
    reason: Reason | None = None  # set when failed
    retry_delay_s: int = DEFAULT_RETRY_DELAY_S

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


# --- Actions: what the shell does after committing an outcome --------------------------------


@dataclass(frozen=True)
class Action:
    """Base of every action; the shell dispatches on the concrete type."""


@dataclass(frozen=True)
class EnqueueDispatch(Action):
    """Start a dispatch round: choose and reserve agent(s), then ring them (a task)."""


@dataclass(frozen=True)
class RingNextAgents(Action):
    """Continue the round: ring the next agent(s) not tried yet, or report no_agent_available."""


@dataclass(frozen=True)
class WatchLeg(Action):
    """Check on this leg after ring timeout + grace; reconcile with the carrier if silent."""

    leg_id: str


@dataclass(frozen=True)
class PromptAgent(Action):
    """Answer the agent leg's webhook with the whisper and the keypress prompt."""

    leg_id: str


@dataclass(frozen=True)
class MarkAgentOnCall(Action):
    agent_id: str | None  # None: the shell looks the agent up by leg
    leg_id: str


@dataclass(frozen=True)
class CancelOtherLegs(Action):
    """End every leg in `leg_ids` and release their agents; `leg_id` (if any) won and stays."""

    leg_id: str | None
    leg_ids: tuple[str, ...]


@dataclass(frozen=True)
class DialCustomer(Action):
    """Answer the winning leg's keypress webhook with `<Dial>` to the customer."""

    leg_id: str
    attempt: int  # 1-based


@dataclass(frozen=True)
class HangUpLeg(Action):
    """End this leg: with TwiML if answering its webhook, else through the carrier API.

    `reason` picks the short message the agent hears (e.g. `already_taken`).
    """

    leg_id: str
    reason: str


@dataclass(frozen=True)
class ReleaseAgent(Action):
    """Free the agent reserved for this leg (fenced by the leg's reservation)."""

    agent_id: str | None
    leg_id: str


@dataclass(frozen=True)
class MarkAgentWrapUp(Action):
    agent_id: str | None
    leg_id: str


@dataclass(frozen=True)
class ScheduleRetry(Action):
    """Set `due_at = now + delay_s` in the DB; the beat sends `retry_due` (no ETA task)."""

    delay_s: int


@dataclass(frozen=True)
class Fail(Action):
    reason: Reason


@dataclass(frozen=True)
class Complete(Action):
    duration_s: int | None


# --- The table ---------------------------------------------------------------------------------


class Guard(StrEnum):
    OTHER_LEGS_RINGING = "other_legs_ringing"  # an agent leg besides the event's still rings
    NO_LEGS_RINGING = "no_legs_ringing"
    RETRY_LEFT = "retry_left"  # customer attempts < max


@dataclass(frozen=True)
class Rule:
    """One branch of a transition; a table entry tries its rules in order, first match wins.

    `target` None means "status unchanged" (used by `ignored_late` rules). `actions` are action
    *types*; `transition` fills in their fields from the state and the event.
    """

    target: Status | None
    actions: tuple[type[Action], ...] = ()
    guard: Guard | None = None  # None: always
    reason: Reason | None = None  # for `failed` targets: the state's reason and `Fail`
    kind: OutcomeKind = OutcomeKind.APPLIED


S = Status
E = EventType
LATE = Rule(None, kind=OutcomeKind.IGNORED_LATE)


def _agent_leg_ended(*first: type[Action]) -> tuple[Rule, ...]:
    # With other legs still ringing (simultaneous, hedged) we wait for them. On the last one we
    # ring the next agent at once rather than on a timer: each second counts against the 20 s.
    return (
        Rule(S.CALLING_AGENT, (*first, ReleaseAgent), guard=Guard.OTHER_LEGS_RINGING),
        Rule(S.CALLING_AGENT, (*first, ReleaseAgent, RingNextAgents)),
    )


def _customer_unreached(reason: Reason, *, agent_on_line: bool = True) -> tuple[Rule, ...]:
    # Back to `queued` for a fresh round with a (possibly) different agent. The agent who waited
    # is released rather than kept: the retry is minutes away.
    hang_up: tuple[type[Action], ...] = (HangUpLeg,) if agent_on_line else ()
    return (
        Rule(S.QUEUED, (*hang_up, ReleaseAgent, ScheduleRetry), guard=Guard.RETRY_LEFT),
        Rule(S.FAILED, (*hang_up, ReleaseAgent, Fail), reason=reason),
    )


# SEAM (scheduling): when nobody can be rung, the callback fails today. The issue that adds
# scheduled callbacks changes only this rule: target `scheduled` plus an action that sets due_at.
NO_AGENT = Rule(S.FAILED, (Fail,), reason=Reason.NO_AGENT_AVAILABLE)

_TABLE: dict[tuple[Status, EventType], tuple[Rule, ...]] = {
    # Intake: the shell creates the state as `scheduled` or `queued`, then applies `requested`.
    (S.SCHEDULED, E.REQUESTED): (Rule(S.SCHEDULED),),
    (S.QUEUED, E.REQUESTED): (Rule(S.QUEUED, (EnqueueDispatch,)),),
    (S.SCHEDULED, E.DUE): (Rule(S.QUEUED, (EnqueueDispatch,)),),
    (S.QUEUED, E.RETRY_DUE): (Rule(S.QUEUED, (EnqueueDispatch,)),),
    # The dispatch task was lost (the broker is lossy): start it again.
    (S.QUEUED, E.WATCHDOG): (Rule(S.QUEUED, (EnqueueDispatch,)),),
    (S.QUEUED, E.NO_AGENT_AVAILABLE): (NO_AGENT,),
    (S.QUEUED, E.DISPATCHED): (Rule(S.CALLING_AGENT, (WatchLeg,)),),
    # Ringing agents. Events for legs that no longer ring never get here (see `_relevance`).
    (S.CALLING_AGENT, E.DISPATCHED): (Rule(S.CALLING_AGENT, (WatchLeg,)),),
    (S.CALLING_AGENT, E.HEDGE_DUE): (Rule(S.CALLING_AGENT, (RingNextAgents,)),),
    (S.CALLING_AGENT, E.AGENT_RINGING): (Rule(S.CALLING_AGENT),),
    (S.CALLING_AGENT, E.AGENT_ANSWERED): (Rule(S.CALLING_AGENT, (PromptAgent,)),),
    (S.CALLING_AGENT, E.AGENT_ACCEPTED): (
        Rule(S.AGENT_CONNECTED, (MarkAgentOnCall, CancelOtherLegs, DialCustomer)),
    ),
    # The declining agent is still in the keypress prompt: hang that leg up ourselves.
    (S.CALLING_AGENT, E.AGENT_DECLINED): _agent_leg_ended(HangUpLeg),
    (S.CALLING_AGENT, E.AGENT_NO_ANSWER): _agent_leg_ended(),
    (S.CALLING_AGENT, E.AGENT_BUSY): _agent_leg_ended(),
    (S.CALLING_AGENT, E.AGENT_FAILED): _agent_leg_ended(),
    (S.CALLING_AGENT, E.AGENT_LEG_CANCELED): _agent_leg_ended(),
    # No news from the leg in time: it may still ring somewhere, so end it before moving on.
    (S.CALLING_AGENT, E.LEASE_EXPIRED): _agent_leg_ended(HangUpLeg),
    (S.CALLING_AGENT, E.NO_AGENT_AVAILABLE): (
        # A hedge found no second agent: keep waiting for the legs that ring.
        Rule(S.CALLING_AGENT, guard=Guard.OTHER_LEGS_RINGING),
        NO_AGENT,
    ),
    (S.CALLING_AGENT, E.WATCHDOG): (
        # Nothing rings and nobody is being rung: the ring-next task was lost.
        Rule(S.CALLING_AGENT, (RingNextAgents,), guard=Guard.NO_LEGS_RINGING),
        LATE,  # legs ring: their own watchdogs and leases cover them
    ),
    # The customer is being dialled.
    (S.AGENT_CONNECTED, E.CUSTOMER_RINGING): (Rule(S.AGENT_CONNECTED),),
    (S.AGENT_CONNECTED, E.CUSTOMER_ANSWERED): (Rule(S.CONNECTED),),
    (S.AGENT_CONNECTED, E.CUSTOMER_NO_ANSWER): _customer_unreached(Reason.CUSTOMER_NO_ANSWER),
    (S.AGENT_CONNECTED, E.CUSTOMER_BUSY): _customer_unreached(Reason.CUSTOMER_BUSY),
    (S.AGENT_CONNECTED, E.CUSTOMER_FAILED): _customer_unreached(Reason.CUSTOMER_FAILED),
    # The agent hung up before the customer answered; their leg is already gone.
    (S.AGENT_CONNECTED, E.CALL_ENDED): _customer_unreached(
        Reason.AGENT_HUNG_UP, agent_on_line=False
    ),
    (S.CONNECTED, E.CUSTOMER_RINGING): (LATE,),
    (S.CONNECTED, E.CUSTOMER_ANSWERED): (LATE,),  # e.g. both `answered` and `in-progress`
    (S.CONNECTED, E.CALL_ENDED): (Rule(S.COMPLETED, (MarkAgentWrapUp, Complete)),),
    # Cancel works from every live status and ends whatever is up.
    (S.SCHEDULED, E.CANCELED): (Rule(S.CANCELED),),
    (S.QUEUED, E.CANCELED): (Rule(S.CANCELED),),
    (S.CALLING_AGENT, E.CANCELED): (Rule(S.CANCELED, (CancelOtherLegs,)),),
    (S.AGENT_CONNECTED, E.CANCELED): (Rule(S.CANCELED, (HangUpLeg, ReleaseAgent)),),
    (S.CONNECTED, E.CANCELED): (Rule(S.CANCELED, (HangUpLeg, MarkAgentWrapUp)),),
}

# Timers race with the flow: one that fires after the flow moved on is late, not illegal.
_LIVE = tuple(status for status in Status if status not in TERMINAL_STATUSES)
_TIMERS = (E.DUE, E.RETRY_DUE, E.HEDGE_DUE, E.WATCHDOG)
_TABLE.update({(s, t): (LATE,) for s in _LIVE for t in _TIMERS if (s, t) not in _TABLE})
# A dispatcher that was mid-round when an agent accepted (late cleanup ends the extra leg).
_TABLE.update(
    {
        (s, t): (LATE,)
        for s in (S.AGENT_CONNECTED, S.CONNECTED)
        for t in (E.DISPATCHED, E.NO_AGENT_AVAILABLE)
    }
)

# Keyed by (status, event type); a missing pair is `illegal`. Terminal statuses have no entries:
# everything after them is `ignored_late`.
TRANSITIONS: Mapping[tuple[Status, EventType], tuple[Rule, ...]] = MappingProxyType(_TABLE)


# --- The function ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: CallbackState
    actions: tuple[Action, ...]
    kind: OutcomeKind
    note: str = ""  # why, for the log

    @property
    def applied(self) -> bool:
        return self.kind is OutcomeKind.APPLIED


def transition(state: CallbackState, event: Event) -> Outcome:
    """Apply one event to one callback. Pure: same inputs, same outcome; never raises."""
    key = event.dedupe_key
    if key is not None and key in state.seen_keys:
        return Outcome(state, (), OutcomeKind.DUPLICATE, f"already applied: {key}")
    if state.is_terminal:
        return _late(state, event, f"callback is already {state.status}")
    if event.type in LEG_EVENTS and event.leg_id is None:
        return Outcome(state, (), OutcomeKind.ILLEGAL, f"{event.type} needs a leg id")
    refused = _relevance(state, event)
    if refused is not None:
        return refused
    rules = TRANSITIONS.get((state.status, event.type))
    if rules is None:
        return Outcome(
            state, (), OutcomeKind.ILLEGAL, f"{event.type} makes no sense when {state.status}"
        )
    rule = next((r for r in rules if r.guard is None or _GUARDS[r.guard](state, event)), None)
    if rule is None:  # every entry ends with an unguarded rule; this is only a safety net
        return Outcome(state, (), OutcomeKind.ILLEGAL, f"no rule matched {event.type}")
    if rule.kind is OutcomeKind.IGNORED_LATE:
        return _late(state, event, f"{event.type} no longer matters when {state.status}")
    new_state = _advance(state, event, rule)
    built = (_build(action_type, state, new_state, event) for action_type in rule.actions)
    actions = tuple(action for action in built if action is not None)
    return Outcome(new_state, actions, OutcomeKind.APPLIED, f"{state.status} -> {new_state.status}")


def _relevance(state: CallbackState, event: Event) -> Outcome | None:
    """Sort out events about legs that are not the current ones; None when the event is."""
    leg = event.leg_id
    if event.type in AGENT_LEG_EVENTS and leg not in state.active_legs:
        # A leg that lost the race, already ended, or belongs to an earlier attempt.
        return _late(state, event, f"agent leg {leg} no longer rings")
    if event.type in CUSTOMER_EVENTS and leg != state.accepted_leg:
        if leg in state.active_legs:
            # The leg rings but has not accepted: no customer can have been dialled from it.
            return Outcome(
                state, (), OutcomeKind.ILLEGAL, f"{event.type} before leg {leg} accepted"
            )
        return _late(state, event, f"leg {leg} is not the current attempt")
    return None


def _late(state: CallbackState, event: Event, note: str) -> Outcome:
    return Outcome(state, _late_cleanup(state, event), OutcomeKind.IGNORED_LATE, note)


def _late_cleanup(state: CallbackState, event: Event) -> tuple[Action, ...]:
    """What a late event still needs: a leg that is up (or about to be) must not be left hanging.

    An agent who answers or presses 1 on a leg that lost must hear a short message and be hung
    up; a leg dispatched too late must be ended and its agent released. The winning leg itself
    is never hung up by a late event about it.
    """
    leg = event.leg_id
    if leg is None or leg == state.accepted_leg:
        return ()
    taken = state.status in (S.AGENT_CONNECTED, S.CONNECTED)
    why = ALREADY_TAKEN if taken else NO_LONGER_NEEDED
    if event.type is E.DISPATCHED:
        return (HangUpLeg(leg, why), ReleaseAgent(event.agent_id, leg))
    if event.type in (E.AGENT_ANSWERED, E.AGENT_ACCEPTED):
        return (HangUpLeg(leg, why),)
    return ()


def _others(state: CallbackState, event: Event) -> frozenset[str]:
    return state.active_legs - {event.leg_id} if event.leg_id else state.active_legs


_GUARDS: dict[Guard, Callable[[CallbackState, Event], bool]] = {
    Guard.OTHER_LEGS_RINGING: lambda s, e: bool(_others(s, e)),
    Guard.NO_LEGS_RINGING: lambda s, e: not _others(s, e),
    Guard.RETRY_LEFT: lambda s, e: s.customer_attempts < s.max_customer_attempts,
}


def _advance(state: CallbackState, event: Event, rule: Rule) -> CallbackState:
    target = rule.target or state.status
    leg = event.leg_id
    accepted = state.accepted_leg
    active = state.active_legs
    attempts = state.customer_attempts
    if event.type is E.DISPATCHED and leg is not None:
        active = active | {leg}
    elif event.type in AGENT_LEG_ENDINGS:
        active = active - {leg}
    elif event.type is E.AGENT_ACCEPTED:
        # The others are being canceled (CancelOtherLegs); from now on they are late.
        accepted, active, attempts = leg, frozenset(), attempts + 1
    if target is S.QUEUED:
        accepted = None  # a retry is a fresh attempt: old legs' events become late
    if target in TERMINAL_STATUSES:
        active = frozenset()
    key = event.dedupe_key
    return replace(
        state,
        status=target,
        accepted_leg=accepted,
        active_legs=active,
        customer_attempts=attempts,
        reason=rule.reason if target is S.FAILED else state.reason,
        seen_keys=state.seen_keys | {key} if key is not None else state.seen_keys,
    )


def _duration(event: Event) -> int | None:
    value = event.data.get("duration_s")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():  # Twilio sends durations as strings
        return int(value)
    return None


def _build(
    action_type: type[Action], old: CallbackState, new: CallbackState, event: Event
) -> Action | None:
    """Fill in one action's fields from the state before (`old`), after (`new`) and the event."""
    if action_type is EnqueueDispatch:
        return EnqueueDispatch()
    if action_type is RingNextAgents:
        return RingNextAgents()
    if action_type is ScheduleRetry:
        return ScheduleRetry(old.retry_delay_s)
    if action_type is Fail:
        return Fail(new.reason) if new.reason is not None else None
    if action_type is Complete:
        return Complete(_duration(event))
    if action_type is CancelOtherLegs:
        others = _others(old, event)
        return CancelOtherLegs(event.leg_id, tuple(sorted(others))) if others else None
    # The rest is about one leg: the event's, or for a leg-less event (cancel) the winner's.
    leg = event.leg_id or old.accepted_leg
    if leg is None:
        return None
    if action_type is WatchLeg:
        return WatchLeg(leg)
    if action_type is PromptAgent:
        return PromptAgent(leg)
    if action_type is DialCustomer:
        return DialCustomer(leg, new.customer_attempts)
    if action_type is HangUpLeg:
        return HangUpLeg(leg, event.type.value)
    if action_type is MarkAgentOnCall:
        return MarkAgentOnCall(event.agent_id, leg)
    if action_type is ReleaseAgent:
        return ReleaseAgent(event.agent_id, leg)
    if action_type is MarkAgentWrapUp:
        return MarkAgentWrapUp(event.agent_id, leg)
    return None  # unreachable for the table above; a test checks every type it names
