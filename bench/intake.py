"""Intake: POST /api/v1/callbacks until its 202, at steady offered rates.

    .venv/bin/python bench/intake.py [--db postgres|sqlite] [--steady 50] [--rates 100,200,…]
                                     [--steady-seconds 30] [--seconds 10] [--smoke] [--out FILE]

Starts the whole system (simulator, gunicorn, Celery worker and beat) on a fresh instance
folder, warms it up, then a separate load process, `wrk` (Debian's package, C, epoll) with
bench/intake_load.lua, posts over loopback at a steady offered rate. Each request carries its
own valid Estonian mobile number, so the duplicate check never short-cuts intake.

Two parts, one JSON file:

1. **steady** — `--steady` requests/s (default 50) with the worker running: it dispatches
   every callback (the `bench` widget's rule has no agents, so each becomes a scheduled
   callback; no phone rings) and competes for the two CPUs and the database as it does in
   production. Issue #3's target: p99 ≤ 20 ms.
2. **rising** — the worker and the beat are stopped (the callbacks wait in the broker), then
   the offered rate rises step by step (`--rates`): the web tier's own capacity, throughput
   and latency per step. Issue #8's target: ≥ 1000 requests/s with p99 ≤ 50 ms.

Latency is wrk's: from writing the request to reading the whole answer. Above the server's
capacity every connection is busy, the achieved rate falls below the offered one and the
latency includes waiting in gunicorn's backlog.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    BENCH_WIDGET,
    FINAL_STATUSES,
    REPO,
    RESULTS,
    WARMUP_WIDGET,
    System,
    process_exits,
    read,
    running_system,
    verdict,
    warm_up,
    write_result,
)
from cpu import CpuMeter, used
from sqlalchemy import Select, func, select

from callback import processes
from callback.models import CallbackRequest, Widget

# Seconds at the steady rate on the warm-up widget before the steady step (see warm_at_rate).
WARM_AT_RATE_S = 3.0
STEADY_TARGET_P99_MS = 20.0  # issue #3, at 50/s with the worker running
RISING_TARGET_RATE = 1000.0  # issue #8: at least this many requests/s …
RISING_TARGET_P99_MS = 50.0  # … with p99 at most this
DEFAULT_RATES = (100, 200, 300, 400, 600, 800, 1000)
LOAD_SCRIPT = REPO / "bench" / "intake_load.lua"
# +372 5xxxxxxx: every 8-digit number starting with 5 is an Estonian mobile. Each step of the
# load gets its own million, each wrk thread its own hundred thousand inside it.
FIRST_NUMBER_BASE = 51000000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--steady", type=float, default=50.0, help="requests/s with the worker")
    parser.add_argument("--rates", default=",".join(map(str, DEFAULT_RATES)))
    parser.add_argument(
        "--steady-seconds",
        type=float,
        default=30.0,
        help="length of the steady step (at 50/s, 30 s is 1,500 requests: p99 is the 15th "
        "slowest, not the 5th of a 10-s step)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each rising step")
    parser.add_argument("--smoke", action="store_true", help="two short steps (CI)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    if args.smoke:
        args.steady, rates, args.seconds, args.steady_seconds = 20.0, [40.0], 2.0, 2.0
    lengths = (args.seconds, args.steady_seconds)
    if not (
        all(0 < s <= 120 for s in lengths) and all(0 < r <= 5000 for r in [args.steady, *rates])
    ):
        parser.error("keep to --seconds and --steady-seconds ≤ 120, rates ≤ 5000 per second")
    if shutil.which("wrk") is None:
        parser.error("needs wrk, the HTTP load generator: apt-get install wrk")
    out = args.out or RESULTS / f"intake-{args.db}.json"

    with running_system(args.db, keep=args.keep) as system:
        warm_up(system)
        warmed = warm_at_rate(system, args.steady)
        began = time.time()
        steady = run_step(system, args.steady, args.steady_seconds, step=0)
        steady["worker"] = {
            "callbacks_by_status": _statuses(system),
            "all_finished_s_after_last_request": _drain(system, steady["requests"]),
        }
        steady["warm_up_at_rate"] = warmed
        _stop_worker_and_beat(system)
        ceiling = framework_ceiling(system, args.seconds)
        rising = [
            run_step(system, rate, args.seconds, step=index)
            for index, rate in enumerate(rates, start=1)
        ]
        results = {
            "steady": steady,
            "rising": rising,
            "capacity": _capacity(rising),
            "framework_ceiling": ceiling,
            "process_exits": process_exits(system, began),
        }
        settings = {
            "load": "wrk (bench/intake_load.lua): open loop, each thread spacing its requests",
            "steady_rate_per_s": args.steady,
            "rising_rates_per_s": rates,
            "steady_seconds": args.steady_seconds,
            "seconds_per_step": args.seconds,
            "widget_rule": "no agents (each callback becomes a scheduled one when dispatched)",
            "steady_with_worker": True,
            "rising_with_worker": False,
            "targets": {
                "steady_p99_ms": STEADY_TARGET_P99_MS,
                "rising_rate_per_s": RISING_TARGET_RATE,
                "rising_p99_ms": RISING_TARGET_P99_MS,
            },
        }
        write_result("intake", out, system, settings, results)
    plot = _plot(results, out.with_suffix(".png"), args.db)
    _print_summary(args.db, results, out, plot)
    errors = steady["errors"] + sum(step["errors"] for step in rising)
    return 0 if errors == 0 else 1


def warm_at_rate(system: System, rate: float, seconds: float = WARM_AT_RATE_S) -> dict[str, Any]:
    """A few seconds at the steady rate on the warm-up widget, until the worker has settled
    them, before the steady step is measured: `warm_up` sends one request at a time, so the
    web's other threads would open their database connections (a new PostgreSQL backend
    each) inside the measured seconds, a cold start a server running for days never sees."""
    step = run_step(system, rate, seconds, step=-1, widget=WARMUP_WIDGET)
    settled = _drain(system, None, widget=WARMUP_WIDGET)
    return {
        "seconds": seconds,
        "requests": step["requests"],
        "p99_ms": step["latency"]["p99_ms"],
        "settled_s_after": settled,
    }


def run_step(
    system: System, rate: float, seconds: float, step: int, widget: str = BENCH_WIDGET
) -> dict[str, Any]:
    """One wrk run at `rate` requests/s for `seconds`: its counts, latencies, and the CPU
    time each part of the system spent per request."""
    threads = 1 if rate <= 400 else 2
    # Enough connections that one is free when its turn comes, at up to ~100 ms per answer.
    connections = max(4 * threads, min(256, math.ceil(rate / 10)))
    base = FIRST_NUMBER_BASE + step * 1_000_000
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={LOAD_SCRIPT}",
        system.web_url,
        "--",
        f"{rate:g}",
        widget,
        str(base),
        "t" * threads,
    ]
    meter = CpuMeter({name: [process.pid] for name, process in system.procs})
    before, load_before = meter.take(), os.times()
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    cpu, load_after = used(before, meter.take()), os.times()
    cpu["load (wrk)"] = round(
        (load_after.children_user + load_after.children_system)
        - (load_before.children_user + load_before.children_system),
        3,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr[-500:]}")
    raw = json.loads(lines[-1])
    statuses = {int(code): n for code, n in raw["statuses"].items()}
    socket_errors = sum(raw["socket_errors"].values())
    latency = raw["latency_us"]
    return {
        "offered_rate_per_s": rate,
        "achieved_rate_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "requests": raw["requests"],
        "accepted": statuses.get(202, 0),
        "errors": raw["requests"] - statuses.get(202, 0) + socket_errors,
        "statuses": statuses,
        "socket_errors": raw["socket_errors"],
        "latency": {f"{k}_ms": round(v / 1000, 2) for k, v in latency.items()},
        "wrk": {"threads": threads, "connections": connections},
        "cpu_s": cpu,
        "cpu_ms_per_request": {
            name: round(1000 * seconds_used / max(1, raw["requests"]), 2)
            for name, seconds_used in cpu.items()
        },
    }


def framework_ceiling(system: System, seconds: float) -> dict[str, Any]:
    """What the same gunicorn and Flask serve at most when the answer costs nothing:
    GET /healthz, closed loop on 32 connections. Intake can never beat this on this machine."""
    finished = subprocess.run(
        [
            "wrk",
            "--threads=2",
            "--connections=32",
            f"--duration={max(1, round(seconds))}s",
            "--latency",
            f"{system.web_url}/healthz",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr[-500:]}")
    found: dict[str, Any] = {"endpoint": "GET /healthz", "connections": 32}
    for line in finished.stdout.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            found["rate_per_s"] = float(words[1])
        elif len(words) == 2 and words[0] in ("50%", "99%"):
            found[f"p{words[0][:-1]}_ms"] = _milliseconds(words[1])
    return found


def _milliseconds(text: str) -> float:
    """wrk's "812.00us", "1.23ms" or "2.01s" in milliseconds."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * factor, 3)
    raise ValueError(f"not a wrk duration: {text!r}")


