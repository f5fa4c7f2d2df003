"""Actions: what the shell carries out after committing an outcome."""

from __future__ import annotations

from dataclasses import dataclass

from .vocabulary import Reason


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
class Reschedule(Action):
    """Nobody could take the callback now: the shell sets `due_at` to the next slot it can
    promise (inside opening hours) and the callback waits as `scheduled`."""


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
