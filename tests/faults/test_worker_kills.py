"""SIGKILL of the Celery worker at each step of a callback, then a restart.

The kill is black-box: the suite watches the database and the carrier's call log, and kills
the worker the moment all TRIALS concurrent callbacks have reached the step:

- before reservation: right after intake answered (the dispatch tasks are in the broker or
  in the dying worker's hands; how many had a leg already is recorded in the note);
- after reservation: every callback has an agent leg whose carrier call is not yet known
  (the simulator answers REST requests 1 s late, so the kill lands inside Calls.create);
- after the agent call was created: the carrier shows a call to every agent;
- while bridged: every customer is talking to their agent.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from support.receiver import wait_until
from support.system import RunningSystem
from trials import Trial, assert_invariants, check, shops, submit

from callback.models import Leg
from callback.services import context


def agent_legs(sys: RunningSystem, trials: list[Trial]) -> list[Leg]:
    ids = [t.accepted["id"] for t in trials if t.accepted]
    with sys.app_context(), context.transaction() as session:
        legs = list(
            session.scalars(select(Leg).where(Leg.callback_id.in_(ids), Leg.kind == "agent"))
        )
        session.expunge_all()
    return legs


def every(sys: RunningSystem, trials: list[Trial], reached, what: str) -> None:
    wait_until(lambda: all(reached(t) for t in trials), 30, what)


def talking(sys: RunningSystem, number: str) -> bool:
    return any(c["status"] == "in-progress" for c in sys.sim.calls(to=number))


@pytest.mark.parametrize(
    "step",
    ["before_reservation", "after_reservation", "after_call_created", "while_bridged"],
)
def test_worker_killed(sys: RunningSystem, step: str):
    trials = shops(sys)
    if step == "while_bridged":
        for trial in trials:  # long enough a conversation to be killed in
            sys.sim.phone(trial.customer, outcome="answer", answer_after=2, hangup_after=40)
    if step == "after_reservation":
        assert sys.sim.put("/sim/config", {"api_delay_s": 1.0}).status_code == 200
    submit(sys, trials)
    note = ""
    if step == "after_reservation":
        wait_until(
            lambda: (
                len([leg for leg in agent_legs(sys, trials) if leg.provider_sid is None])
                >= len(trials) // 2
            ),
            30,
            "agent legs reserved but not yet placed",
        )
        placing = sum(1 for leg in agent_legs(sys, trials) if leg.provider_sid is None)
        note = f"{placing} of {len(trials)} legs were inside Calls.create at the kill"
    elif step == "after_call_created":
        every(sys, trials, lambda t: sys.sim.calls(to=t.agent), "a call to every agent")
    elif step == "while_bridged":
        every(sys, trials, lambda t: talking(sys, t.customer), "every customer bridged")
    sys.kill("worker")
    if step == "before_reservation":
        reserved = len({leg.callback_id for leg in agent_legs(sys, trials)})
        note = f"{reserved} of {len(trials)} callbacks had an agent leg at the kill"
    sys.sim.put("/sim/config", {})
    sys.restart("worker")
    row = check(sys, f"worker_sigkill_{step}", trials, time.monotonic(), note=note)
    assert_invariants(row)
