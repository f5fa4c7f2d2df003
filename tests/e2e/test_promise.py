"""The 20-second promise in real time: no time scale, phones answer as people do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from support.browser import artifacts_dir
from support.system import RunningSystem, running_system

from callback.jobs import SWEEP_INTERVAL_S
from callback.services.sweeper import HEDGE_SLACK_S


@pytest.fixture(scope="module")
def real_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    tmp: Path = tmp_path_factory.mktemp("real-time")
    with running_system(tmp, time_scale=1) as running:
        yield running


def offsets(view: dict) -> list[tuple[float, str]]:
    start = datetime.fromisoformat(view["events"][0]["at"])
    return [
        (round((datetime.fromisoformat(e["at"]) - start).total_seconds(), 2), e["type"])
        for e in view["events"]
    ]


def test_the_customer_is_connected_well_within_20_seconds(real_time: RunningSystem):
    silent, anna, customer = "+37255559001", "+37255559002", "+37255559003"
    real_time.sim.phone(silent, outcome="no-answer")
    real_time.sim.phone(anna, outcome="answer", answer_after=3, digits="1", press_after=0.5)
    real_time.sim.phone(customer, outcome="answer", answer_after=3, hangup_after=2)
    # Hedged: the first agent never picks up, the second is rung after 4 s anyway.
    key = real_time.shop("hedged", [silent, anna], hedge_after=4, ring_timeout=15)

    accepted = real_time.request(key, customer, page_title="Blue Kettle")
    real_time.wait_for_status(accepted, ("connected", "completed", "failed"), timeout=25)
    view = real_time.wait_for_status(accepted, timeout=15)

    timeline = dict((kind, at) for at, kind in reversed(offsets(view)))
    # Where the seconds went: hedge delay, ringing, the whisper, the customer's phone.
    report = "\n".join(f"+{at:5.2f} s  {kind}" for at, kind in offsets(view))
    (artifacts_dir() / "promise-timeline.txt").write_text(report + "\n")
    print(report)
    assert view["status"] == "completed"
    assert timeline["customer_answered"] < 20
    # The hedge leg went out after hedge_after (by its timer, or the sweep's net under it),
    # not after the silent agent's 15 s ring timeout.
    hedge_leg = [at for at, kind in offsets(view) if kind == "dispatched"][1]
    assert 4 <= hedge_leg < 4 + HEDGE_SLACK_S + SWEEP_INTERVAL_S + 1
    # The customer's phone rang for its 3 s: the rest of the path is ours and the agent's.
    assert timeline["customer_answered"] - timeline["customer_ringing"] >= 3
