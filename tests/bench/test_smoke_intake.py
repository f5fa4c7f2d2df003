"""bench/intake.py --smoke: the steady step with the worker, one rising step, the ceiling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.bench import run_smoke

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt install wrk)")


def test_intake_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "intake.json"
    document = run_smoke("intake.py", out)
    results = document["results"]
    steady, rising = results["steady"], results["rising"]
    assert steady["requests"] > 0 and steady["errors"] == 0, steady
    assert steady["accepted"] == steady["requests"]
    # Every callback the steady step made was taken up by the worker and finished.
    assert steady["worker"]["all_finished_s_after_last_request"] is not None, steady["worker"]
    # The warm-up at the steady rate ran, and the worker settled it before the measured step.
    warmed = steady["warm_up_at_rate"]
    assert warmed["requests"] > 0 and warmed["settled_s_after"] is not None, warmed
    assert [step["offered_rate_per_s"] for step in rising] == [40.0]
    assert rising[0]["accepted"] == rising[0]["requests"] > 0
    for step in (steady, *rising):
        latency = step["latency"]
        assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
        # Where the CPU went: the web tier certainly worked for its requests.
        assert step["cpu_ms_per_request"]["web"] > 0, step["cpu_s"]
    assert results["framework_ceiling"]["rate_per_s"] > 0
    assert results["process_exits"] == {}
    assert document["settings"]["rising_with_worker"] is False
    assert document["machine"] and document["versions"]
    assert out.with_suffix(".png").stat().st_size > 1000  # the plot