def _capacity(rising: list[dict[str, Any]]) -> dict[str, Any]:
    """The highest step that kept up with its offered rate (within 5 %) at p99 ≤ 50 ms."""
    good = [
        step
        for step in rising
        if step["errors"] == 0
        and step["achieved_rate_per_s"] >= 0.95 * step["offered_rate_per_s"]
        and step["latency"]["p99_ms"] <= RISING_TARGET_P99_MS
    ]
    best = max(good, key=lambda step: step["achieved_rate_per_s"], default=None)
    return {
        "max_rate_per_s_with_p99_within_target": best["achieved_rate_per_s"] if best else 0,
        "highest_achieved_rate_per_s": max((s["achieved_rate_per_s"] for s in rising), default=0),
        "target_met": bool(best and best["achieved_rate_per_s"] >= 0.95 * RISING_TARGET_RATE),
    }


def _stop_worker_and_beat(system: System) -> None:
    """The rising steps measure the web tier alone: no worker competes for the CPUs."""
    for name, process in list(system.procs):
        if name.startswith(("worker", "beat")):
            system.procs.remove((name, process))
            processes.stop(process)


def _bench_callbacks(*columns: Any, widget: str = BENCH_WIDGET) -> Select[Any]:
    return (
        select(*columns)
        .select_from(CallbackRequest)
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .where(Widget.public_key == widget)
    )


