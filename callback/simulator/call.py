"""One simulated call leg: its Twilio resource fields, its log, and its inbox.

A call is driven by one runner thread (`runner.py`). Everything else — the
REST API, the manual controls, the parent or child leg of a bridge — talks to
that thread only by putting a `Control` in the call's inbox; the runner picks
controls up while it waits, so every delay in a call can be interrupted.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .clock import SimClock

LIVE_STATUSES = ("queued", "ringing", "in-progress")


@dataclass(frozen=True)
class Control:
    kind: str  # hangup | answer | decline | digits | redirect | child
    value: Any = None


@dataclass(frozen=True)
class Source:
    """Where the next TwiML document comes from: a URL to fetch, or inline TwiML."""

    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    params: dict[str, str] = field(default_factory=dict)


class CallEnded(Exception):
    """Unwinds a runner when its call is hung up, canceled or declined."""

    def __init__(self, by: str, status: str | None = None) -> None:
        super().__init__(by)
        self.by = by
        self.status = status


class Redirected(Exception):
    def __init__(self, source: Source) -> None:
        super().__init__(source.url or "inline twiml")
        self.source = source


@dataclass
class Call:
    sid: str
    account_sid: str
    to: str
    from_: str
    direction: str
    source: Source | None
    date_created: datetime
    timeout: float = 60.0
    parent_sid: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset({"completed"})
    time_limit: float = 14400.0

    status: str = "queued"
    date_updated: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    queue_time_ms: int = 0
    bridged_with: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    verbs: list[dict[str, Any]] = field(default_factory=list)
    callbacks_sent: int = 0
    # Every request this call made to the application, with how long the answer took.
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    # Simulated second at which the phone hangs up by itself (hangup_after).
    hangup_at: float | None = None
    inbox: queue.Queue[Control] = field(default_factory=queue.Queue, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self.date_updated = self.date_created

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def send(self, control: Control) -> None:
        self.inbox.put(control)

    def duration_seconds(self) -> int:
        if self.start_time is None or self.end_time is None:
            return 0
        return round((self.end_time - self.start_time).total_seconds())

    def wait(self, clock: SimClock, seconds: float, accept: tuple[str, ...] = ()) -> Control | None:
        """Wait `seconds` of simulated time; return early with a control of a kind in `accept`.

        A hangup raises `CallEnded`, a redirect of a live call raises
        `Redirected`; controls of other kinds arrive at the wrong moment (a key
        pressed while no <Gather> listens) and are dropped, as on a real line.
        """
        deadline = clock.seconds() + seconds
        while True:
            now = clock.seconds()
            limit = deadline if self.hangup_at is None else min(deadline, self.hangup_at)
            if now >= limit:
                if self.hangup_at is not None and now >= self.hangup_at:
                    raise CallEnded("phone")
                return None
            try:
                control = self.inbox.get(timeout=clock.to_wall(limit - now))
            except queue.Empty:
                continue
            if control.kind in accept:
                return control
            if control.kind == "hangup":
                raise CallEnded(control.value or "api")
            if control.kind == "redirect" and self.status == "in-progress":
                raise Redirected(control.value)

    def log_status(self, status: str, at: datetime, sim_seconds: float) -> None:
        self.history.append({"status": status, "at": at.isoformat(), "t": round(sim_seconds, 3)})

    def log_verb(self, verb: str, at: datetime, **details: Any) -> None:
        self.verbs.append({"verb": verb, "at": at.isoformat(), **details})

    def log_webhook(
        self, kind: str, url: str, sent: datetime, seconds: float, status: int | None
    ) -> None:
        """One request to the application: `kind` twiml (a document fetched), status (a status
        callback) or action (a report after the call); `seconds` of wall time until the answer."""
        self.webhooks.append(
            {
                "kind": kind,
                "path": urlsplit(url).path,
                "sent": sent.isoformat(),
                "ms": round(seconds * 1000, 3),
                "status": status,
            }
        )

    def log_json(self) -> dict[str, Any]:
        """The simulator's own view (`GET /sim/calls`), richer than Twilio's resource."""
        return {
            "sid": self.sid,
            "from": self.from_,
            "to": self.to,
            "direction": self.direction,
            "parent_call_sid": self.parent_sid,
            "status": self.status,
            "date_created": self.date_created.isoformat(),
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "duration": self.duration_seconds() if self.end_time else None,
            "queue_time": self.queue_time_ms,
            "timeout": self.timeout,
            "history": list(self.history),
            "verbs": list(self.verbs),
            "bridged_with": self.bridged_with,
            "callbacks_sent": self.callbacks_sent,
            "webhooks": list(self.webhooks),
            "error_code": self.error_code,
            "error_message": self.error_message,
        }
