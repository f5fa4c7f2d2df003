"""Scale: dispatch with 10,000 agents and a queue of 1,000; four workers over 10,000 callbacks.

    .venv/bin/python bench/scale.py --part agents  [--db sqlite|postgres] [--rate 50]
                                    [--seconds 10] [--agents 10000] [--backlog 1000]
    .venv/bin/python bench/scale.py --part workers [--count 10000] [--cps 20] [--rate 25]
                                    [--agents 300] [--workers 4] [--time-scale 10]
    (both: [--smoke] [--out FILE] [--keep])

Each writes JSON and a PNG plot (same name, .png) to bench/results/ and prints one line.

`--part agents` (the measurement of bench/dispatch.py, see there) runs two phases in one
system, the same stream of callbacks each: first "small", a rule with one agent per callback
(as benchmark 2), while nothing else is in the database; then "large", after seeding a rule of
10,000 agents and a backlog of 1,000 queued callbacks on it: rows in status `queued` whose
retry is due in an hour, as after a customer who did not answer. They are in every query
dispatch runs on that rule, yet no worker touches them (a backlog that is due would be served
at once by 10,000 free agents). Target: large p99 ≤ 2 * small p99. Both rules are `ordered`
with a 120 s ring timeout and phones that do not answer, so every callback holds one agent
through the run and no leg times out, no hedge fires: only the measured dispatches run.
After each phase `probe` times in-process the steps a dispatch takes for that rule (picking an
agent, the FIFO check, the ring round), with their SQL and, on PostgreSQL, EXPLAIN ANALYZE.

`workers` (PostgreSQL and Redis only: the calls-per-second budget and the broker are shared in
Redis): four Celery worker processes, CALLS_PER_SECOND set, `count` callbacks posted at `rate`
(above the budget, so a queue builds and the budget binds) to one rule of `agents` agents whose
phones answer and press 1 at once, customers who answer and hang up after 2 s; the simulator
runs at `--time-scale` so every call lasts a fraction of a second, and the run takes about
count / cps seconds. Checked afterwards:

- double_bookings: from the simulator's call log, agent calls to one number that overlap in
  time (a call created before the previous one to that number ended); from the database, one
  reservation token on legs of two callbacks (see `overlapping_legs` for what else is shown).
- fifo: request order is the callback's created_at (intake's clock); service order is its
  first agent leg's created_at (dispatch's clock). A callback served before an older one
  overtook it; `overtaken_by_ms` says by how much older the overtaken one was (concurrent
  requests a few ms apart can legitimately commit in either order).
- cps: the REST calls the simulator accepted (date_created, converted to wall time); the most
  in any 1-s window must stay within budget + burst (the budget lets `cps` calls go at once,
  then one every 1/cps s), and the rate over the whole run within the budget.
"""

from __future__ import annotations

import argparse
import inspect
import math
import secrets
import sys
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import (
    FINAL_STATUSES,
    RESULTS,
    System,
    cpu_seconds,
    process_exits,
    read,
    running_system,
    seed_rule,
    summary_ms,
    valid_mobiles,
    warm_up,
    write_result,
)
from dispatch import (
    CLOCK_PROBE_NUMBER,
    cpu_used,
    first_calls,
    measure,
    plot_overhead,
    post_stream,
    sim_clock_offset,
)
from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from callback import create_app
from callback.models import CallbackRequest, Leg, RoutingRule
from callback.routing.reservation import pick_agents
from callback.services import context
from callback.services import dispatch as dispatch_service

SMALL_AGENTS = 56000000  # +37256000000 …
LARGE_AGENTS = 56100000  # +37256100000 …
CUSTOMERS = 55550000
BACKLOG_CUSTOMERS = 55400000
WORKERS_AGENTS = 56200000
WARMUP_DISPATCHES = 5
# An agent leg's lease: the rule's ring timeout (default 15 s) + dispatch.LEASE_GRACE_S.
LEASE_S = 15 + dispatch_service.LEASE_GRACE_S
TARGET_RATIO = 2.0


# -- agents: 10,000 agents and 1,000 queued callbacks ---------------------------------------


