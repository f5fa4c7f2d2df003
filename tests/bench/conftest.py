"""The benchmarks' smoke runs are their own CI job (`pytest -m bench tests/bench`), on
PostgreSQL and Redis, the stores the benchmarks are about: each starts a whole system, so
running them in both passes of the test command cost CI about two minutes a pass."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.bench)
