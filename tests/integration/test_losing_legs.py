"""Agents who lost the race: free only once their phone has been hung up; and reservations
that never wait for a row another transaction holds (PostgreSQL's SKIP LOCKED).

In-process on SQLite and PostgreSQL, the carrier's REST API played by `FakeCarrier` and its
webhooks by the service calls the signed webhooks make.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from support.app import is_postgresql, running_app
from support.carrier import FakeCarrier

from callback.models import Agent, AgentState, Leg
from callback.routing.reservation import expire_leases, reserve
from callback.services import carrier_events, context, dispatch, machine
from callback.services.setup import add_agent, add_widget, ensure_rule


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app:
        app.extensions["provider"] = FakeCarrier()
        with app.app_context():
            yield app


def number() -> str:
    return f"+3725{secrets.randbelow(10**7):07d}"


def two_agents_ringing(app: Flask) -> tuple[int, int]:
    """A simultaneous rule rings both agents for one callback: (leg, other leg)."""
    rule = f"rule-{secrets.token_hex(4)}"
    with context.transaction() as session:
        ensure_rule(session, rule, strategy="simultaneous").simultaneous_count = 2
    add_agent("Anna", number(), rule=rule)
    add_agent("Ben", number(), rule=rule)
    key = add_widget("Shop", region="EE", countries=["EE"], rule=rule)
    response = app.test_client().post("/api/v1/callbacks", json={"widget": key, "phone": number()})
    assert response.status_code == 202, response.text
    callback_id = response.get_json()["id"]
    dispatch.dispatch(callback_id)
    with context.transaction() as session:
        legs = session.scalars(
            select(Leg.id).where(Leg.callback_id == callback_id).order_by(Leg.id)
        ).all()
    assert len(legs) == 2
    return legs[0], legs[1]


def agent_state(leg_id: int) -> str:
    with context.transaction() as session:
        leg = session.get_one(Leg, leg_id)
        return session.get_one(Agent, leg.agent_id).state


def test_the_losing_agent_is_freed_by_the_end_of_their_call_not_by_the_keypress(app: Flask):
    winner, loser = two_agents_ringing(app)
    carrier_events.agent_answered(winner)
    carrier_events.agent_pressed(winner, "1")

    # The loser's phone still rings until the carrier has ended the call: not free yet,
    # not even once we have asked the carrier to hang it up.
    assert agent_state(loser) == AgentState.RINGING
    dispatch.cancel_leg(loser)
    assert agent_state(loser) == AgentState.RINGING
    carrier_events.agent_status(loser, {"CallStatus": "canceled", "SequenceNumber": "2"})
    assert agent_state(loser) == AgentState.AVAILABLE
    assert agent_state(winner) == AgentState.ON_CALL


def test_an_agent_let_go_while_on_the_line_is_free_when_their_call_ends(app: Flask):
    first, second = two_agents_ringing(app)
    carrier_events.agent_answered(first)
    carrier_events.agent_answered(second)
    carrier_events.agent_pressed(first, "1")
    # The second agent pressed 1 too late: our TwiML tells them and hangs up; their phone is
    # busy until the call has ended.
    carrier_events.agent_pressed(second, "1")
    assert agent_state(second) == AgentState.RINGING
    carrier_events.agent_status(second, {"CallStatus": "completed", "SequenceNumber": "3"})
    assert agent_state(second) == AgentState.AVAILABLE


def test_the_losing_legs_own_final_status_frees_the_agent_too(app: Flask):
    winner, loser = two_agents_ringing(app)
    carrier_events.agent_answered(winner)
    carrier_events.agent_pressed(winner, "1")

    carrier_events.agent_status(loser, {"CallStatus": "canceled", "SequenceNumber": "2"})
    assert agent_state(loser) == AgentState.AVAILABLE
    carrier_events.agent_status(loser, {"CallStatus": "canceled", "SequenceNumber": "2"})
    assert agent_state(loser) == AgentState.AVAILABLE  # a duplicate changes nothing
    assert agent_state(winner) == AgentState.ON_CALL


def test_a_reservation_skips_an_agent_another_transaction_holds(app: Flask, database_url: str):
    if not is_postgresql(database_url):
        pytest.skip("SQLite has a single writer: no row is ever held by someone else")
    add_agent("Cleo", phone := number(), rule=f"rule-{secrets.token_hex(4)}")
    now = context.now()
    with context.transaction() as holder:
        agent = holder.scalars(select(Agent).where(Agent.phone == phone).with_for_update()).one()
        # Another transaction (the sweep, a release) holds Cleo's row: a second one does not
        # wait for it (which, with locks taken in other orders, is how deadlocks form).
        with context.transaction() as other:
            other.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            assert reserve(other, agent.id, 20, now) is None
            assert expire_leases(other, now + timedelta(days=1)) == []
    with context.transaction() as session:
        assert reserve(session, agent.id, 20, now) is not None  # free again: reserved


def test_a_dispatcher_does_not_line_up_behind_a_callback_another_one_is_serving(
    app: Flask, database_url: str
):
    """First come, first served lets an older waiting callback go first, unless another
    dispatcher holds it (is serving it right now): under a backlog every worker thread would
    otherwise wait for the same oldest row, find it served, and go on to the next."""
    if not is_postgresql(database_url):
        pytest.skip("SQLite has a single writer: no row is ever held by someone else")
    rule = f"rule-{secrets.token_hex(4)}"
    add_agent("Dana", number(), rule=rule)
    key = add_widget("Shop", region="EE", countries=["EE"], rule=rule)
    client = app.test_client()
    older, newer = (
        client.post("/api/v1/callbacks", json={"widget": key, "phone": number()}).get_json()["id"]
        for _ in range(2)
    )
    with context.transaction() as holder:
        machine.lock_callback(holder, older)  # another dispatcher is serving it
        with context.transaction() as other:
            callback = machine.lock_callback(other, newer)
            assert callback is not None
            rule_row = machine.rule_of(other, callback)
            assert dispatch._waiting_before(other, callback, rule_row, context.now()) is None
    with context.transaction() as session:
        callback = machine.lock_callback(session, newer)
        assert callback is not None
        rule_row = machine.rule_of(session, callback)
        assert dispatch._waiting_before(session, callback, rule_row, context.now()) == older


def test_wrap_up_counts_from_the_end_of_the_agents_own_call(app: Flask):
    winner, _ = two_agents_ringing(app)
    carrier_events.agent_answered(winner)
    carrier_events.agent_pressed(winner, "1")
    with context.transaction() as session:
        customer = session.scalars(
            select(Leg.id).where(Leg.kind == "customer", Leg.callback_id == callback_of(winner))
        ).one()
    for sequence, status in enumerate(("ringing", "in-progress"), start=1):
        params = {"CallStatus": status, "SequenceNumber": str(sequence)}
        carrier_events.customer_status(customer, winner, params)
    talked = {"CallStatus": "completed", "SequenceNumber": "3", "CallDuration": "42"}
    carrier_events.customer_status(customer, winner, talked)

    # The customer hung up; the agent's call lasts until our Dial action answers: still busy.
    lease = agent_lease(winner)
    assert agent_state(winner) == AgentState.WRAP_UP
    assert lease > context.now() + timedelta(seconds=machine.WRAP_UP_S * 2)

    carrier_events.agent_status(winner, {"CallStatus": "completed", "SequenceNumber": "3"})
    assert agent_state(winner) == AgentState.WRAP_UP
    assert agent_lease(winner) <= context.now() + timedelta(seconds=machine.WRAP_UP_S)


def callback_of(leg_id: int) -> str:
    with context.transaction() as session:
        return session.get_one(Leg, leg_id).callback_id


def agent_lease(leg_id: int) -> datetime:
    with context.transaction() as session:
        leg = session.get_one(Leg, leg_id)
        lease = session.get_one(Agent, leg.agent_id).lease_until
        assert lease is not None
        return lease if lease.tzinfo else lease.replace(tzinfo=UTC)
