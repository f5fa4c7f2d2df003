"""Trials of the fault-injection suite and the invariants checked after each fault.

A trial is one callback on a shop of its own (its own agent and customer numbers), so ten
trials run at once inside one fault window and their call logs never mix. After the fault:

- nothing lost: every accepted callback reaches a final or scheduled state within the bound;
- nobody called twice: no customer answered two calls for the callback, and no number
  (agent or customer) has two calls ringing or talking at the same time — which for an
  agent means being double-booked;
- every carrier call of the trial has ended;
- recovery: seconds from the end of the fault until the callback settled (worst is reported).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select
from support.receiver import wait_until
from support.system import FINAL, RunningSystem

from callback.models import CallbackRequest, Event, Leg
from callback.services import context

# FAULT_SMOKE=1 (CI): every fault with a few trials, in minutes, and nothing written to
# bench/results, which holds full runs only.
SMOKE = os.environ.get("FAULT_SMOKE", "") not in ("", "0")
# Trials per fault (the issue asks for at least 10); FAULT_TRIALS raises it.
TRIALS = 3 if SMOKE else max(10, int(os.environ.get("FAULT_TRIALS", "10")))
SETTLED = (*FINAL, "scheduled")
# How long one trial may take to settle after its fault ends (carrier timers run 10x fast,
# ours in real time: the watchdog's ring timeout + grace is the slowest path).
SETTLE_BOUND_S = 75.0
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"

_numbers = itertools.count(1)


def fresh_number() -> str:
    """A valid Estonian mobile number no other trial (or test file) uses."""
    return f"+3725567{next(_numbers):04d}"


@dataclass
class Trial:
    key: str
    agent: str
    customer: str
    accepted: dict[str, Any] | None = None
    refused: int | None = None  # the HTTP status when intake did not accept it
    status: str | None = None
    settled_at: float | None = None


@dataclass
class Row:
    fault: str
    trials: int
    accepted: int
    lost: int
    duplicated: int
    double_booked: int
    calls_left_open: int
    worst_recovery_s: float
    outcomes: dict[str, int] = field(default_factory=dict)
    note: str = ""
    details: list[dict] = field(default_factory=list)


def shops(sys: RunningSystem, count: int = TRIALS, **rule: Any) -> list[Trial]:
    """One shop per trial: one agent who answers and presses 1, a customer who answers."""
    trials = []
    for _ in range(count):
        agent, customer = fresh_number(), fresh_number()
        sys.sim.phone(agent, outcome="answer", answer_after=2, digits="1")
        sys.sim.phone(customer, outcome="answer", answer_after=2, hangup_after=5)
        trials.append(Trial(sys.shop("ordered", [agent], **rule), agent, customer))
    return trials


def submit(sys: RunningSystem, trials: list[Trial]) -> None:
    """Send every trial's request at once (as visitors would); record 202s and refusals."""

    def one(trial: Trial) -> None:
        try:
            response = sys.post(trial.key, trial.customer, page_title="Fault trial")
        except requests.ConnectionError:
            # A pooled keep-alive connection the server had just closed: send it again, as a
            # browser would (intake answers a repeat of a live request with the same callback).
            response = sys.post(trial.key, trial.customer, page_title="Fault trial")
        if response.status_code == 202:
            trial.accepted = response.json()
        else:
            trial.refused = response.status_code

    with ThreadPoolExecutor(max_workers=len(trials)) as pool:
        list(pool.map(one, trials))


def settle(sys: RunningSystem, trials: list[Trial], since: float) -> None:
    """Poll every accepted trial until it settles or the bound passes (then it counts lost)."""
    deadline = since + SETTLE_BOUND_S
    pending = [t for t in trials if t.accepted is not None]
    while pending and time.monotonic() < deadline:
        for trial in list(pending):
            assert trial.accepted is not None
            try:
                trial.status = sys.status(trial.accepted)["status"]
            except (AssertionError, requests.RequestException):  # still recovering
                continue
            if trial.status == "queued" and _waiting_for_retry(sys, trial):
                trial.status = "queued_retry_due_later"
            if trial.status in SETTLED or trial.status == "queued_retry_due_later":
                trial.settled_at = time.monotonic()
                pending.remove(trial)
        time.sleep(0.2)  # polling interval of a bounded loop, not a wait for an event


def _misread_no_answer(sys: RunningSystem, trial: Trial) -> bool:
    """A `customer_no_answer` event for a customer leg that lasted seconds (CallDuration)."""
    if trial.accepted is None:
        return False
    with sys.app_context(), context.transaction() as session:
        events = session.scalars(
            select(Event).where(
                Event.callback_id == trial.accepted["id"], Event.type == "customer_no_answer"
            )
        )
        return any(int((e.data or {}).get("duration_s") or 0) > 0 for e in events)


def _waiting_for_retry(sys: RunningSystem, trial: Trial) -> bool:
    """Queued with a due time ahead (a customer retry): scheduled in all but name."""
    assert trial.accepted is not None
    with sys.app_context(), context.transaction() as session:
        row = session.get(CallbackRequest, trial.accepted["id"])
        if row is None:
            return False
        due = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=UTC)
        return due > context.now() and not any(leg.ended_at is None for leg in row.legs)


