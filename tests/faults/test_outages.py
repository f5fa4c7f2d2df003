"""Redis and PostgreSQL going away while callbacks are taken and dispatched.

The system's processes reach both through TCP proxies (tests/support/proxy.py), so an outage
never touches the shared servers: `stall` holds every byte (a hung server, as under CLIENT
PAUSE), `down` resets every connection and refuses new ones (a crash or restart).

Trials are counted per callback: the TRIALS callbacks of one test all live through the same
outage window (one 60-second outage, not ten).
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from support.receiver import wait_until
from support.system import RunningSystem
from trials import SMOKE, TRIALS, assert_invariants, check, shops, submit

needs_redis = pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL"), reason="Redis outages need TEST_REDIS_URL"
)
needs_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL restarts need TEST_DATABASE_URL"
)
# The smoke run (CI) keeps to minutes: the 5 s outages exercise the same recovery paths.
full_run_only = pytest.mark.skipif(SMOKE, reason="FAULT_SMOKE: 60 s outages run in full runs only")


def hold(sys: RunningSystem, until: float) -> None:
    """Keep the fault on until `until` (monotonic), probing that the web process lives."""
    while time.monotonic() < until:
        # An answer is not required (the web may be waiting on the broken service).
        with contextlib.suppress(requests.RequestException):
            sys.sim.http.get(f"{sys.web_url}/healthz", timeout=2)
        time.sleep(0.5)  # the probe's pace within a fixed outage window, not a wait for an event


def outage_window(
    sys: RunningSystem,
    service: str,
    kind: str,
    seconds: float,
    during: str,
    restarts: list[str],
):
    """Break `service` for `seconds`; `during` intake (requests sent inside the window) or
    dispatch (accepted just before it). Returns the trials and when the service came back;
    `service` is appended to `restarts` if the worker died of it and was started again."""
    trials = shops(sys)
    proxy = sys.proxies[service]
    if during == "dispatch":
        # Right after an earlier outage the fail-closed limiter may still answer 503 for a
        # moment: visitors try again, and so does this setup (bounded).
        wait_until(
            lambda: (
                submit(sys, [t for t in trials if not t.accepted])
                or all(t.accepted for t in trials)
            ),
            30,
            "every trial accepted before the outage",
        )
    broke_at = time.monotonic()
    (proxy.down if kind == "down" else proxy.stall)()
    try:
        if during == "intake":
            with ThreadPoolExecutor(max_workers=1) as pool:
                sending = pool.submit(submit, sys, trials)
                hold(sys, broke_at + seconds)
            proxy.up()
            sending.result()
        else:
            hold(sys, broke_at + seconds)
    finally:
        proxy.up()
    back = time.monotonic()
    # kombu can kill the worker while Redis is away (README, Reliability: restore_unacked,
    # upstream). A process manager starts it again, as `callback run` now does; the trial then
    # checks that nothing was lost meanwhile, and its note says the worker was restarted.
    if sys.process("worker").poll() is not None:
        sys.restart("worker")
        restarts.append(service)
    return trials, back


def _note(trials, restarts: list[str]) -> str:
    refused = sorted({t.refused for t in trials if t.refused})
    parts = (
        [f"intake refused {sum(1 for t in trials if t.refused)} with {refused}"] if refused else []
    )
    if restarts:
        parts.append("the worker died during the outage and was started again")
    return "; ".join(parts)


@needs_redis
@pytest.mark.parametrize(
    ("kind", "seconds", "during"),
    [
        ("stall", 5, "intake"),
        ("stall", 5, "dispatch"),
        ("down", 5, "intake"),
        ("down", 5, "dispatch"),
        pytest.param("down", 60, "dispatch", marks=full_run_only),
        pytest.param("down", 60, "intake", marks=full_run_only),
    ],
)
def test_redis_outage(sys: RunningSystem, kind: str, seconds: float, during: str):
    restarts: list[str] = []
    trials, back = outage_window(sys, "redis", kind, seconds, during, restarts)
    fault = f"redis_{kind}_{seconds}s_during_{during}"
    note = _note(trials, restarts)
    row = check(sys, fault, trials, back, note=note)
    # The public POST fails closed (503) while its rate-limit storage, the same Redis, is away.
    assert_invariants(row, refusals=frozenset({503}) if during == "intake" else frozenset())
    assert len(trials) == TRIALS


@needs_postgres
@pytest.mark.parametrize("during", ["intake", "dispatch"])
def test_postgres_restart(sys: RunningSystem, during: str):
    restarts: list[str] = []
    trials, back = outage_window(sys, "postgres", "down", 5, during, restarts)
    note = _note(trials, restarts)
    row = check(sys, f"postgres_restart_5s_during_{during}", trials, back, note=note)
    # Refusing while the database is away is right (503); a 500 is not.
    assert_invariants(row, refusals=frozenset({503}) if during == "intake" else frozenset())
