"""The fault-injection suite: one running system whose Redis and PostgreSQL (when used) are
reached through proxies the tests can cut, and whose worker the tests SIGKILL and restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.system import RunningSystem, running_system

# Phones ring and people answer 10x faster than real time; our own timers run in real time.
TIME_SCALE = 10
# Every trial comes from this one test address at once: the abuse limits (tested elsewhere)
# would refuse the suite's own bursts, so they are raised, not switched off.
SUITE_LIMITS = {
    "RATE_LIMIT_PER_IP": "100000 per minute",
    "RATE_LIMIT_PER_PHONE": "1000 per minute",
    "RATE_LIMIT_PER_WIDGET": "1000 per minute",
    "RATE_LIMIT_STATUS": "100000 per minute",  # the suite polls every trial's status
    "MIN_FILL_MS": "0",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    tmp: Path = tmp_path_factory.mktemp("faults")
    with running_system(tmp, TIME_SCALE, proxied=True, extra_env=SUITE_LIMITS) as running:
        yield running


@pytest.fixture
def sys(system: RunningSystem) -> Iterator[RunningSystem]:
    assert system.sim.post("/sim/reset").status_code == 200
    system.sim.phone("default", outcome="no-answer")
    yield system
    # Whatever a test broke comes back before the next one starts.
    for proxy in system.proxies.values():
        proxy.up()
    system.sim.put("/sim/config", {})
    if system.process("worker").poll() is not None:
        system.restart("worker")