def check(sys: RunningSystem, fault: str, trials: list[Trial], since: float, note: str = "") -> Row:
    """Settle the trials, then measure every invariant; the row is recorded and returned."""
    settle(sys, trials, since)
    numbers = {t.agent for t in trials} | {t.customer for t in trials}
    calls = _calls_ended(sys, numbers)
    by_number: dict[str, list[dict]] = {}
    for call in calls:
        by_number.setdefault(call["to"], []).append(call)
    accepted = [t for t in trials if t.accepted is not None]
    outcomes: dict[str, int] = {}
    for trial in trials:
        name = f"refused_{trial.refused}" if trial.accepted is None else trial.status
        outcomes[name or "unsettled"] = outcomes.get(name or "unsettled", 0) + 1
    row = Row(
        fault=fault,
        trials=len(trials),
        accepted=len(accepted),
        lost=sum(1 for t in accepted if t.settled_at is None),
        # Called twice, or bound to be: read as "no answer" though the call had a duration
        # (a retry is then due, which rings the customer a second time).
        duplicated=sum(
            1
            for t in trials
            if _answered(by_number.get(t.customer, [])) > 1 or _misread_no_answer(sys, t)
        ),
        double_booked=sum(_overlaps(by_number.get(t.agent, [])) for t in trials)
        + sum(_overlaps(by_number.get(t.customer, [])) for t in trials),
        calls_left_open=sum(1 for c in calls if c["end_time"] is None),
        worst_recovery_s=round(
            max((t.settled_at - since for t in accepted if t.settled_at), default=0.0), 2
        ),
        outcomes=outcomes,
        note=note,
    )
    row.details = [
        _detail(sys, t, by_number)
        for t in trials
        if t.accepted is not None
        and (
            t.settled_at is None
            or _answered(by_number.get(t.customer, [])) > 1
            or _misread_no_answer(sys, t)
            or _overlaps(by_number.get(t.agent, [])) + _overlaps(by_number.get(t.customer, []))
        )
    ]
    record(row)
    return row


def _detail(sys: RunningSystem, trial: Trial, by_number: dict[str, list[dict]]) -> dict:
    """What went wrong with one trial: its timeline and its calls (numbers left out)."""
    assert trial.accepted is not None
    view = sys.status(trial.accepted)
    with sys.app_context(), context.transaction() as session:
        events = [
            f"{e.type} {e.data}"
            for e in session.scalars(
                select(Event).where(Event.callback_id == trial.accepted["id"]).order_by(Event.id)
            )
        ]
        legs = [
            f"{leg.id} {leg.kind} {leg.status} ...{(leg.provider_sid or '')[-6:]}"
            for leg in session.scalars(select(Leg).where(Leg.callback_id == trial.accepted["id"]))
        ]
    return {
        "status": view["status"],
        "events": events,
        "legs": legs,
        "agent_calls": [_brief(c) for c in by_number.get(trial.agent, [])],
        "customer_calls": [_brief(c) for c in by_number.get(trial.customer, [])],
    }


def assert_invariants(row: Row, refusals: frozenset[int] = frozenset()) -> None:
    """`refusals`: HTTP statuses intake may answer during this fault instead of 202."""
    refused = {k for k in row.outcomes if k.startswith("refused_")}
    assert refused <= {f"refused_{code}" for code in refusals}, row
    assert row.accepted > 0 or refusals, row
    assert row.lost == 0, row
    assert row.calls_left_open == 0, row
    assert row.duplicated == 0, row
    assert row.double_booked == 0, row


def _calls_ended(sys: RunningSystem, numbers: set[str]) -> list[dict]:
    """The trials' carrier calls, once none is live any more (bounded)."""

    def ended() -> tuple[list[dict]] | None:
        calls = [c for c in sys.sim.calls() if c["to"] in numbers]
        # In a tuple: no calls at all (intake refused every trial) is an answer, not "not yet".
        return None if any(c["end_time"] is None for c in calls) else (calls,)

    try:
        return wait_until(ended, 30, "every trial call to end")[0]  # type: ignore[no-any-return]
    except AssertionError:
        return [c for c in sys.sim.calls() if c["to"] in numbers]


def _brief(call: dict) -> dict:
    return {
        "sid": call["sid"][-6:],
        "parent": (call["parent_call_sid"] or "")[-6:],
        "history": [f"{h['status']}@{h['t']}" for h in call["history"]],
    }


def _answered(calls: list[dict]) -> int:
    return sum(1 for c in calls if any(h["status"] == "in-progress" for h in c["history"]))


def _overlaps(calls: list[dict]) -> int:
    """Pairs of calls to one number that rang or talked at the same time."""
    spans = []
    for call in calls:
        rang = [h["t"] for h in call["history"] if h["status"] in ("ringing", "in-progress")]
        if rang:
            end = call["history"][-1]["t"] if call["end_time"] else float("inf")
            spans.append((min(rang), end))
    spans.sort()
    return sum(1 for (_, end), (start, _) in itertools.pairwise(spans) if start < end)


def record(row: Row) -> None:
    """Merge the row into bench/results/faults-<backend>.json (one row per fault)."""
    if SMOKE:
        return
    backend = "postgres-redis" if os.environ.get("TEST_DATABASE_URL") else "sqlite-embedded"
    path = RESULTS / f"faults-{backend}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    existing = json.loads(path.read_text()) if path.exists() else {"backend": backend, "rows": []}
    rows = [r for r in existing["rows"] if r["fault"] != row.fault] + [asdict(row)]
    existing.update(
        backend=backend,
        settle_bound_s=SETTLE_BOUND_S,
        rows=sorted(rows, key=lambda r: r["fault"]),
    )
    path.write_text(json.dumps(existing, indent=2) + "\n")
