"""The visitor's status view names the agent who took the call, by first name only.

Through Flask's test client, on SQLite and (with TEST_DATABASE_URL) PostgreSQL. The request goes
in over HTTP; the dispatch and the carrier's news are the same service calls the worker and the
signed webhooks make (`dispatch.dispatch`, `carrier_events.*`), with the carrier's REST API
played by `FakeCarrier`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support.app import running_app
from support.carrier import FakeCarrier

from callback.models import Leg
from callback.services import carrier_events, context, dispatch
from callback.services.setup import add_agent, add_widget

CUSTOMER = "+37251234567"
AGENT = "+37255550101"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app:
        app.extensions["provider"] = FakeCarrier()
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass(frozen=True)
class Call:
    app: Flask
    client: FlaskClient
    callback_id: str
    status_url: str
    agent_leg: int

    def view(self) -> dict[str, Any]:
        response = self.client.get(self.status_url)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    def customer_leg(self) -> int:
        with self.app.app_context(), context.transaction() as session:
            query = select(Leg.id).where(
                Leg.callback_id == self.callback_id, Leg.kind == "customer"
            )
            return session.scalars(query).one()


def ringing_agent(app: Flask, client: FlaskClient, agent_name: str) -> Call:
    """A callback whose one agent (named `agent_name`) is being rung."""
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        add_agent(agent_name, AGENT, rule=rule)
        key = add_widget("Shop", region="EE", countries=["EE"], rule=rule)
    created = client.post("/api/v1/callbacks", json={"widget": key, "phone": CUSTOMER})
    assert created.status_code == 202, created.get_data(as_text=True)
    callback_id, status_url = created.get_json()["id"], created.get_json()["status_url"]
    queued = client.get(status_url).get_json()
    assert queued["status"] == "queued" and "agent_name" not in queued
    with app.app_context():
        dispatch.dispatch(callback_id)  # what the worker does with the queued task
    with app.app_context(), context.transaction() as session:
        (leg,) = session.scalars(select(Leg.id).where(Leg.callback_id == callback_id))
    return Call(app, client, callback_id, status_url, leg)


def accepted(call: Call) -> None:
    """The agent answers, hears the whisper and presses 1 (the webhooks' service calls)."""
    with call.app.app_context():
        carrier_events.agent_answered(call.agent_leg)
        assert call.view()["status"] == "calling_agent" and "agent_name" not in call.view()
        carrier_events.agent_pressed(call.agent_leg, "1")


def customer_says(call: Call, status: str, sequence: int) -> None:
    params = {"CallSid": "CA" + "2" * 32, "CallStatus": status, "SequenceNumber": str(sequence)}
    with call.app.app_context():
        carrier_events.customer_status(call.customer_leg(), call.agent_leg, params)


@pytest.mark.parametrize(
    ("agent_name", "shown"),
    [
        ("Anna Tamm", "Anna"),
        ("Mart", "Mart"),
        ("  Liis-Maria   Kask Org ", "Liis-Maria"),
    ],
)
def test_the_first_name_of_the_accepting_agent_appears_once_they_accept(
    app: Flask, client: FlaskClient, agent_name: str, shown: str
) -> None:
    call = ringing_agent(app, client, agent_name)
    calling = call.view()
    assert calling["status"] == "calling_agent" and "agent_name" not in calling

    accepted(call)

    view = call.view()
    assert view["status"] == "agent_connected"
    assert view["agent_name"] == shown
    body = client.get(call.status_url).get_data(as_text=True)
    for secret in [*agent_name.split()[1:], AGENT, AGENT.removeprefix("+372")]:
        assert secret not in body  # no surname, no phone number
    assert set(view) <= {"id", "status", "events", "eta_seconds", "reason", "agent_name"}

    customer_says(call, "in-progress", 1)
    assert call.view()["status"] == "connected" and call.view()["agent_name"] == shown
    with app.app_context():  # the agent hangs up: the call is over
        carrier_events.agent_status(call.agent_leg, {"CallStatus": "completed"})
    done = call.view()
    assert done["status"] == "completed" and done["agent_name"] == shown


@pytest.mark.parametrize("agent_name", ["+372 5555 0101", "5550101 Anna", "Ext42"])
def test_a_name_that_looks_like_a_number_or_code_is_not_shown(
    app: Flask, client: FlaskClient, agent_name: str
) -> None:
    call = ringing_agent(app, client, agent_name)
    accepted(call)
    view = call.view()
    assert view["status"] == "agent_connected"
    assert "agent_name" not in view


def test_a_retry_after_the_customer_missed_the_call_names_nobody(
    app: Flask, client: FlaskClient
) -> None:
    """Back in the queue, another agent may take the retry: the first one is not named."""
    call = ringing_agent(app, client, "Anna Tamm")
    accepted(call)
    assert call.view()["agent_name"] == "Anna"

    customer_says(call, "no-answer", 1)

    view = call.view()
    assert view["status"] == "queued"
    assert "agent_name" not in view
