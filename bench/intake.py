"""Intake latency: POST /api/v1/callbacks until its 202, at a steady rate.

    .venv/bin/python bench/intake.py [--rate 50] [--seconds 10] [--db sqlite|postgres]
                                     [--out bench/results/intake-<db>.json]

Starts the whole system (simulator, gunicorn, Celery worker and beat) on a fresh instance
folder, warms it up, then this process sends `rate * seconds` requests over loopback at a
steady rate (open loop: a pool of threads sends, so a slow answer never delays the next
request) and times each request from send to the 202 on the client side.

Widget "bench" rings a rule without agents: the worker still dispatches every callback (and
competes for the CPUs and the database, as in production), finds nobody to ring and
turns it into a scheduled callback; no phone rings. Each request carries its own valid Estonian mobile
number, so the duplicate check (a live callback for the same number) never short-cuts intake.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import (
    BENCH_WIDGET,
    FINAL_STATUSES,
    RESULTS,
    System,
    paced,
    process_exits,
    read,
    running_system,
    summary_ms,
    thread_local_sessions,
    valid_mobiles,
    verdict,
    warm_up,
    write_result,
)
from sqlalchemy import Select, func, select

from callback.models import CallbackRequest, Widget

TARGET_P99_MS = 20.0
CUSTOMER_NUMBERS = 55550000  # +37255550000, +37255550001, …


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=16, help="load threads")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args()
    if not (0 < args.rate <= 1000 and 0 < args.seconds <= 300):
        parser.error("keep to --rate ≤ 1000 and --seconds ≤ 300")
    total = max(1, round(args.rate * args.seconds))
    out = args.out or RESULTS / f"intake-{args.db}.json"
    numbers = valid_mobiles(CUSTOMER_NUMBERS, total)

    with running_system(args.db, keep=args.keep) as system:
        system.phone("default", outcome="no-answer")
        warm_up(system)
        sessions = thread_local_sessions()

        def post(index: int) -> tuple[int, str]:
            response = system.post_callback(sessions(), BENCH_WIDGET, numbers[index])
            return response.status_code, response.text

        runs = paced(args.rate, total, post, threads=args.threads)
        drained_after = _drain(system, total)
        accepted = [r for r in runs if r.error is None and r.value[0] == 202]
        errors = Counter(
            r.error.split(":")[0] if r.error else f"HTTP {r.value[0]}: {r.value[1][:200]}"
            for r in runs
            if r.error is not None or r.value[0] != 202
        )
        elapsed = max(r.end for r in runs) - min(r.start for r in runs)
        results = {
            "requests": total,
            "accepted": len(accepted),
            "errors": sum(errors.values()),
            "error_kinds": dict(errors),
            "achieved_rate_per_s": round(len(runs) / elapsed, 2),
            "latency": summary_ms([r.end - r.start for r in accepted]),
            "send_lag": summary_ms([r.start - r.due for r in runs]),
            # When the worst ones were sent (seconds since the first request): the beat sweeps
            # every 2 s, so a pattern there points at the sweep.
            "slowest": [
                {
                    "at_s": round(r.start - runs[0].start, 2),
                    "ms": round((r.end - r.start) * 1000, 1),
                }
                for r in sorted(accepted, key=lambda r: r.start - r.end)[:10]
            ],
            "process_exits": process_exits(system, min(r.wall_start for r in runs)),
            "worker": {
                "callbacks_by_status": _statuses(system),
                "all_finished_s_after_last_request": drained_after,
            },
        }
        settings = {
            "rate_per_s": args.rate,
            "seconds": args.seconds,
            "load_threads": args.threads,
            "client": "requests, one keep-alive session per load thread",
            "widget_rule": "no agents (each callback becomes a scheduled one when dispatched)",
            "warm_up_requests": 20,
            "target_p99_ms": TARGET_P99_MS,
        }
        write_result("intake", out, system, settings, results)

    latency = results["latency"]
    print(
        f"intake [{args.db}]: {len(runs)} requests at {results['achieved_rate_per_s']}/s — "
        f"p50 {latency.get('p50_ms')} ms, p90 {latency.get('p90_ms')}, "
        f"p99 {latency.get('p99_ms')}, max {latency.get('max_ms')}; "
        f"{results['errors']} errors; {verdict(latency.get('p99_ms', math.inf), TARGET_P99_MS)}"
        f" → {out}"
    )
    for name, info in results["process_exits"].items():
        print(
            f"  WARNING: {name} exited {info['seconds_into_load']} s into the load: "
            f"{info['last_error']}"
        )
    return 0 if results["errors"] == 0 else 1


def _bench_callbacks(*columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(CallbackRequest)
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .where(Widget.public_key == BENCH_WIDGET)
    )


def _statuses(system: System) -> dict[str, int]:
    engine = system.engine()
    query = _bench_callbacks(CallbackRequest.status, func.count())
    rows = read(engine, query.group_by(CallbackRequest.status))
    engine.dispose()
    return {status: count for status, count in rows}


def _drain(system: System, total: int, timeout: float = 60) -> float | None:
    """Seconds until the worker has finished every benchmark callback (None: not in time, or
    the worker is gone)."""
    engine = system.engine()
    final = sorted(FINAL_STATUSES)
    query = _bench_callbacks(func.count()).where(CallbackRequest.status.in_(final))
    began = time.monotonic()
    try:
        while time.monotonic() - began < timeout and "worker" not in system.exits:
            if read(engine, query)[0][0] >= total:
                return round(time.monotonic() - began, 2)
            time.sleep(0.1)
        return None
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
