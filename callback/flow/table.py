"""The transitions as data: (status, event type) -> rules tried in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

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
from .vocabulary import TERMINAL_STATUSES, EventType, OutcomeKind, Reason, Status


class Guard(StrEnum):
    OTHER_LEGS_RINGING = "other_legs_ringing"  # an agent leg besides the event's still rings
    NO_LEGS_RINGING = "no_legs_ringing"
    RETRY_LEFT = "retry_left"  # customer attempts < max
    RESCHEDULE_LEFT = "reschedule_left"  # the callback may still become a scheduled one


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


# Nobody could be rung (every member silent for the rule's rounds, or nobody on shift): a
# scheduled callback instead of silence, as often as the shell allows; then it fails.
NO_AGENT = (
    Rule(S.SCHEDULED, (Reschedule,), guard=Guard.RESCHEDULE_LEFT),
    Rule(S.FAILED, (Fail,), reason=Reason.NO_AGENT_AVAILABLE),
)

_TABLE: dict[tuple[Status, EventType], tuple[Rule, ...]] = {
    # Intake: the shell creates the state as `scheduled` or `queued`, then applies `requested`.
    (S.SCHEDULED, E.REQUESTED): (Rule(S.SCHEDULED),),
    (S.QUEUED, E.REQUESTED): (Rule(S.QUEUED, (EnqueueDispatch,)),),
    (S.SCHEDULED, E.DUE): (Rule(S.QUEUED, (EnqueueDispatch,)),),
    (S.QUEUED, E.RETRY_DUE): (Rule(S.QUEUED, (EnqueueDispatch,)),),
    # The dispatch task was lost (the broker is lossy): start it again.
    (S.QUEUED, E.WATCHDOG): (Rule(S.QUEUED, (EnqueueDispatch,)),),
    (S.QUEUED, E.NO_AGENT_AVAILABLE): NO_AGENT,
    # Waited in the queue longer than promised: the visitor gets a time instead.
    (S.QUEUED, E.QUEUE_TIMEOUT): (
        Rule(S.SCHEDULED, (Reschedule,), guard=Guard.RESCHEDULE_LEFT),
        LATE,  # rescheduled once already: it keeps its place in the queue
    ),
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
        *NO_AGENT,
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
_TIMERS = (E.DUE, E.RETRY_DUE, E.HEDGE_DUE, E.WATCHDOG, E.QUEUE_TIMEOUT)
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
