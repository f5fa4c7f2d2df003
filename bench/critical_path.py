"""Our share of the critical path: POST until the customer is bridged, minus what phones took.

    .venv/bin/python bench/critical_path.py [--count 50] [--rate 1] [--db postgres|sqlite]
                                            [--out bench/results/critical-path-<db>.json]
                                            [--smoke] [--keep]

Starts the whole system as real processes (bench/common.py), gives the benchmark's rule (the
defaults: hedged, ring timeout 15 s, hedge after 6 s) enough agents that one is always free,
and posts `count` callbacks at `rate` per second, each with its own customer number. Every
agent's phone answers after AGENT_ANSWER_S and presses 1 AGENT_PRESS_S after the whisper;
every customer's phone answers after CUSTOMER_ANSWER_S and hangs up CUSTOMER_TALK_S later.

Two measurements of our time, per connection, which must agree:

- By subtraction. The total runs from the wall clock just before the POST to the moment the
  simulator bridged the customer (the `Bridged` entry of the agent call's log). From it we
  subtract everything the simulator scripted: each leg's call set-up (`SETUP_DELAY`), the
  agent's ring until answer, the whisper's speech time (the simulator's `speech_seconds` of the
  text it actually spoke), the agent's key press delay and the customer's ring until answer.
  What remains is ours, plus the simulator's own overhead (thread wake-ups, TwiML parsing).
- Directly. POST → 202 (timed here), 202 → the agent call's arrival at the carrier (the
  call's `date_created`, the simulator's clock), split at the leg's `created_at` (when dispatch
  started) into broker + task pickup and dispatch, then the time the application took to
  answer each webhook on the path as the simulator timed it (`webhooks` in its call log): the
  agent's answer (whisper TwiML) and the key press (the `<Dial>`).

`sim_overhead` = subtraction - direct: the simulator's own share, expected to be a few ms.
Status callbacks are not on the path (the carrier does not wait for them); their response times
are reported separately. The simulator's clock is checked against ours (`clock`, as in
dispatch.py) and its offset removed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from common import (
    BENCH_WIDGET,
    RESULTS,
    Paced,
    System,
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
from dispatch import CLOCK_PROBE_NUMBER, sim_clock_offset
from sqlalchemy import select

from callback.models import CallbackRequest, Leg
from callback.simulator.runner import SETUP_DELAY
from callback.simulator.verbs import speech_seconds

TARGET_P99_MS = 100.0
AGENT_ANSWER_S = 1.0  # the agent's phone rings this long, then they pick up
AGENT_PRESS_S = 0.3  # after the whisper ends, the agent presses 1
CUSTOMER_ANSWER_S = 1.0  # the customer's phone rings this long
CUSTOMER_TALK_S = 1.0  # then they talk briefly and hang up: the agent is freed for the next
AGENT_NUMBERS = 56100000  # +37256100000, …
CUSTOMER_NUMBERS = 55600000
WARMUP_CONNECTIONS = 2
# An agent is held about 7 s of call, 5 s of wrap-up and up to one 2 s sweep, plus margin.
AGENT_HELD_S = 16
SETTLED = ("completed", "failed", "canceled", "scheduled")
STAGES = (
    "intake_post_to_202",
    "queue_202_to_dispatch_start",
    "dispatch_start_to_carrier_call",
    "answer_webhook",
    "keypress_webhook",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="connections measured")
    parser.add_argument("--rate", type=float, default=1.0, help="callbacks per second")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--agents", type=int, default=None, help="default: enough for --rate")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="3 connections, to keep it working")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args()
    if args.smoke:
        args.count = 3
    if not (0 < args.rate <= 20 and 0 < args.count <= 1000):
        parser.error("keep to --rate ≤ 20 and --count ≤ 1000")
    agents = args.agents or min(
        args.count + WARMUP_CONNECTIONS, math.ceil(args.rate * AGENT_HELD_S) + 3
    )
    out = args.out or RESULTS / f"critical-path-{args.db}.json"
    customers = valid_mobiles(CUSTOMER_NUMBERS, WARMUP_CONNECTIONS + args.count)

    with running_system(args.db, keep=args.keep) as system:
        seed_rule(system, "bench", valid_mobiles(AGENT_NUMBERS, agents))
        script_phones(system, customers)
        warm_up(system, count=3 if args.smoke else 20)
        clock = sim_clock_offset(system)
        warmup_ids = [
            system.post_callback(system.http, BENCH_WIDGET, phone).json()["id"]
            for phone in customers[:WARMUP_CONNECTIONS]
        ]
        wait_until_settled(system, warmup_ids, timeout=60)

        sessions = thread_local_sessions()
        measured = customers[WARMUP_CONNECTIONS:]
        runs = paced(
            args.rate,
            args.count,
            lambda i: system.post_callback(sessions(), BENCH_WIDGET, measured[i]),
        )
        posted = {r.index: r.value.json()["id"] for r in runs if r.error is None}
        settled = wait_until_settled(system, list(posted.values()), timeout=60)
        results = analyse(system, runs, posted, clock["offset_ms"] / 1000)
        results["unsettled"] = len(posted) - settled
        results["clock"] = clock
        results["process_exits"] = process_exits(system, min(r.wall_start for r in runs))
        settings = {
            "count": args.count,
            "rate_per_s": args.rate,
            "smoke": args.smoke,
            "agents": agents,
            "rule": "bench: the defaults (hedged, ring_timeout 15 s, hedge_after 6 s)",
            "scripted": {
                "call_setup_s": SETUP_DELAY,
                "agent_answer_after_s": AGENT_ANSWER_S,
                "agent_press_after_s": AGENT_PRESS_S,
                "customer_answer_after_s": CUSTOMER_ANSWER_S,
                "customer_hangs_up_after_s": CUSTOMER_TALK_S,
                "whisper": "the simulator's speech_seconds() of the text it spoke",
            },
            "warm_up": f"{3 if args.smoke else 20} callbacks without agents, then "
            f"{WARMUP_CONNECTIONS} connections",
            "target_p99_ms": TARGET_P99_MS,
        }
        write_result("critical_path", out, system, settings, results)
    plot(results, out.with_suffix(".png"), args.db)

    ours = results["ours_by_subtraction"]
    direct = results["ours_measured_directly"]
    print(
        f"critical path [{args.db}]: {ours['count']} connections at {args.rate:g}/s — ours "
        f"(total - scripted) p50 {ours.get('p50_ms')} ms, p99 {ours.get('p99_ms')}; measured "
        f"directly p50 {direct.get('p50_ms')}, p99 {direct.get('p99_ms')}; simulator overhead "
        f"p50 {results['sim_overhead']['by_connection'].get('p50_ms')} ms; "
        f"{results['not_connected']} not connected; "
        f"{verdict(ours.get('p99_ms', math.inf), TARGET_P99_MS)} → {out}"
    )
    return 0 if results["not_connected"] == 0 and ours["count"] > 0 else 1


def script_phones(system: System, customers: list[str]) -> None:
    """Every unknown number is an agent who answers and presses 1; customers are set one by one."""
    system.phone(
        "default",
        outcome="answer",
        answer_after=AGENT_ANSWER_S,
        digits="1",
        press_after=AGENT_PRESS_S,
    )
    system.phone(CLOCK_PROBE_NUMBER, outcome="failed", answer_after=0)
    for number in customers:
        system.phone(
            number,
            outcome="answer",
            answer_after=CUSTOMER_ANSWER_S,
            hangup_after=CUSTOMER_TALK_S,
            digits="",
        )


def wait_until_settled(system: System, callback_ids: list[str], timeout: float) -> int:
    """Wait (reading every 0.5 s) until every callback has ended; returns how many did."""
    engine = system.engine()
    query = select(CallbackRequest.status).where(CallbackRequest.id.in_(callback_ids))
    deadline = time.monotonic() + timeout
    try:
        while True:
            settled = sum(1 for (status,) in read(engine, query) if status in SETTLED)
            if settled == len(callback_ids) or time.monotonic() > deadline:
                return settled
            time.sleep(0.5)
    finally:
        engine.dispose()


def analyse(
    system: System, runs: list[Paced], posted: dict[int, str], sim_offset_s: float
) -> dict[str, Any]:
    """Per connection: the total, the scripted delays, ours both ways and the direct split."""
    engine = system.engine()
    ids = list(posted.values())
    accepted = dict(
        read(
            engine,
            select(CallbackRequest.id, CallbackRequest.accepted_leg_id).where(
                CallbackRequest.id.in_(ids)
            ),
        )
    )
    legs = read(
        engine,
        select(Leg.callback_id, Leg.id, Leg.provider_sid, Leg.created_at)
        .where(Leg.kind == "agent", Leg.callback_id.in_(ids))
        .order_by(Leg.id),
    )
    engine.dispose()
    agent_legs: dict[str, list[tuple[int, str | None, datetime]]] = {}
    for callback_id, leg_id, sid, created_at in legs:
        agent_legs.setdefault(callback_id, []).append((leg_id, sid, created_at))
    calls = {call["sid"]: call for call in system.sim_calls()}

    def sim_time(iso: str) -> float:
        return datetime.fromisoformat(iso).timestamp() - sim_offset_s

    samples: list[dict[str, Any]] = []
    status_callbacks: list[float] = []
    not_first_leg = 0
    first_post = min(run.wall_start for run in runs)
    for run in runs:
        callback_id = posted.get(run.index)
        leg_id = accepted.get(callback_id) if callback_id else None
        own = agent_legs.get(callback_id or "", [])
        leg = next((entry for entry in own if entry[0] == leg_id), None)
        if leg is None or leg[1] not in calls:
            continue
        if leg is not own[0]:
            not_first_leg += 1  # a hedge leg won: the hedge delay is on the path, not ours
            continue
        call = calls[leg[1]]
        bridged = next((v for v in call["verbs"] if v["verb"] == "Bridged"), None)
        whisper = _whisper_text(call)
        pages = [w for w in call.get("webhooks", []) if w["kind"] == "twiml"]
        if bridged is None or whisper is None or len(pages) < 2:
            continue
        total = sim_time(bridged["at"]) - run.wall_start
        whisper_s = speech_seconds(whisper)
        scripted = 2 * SETUP_DELAY + AGENT_ANSWER_S + whisper_s + AGENT_PRESS_S + CUSTOMER_ANSWER_S
        at_carrier = sim_time(call["date_created"])
        stages = {
            "intake_post_to_202": run.wall_end - run.wall_start,
            "queue_202_to_dispatch_start": leg[2].timestamp() - run.wall_end,
            "dispatch_start_to_carrier_call": at_carrier - leg[2].timestamp(),
            "answer_webhook": pages[0]["ms"] / 1000,
            "keypress_webhook": pages[1]["ms"] / 1000,
        }
        direct = sum(stages.values())
        ours = total - scripted
        status_callbacks += [w["ms"] / 1000 for w in call["webhooks"] if w["kind"] == "status"]
        child = calls.get(call.get("bridged_with") or "")
        if child:
            status_callbacks += [w["ms"] / 1000 for w in child["webhooks"] if w["kind"] == "status"]
        samples.append(
            {
                "at_s": round(run.wall_start - first_post, 3),
                "total_s": round(total, 4),
                "scripted_s": round(scripted, 4),
                "whisper_s": whisper_s,
                "ours_by_subtraction_ms": round(ours * 1000, 2),
                "ours_measured_directly_ms": round(direct * 1000, 2),
                "sim_overhead_ms": round((ours - direct) * 1000, 2),
                **{f"{name}_ms": round(value * 1000, 2) for name, value in stages.items()},
            }
        )

    def column(name: str) -> list[float]:
        return [sample[name] / 1000 for sample in samples]

    return {
        "posted": len(runs),
        "post_errors": sum(1 for r in runs if r.error is not None),
        "connections": len(samples),
        "not_connected": len(runs) - len(samples) - not_first_leg,
        "won_by_a_hedge_leg": not_first_leg,
        "ours_by_subtraction": summary_ms(column("ours_by_subtraction_ms")),
        "ours_measured_directly": summary_ms(column("ours_measured_directly_ms")),
        "sim_overhead": {
            "by_connection": summary_ms(column("sim_overhead_ms")),
            "note": "subtraction - direct: the simulator's own wake-ups and TwiML parsing",
        },
        "stages": {name: summary_ms(column(f"{name}_ms")) for name in STAGES},
        "status_callbacks_off_path": summary_ms(status_callbacks),
        "total_post_to_bridge": summary_ms(column("total_s")),
        "samples": samples,
    }


def _whisper_text(call: dict[str, Any]) -> str | None:
    """The text the simulator spoke inside the agent's <Gather>: the whisper."""
    verbs = [v["verb"] for v in call["verbs"]]
    if "Gather" not in verbs:
        return None
    after = call["verbs"][verbs.index("Gather") + 1 :]
    return next((v["text"] for v in after if v["verb"] == "Say"), None)


def plot(results: dict[str, Any], path: Path, db: str) -> None:
    """Each connection's time split into stages (stacked), with ours by subtraction on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = results["samples"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    positions = list(range(len(samples)))
    bottom = [0.0] * len(samples)
    for stage in STAGES:
        heights = [s[f"{stage}_ms"] for s in samples]
        ax.bar(positions, heights, bottom=bottom, label=stage.replace("_", " "))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.plot(
        positions,
        [s["ours_by_subtraction_ms"] for s in samples],
        "k.",
        label="ours by subtraction (total - scripted)",
    )
    ax.axhline(TARGET_P99_MS, color="red", linestyle="--", linewidth=1, label="target (p99)")
    ax.set_xlabel("connection")
    ax.set_ylabel("ms")
    ax.set_title(f"Our share of POST → customer bridged ({db})")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
