"""A submitted number becomes a bridged call, agent first: real web, worker, beat, simulator."""

from __future__ import annotations

import itertools

import pytest
from support.receiver import wait_until
from support.system import RunningSystem

_numbers = itertools.count(100)


def number() -> str:
    """A fresh valid Estonian mobile number for each phone in each test."""
    return f"+372555{next(_numbers):05d}"


def events(view: dict) -> list[str]:
    return [e["type"] for e in view["events"]]


def leg_of(sys: RunningSystem, phone: str) -> dict:
    return wait_until(lambda: sys.sim.calls(to=phone), what=f"a call to {phone}")[0]


def answered_at(call: dict) -> float:
    return next(h["t"] for h in call["history"] if h["status"] == "in-progress")


def test_the_agent_is_rung_first_then_the_customer_is_bridged(sys: RunningSystem):
    agent, customer = number(), number()
    sys.sim.phone(agent, outcome="answer", answer_after=2, digits="1")
    sys.sim.phone(customer, outcome="answer", answer_after=3, hangup_after=10)
    key = sys.shop("ordered", [agent])

    accepted = sys.request(key, customer, page_title="Blue Kettle")
    assert accepted["status"] == "queued"
    done = sys.wait_for_status(accepted)

    assert done["status"] == "completed"
    # The carrier's `ringing` status callback races the answer webhook (under load it may
    # come after it, as with Twilio): it must follow `dispatched`, wherever it lands.
    timeline = events(done)
    assert timeline.index("agent_ringing") > timeline.index("dispatched")
    timeline.remove("agent_ringing")
    assert timeline == [
        "requested",
        "queued",
        "dispatched",
        "agent_answered",
        "agent_accepted",
        "customer_ringing",
        "customer_answered",
        "call_ended",
    ]
    agent_leg, customer_leg = leg_of(sys, agent), leg_of(sys, customer)
    assert customer_leg["parent_call_sid"] == agent_leg["sid"]
    assert agent_leg["bridged_with"] == customer_leg["sid"]
    assert answered_at(agent_leg) < customer_leg["history"][0]["t"]
    whisper = next(v for v in agent_leg["verbs"] if v["verb"] == "Say")
    assert "Blue Kettle" in whisper["text"]
    assert customer not in whisper["text"]


@pytest.mark.parametrize(
    "first_phone",
    [
        {"outcome": "no-answer"},
        {"outcome": "busy", "answer_after": 1},
        {"outcome": "failed"},
        {"outcome": "voicemail", "answer_after": 1},
        {"outcome": "answer", "answer_after": 1, "digits": "2"},
    ],
    ids=["silent", "busy", "failed", "voicemail", "wrong-key"],
)
def test_when_the_first_agent_does_not_take_it_the_next_one_does(sys: RunningSystem, first_phone):
    first, second, customer = number(), number(), number()
    sys.sim.phone(first, **first_phone)
    sys.sim.phone(second, outcome="answer", answer_after=2, digits="1")
    sys.sim.phone(customer, outcome="answer", answer_after=2, hangup_after=5)
    key = sys.shop("ordered", [first, second], ring_timeout=8)

    done = sys.wait_for_status(sys.request(key, customer))

    assert done["status"] == "completed"
    assert events(done).count("dispatched") == 2
    second_leg = leg_of(sys, second)
    assert second_leg["bridged_with"] == leg_of(sys, customer)["sid"]
    first_leg = leg_of(sys, first)
    assert first_leg["status"] != "in-progress"
    # The second agent was rung only after the first leg had ended.
    assert second_leg["history"][0]["t"] >= first_leg["history"][-1]["t"] - 0.5


@pytest.mark.parametrize("strategy", ["simultaneous", "hedged"])
def test_first_keypress_wins_and_the_other_legs_are_cancelled(sys: RunningSystem, strategy):
    slow, fast, customer = number(), number(), number()
    # At 10x, the slow agent answers 40 simulated seconds after the fast one would.
    sys.sim.phone(slow, outcome="answer", answer_after=50, digits="1")
    sys.sim.phone(fast, outcome="answer", answer_after=2, digits="1")
    sys.sim.phone(customer, outcome="answer", answer_after=2, hangup_after=5)
    key = sys.shop(strategy, [slow, fast], ring_timeout=60, hedge_after=1, simultaneous_count=2)

    done = sys.wait_for_status(sys.request(key, customer))

    assert done["status"] == "completed"
    assert leg_of(sys, fast)["bridged_with"] == leg_of(sys, customer)["sid"]
    slow_leg = wait_until(
        lambda: (c := leg_of(sys, slow))["status"] == "canceled" and c,
        what="the slow agent's leg to be cancelled",
    )
    assert "in-progress" not in [h["status"] for h in slow_leg["history"]]


def test_one_free_agent_is_never_double_booked(sys: RunningSystem):
    agent, first_customer, second_customer = number(), number(), number()
    sys.sim.phone(agent, outcome="answer", answer_after=1, digits="1")
    for customer in (first_customer, second_customer):
        sys.sim.phone(customer, outcome="answer", answer_after=1, hangup_after=20)
    key = sys.shop("ordered", [agent])

    first = sys.request(key, first_customer)
    second = sys.request(key, second_customer)
    sys.wait_for_status(first, ("connected",))
    assert sys.status(second)["status"] == "queued"

    first_done = sys.wait_for_status(first)
    second_done = sys.wait_for_status(second, timeout=45)
    assert first_done["status"] == second_done["status"] == "completed"
    agent_calls = sorted(sys.sim.calls(to=agent), key=lambda c: c["history"][0]["t"])
    assert len(agent_calls) == 2
    # The agent's second call began only after the first had ended.
    assert agent_calls[1]["history"][0]["t"] >= agent_calls[0]["history"][-1]["t"]


def test_customer_no_answer_is_retried_once_then_fails(sys: RunningSystem):
    agent, customer = number(), number()
    sys.sim.phone(agent, outcome="answer", answer_after=1, digits="1")
    sys.sim.phone(customer, outcome="no-answer")
    key = sys.shop("ordered", [agent], customer_retry_delay=1, customer_max_attempts=2)

    done = sys.wait_for_status(sys.request(key, customer), timeout=60)

    assert done["status"] == "failed"
    assert done["reason"] == "customer_no_answer"
    assert len(sys.sim.calls(to=customer)) == 2
    assert events(done).count("customer_no_answer") == 2
    agent_leg = sys.sim.calls(to=agent)[0]
    assert any("did not answer" in v.get("text", "") for v in agent_leg["verbs"])


def test_when_every_agent_stays_silent_the_visitor_gets_a_scheduled_callback(sys: RunningSystem):
    agent, customer = number(), number()
    sys.sim.phone(agent, outcome="no-answer")
    key = sys.shop("ordered", [agent], ring_timeout=5, max_rounds=1)
    view = sys.wait_for_status(sys.request(key, customer), ("scheduled", "failed"), timeout=30)
    assert view["status"] == "scheduled"
    assert "reason" not in view
    # The next slot is 15 minutes ahead at least (rounded to 5); the visitor sees when.
    assert 14 * 60 <= view["eta_seconds"] <= 21 * 60
    assert [e["type"] for e in view["events"]][-1] == "no_agent_available"
    assert sys.sim.calls(to=customer) == []
