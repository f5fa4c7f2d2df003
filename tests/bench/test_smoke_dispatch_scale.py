"""bench/dispatch.py and bench/scale.py --smoke: they run, and their JSON has its shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.bench import backend, run_smoke

STAGES = {
    "1_post_sent_to_intake_start",
    "2_intake_start_to_202_received",
    "3_202_received_to_dispatch_start",
    "4_dispatch_start_to_carrier_call",
}
PROBED = {"pick_agents", "waiting_before", "rung_this_round", "someone_may_free_up"}


def assert_overhead_shape(results: dict[str, Any], posted: int) -> None:
    """One measured stream: every callback posted, dispatched and broken into stages."""
    assert results["posted"] == posted and results["post_errors"] == 0
    assert results["not_dispatched"] == 0, results
    overhead = results["overhead_post_to_carrier"]
    assert overhead["count"] == posted
    assert 0 < overhead["p50_ms"] <= overhead["p99_ms"] <= overhead["max_ms"]
    assert set(results["stages"]) == STAGES
    assert len(results["samples"]) == posted
    assert {"web", "worker", "simulator"} <= set(results["cpu"]["ms_per_callback"])
    for sample in results["samples"]:
        stages = sum(sample[f"{stage}_ms"] for stage in STAGES)
        assert stages == pytest.approx(sample["total_ms"], abs=0.1)


def test_dispatch_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "dispatch.json"
    document = run_smoke("dispatch.py", out)
    results = document["results"]
    assert_overhead_shape(results, posted=10)
    assert results["agents"]["seeded"] == document["settings"]["agents"] > 10
    assert results["agents"]["available_at_end"] > 0
    assert set(results["clock"]) == {"offset_ms", "uncertainty_ms"}
    assert results["process_exits"] == {}
    assert document["settings"]["smoke"] is True and document["settings"]["agent_sizing"]
    assert document["machine"] and document["versions"]
    assert out.with_suffix(".png").stat().st_size > 1000  # the plot


def test_scale_agents_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "scale-agents.json"
    document = run_smoke("scale.py", out, "--part", "agents")
    results = document["results"]
    for case in ("small", "large"):
        assert_overhead_shape(results[case], posted=10)
        probe = results[case]["probe"]
        assert set(probe) == PROBED
        assert all(step["median_ms"] >= 0 for step in probe.values())
        assert probe["pick_agents"]["statements"] and probe["waiting_before"]["statements"]
        plans = [s.get("plan") for s in probe["pick_agents"]["statements"]]
        assert all(plans) if backend() == "postgres" else not any(plans)
    assert results["p99_ratio_large_to_small"] > 0
    assert results["backlog_still_queued"] == document["settings"]["large"]["backlog"] == 20
    assert results["process_exits"] == {}
    assert out.with_suffix(".png").stat().st_size > 1000


@pytest.mark.skipif(backend() != "postgres", reason="needs PostgreSQL and Redis (shared budget)")
def test_scale_workers_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "scale-workers.json"
    document = run_smoke("scale.py", out, "--part", "workers")
    results = document["results"]
    posted = document["settings"]["count"]
    assert results["posted"] == posted and results["post_failures"] == 0
    assert results["settled"] == posted, results["statuses"]
    assert results["statuses"] == {"completed": posted}
    bookings = results["double_bookings"]
    assert bookings["simulator"]["calls"] >= posted and bookings["database"]["legs"] >= posted
    # The database invariant holds whatever the timing: one reservation token, one callback.
    assert bookings["database"]["shared_reservation"] == 0, bookings
    assert bookings["total"] >= 0 and "overlap_ms" in bookings["simulator"]
    fifo = results["fifo"]
    assert fifo["served"] == posted and fifo["not_served"] == 0
    assert {"overtakes", "overtakes_older_than_1s", "overtaken_by_ms", "method"} <= set(fifo)
    cps = results["cps"]
    assert (
        cps["calls"] >= posted and cps["budget"] == document["settings"]["calls_per_second_budget"]
    )
    assert {"max_in_1s", "limit_in_1s", "mean_rate", "within_budget"} <= set(cps)
    assert document["settings"]["workers"] == 4
    assert sum(name.startswith("worker") for name in document["settings"]["processes"]) == 4
    assert results["process_exits"] == {}
    assert out.with_suffix(".png").stat().st_size > 1000
