"""CALLS_PER_SECOND: the carrier never sees more calls per second than the budget allows.

With Redis the budget is one GCRA counter shared by every worker, so two worker processes
together keep to it; without Redis each worker paces itself (one worker is how that runs).
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from support.receiver import wait_until
from support.system import RunningSystem, running_system
from trials import shops, submit

RATE = 2.0
CALLS = 12
TIME_SCALE = 10
SHARED = bool(os.environ.get("TEST_REDIS_URL"))


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    tmp: Path = tmp_path_factory.mktemp("budget")
    env = {
        "CALLS_PER_SECOND": str(RATE),
        "RATE_LIMIT_PER_IP": "100000 per minute",
        "RATE_LIMIT_PER_WIDGET": "1000 per minute",
    }
    with running_system(tmp, TIME_SCALE, extra_env=env) as system:
        second: subprocess.Popen[bytes] | None = None
        if SHARED:  # a second worker process on the same queue, sharing the Redis budget
            second = subprocess.Popen(system.process("worker").args, env=system.child_env)
        try:
            yield system
        finally:
            if second is not None:
                second.terminate()
                second.wait(10)


def test_calls_are_paced_to_the_budget_across_workers(budgeted: RunningSystem):
    sys = budgeted
    sys.sim.phone("default", outcome="no-answer")
    trials = shops(sys, CALLS)
    submit(sys, trials)
    agents = {t.agent for t in trials}
    calls = wait_until(
        lambda: len(c := [c for c in sys.sim.calls() if c["to"] in agents]) >= CALLS and c,
        60,
        f"{CALLS} agent calls",
    )
    # The carrier's clock runs TIME_SCALE times fast: back to wall seconds.
    created = sorted(
        datetime.fromisoformat(c["date_created"]).timestamp() / TIME_SCALE for c in calls
    )[:CALLS]
    # GCRA: at most `RATE` at once, then one every 1/RATE s; any n calls span >= (n-RATE)/RATE.
    slack = 0.15
    for (i, first), (j, last) in itertools.combinations(enumerate(created), 2):
        count = j - i + 1
        assert last - first >= (count - RATE) / RATE - slack, (count, last - first, created)
    assert created[-1] - created[0] >= (CALLS - RATE) / RATE - slack
