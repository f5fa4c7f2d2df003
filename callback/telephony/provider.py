"""The carrier seam: what the application needs from a telephony provider, and how it fails.

Everything above this module (tasks, webhooks, the watchdog) talks to a `Provider`, never to the
`twilio` client directly, so tests can swap in a fake and a second carrier can be added without
touching the callback core. Failures all surface as one exception type, `ProviderError`, that
already knows whether trying again can help: the design's rule (§5) is "429 and 5xx retry with
capped jittered backoff; 4xx fail with a clear reason", and the caller should not have to know
HTTP or Twilio's error codes to follow it.

Nothing here retries by itself: a webhook must answer in milliseconds and a Celery task owns its
retry schedule, so the provider reports and the caller decides (with `backoff_delay`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "CALL_ALREADY_ENDED_CODES",
    "CALL_STATUS_EVENTS",
    "CallInfo",
    "Provider",
    "ProviderError",
    "backoff_delay",
]

# Every call we place reports all four events: the state machine needs "ringing" to start the
# hedge timer, "answered" to mark the agent busy and "completed" to release them.
CALL_STATUS_EVENTS: tuple[str, ...] = ("initiated", "ringing", "answered", "completed")

# Twilio's answers to "hang up a call that has already ended": 21220 (call not in progress) and
# 20404 (no such call, e.g. deleted or older than the retention). Hanging up is idempotent.
CALL_ALREADY_ENDED_CODES: frozenset[int] = frozenset({21220, 20404})


@dataclass(frozen=True)
class CallInfo:
    """One carrier call as the reconciling watchdog needs it (status is Twilio's vocabulary:
    queued, initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled)."""

    sid: str
    status: str
    duration_s: int | None
    parent_sid: str | None


class ProviderError(Exception):
    """The carrier refused or could not be reached.

    code: the carrier's error code (Twilio's 21211 invalid To, 21210 bad From, 20429 ...), or
        None for network failures and bodies without one.
    status: the HTTP status, or None when no response arrived.
    retryable: True when the same request may succeed later (network errors, timeouts, 429,
        5xx); False when it never will (other 4xx) and the callback should fail with a reason.

    Beware: a timeout on `place_call` is retryable but ambiguous (the carrier may have placed
    the call); reconcile before placing it again.
    """

    def __init__(self, code: int | None, status: int | None, message: str, retryable: bool) -> None:
        # All four go to Exception.args so the error survives pickling across a Celery boundary.
        super().__init__(code, status, message, retryable)
        self.code = code
        self.status = status
        self.message = message
        self.retryable = retryable

    def __str__(self) -> str:
        details = [f"code {self.code}" if self.code is not None else None]
        details.append(f"HTTP {self.status}" if self.status is not None else None)
        shown = ", ".join(d for d in details if d)
        return f"{self.message} ({shown})" if shown else self.message


@runtime_checkable
class Provider(Protocol):
    """What Callback needs from a carrier. Phone numbers are E.164; URLs are absolute."""

    def place_call(
        self, to: str, from_: str, answer_url: str, status_callback: str, timeout_s: int
    ) -> str:
        """Start an outbound call; returns its sid. The carrier POSTs `answer_url` for TwiML
        when the call is answered and `status_callback` on initiated/ringing/answered/completed.
        `timeout_s` is how long it rings before giving up with no-answer."""
        ...

    def cancel_call(self, sid: str) -> None:
        """Hang up a call whether it is still ringing or in progress; a call that has already
        ended (or is unknown to the carrier) is not an error."""
        ...

    def redirect_call(self, sid: str, url: str) -> None:
        """Make a live call fetch new TwiML from `url` (POST) and run it instead."""
        ...

    def fetch_call(self, sid: str) -> CallInfo:
        """The carrier's current view of a call, for reconciling a leg whose callbacks are late."""
        ...

    def send_sms(self, to: str, from_: str, body: str, status_callback: str | None = None) -> str:
        """Send a text message; returns its sid."""
        ...


def backoff_delay(
    attempt: int,
    base: float = 0.2,
    cap: float = 5.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry).

    Capped exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)).
    Full jitter spreads a burst of failed dispatches (say, after a carrier 503) over the whole
    window instead of making them return in lockstep, and the cap keeps a 20-second promise
    from waiting out a long exponential tail. `rng` returns a float in [0, 1); tests pass their own.
    """
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    # Clamp the exponent: 2**attempt for a runaway attempt count would overflow a float.
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))
    return min(cap, max(0.0, rng() * ceiling))
