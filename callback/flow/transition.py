"""`transition()`: apply one event to one callback, purely."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from .actions import (
    Action,
    CancelOtherLegs,
    Complete,
    DialCustomer,
    EnqueueDispatch,
    Fail,
    HangUpLeg,
    MarkAgentOnCall,
    MarkAgentWrapUp,
    PromptAgent,
    ReleaseAgent,
    Reschedule,
    RingNextAgents,
    ScheduleRetry,
    WatchLeg,
)
from .table import TRANSITIONS, E, Guard, Rule, S
from .vocabulary import (
    AGENT_LEG_ENDINGS,
    AGENT_LEG_EVENTS,
    ALREADY_TAKEN,
    CUSTOMER_EVENTS,
    LEG_EVENTS,
    NO_LONGER_NEEDED,
    TERMINAL_STATUSES,
    CallbackState,
    Event,
    OutcomeKind,
)


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
    Guard.RESCHEDULE_LEFT: lambda s, e: s.reschedules_left > 0,
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
        reschedules_left=state.reschedules_left - (Reschedule in rule.actions),
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
    if action_type is Reschedule:
        return Reschedule()
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
