"""Carrier faults: REST 500/429/slow answers, and lost, doubled, swapped and late callbacks.

Each fault is on for the whole window of TRIALS concurrent callbacks, drawn from a fixed seed.
"""

from __future__ import annotations

import time

import pytest
from support.system import RunningSystem
from trials import assert_invariants, check, shops, submit

CARRIER_FAULTS = {
    "none_baseline": {},
    "carrier_500": {"api_error_rate": 0.3, "api_error_status": 500},
    "carrier_429": {"api_error_rate": 0.3, "api_error_status": 429},
    "carrier_503_always": {"api_error_rate": 1.0, "api_error_status": 503},
    "carrier_slow_2s": {"api_delay_s": 2.0},
    "webhooks_duplicated": {"webhook_duplicate_rate": 0.5},
    "webhooks_reordered": {"webhook_reorder_rate": 0.5},
    "webhooks_delayed_1s": {"webhook_delay_s": 1.0},
    "webhooks_missing": {"webhook_drop_rate": 0.3},
}


@pytest.mark.parametrize("fault", list(CARRIER_FAULTS))
def test_carrier_fault(sys: RunningSystem, fault: str):
    trials = shops(sys)
    response = sys.sim.put("/sim/config", {**CARRIER_FAULTS[fault], "fault_seed": 7})
    assert response.status_code == 200, response.text
    submit(sys, trials)
    if fault == "carrier_503_always":
        # Every attempt refused: the legs must fail with the carrier's reason, not hang.
        row = check(sys, fault, trials, time.monotonic(), note="every REST request 503")
    else:
        row = check(sys, fault, trials, time.monotonic())
    assert_invariants(row)
    if fault == "carrier_503_always":
        assert set(row.outcomes) <= {"failed", "scheduled"}, row
    elif not fault.startswith("webhooks_missing"):
        assert row.outcomes.get("completed", 0) >= row.trials // 2, row
