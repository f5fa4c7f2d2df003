"""Dispatch overhead: from POST /api/v1/callbacks until the first agent's call reaches the carrier.

    .venv/bin/python bench/dispatch.py [--rate 50] [--seconds 10] [--db sqlite|postgres]
                                       [--agents N] [--smoke] [--out bench/results/dispatch-<db>.json]

Starts the whole system, seeds N agents on the benchmark's rule in one transaction (`seed_rule`),
sets every simulated phone to `no-answer`, warms up, then posts rate * seconds callbacks at
`rate` per second from this process, each with its own valid Estonian mobile number. Writes the
JSON and a PNG plot next to it (same name, .png). `--smoke` is a few seconds' run that keeps the
script working (CI); its numbers mean nothing.

How it is measured. For each callback this process notes the wall clock (time.time()) just
before sending the POST. Afterwards it reads the callback's first agent leg from the database
(its carrier sid, and `created_at`: when the worker's dispatch started) and the carrier's call
from the simulator's call log (`GET /sim/calls`), whose `date_created` is the moment the
simulator accepted the REST request that placed it. Overhead = date_created - POST sent.
No polling is involved, so the numbers carry no polling error.

`stages` splits that time at the clock readings the service stores: the callback's created_at
(intake reads the clock before its transaction begins), the 202 arriving here, and the first
leg's created_at (dispatch reads the clock before its transaction begins). So stage 2 holds the
intake transaction (with any wait for the database lock), the commit and the enqueue; stage 3
the broker and the worker picking the task up; stage 4 the dispatch transaction and the
carrier's REST request.

The simulator reports its own clock: the wall clock at its start plus monotonic time multiplied
by --time-scale. `system.pieces()` starts it at time scale 1, where that equals the wall clock;
the benchmark checks this by placing a few calls straight at the simulator's REST API and
comparing their date_created with the wall-clock midpoint of each request (`clock` in the JSON).

Why no-answer phones and that many agents. An agent whose leg ends (busy, failed, no-answer)
is released and the callback rings the next agent at once, up to max_rounds over the whole
list, so short-lived legs would make every callback churn through all agents. A phone that
never answers instead keeps its agent ringing for the rule's ring timeout (15 s) and the hedged
rule adds a second agent after 6 s; with one agent per callback plus one per hedge (and a
margin) an agent is always free, and each callback's first dispatch is the one measured.
The rule keeps the defaults (hedged), so the hedge tasks load the worker as in production.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from common import (
    BENCH_WIDGET,
    RESULTS,
    Paced,
    System,
    cpu_seconds,
    paced,
    process_exits,
    read,
    running_system,
    seed_rule,
    summary_ms,
    thread_local_sessions,
    valid_mobiles,
    verdict,
    warm_up,
    write_result,
)
from sqlalchemy import func, select

from callback.models import Agent, CallbackRequest, Leg, RoutingRule, RuleMember

TARGET_P50_MS = 30.0
TARGET_P99_MS = 100.0
# RoutingRule defaults (callback/models/routing.py): the benchmark's rule keeps them.
RING_TIMEOUT_S = 15
HEDGE_AFTER_S = 6
AGENT_NUMBERS = 56000000  # +37256000000, +37256000001, …
CUSTOMER_NUMBERS = 55550000  # +37255550000, …
CLOCK_PROBE_NUMBER = "+37257000000"
WARMUP_DISPATCHES = 5
SMOKE = {"rate": 10.0, "seconds": 1.0, "warm_up": 3, "dispatches": 2}


def agents_needed(rate: float, count: int, warmup_dispatches: int = WARMUP_DISPATCHES) -> int:
    """Enough agents that one is always free while the benchmark posts (see the docstring).

    Every callback rings one agent at once, and one more (the hedge) if it is still ringing
    HEDGE_AFTER_S later. Runs longer than the ring timeout also see timed-out legs replaced
    while their agents are still held; for those this is a generous estimate, and the result's
    `agents.available_at_end` shows whether it sufficed.
    """
    callbacks = count + warmup_dispatches
    seconds = count / rate + 1  # the warm-up dispatches take well under a second
    if seconds + 2 >= RING_TIMEOUT_S:
        return 2 * callbacks * math.ceil(seconds / RING_TIMEOUT_S) + 5
    hedges = warmup_dispatches + max(0, math.ceil(count - (HEDGE_AFTER_S - 1) * rate))
    return callbacks + hedges + 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="callbacks per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to post")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--agents", type=int, default=None, help="default: enough (see above)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    parser.add_argument("--smoke", action="store_true", help="a few seconds, to keep it working")
    args = parser.parse_args()
    if args.smoke:
        args.rate, args.seconds = SMOKE["rate"], SMOKE["seconds"]
    count = round(args.rate * args.seconds)
    if not (0 < args.rate <= 200 and 0 < count <= 5000):
        parser.error("keep to --rate ≤ 200 and rate * seconds ≤ 5000")
    warmups = int(SMOKE["dispatches"] if args.smoke else WARMUP_DISPATCHES)
    agents = args.agents or agents_needed(args.rate, count, warmups)
    out = args.out or RESULTS / f"dispatch-{args.db}.json"
    customers = valid_mobiles(CUSTOMER_NUMBERS, warmups + count)
    warmup_customers, customers = customers[:warmups], customers[warmups:]

    with running_system(args.db, keep=args.keep) as system:
        seed_started = time.monotonic()
        seed_rule(system, "bench", valid_mobiles(AGENT_NUMBERS, agents))
        seed_seconds = time.monotonic() - seed_started
        system.phone("default", outcome="no-answer")
        system.phone(CLOCK_PROBE_NUMBER, outcome="failed", answer_after=0)
        warm_up(system, count=int(SMOKE["warm_up"]) if args.smoke else 20)
        clock = sim_clock_offset(system)
        # A few dispatches through the carrier client before measuring (not counted), one at a
        # time: each waits until its agent's call is placed.
        for phone in warmup_customers:
            response = system.post_callback(system.http, BENCH_WIDGET, phone)
            first_calls(system, [response.json()["id"]], timeout=30)

        cpu_before = time.time(), cpu_seconds(system)
        runs = post_stream(system, args.rate, [BENCH_WIDGET] * count, customers)
        results = measure(system, runs, timeout=max(30.0, 3 * args.seconds))
        results["cpu"] = cpu_used(cpu_before, runs, system)
        results["clock"] = clock
        results["agents"] = {
            "seeded": agents,
            "seeding_seconds": round(seed_seconds, 2),
            "available_at_end": available_agents(system),
        }
        results["process_exits"] = process_exits(system, min(r.wall_start for r in runs))
        settings = {
            "rate_per_s": args.rate,
            "seconds": args.seconds,
            "count": count,
            "smoke": args.smoke,
            "agents": agents,
            "agent_sizing": (
                "one agent per callback (and per warm-up dispatch), one per hedge that fires "
                "while the stream runs, plus 5; runs longer than the ring timeout get two per "
                "callback per ring timeout (agents_needed)"
            ),
            "seeding": "seed_rule: one transaction through the models (multi-row INSERT)",
            "agent_phones": "no-answer (ring for the rule's 15 s ring timeout)",
            "rule": "bench: the defaults (hedged, ring_timeout 15 s, hedge_after 6 s)",
            "warm_up": f"warm_up() callbacks without agents, then {warmups} dispatches",
            "method": "simulator date_created minus the wall clock when the POST was sent",
            "target_p50_ms": TARGET_P50_MS,
            "target_p99_ms": TARGET_P99_MS,
        }
        write_result("dispatch", out, system, settings, results)
    plot_overhead(out.with_suffix(".png"), {f"{args.db}, {args.rate:g}/s": results})

    overhead = results["overhead_post_to_carrier"]
    print(
        f"dispatch [{args.db}]: {overhead['count']} callbacks at {args.rate:g}/s — POST → agent "
        f"call at the carrier p50 {overhead.get('p50_ms')} ms, p99 {overhead.get('p99_ms')}, "
        f"max {overhead.get('max_ms')}; {results['not_dispatched']} not dispatched; "
        f"p50 {verdict(overhead.get('p50_ms', math.inf), TARGET_P50_MS)}, "
        f"p99 {verdict(overhead.get('p99_ms', math.inf), TARGET_P99_MS)} → {out}"
    )
    for name, info in results["process_exits"].items():
        print(
            f"  WARNING: {name} exited {info['seconds_into_load']} s into the load: "
            f"{info['last_error']}"
        )
    if results["agents"]["available_at_end"] == 0:
        print("  WARNING: no agent was free at the end; raise --agents")
    return 0 if results["not_dispatched"] == 0 else 1


def post_stream(
    system: System, rate: float, widgets: Sequence[str], customers: Sequence[str]
) -> list[Paced]:
    """POST callback i to widgets[i] for customers[i], at `rate` per second (open loop)."""
    sessions = thread_local_sessions()
    return paced(
        rate,
        len(widgets),
        lambda i: system.post_callback(sessions(), widgets[i], customers[i]),
    )


def measure(system: System, runs: Sequence[Paced], timeout: float) -> dict[str, Any]:
    """The overhead of each accepted POST in `runs`, once every first agent call is placed
    (or `timeout` passes): see `_results`."""
    posted = {
        r.index: r.value.json()["id"]
        for r in runs
        if r.error is None and r.value is not None and r.value.status_code == 202
    }
    legs = first_calls(system, list(posted.values()), timeout=timeout)
    calls = {call["sid"]: call for call in system.sim_calls()}
    created = callback_times(system, list(posted.values()))
    return _results(list(runs), posted, legs, calls, created)


def cpu_used(
    before: tuple[float, dict[str, float]], runs: Sequence[Paced], system: System
) -> dict[str, Any]:
    """CPU each process used since `before` (time.time(), cpu_seconds()): in seconds, in ms per
    callback, and in cores (CPU seconds per second of the window; a Python process near 1 is
    the bottleneck, since it runs on one core at a time)."""
    began, cpu_before = before
    after, window = cpu_seconds(system), time.time() - began
    used = {name: after[name] - cpu_before.get(name, 0.0) for name in after}
    return {
        "window_s": round(window, 2),
        "seconds": {name: round(value, 2) for name, value in used.items()},
        "ms_per_callback": {
            name: round(value * 1000 / len(runs), 2) for name, value in used.items()
        },
        "cores": {name: round(value / window, 2) for name, value in used.items()},
        "window": "from just before the first POST until every first call was placed",
    }


def plot_overhead(path: Path, series: dict[str, dict[str, Any]]) -> Path:
    """Each series' overhead per callback over the run (left) and its distribution (right)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    figure, (over_time, cdf) = plt.subplots(1, 2, figsize=(11, 4))
    for label, results in series.items():
        samples = results["samples"]
        totals = [sample["total_ms"] for sample in samples]
        over_time.scatter([s["at_s"] for s in samples], totals, s=6, label=label)
        ordered = sorted(totals)
        shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
        cdf.plot(ordered, shares, label=label)
    for axes in (over_time, cdf):
        axes.grid(alpha=0.3)
    over_time.set(xlabel="seconds into the run", ylabel="POST → agent call (ms)", yscale="log")
    cdf.axvline(TARGET_P99_MS, color="grey", linestyle="--", label="p99 target")
    cdf.set(xlabel="POST → agent call (ms)", ylabel="share of callbacks", xscale="log")
    cdf.legend(fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


STAGES = (
    "1_post_sent_to_intake_start",
    "2_intake_start_to_202_received",
    "3_202_received_to_dispatch_start",
    "4_dispatch_start_to_carrier_call",
)


def _results(
    runs: list[Any],
    posted: dict[int, str],
    legs: dict[str, tuple[str, datetime]],
    calls: dict[str, dict[str, Any]],
    created: dict[str, datetime],
) -> dict[str, Any]:
    samples: list[dict[str, float]] = []  # seconds
    first_post = min(run.wall_start for run in runs)
    for run in runs:
        callback_id = posted.get(run.index)
        if callback_id is None or callback_id not in legs:
            continue
        sid, dispatch_started = legs[callback_id]
        at_carrier = datetime.fromisoformat(calls[sid]["date_created"]).timestamp()
        intake_start = created[callback_id].timestamp()
        moments = (run.wall_start, intake_start, run.wall_end, dispatch_started.timestamp())
        samples.append(
            {
                "at_s": run.wall_start - first_post,
                "total": at_carrier - run.wall_start,
                "after_202": at_carrier - run.wall_end,
                "intake": run.end - run.start,
                # One after the other, the stages add up to the total.
                **{
                    stage: end - begin
                    for stage, begin, end in zip(
                        STAGES, moments, (*moments[1:], at_carrier), strict=True
                    )
                },
            }
        )

    def column(name: str) -> list[float]:
        return [sample[name] for sample in samples]

    return {
        "posted": len(runs),
        "post_errors": sum(1 for r in runs if r.error is not None),
        "not_dispatched": len(runs) - len(samples),
        "overhead_post_to_carrier": summary_ms(column("total")),
        "overhead_202_to_carrier": summary_ms(column("after_202")),
        "intake_post_to_202": summary_ms(column("intake")),
        "stages": {stage: summary_ms(column(stage)) for stage in STAGES},
        # Each callback: seconds since the first POST, then its times in milliseconds.
        "samples": [
            {
                k if k == "at_s" else f"{k}_ms": round(v if k == "at_s" else v * 1000, 2)
                for k, v in sample.items()
            }
            for sample in samples
        ],
    }


def first_calls(
    system: System, callback_ids: list[str], timeout: float
) -> dict[str, tuple[str, datetime]]:
    """callback id -> (carrier sid, created_at) of its first agent leg, once all are placed.

    Reads in autocommit mode (no SQLite write lock), every 0.2 s, until every callback's first
    leg has its carrier sid or `timeout` passes.
    """
    engine = system.engine()
    query = (
        select(Leg.callback_id, Leg.id, Leg.provider_sid, Leg.created_at)
        .where(Leg.kind == "agent", Leg.callback_id.in_(callback_ids))
        .order_by(Leg.id)
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            first: dict[str, tuple[str | None, datetime]] = {}
            for callback_id, _, sid, created_at in read(engine, query):
                first.setdefault(callback_id, (sid, created_at))
            placed = {k: (sid, at) for k, (sid, at) in first.items() if sid is not None}
            if len(placed) == len(callback_ids) or time.monotonic() > deadline:
                return placed
            time.sleep(0.2)
    finally:
        engine.dispose()


def callback_times(system: System, callback_ids: list[str]) -> dict[str, datetime]:
    """callback id -> created_at: the intake's clock reading for that request."""
    engine = system.engine()
    query = select(CallbackRequest.id, CallbackRequest.created_at).where(
        CallbackRequest.id.in_(callback_ids)
    )
    rows = read(engine, query)
    engine.dispose()
    return dict(rows)


def available_agents(system: System) -> int:
    engine = system.engine()
    query = (
        select(func.count())
        .select_from(Agent)
        .join(RuleMember, RuleMember.agent_id == Agent.id)
        .join(RoutingRule, RoutingRule.id == RuleMember.rule_id)
        .where(RoutingRule.name == "bench", Agent.state == "available")
    )
    count = read(engine, query)[0][0]
    engine.dispose()
    return int(count)


def sim_clock_offset(system: System, probes: int = 5) -> dict[str, float]:
    """How far the simulator's clock is from ours: place calls at its REST API and compare each
    call's date_created with the wall-clock midpoint of the request; keep the tightest probe."""
    settings = system.settings
    url = f"{system.sim_url}/2010-04-01/Accounts/{settings.twilio_account_sid}/Calls.json"
    best: tuple[float, float] | None = None
    for _ in range(probes):
        before = time.time()
        response = system.http.post(
            url,
            auth=(settings.twilio_account_sid, settings.twilio_auth_token),
            data={
                "To": CLOCK_PROBE_NUMBER,
                "From": settings.twilio_caller_id,
                "Twiml": "<Response><Hangup/></Response>",
            },
            timeout=5,
        )
        after = time.time()
        response.raise_for_status()
        detail = system.http.get(f"{system.sim_url}/sim/calls/{response.json()['sid']}", timeout=5)
        stamp = datetime.fromisoformat(detail.json()["date_created"]).timestamp()
        offset, half_window = stamp - (before + after) / 2, (after - before) / 2
        if best is None or half_window < best[1]:
            best = (offset, half_window)
    assert best is not None
    return {"offset_ms": round(best[0] * 1000, 3), "uncertainty_ms": round(best[1] * 1000, 3)}


if __name__ == "__main__":
    sys.exit(main())
