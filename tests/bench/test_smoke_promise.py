"""bench/critical_path.py and bench/promise_day.py --smoke: they run, and their JSON has its shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.bench import BENCH, run_smoke

STRATEGIES = {"ordered", "round_robin", "longest_idle", "simultaneous", "hedged"}


def test_critical_path_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "critical-path.json"
    document = run_smoke("critical_path.py", out)
    results = document["results"]
    assert results["posted"] == 3 and results["post_errors"] == 0
    assert results["connections"] == 3 and results["not_connected"] == 0, results
    assert results["unsettled"] == 0 and results["process_exits"] == {}
    for name in ("ours_by_subtraction", "ours_measured_directly", "total_post_to_bridge"):
        assert results[name]["count"] == 3, name
    assert set(results["stages"]) == {
        "intake_post_to_202",
        "queue_202_to_dispatch_start",
        "dispatch_start_to_carrier_call",
        "answer_webhook",
        "keypress_webhook",
    }
    for sample in results["samples"]:
        # The scripted part is what the phones were told, read back from the simulator's log.
        assert sample["scripted_s"] > sample["whisper_s"] > 0
        assert sample["total_s"] > sample["scripted_s"] - 0.05
        assert sample["answer_webhook_ms"] > 0 and sample["keypress_webhook_ms"] > 0
    assert results["status_callbacks_off_path"]["count"] > 0
    assert document["settings"]["smoke"] is True
    assert document["machine"] and document["versions"]
    assert out.with_suffix(".png").stat().st_size > 1000


def test_promise_day_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "promise-day.json"
    document = run_smoke("promise_day.py", out)
    results = document["results"]
    assert set(results["strategies"]) == STRATEGIES
    for strategy in results["strategies"].values():
        assert strategy["callbacks"] > 0
        assert 0 <= strategy["within_20s"] <= 1
        assert strategy["time_to_connect_p50_s"] <= strategy["time_to_connect_p95_s"]
        assert strategy["ring_time_wasted_s_per_callback"] >= 0
        assert len(strategy["within_20s_by_day"]) == 1
    assert results["settings_sweep"] and "meets_target" in results
    check = results["cross_check"]
    assert check["errors"] == []
    assert set(check["strategies"]) == {"hedged", "ordered"}
    for compared in check["strategies"].values():
        # The real system and the simulation agree on who took the one checked callback.
        assert compared["callbacks"] == compared["connected_real"] == 1, compared
        assert compared["same_winner"] == 1, compared
        assert compared["abs_difference"]["count"] == 1
    assert document["settings"]["model"]["agents"] > 0
    assert document["machine"] and document["versions"]
    assert out.with_suffix(".png").stat().st_size > 1000


def test_the_simulated_day_times_one_callback_as_the_product_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pure: one callback, the first agent never answers; ordered waits for the ring timeout,
    hedged rings the second agent after hedge_after. Times add up from the draws."""
    monkeypatch.syspath_prepend(str(BENCH))
    from promise_model import Model, absent_agents, agent_response, customer_response, whisper
    from promise_sim import SETUP_DELAY, Day, Latency, Rule

    model = Model(agents=3, absent_share=0.34, miss_rate=0, busy_rate=0, decline_rate=0)
    seed = next(s for s in range(200) if absent_agents(model, s) == {1})
    second, customer = agent_response(model, seed, 0, 2), customer_response(model, seed, 0)
    latency, spoken = Latency(), whisper(model.page_title).speech_s
    # From the second agent's call at the carrier to the customer answering.
    tail = (
        SETUP_DELAY
        + second.after_s
        + latency.webhook_s
        + spoken
        + second.press_after_s
        + latency.webhook_s
        + SETUP_DELAY
        + customer.after_s
    )
    ordered = Day(model, Rule("ordered"), seed, [(0, 0.0)]).run()[0]
    assert [leg.agent.position for leg in ordered.legs] == [1, 2]
    first_gives_up = latency.dispatch_s + SETUP_DELAY + Rule("ordered").ring_timeout
    assert ordered.legs[1].placed_at == pytest.approx(
        first_gives_up + latency.status_s + latency.dispatch_s
    )
    assert ordered.time_to_connect == pytest.approx(ordered.legs[1].placed_at + tail)
    hedged = Day(model, Rule("hedged"), seed, [(0, 0.0)]).run()[0]
    assert [leg.agent.position for leg in hedged.legs][:2] == [1, 2]
    hedge_at = latency.dispatch_s + Rule("hedged").hedge_after
    assert hedged.legs[1].placed_at == pytest.approx(hedge_at)
    assert hedged.time_to_connect == pytest.approx(hedge_at + tail)
    assert hedged.outcome == ordered.outcome == "connected"