def _statuses(system: System) -> dict[str, int]:
    engine = system.engine()
    query = _bench_callbacks(CallbackRequest.status, func.count())
    rows = read(engine, query.group_by(CallbackRequest.status))
    engine.dispose()
    return {status: count for status, count in rows}


def _drain(
    system: System, total: int | None, timeout: float = 60, widget: str = BENCH_WIDGET
) -> float | None:
    """Seconds until the worker has finished `total` callbacks of the widget, or all of them
    (None: not in time, or the worker is gone)."""
    engine = system.engine()
    final = sorted(FINAL_STATUSES)
    query = _bench_callbacks(func.count(), widget=widget).where(CallbackRequest.status.in_(final))
    if total is None:
        total = read(engine, _bench_callbacks(func.count(), widget=widget))[0][0]
    began = time.monotonic()
    try:
        while time.monotonic() - began < timeout and "worker" not in system.exits:
            if read(engine, query)[0][0] >= total:
                return round(time.monotonic() - began, 2)
            time.sleep(0.1)  # polling interval of a bounded loop
        return None
    finally:
        engine.dispose()


def _plot(results: dict[str, Any], path: Path, db: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt

    rising = results["rising"]
    offered = [s["offered_rate_per_s"] for s in rising]
    figure, (rate_axis, latency_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    rate_axis.plot(offered, [s["achieved_rate_per_s"] for s in rising], "o-", label="achieved")
    rate_axis.plot(offered, offered, ":", color="grey", label="offered")
    rate_axis.axhline(RISING_TARGET_RATE, color="tab:red", ls="--", lw=1, label="target")
    rate_axis.set(xlabel="offered requests/s", ylabel="requests/s", title="throughput")
    rate_axis.legend()
    for key, style in (("p50_ms", "o-"), ("p99_ms", "s-")):
        latency_axis.plot(offered, [s["latency"][key] for s in rising], style, label=key[:3])
    latency_axis.axhline(RISING_TARGET_P99_MS, color="tab:red", ls="--", lw=1, label="p99 target")
    latency_axis.set(xlabel="offered requests/s", ylabel="ms", title="latency (POST → 202)")
    latency_axis.set_yscale("log")
    latency_axis.legend()
    figure.suptitle(f"intake under gunicorn, {db}, worker stopped")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def _print_summary(db: str, results: dict[str, Any], out: Path, plot: Path) -> None:
    steady = results["steady"]
    lat = steady["latency"]
    print(
        f"intake [{db}] steady {steady['achieved_rate_per_s']}/s with the worker: "
        f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, {steady['errors']} errors; "
        f"{verdict(lat['p99_ms'], STEADY_TARGET_P99_MS)}"
    )
    for step in results["rising"]:
        lat = step["latency"]
        cpu = ", ".join(f"{k} {v}" for k, v in step["cpu_ms_per_request"].items())
        print(
            f"  offered {step['offered_rate_per_s']:g}/s → {step['achieved_rate_per_s']}/s, "
            f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, {step['errors']} errors; "
            f"CPU ms/request: {cpu}"
        )
    capacity, ceiling = results["capacity"], results["framework_ceiling"]
    print(
        f"  framework ceiling (GET /healthz, 32 connections): {ceiling.get('rate_per_s')}/s, "
        f"p99 {ceiling.get('p99_ms')} ms"
    )
    print(
        f"  capacity at p99 ≤ {RISING_TARGET_P99_MS:g} ms: "
        f"{capacity['max_rate_per_s_with_p99_within_target']}/s "
        f"(target {RISING_TARGET_RATE:g}/s {'met' if capacity['target_met'] else 'MISSED'})"
        f" → {out}, {plot}"
    )
    for name, info in results["process_exits"].items():
        print(f"  WARNING: {name} exited {info['seconds_into_load']} s into the load")


if __name__ == "__main__":
    sys.exit(main())
