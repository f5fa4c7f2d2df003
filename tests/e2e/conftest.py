"""One running system for the end-to-end tests; the simulator is reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.system import RunningSystem, running_system

# Phones ring and people answer 10x faster than real time; our own timers run in real time.
TIME_SCALE = 10


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    tmp: Path = tmp_path_factory.mktemp("system")
    with running_system(tmp, TIME_SCALE) as running:
        yield running


@pytest.fixture
def sys(system: RunningSystem) -> RunningSystem:
    assert system.sim.post("/sim/reset").status_code == 200
    # Unknown numbers never answer unless a test says otherwise.
    system.sim.phone("default", outcome="no-answer")
    return system