# The rules of the agents part: one leg per callback that rings (no answer) through the whole
# run, so no leg times out, no hedge fires and nothing but the measured dispatches runs.
AGENTS_RULE = {"strategy": "ordered", "ring_timeout": 120, "max_rounds": 1}


def run_agents(args: argparse.Namespace) -> int:
    if args.smoke:
        args.rate, args.seconds, args.agents, args.backlog = 10.0, 1.0, 200, 20
    count = round(args.rate * args.seconds)
    small_agents = count + WARMUP_DISPATCHES + 5
    out = args.out or RESULTS / f"scale-agents-{args.db}.json"
    numbers = valid_mobiles(CUSTOMERS, 2 * (WARMUP_DISPATCHES + count))
    customers = {"small": numbers[: len(numbers) // 2], "large": numbers[len(numbers) // 2 :]}

    with running_system(args.db, keep=args.keep) as system:
        seed_rule(
            system, "small", valid_mobiles(SMALL_AGENTS, small_agents), "small", **AGENTS_RULE
        )
        analyze(system)
        system.phone("default", outcome="no-answer")
        system.phone(CLOCK_PROBE_NUMBER, outcome="failed", answer_after=0)
        warm_up(system, count=3 if args.smoke else 20)
        clock = sim_clock_offset(system)
        began = time.time()
        small = phase(system, "small", customers["small"], args.rate, count)
        small["probe"] = probe(system, "small")

        started = time.monotonic()
        large_rule = seed_rule(
            system, "large", valid_mobiles(LARGE_AGENTS, args.agents), "large", **AGENTS_RULE
        )
        seed_backlog(system, "large", valid_mobiles(BACKLOG_CUSTOMERS, args.backlog))
        analyze(system)
        seeding_seconds = time.monotonic() - started
        large = phase(system, "large", customers["large"], args.rate, count)
        large["probe"] = probe(system, "large")

        p99 = {
            case: result["overhead_post_to_carrier"].get("p99_ms")
            for case, result in (("small", small), ("large", large))
        }
        ratio = (p99["large"] / p99["small"]) if p99["small"] and p99["large"] else None
        results: dict[str, Any] = {
            "small": small,
            "large": large,
            "p99_ratio_large_to_small": round(ratio, 3) if ratio is not None else None,
            "backlog_still_queued": queued_count(system, large_rule),
            "large_seeding_seconds": round(seeding_seconds, 2),
            "clock": clock,
            "process_exits": process_exits(system, began),
        }
        settings = {
            "part": "agents",
            "smoke": args.smoke,
            "rate_per_s": args.rate,
            "seconds": args.seconds,
            "count_per_case": count,
            "phases": "small first (the large rule not yet seeded), then large; same stream",
            "small": {"agents": small_agents, "backlog": 0},
            "large": {"agents": args.agents, "backlog": args.backlog},
            "backlog": "status queued, due in 1 h (a customer retry), on the large rule",
            "rules": AGENTS_RULE,
            "agent_sizing": "one agent per callback and per warm-up dispatch, plus 5 (no "
            "leg times out within the run, no hedge)",
            "agent_phones": "no-answer (ring for the rule's 120 s ring timeout)",
            "statistics": "ANALYZE after each seeding on PostgreSQL, as a live database has",
            "target": f"large p99 <= {TARGET_RATIO:g} x small p99",
        }
        write_result("scale-agents", out, system, settings, results)
    plot_overhead(
        out.with_suffix(".png"),
        {
            f"small ({small_agents} agents)": small,
            f"large ({args.agents} agents, {args.backlog} queued)": large,
        },
    )
    verdict = "met" if ratio is not None and ratio <= TARGET_RATIO else "MISSED"
    print(
        f"scale agents [{args.db}]: POST → agent call p50/p99 small "
        f"{small['overhead_post_to_carrier'].get('p50_ms')}/{p99['small']} ms, large "
        f"{large['overhead_post_to_carrier'].get('p50_ms')}/{p99['large']} ms ({args.agents} "
        f"agents, {args.backlog} queued): p99 ratio {results['p99_ratio_large_to_small']}, "
        f"target ≤ {TARGET_RATIO:g} {verdict} → {out}"
    )
    return 0 if small["not_dispatched"] == 0 and large["not_dispatched"] == 0 else 1


def phase(
    system: System, widget: str, customers: Sequence[str], rate: float, count: int
) -> dict[str, Any]:
    """A few warm-up dispatches one at a time, then `count` callbacks at `rate`, measured."""
    for phone in customers[:WARMUP_DISPATCHES]:
        response = system.post_callback(system.http, widget, phone)
        first_calls(system, [response.json()["id"]], timeout=30)
    cpu_before = time.time(), cpu_seconds(system)
    runs = post_stream(system, rate, [widget] * count, customers[WARMUP_DISPATCHES:])
    results = measure(system, runs, timeout=max(30.0, 3 * count / rate))
    results["cpu"] = cpu_used(cpu_before, runs, system)
    return results


def analyze(system: System) -> None:
    """Fresh planner statistics after a bulk insert (PostgreSQL; SQLite plans without)."""
    if system.db != "postgres":
        return
    engine = system.engine()
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def seed_backlog(system: System, widget_key: str, phones: Sequence[str]) -> None:
    """Queued callbacks on the widget whose retry is due in an hour, in one transaction."""
    now = datetime.now(UTC)
    engine = system.engine()
    try:
        with Session(engine) as session, session.begin():
            widget_id = session.execute(
                text("SELECT id FROM widgets WHERE public_key = :key"), {"key": widget_key}
            ).scalar_one()
            rows = [
                {
                    "widget_id": widget_id,
                    "phone": phone,
                    "status": "queued",
                    "token_hash": secrets.token_hex(32),
                    "created_at": now - timedelta(seconds=len(phones) - i),
                    "due_at": now + timedelta(hours=1),
                    "updated_at": now,
                    "version": 1,
                }
                for i, phone in enumerate(phones)
            ]
            if rows:
                session.execute(insert(CallbackRequest), rows)
    finally:
        engine.dispose()


def queued_count(system: System, rule_id: int) -> int:
    engine = system.engine()
    try:
        query = text(
            "SELECT count(*) FROM callbacks JOIN widgets ON widgets.id = callbacks.widget_id "
            "WHERE widgets.routing_rule_id = :rule AND callbacks.status = 'queued'"
        )
        return int(read(engine, query.bindparams(rule=rule_id))[0][0])
    finally:
        engine.dispose()


def probe(system: System, rule_name: str, repeats: int = 5) -> dict[str, Any]:
    """Time, in-process, the reads one dispatch makes for a new callback of the rule.

    The real functions, on the real database, in one transaction that is rolled back: picking
    (reserving) one agent, the FIFO check for an older waiting callback, the ring round (who was
    rung how often), the may-someone-free-up check. For each: the median of `repeats` calls,
    its SQL statements and, on PostgreSQL, the plan (EXPLAIN ANALYZE) of each statement.
    """
    app = create_app(system.settings)
    found: dict[str, Any] = {}
    with app.app_context(), context.transaction() as session:
        engine = session.get_bind()
        rule = session.scalars(select(RoutingRule).where(RoutingRule.name == rule_name)).one()
        now = context.now()
        newcomer = CallbackRequest(status="queued", created_at=now, due_at=now)
        steps: dict[str, Callable[[], object]] = {
            "pick_agents": lambda: pick_agents(session, rule, now, set(), 1, lease_seconds=30),
            "waiting_before": lambda: dispatch_service._waiting_before(
                session, newcomer, rule, now
            ),
            "rung_this_round": lambda: _rung_this_round(session, newcomer, rule),
            "someone_may_free_up": lambda: dispatch_service._someone_may_free_up(
                session, rule, set()
            ),
        }
        for name, step in steps.items():
            durations, statements = [], []
            for attempt in range(repeats):
                session.expire(rule)  # every dispatch reads the rule (and members) afresh
                with captured(session) as seen:
                    began = time.perf_counter()
                    step()
                    durations.append(time.perf_counter() - began)
                if attempt == 0:
                    statements = seen
            found[name] = {
                "median_ms": round(sorted(durations)[len(durations) // 2] * 1000, 3),
                "statements": [
                    {"sql": sql, **({"plan": explain(session, sql, params)} if params else {})}
                    for sql, params in statements
                ],
            }
        session.rollback()
    engine.dispose()
    return found


def _rung_this_round(session: Session, callback: CallbackRequest, rule: RoutingRule) -> object:
    """dispatch's ring-round step; before the scale fixes it took no session (for a before/after
    run of this benchmark against the old code)."""
    step: Callable[..., object] = dispatch_service._rung_this_round
    if "session" in inspect.signature(step).parameters:
        return step(session, callback, rule)
    return step(callback, rule)


@contextmanager
def captured(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and parameters) the session's connection runs meanwhile."""
    seen: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain(session: Session, sql: str, params: Any) -> list[str] | None:
    """EXPLAIN ANALYZE of one captured statement, on PostgreSQL (None elsewhere)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    connection = session.connection()
    rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
    return [row[0] for row in rows]


# -- workers: four workers over 10,000 callbacks ----------------------------------------------


def run_workers(args: argparse.Namespace) -> int:
    if args.db != "postgres":
        print("scale workers needs --db postgres (Redis shares the budget)", file=sys.stderr)
        return 2
    if args.smoke:
        args.count, args.cps, args.agents = 60, 10.0, 20
    rate = args.rate or args.cps * 1.25  # above the budget: a queue builds, the budget binds
    out = args.out or RESULTS / f"scale-workers-{args.db}.json"
    env = {"CALLS_PER_SECOND": f"{args.cps:g}", "QUEUE_MAX_WAIT": "3600"}
    agent_phones = valid_mobiles(WORKERS_AGENTS, args.agents)
    customers = valid_mobiles(CUSTOMERS, args.count)
    with running_system(
        args.db,
        keep=args.keep,
        extra_env=env,
        time_scale=args.time_scale,
        workers=args.workers,
    ) as system:
        rule_id = seed_rule(system, "fifo", agent_phones, widget="fifo")
        # Customers answer after 1 s and hang up 2 s later; agents answer and press 1 at once.
        system.phone("default", outcome="answer", answer_after=1, hangup_after=2)
        for phone in agent_phones:
            system.phone(phone, outcome="answer", answer_after=0.5, digits="1", press_after=0)
        warm_up(system, count=3 if args.smoke else 20)
        began = time.time()
        runs = post_stream(system, rate, ["fifo"] * args.count, customers)
        posted = [
            r.value.json()["id"]
            for r in runs
            if r.error is None and r.value is not None and r.value.status_code == 202
        ]
        settled, waited = wait_settled(system, posted, timeout=args.count / args.cps * 2 + 120)
        calls = system.sim_calls()
        legs = agent_legs(system, rule_id)
        callbacks = callback_rows(system, posted)
        set_agents = set(agent_phones)
        agent_calls = [c for c in calls if c["to"] in set_agents]
        results: dict[str, Any] = {
            "posted": len(posted),
            "post_failures": len(runs) - len(posted),
            "settled": settled,
            "seconds_until_settled": round(waited, 1),
            "statuses": count_by(row["status"] for row in callbacks.values()),
            "double_bookings": {
                "simulator": overlapping_calls(agent_calls, args.time_scale),
                "database": overlapping_legs(legs, LEASE_S),
            },
            "fifo": fifo_order(callbacks, legs),
            "cps": cps_check(agent_calls, args.cps, args.time_scale),
            "process_exits": process_exits(system, began),
        }
        bookings = results["double_bookings"]
        bookings["total"] = (
            bookings["simulator"]["count"] + bookings["database"]["shared_reservation"]
        )
        results["log_errors"] = log_errors(system)
        settings = {
            "part": "workers",
            "smoke": args.smoke,
            "count": args.count,
            "rate_per_s": rate,
            "calls_per_second_budget": args.cps,
            "budget_choice": (
                "the budget sets the run's length (count / cps seconds); posting 25 % faster "
                "than it keeps a queue, so the budget binds and FIFO is exercised"
            ),
            "agents": args.agents,
            "workers": args.workers,
            "time_scale": args.time_scale,
            "environment": env,
            "agent_phones": "answer after 0.5 s, press 1 at once (simulated seconds)",
            "customer_phones": "answer after 1 s, hang up 2 s later (simulated seconds)",
            "rule": "fifo: the defaults (hedged, ring_timeout 15 s, hedge_after 6 s)",
        }
        write_result("scale-workers", out, system, settings, results)
    plot_workers(out.with_suffix(".png"), agent_calls, callbacks, legs, args.cps, args.time_scale)
    cps, fifo = results["cps"], results["fifo"]
    print(
        f"scale workers [{args.db}]: {settled}/{len(posted)} callbacks settled in "
        f"{waited:.0f} s by {args.workers} workers; double_bookings "
        f"{results['double_bookings']['total']}; FIFO overtakes {fifo['overtakes']} "
        f"(> 1 s older: {fifo['overtakes_older_than_1s']}); calls/s max {cps['max_in_1s']} "
        f"(limit {cps['limit_in_1s']}), mean {cps['mean_rate']} (budget {args.cps:g}) → {out}"
    )
    if results["post_failures"] or settled < len(posted) or results["log_errors"]:
        print(
            f"  WARNING: {results['post_failures']} POSTs failed, {len(posted) - settled} "
            f"callbacks unsettled; errors in the logs: {results['log_errors']}"
        )
    ok = results["double_bookings"]["total"] == 0 and cps["within_budget"]
    return 0 if ok and settled == len(posted) else 1


def log_errors(system: System) -> dict[str, dict[str, int]]:
    """Per process: tracebacks' final lines by exception (deadlocks …) and 5xx access lines."""
    found: dict[str, dict[str, int]] = {}
    for log in sorted((system.instance_dir / "logs").glob("*.log")):
        counts: dict[str, int] = defaultdict(int)
        for line in log.read_text(errors="replace").splitlines():
            if "DeadlockDetected" in line and line.startswith("psycopg.errors"):
                counts["deadlock_detected"] += 1
            elif line.startswith("Traceback"):
                counts["tracebacks"] += 1
            elif '" 50' in line and "HTTP/1." in line:
                counts["http_5xx"] += 1
        if counts:
            found[log.stem] = dict(counts)
    return found


def wait_settled(system: System, ids: list[str], timeout: float) -> tuple[int, float]:
    """Wait (reading every second) until every callback is final; (how many are, seconds)."""
    engine = system.engine()
    began = time.monotonic()
    query = select(CallbackRequest.status).where(CallbackRequest.id.in_(ids))
    try:
        while True:
            settled = sum(1 for (status,) in read(engine, query) if status in FINAL_STATUSES)
            if settled == len(ids) or time.monotonic() - began > timeout:
                return settled, time.monotonic() - began
            time.sleep(1.0)
    finally:
        engine.dispose()


def agent_legs(system: System, rule_id: int) -> list[dict[str, Any]]:
    engine = system.engine()
    query = (
        select(
            Leg.id,
            Leg.callback_id,
            Leg.agent_id,
            Leg.reservation,
            Leg.created_at,
            Leg.answered_at,
            Leg.ended_at,
        )
        .where(Leg.kind == "agent")
        .order_by(Leg.id)
    )
    try:
        return [row._asdict() for row in read(engine, query)]
    finally:
        engine.dispose()


def callback_rows(system: System, ids: list[str]) -> dict[str, dict[str, Any]]:
    engine = system.engine()
    query = select(CallbackRequest.id, CallbackRequest.status, CallbackRequest.created_at).where(
        CallbackRequest.id.in_(ids)
    )
    try:
        return {row.id: row._asdict() for row in read(engine, query)}
    finally:
        engine.dispose()


def count_by(values: Iterator[str] | Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(sorted(counts.items()))


def _stamp(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def overlapping_calls(calls: list[dict[str, Any]], time_scale: float) -> dict[str, Any]:
    """Agent calls to one number created before the previous call to it had ended: the phone
    had two calls at once. `overlap_ms` in wall time (simulated time / time scale)."""
    by_number: dict[str, list[tuple[float, float]]] = defaultdict(list)
    unfinished = 0
    for call in calls:
        created, ended = _stamp(call["date_created"]), _stamp(call["end_time"])
        assert created is not None
        if ended is None:
            unfinished += 1
            ended = math.inf
        by_number[call["to"]].append((created, ended))
    count, overlaps = _overlaps(by_number)
    return {
        "count": count,
        "overlap_ms": summary_ms([overlap / time_scale for overlap in overlaps]),
        "calls": len(calls),
        "unfinished": unfinished,
    }


def overlapping_legs(legs: list[dict[str, Any]], lease_s: float) -> dict[str, Any]:
    """Double bookings as the database records them.

    `shared_reservation` (counted): agent legs of different callbacks carrying one reservation
    token; the token is the booking, and the agent row holds one at a time. `overlapping`
    (shown, not counted): legs of one agent created before an earlier leg of that agent was
    recorded as ended (or, never answered nor ended, before its lease ran out). `ended_at` is
    when the service heard of the end, so a status callback that arrives late shows here
    without any phone ringing twice; the simulator's log says whether one did.
    """
    by_token: dict[str, set[str]] = defaultdict(set)
    by_agent: dict[Any, list[tuple[float, float]]] = defaultdict(list)
    for leg in legs:
        if leg["reservation"]:
            by_token[leg["reservation"]].add(leg["callback_id"])
        created = leg["created_at"].timestamp()
        if leg["ended_at"] is not None:
            ended = leg["ended_at"].timestamp()
        elif leg["answered_at"] is None:
            ended = created + lease_s
        else:
            ended = math.inf
        by_agent[leg["agent_id"]].append((created, ended))
    count, overlaps = _overlaps(by_agent)
    return {
        "shared_reservation": sum(1 for ids in by_token.values() if len(ids) > 1),
        "overlapping": count,
        "overlap_ms": summary_ms(overlaps),
        "legs": len(legs),
        "never_ended": sum(1 for leg in legs if leg["ended_at"] is None),
    }


def _overlaps(spans: dict[Any, list[tuple[float, float]]]) -> tuple[int, list[float]]:
    """How many spans start before an earlier span of the same key ended, and by how long
    (seconds) each overlaps."""
    overlaps: list[float] = []
    for items in spans.values():
        items.sort()
        ends = -math.inf
        for start, end in items:
            if start < ends:
                overlaps.append(min(ends, end) - start)
            ends = max(ends, end)
    return len(overlaps), overlaps


def first_served(legs: list[dict[str, Any]]) -> dict[str, float]:
    """callback id -> when its first agent leg was created (dispatch's clock)."""
    served: dict[str, float] = {}
    for leg in legs:  # in leg id order: the first leg of each callback comes first
        served.setdefault(leg["callback_id"], leg["created_at"].timestamp())
    return served


def fifo_order(callbacks: dict[str, dict[str, Any]], legs: list[dict[str, Any]]) -> dict[str, Any]:
    """How often a callback was served (first agent leg) before an older one of the rule."""
    served = first_served(legs)
    order = sorted(
        (row["created_at"].timestamp(), served[cid])
        for cid, row in callbacks.items()
        if cid in served
    )
    # latest[i]: the latest service time among the i+1 oldest callbacks (non-decreasing).
    latest: list[float] = []
    gaps: list[float] = []
    for created, at in order:
        if latest and at < latest[-1]:
            # The oldest callback served after this one is the first where `latest` passes `at`.
            overtaken = bisect_right(latest, at)
            gaps.append(created - order[overtaken][0])
        latest.append(max(at, latest[-1]) if latest else at)
    return {
        "served": len(order),
        "not_served": len(callbacks) - len(order),
        "overtakes": len(gaps),
        "overtakes_older_than_1s": sum(1 for gap in gaps if gap > 1.0),
        "overtaken_by_ms": summary_ms(gaps),
        "method": "request order = callback created_at; service order = first agent leg "
        "created_at; an overtake is a callback served before an older one",
    }


def _wall_times(calls: list[dict[str, Any]], time_scale: float) -> list[float]:
    """The calls' date_created in wall seconds since the first call (simulated / time scale)."""
    stamps = sorted(t for t in (_stamp(c["date_created"]) for c in calls) if t is not None)
    return [(t - stamps[0]) / time_scale for t in stamps] if stamps else []


def cps_check(calls: list[dict[str, Any]], budget: float, time_scale: float) -> dict[str, Any]:
    """The most REST calls placed in any 1-s window, and the mean rate, against the budget."""
    placed = _wall_times([c for c in calls if c["direction"] == "outbound-api"], time_scale)
    most = max((bisect_right(placed, t + 1.0 - 1e-9) - i for i, t in enumerate(placed)), default=0)
    span = placed[-1] - placed[0] if len(placed) > 1 else 0.0
    mean = (len(placed) - 1) / span if span else 0.0
    limit = math.floor(2 * budget)  # budget + a burst of `budget` calls
    return {
        "calls": len(placed),
        "max_in_1s": most,
        "limit_in_1s": limit,
        "mean_rate": round(mean, 2),
        "budget": budget,
        "within_budget": most <= limit and mean <= budget * 1.02,
        "method": "simulator date_created of agent calls placed through the REST API, "
        "converted to wall seconds (divided by the time scale); sliding 1-s window",
    }


def plot_workers(
    path: Path,
    calls: list[dict[str, Any]],
    callbacks: dict[str, dict[str, Any]],
    legs: list[dict[str, Any]],
    budget: float,
    time_scale: float,
) -> None:
    """Calls placed per second against the budget (left); each callback's wait (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rate, wait) = plt.subplots(1, 2, figsize=(11, 4))
    placed = _wall_times([c for c in calls if c["direction"] == "outbound-api"], time_scale)
    if placed:
        rate.hist(
            placed, bins=max(1, math.ceil(placed[-1]) + 1), range=(0, math.ceil(placed[-1]) + 1)
        )
    rate.axhline(budget, color="grey", linestyle="--", label="CALLS_PER_SECOND")
    rate.set(xlabel="seconds since the first call", ylabel="agent calls placed per second")
    rate.legend(fontsize="small")
    served = first_served(legs)
    pairs = sorted(
        (row["created_at"].timestamp(), served[cid])
        for cid, row in callbacks.items()
        if cid in served
    )
    if pairs:
        first = pairs[0][0]
        wait.scatter([c - first for c, _ in pairs], [s - c for c, s in pairs], s=3)
    wait.set(xlabel="request (seconds since the first)", ylabel="wait until first agent leg (s)")
    for axes in (rate, wait):
        axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


# -- command line ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("agents", "workers"), required=True)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    parser.add_argument("--smoke", action="store_true", help="seconds, to keep it working")
    parser.add_argument("--rate", type=float, default=None, help="callbacks per second posted")
    parser.add_argument("--agents", type=int, default=None)
    agents = parser.add_argument_group("--part agents")
    agents.add_argument("--seconds", type=float, default=10.0, help="each phase posts this long")
    agents.add_argument("--backlog", type=int, default=1_000, help="queued on the large rule")
    workers = parser.add_argument_group("--part workers")
    workers.add_argument("--count", type=int, default=10_000)
    workers.add_argument("--cps", type=float, default=20.0, help="CALLS_PER_SECOND")
    workers.add_argument("--workers", type=int, default=4)
    workers.add_argument("--time-scale", type=float, default=10.0)
    args = parser.parse_args()
    if args.part == "agents":
        args.db = args.db or "sqlite"
        args.rate = args.rate or 50.0
        args.agents = args.agents or 10_000
        return run_agents(args)
    args.db = args.db or "postgres"
    args.agents = args.agents or 300
    return run_workers(args)


if __name__ == "__main__":
    sys.exit(main())
