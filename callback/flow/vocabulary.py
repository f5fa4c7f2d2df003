"""The flow's vocabulary: statuses, events, reasons, and the state a transition reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


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
    QUEUE_TIMEOUT = "queue_timeout"  # queued longer than the maximum wait (the beat)
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
    # Times a callback nobody could take may still become a scheduled one instead of failing.
    reschedules_left: int = 0

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES
