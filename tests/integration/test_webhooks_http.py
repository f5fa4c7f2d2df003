"""The carrier webhooks under /twilio through Flask's test client, on SQLite and (with
TEST_DATABASE_URL) PostgreSQL: X-Twilio-Signature checked against PUBLIC_URL, leg parameters,
and status callbacks applied once and in order.

Requests are signed the way Twilio signs them, with twilio's own RequestValidator over
PUBLIC_URL + path + query and the form parameters.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support.app import (
    AUTH_TOKEN,
    PUBLIC_URL,
    event_types,
    queued_tasks,
    running_app,
)
from support.carrier import FakeCarrier
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from callback.config import DEV_AUTH_TOKEN
from callback.models import Agent, AgentState, CallbackRequest, Event, Leg
from callback.services import context, dispatch
from callback.services.setup import add_agent, add_widget

CUSTOMER = "+37251234567"
AGENT = "+37255550101"


@pytest.fixture
def carrier() -> FakeCarrier:
    return FakeCarrier()


@pytest.fixture
def app(database_url: str, tmp_path: Path, carrier: FakeCarrier) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app:
        app.extensions["provider"] = carrier
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass(frozen=True)
class RingingLeg:
    callback_id: str
    token: str
    leg_id: int
    agent_id: int
    status_path: str  # path and query of the status callback URL given to the carrier
    answer_path: str


def relative(url: str) -> str:
    """The path and query of a URL under PUBLIC_URL (what the test client requests)."""
    assert url.startswith(PUBLIC_URL + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def leg(app: Flask, client: FlaskClient, carrier: FakeCarrier) -> RingingLeg:
    """A callback whose one agent leg is ringing: requested over HTTP, then dispatched here."""
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        agent_id = add_agent("Anna", AGENT, rule=rule).id
        key = add_widget("Shop", region="EE", countries=["EE"], rule=rule)
    created = client.post("/api/v1/callbacks", json={"widget": key, "phone": CUSTOMER})
    assert created.status_code == 202
    callback_id = created.get_json()["id"]
    with app.app_context():
        dispatch.dispatch(callback_id)  # what the worker would do with the queued task
    assert len(carrier.placed) == 1 and carrier.placed[0]["to"] == AGENT
    with app.app_context(), context.transaction() as session:
        (leg_id,) = session.scalars(select(Leg.id).where(Leg.callback_id == callback_id))
    status_path = relative(carrier.placed[0]["status_url"])
    assert status_path == f"/twilio/status?leg={leg_id}"
    view = client.get(created.get_json()["status_url"]).get_json()
    assert view["status"] == "calling_agent"
    return RingingLeg(
        callback_id,
        created.get_json()["token"],
        leg_id,
        agent_id,
        status_path,
        relative(carrier.placed[0]["answer_url"]),
    )


def signature(path: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC_URL + path, dict(params))


def signed_post(
    client: FlaskClient,
    path: str,
    params: Mapping[str, str],
    *,
    signed_path: str | None = None,
    signed_params: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> TestResponse:
    """POST `params` to `path`, signed as Twilio would (or for another path/params if given)."""
    sig = signature(
        path if signed_path is None else signed_path,
        params if signed_params is None else signed_params,
    )
    return client.post(path, data=dict(params), headers={"X-Twilio-Signature": sig}, **kwargs)


def status_params(status: str, sequence: int | None, sid: str = "CA" + "1" * 32) -> dict[str, str]:
    params = {"CallSid": sid, "CallStatus": status, "AccountSid": "AC" + "0" * 32}
    if sequence is not None:
        params["SequenceNumber"] = str(sequence)
    return params


@dataclass(frozen=True)
class Snapshot:
    callbacks: list[tuple[Any, ...]]  # id, status, version
    legs: list[tuple[Any, ...]]  # id, status, last_sequence, answered_at
    events: int


def snapshot(app: Flask) -> Snapshot:
    """Everything a webhook may change, to show that one changed nothing."""
    with app.app_context(), context.transaction() as session:
        callbacks = session.execute(
            select(CallbackRequest.id, CallbackRequest.status, CallbackRequest.version).order_by(
                CallbackRequest.id
            )
        )
        legs = session.execute(
            select(Leg.id, Leg.status, Leg.last_sequence, Leg.answered_at).order_by(Leg.id)
        )
        return Snapshot(
            [tuple(row) for row in callbacks],
            [tuple(row) for row in legs],
            session.scalar(select(func.count()).select_from(Event)) or 0,
        )


def leg_row(app: Flask, leg_id: int) -> tuple[str, int]:
    with app.app_context(), context.transaction() as session:
        row = session.get_one(Leg, leg_id)
        return row.status, row.last_sequence


def public_events(client: FlaskClient, leg: RingingLeg) -> list[str]:
    """The callback's event types as the visitor's status view shows them."""
    response = client.get(f"/api/v1/callbacks/{leg.callback_id}", query_string={"token": leg.token})
    assert response.status_code == 200
    return [event["type"] for event in response.get_json()["events"]]


# Every webhook, with the query it is normally called with ({leg} filled in per test).
ENDPOINTS = [
    "/twilio/agent/answer?leg={leg}",
    "/twilio/agent/accept?leg={leg}",
    "/twilio/status?leg={leg}",
    "/twilio/customer/status?leg={leg}&agent_leg={leg}",
    "/twilio/customer/dialed?leg={leg}",
]
# What a forged request would carry to do harm if it got through.
HARMFUL = {
    "CallStatus": "no-answer",
    "SequenceNumber": "7",
    "Digits": "1",
    "DialCallStatus": "completed",
}


def assert_forbidden(response: TestResponse) -> None:
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "forbidden"


# --- Signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda path: {}, id="missing"),
        pytest.param(lambda path: {"X-Twilio-Signature": ""}, id="empty"),
        pytest.param(lambda path: {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, id="garbage"),
        pytest.param(
            lambda path: {"X-Twilio-Signature": signature(path, HARMFUL, DEV_AUTH_TOKEN)},
            id="other-auth-token",
        ),
        pytest.param(
            lambda path: {"X-Twilio-Signature": signature(path, HARMFUL).swapcase()},
            id="wrong-case",
        ),
    ],
)
def test_a_missing_or_forged_signature_is_403(
    app: Flask, client: FlaskClient, leg: RingingLeg, endpoint: str, headers: Any
) -> None:
    path = endpoint.format(leg=leg.leg_id)
    before = snapshot(app)

    response = client.post(path, data=HARMFUL, headers=headers(path))

    assert_forbidden(response)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "signed_for",
    [
        pytest.param(lambda leg: ("/twilio/agent/answer?leg={leg}", None), id="other-path"),
        pytest.param(lambda leg: ("/twilio/status?leg={other}", None), id="other-leg"),
        pytest.param(lambda leg: ("/twilio/status", None), id="without-query"),
        pytest.param(lambda leg: ("/twilio/status?leg={leg}&x=1", None), id="extra-query"),
        pytest.param(
            lambda leg: ("/twilio/status?leg={leg}", status_params("ringing", 7)),
            id="other-params",
        ),
        pytest.param(
            lambda leg: ("/twilio/status?leg={leg}", {**HARMFUL, "Extra": "1"}),
            id="more-params",
        ),
    ],
)
def test_a_signature_for_another_request_is_403(
    app: Flask, client: FlaskClient, leg: RingingLeg, signed_for: Any
) -> None:
    signed_path, signed_params = signed_for(leg)
    signed_path = signed_path.format(leg=leg.leg_id, other=leg.leg_id + 1)
    before = snapshot(app)

    response = signed_post(
        client, leg.status_path, HARMFUL, signed_path=signed_path, signed_params=signed_params
    )

    assert_forbidden(response)
    assert snapshot(app) == before


def test_a_signature_for_another_host_is_403(
    app: Flask, client: FlaskClient, leg: RingingLeg
) -> None:
    foreign = RequestValidator(AUTH_TOKEN).compute_signature(
        "https://attacker.example" + leg.status_path, HARMFUL
    )
    before = snapshot(app)

    response = client.post(leg.status_path, data=HARMFUL, headers={"X-Twilio-Signature": foreign})

    assert_forbidden(response)
    assert snapshot(app) == before


def test_the_signature_holds_behind_a_proxy(
    app: Flask, client: FlaskClient, leg: RingingLeg
) -> None:
    """Checked against PUBLIC_URL, not the Host the request arrived with."""
    params = status_params("ringing", 1)
    response = client.post(
        leg.status_path,
        data=params,
        base_url="http://10.0.0.7:8000",
        headers={
            "X-Twilio-Signature": signature(leg.status_path, params),
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "callbacks.internal",
            "X-Forwarded-For": "203.0.113.9",
        },
    )

    assert response.status_code == 204, response.get_data(as_text=True)
    assert "agent_ringing" in public_events(client, leg)


# --- Leg parameters ---------------------------------------------------------------------------


def test_a_status_callback_for_an_unknown_leg_is_204_and_changes_nothing(
    app: Flask, client: FlaskClient, leg: RingingLeg
) -> None:
    before = snapshot(app)

    for status, sequence in (("ringing", 1), ("no-answer", 2), ("completed", 3)):
        unknown = f"/twilio/status?leg={leg.leg_id + 1000}"
        response = signed_post(client, unknown, status_params(status, sequence))
        assert response.status_code == 204
        assert response.get_data() == b""

    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("endpoint", "params", "status"),
    [
        ("/twilio/agent/answer?leg={unknown}", {"CallStatus": "in-progress"}, 200),
        ("/twilio/agent/accept?leg={unknown}", {"Digits": "1"}, 200),
        ("/twilio/customer/status?leg={unknown}&agent_leg={leg}", HARMFUL, 204),
        ("/twilio/customer/dialed?leg={unknown}", {"DialCallStatus": "completed"}, 200),
    ],
)
def test_other_webhooks_for_an_unknown_leg_change_nothing(
    app: Flask,
    client: FlaskClient,
    leg: RingingLeg,
    endpoint: str,
    params: dict[str, str],
    status: int,
) -> None:
    path = endpoint.format(unknown=leg.leg_id + 1000, leg=leg.leg_id)
    before = snapshot(app)

    response = signed_post(client, path, params)

    assert response.status_code == status
    if status == 200:  # TwiML that ends the call, never a <Dial>
        assert response.mimetype == "text/xml"
        document = ET.fromstring(response.get_data(as_text=True))
        assert document.find("Hangup") is not None
        assert document.find("Dial") is None
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "leg_query", ["", "leg=", "leg=abc", "leg=-1", "leg=1.5", "leg=0x1", "leg=%201", "other=1"]
)
def test_a_missing_or_non_numeric_leg_is_400(
    app: Flask, client: FlaskClient, leg: RingingLeg, endpoint: str, leg_query: str
) -> None:
    base = endpoint.split("?")[0]
    path = base + (f"?{leg_query}" if leg_query else "")
    if "agent_leg" in endpoint:
        path += f"{'&' if leg_query else '?'}agent_leg={leg.leg_id}"
    before = snapshot(app)

    response = signed_post(client, path, HARMFUL)

    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "bad_request"
    assert snapshot(app) == before


@pytest.mark.parametrize("agent_leg", ["", "agent_leg=", "agent_leg=x"])
def test_the_customer_status_needs_a_numeric_agent_leg(
    app: Flask, client: FlaskClient, leg: RingingLeg, agent_leg: str
) -> None:
    path = f"/twilio/customer/status?leg={leg.leg_id}" + (f"&{agent_leg}" if agent_leg else "")

    response = signed_post(client, path, HARMFUL)

    assert response.status_code == 400


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("%C2%B2", id="superscript-two"),
        pytest.param("9" * 5000, id="5000-digits"),
        pytest.param(str(2**63), id="2**63"),
    ],
)
def test_a_leg_no_leg_can_have_is_no_server_error(
    app: Flask, client: FlaskClient, value: str
) -> None:
    before = snapshot(app)

    response = signed_post(client, f"/twilio/status?leg={value}", status_params("ringing", 1))

    assert response.status_code in (204, 400), response.status_code
    assert snapshot(app) == before


def test_a_leg_beyond_32_bits_is_an_unknown_leg(
    request: pytest.FixtureRequest, database_url: str, app: Flask, client: FlaskClient
) -> None:
    response = signed_post(client, f"/twilio/status?leg={2**31}", status_params("ringing", 1))

    assert response.status_code in (204, 400)


# --- Status callbacks: once, and in order ----------------------------------------------------


def test_a_repeated_status_callback_is_applied_once(
    app: Flask, client: FlaskClient, leg: RingingLeg
) -> None:
    for _ in range(2):
        response = signed_post(client, leg.status_path, status_params("ringing", 1))
        assert response.status_code == 204

    assert public_events(client, leg).count("agent_ringing") == 1
    assert event_types(app, leg.callback_id).count("agent_ringing") == 1
    assert leg_row(app, leg.leg_id) == ("ringing", 1)


def test_a_lower_sequence_number_after_a_higher_one_is_ignored(
    app: Flask, client: FlaskClient, leg: RingingLeg
) -> None:
    assert signed_post(client, leg.status_path, status_params("ringing", 5)).status_code == 204
    events = public_events(client, leg)
    assert events.count("agent_ringing") == 1

    assert signed_post(client, leg.status_path, status_params("ringing", 4)).status_code == 204

    assert public_events(client, leg) == events
    assert leg_row(app, leg.leg_id) == ("ringing", 5)


def test_a_late_ringing_after_the_leg_ended_is_ignored(
    app: Flask, client: FlaskClient, leg: RingingLeg
) -> None:
    ended = signed_post(client, leg.status_path, status_params("no-answer", 3))
    assert ended.status_code == 204
    assert leg_row(app, leg.leg_id) == ("no-answer", 3)
    events = public_events(client, leg)
    before = snapshot(app)

    late = signed_post(client, leg.status_path, status_params("ringing", 2))

    assert late.status_code == 204
    assert public_events(client, leg) == events
    assert snapshot(app) == before
    assert leg_row(app, leg.leg_id) == ("no-answer", 3)


@pytest.mark.parametrize(
    ("carrier_status", "event"),
    [
        ("no-answer", "agent_no_answer"),
        ("busy", "agent_busy"),
        ("failed", "agent_failed"),
        ("canceled", "agent_leg_canceled"),
        ("completed", "agent_declined"),  # answered, but nobody pressed 1
    ],
)
def test_an_agent_leg_ending_is_applied_once_and_rings_on(
    app: Flask, client: FlaskClient, leg: RingingLeg, carrier_status: str, event: str
) -> None:
    def dispatches() -> int:
        return queued_tasks(app).count(("callback.dispatch", [leg.callback_id]))

    before = dispatches()

    for _ in range(2):  # the carrier delivers it twice
        response = signed_post(client, leg.status_path, status_params(carrier_status, 4))
        assert response.status_code == 204

    assert leg_row(app, leg.leg_id) == (carrier_status, 4)
    assert public_events(client, leg).count(event) == 1
    assert dispatches() == before + 1  # ring the next agent now, once
    with app.app_context(), context.transaction() as session:
        assert session.get_one(Agent, leg.agent_id).state == AgentState.AVAILABLE


def test_a_sequence_number_beyond_32_bits_is_no_server_error(
    request: pytest.FixtureRequest,
    database_url: str,
    app: Flask,
    client: FlaskClient,
    leg: RingingLeg,
) -> None:
    response = signed_post(client, leg.status_path, status_params("ringing", 2**31))

    assert response.status_code == 204


# --- The happy path, signed end to end --------------------------------------------------------


def test_the_agent_accepts_and_the_customer_is_dialled(
    app: Flask, client: FlaskClient, leg: RingingLeg
) -> None:
    """Each webhook answers with URLs under PUBLIC_URL that the next signed request uses."""
    answer = signed_post(client, leg.answer_path, {"CallStatus": "in-progress"})
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    gather = ET.fromstring(answer.get_data(as_text=True)).find("Gather")
    assert gather is not None
    accept_path = relative(gather.attrib["action"])
    assert accept_path == f"/twilio/agent/accept?leg={leg.leg_id}"
    assert CUSTOMER.removeprefix("+372") not in answer.get_data(as_text=True)  # masked

    accept = signed_post(client, accept_path, {"Digits": "1"})
    assert accept.status_code == 200
    number = ET.fromstring(accept.get_data(as_text=True)).find("Dial/Number")
    assert number is not None and number.text == CUSTOMER
    customer_status = relative(number.attrib["statusCallback"])
    assert public_events(client, leg)[-1] == "agent_accepted"

    bridged = signed_post(client, customer_status, status_params("in-progress", 2))
    assert bridged.status_code == 204
    view = client.get(
        f"/api/v1/callbacks/{leg.callback_id}", query_string={"token": leg.token}
    ).get_json()
    assert view["status"] == "connected"
    assert not [task for task, _ in queued_tasks(app) if task == "callback.cancel_leg"]
