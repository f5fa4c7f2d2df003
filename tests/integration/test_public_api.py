"""The public HTTP API through Flask's test client, on SQLite and (with TEST_DATABASE_URL)
PostgreSQL: the contract's 202/404/4xx bodies, coalescing, and no 500 for any input.

No worker runs: the dispatch task a request enqueues stays in the filesystem broker, where the
tests read it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from flask import Flask
from flask.testing import FlaskClient
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from support.app import (
    event_types,
    queued_tasks,
    running_app,
)
from werkzeug.test import TestResponse

from callback.models import Widget
from callback.services import context
from callback.services.setup import add_agent, add_widget

CALLBACKS = "/api/v1/callbacks"
MAX_CONTENT_LENGTH = 64 * 1024


def e164(region: str, kind: int) -> str:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None, (region, kind)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


EE_MOBILE = e164("EE", PhoneNumberType.MOBILE)  # +37251234567
EE_MOBILE_NATIONAL = EE_MOBILE.removeprefix("+372")  # 51234567
FI_MOBILE = e164("FI", PhoneNumberType.MOBILE)
GB_PREMIUM = e164("GB", PhoneNumberType.PREMIUM_RATE)
GB_TOLL_FREE = e164("GB", PhoneNumberType.TOLL_FREE)
SATELLITE = phonenumbers.format_number(
    phonenumbers.example_number_for_non_geo_entity(870), PhoneNumberFormat.E164
)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def new_widget(app: Flask, countries: list[str] | None = None) -> str:
    """A widget (region EE) with one agent in a routing rule of its own; returns its key."""
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        add_agent("Anna", "+37255550101", rule=rule)
        return add_widget("Shop", region="EE", countries=countries or ["EE", "GB"], rule=rule)


@pytest.fixture
def widget(app: Flask) -> str:
    return new_widget(app)


def post(client: FlaskClient, payload: object) -> TestResponse:
    return client.post(CALLBACKS, json=payload)


def assert_error(
    response: TestResponse, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The contract's error body: {"error": {"code", "message", "field"}}."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"].strip()
    if field is None:
        assert set(error) <= {"code", "message", "field"}
    else:
        assert set(error) == {"code", "message", "field"}
        assert error["field"] == field
    return error


# --- Accepted requests ------------------------------------------------------------------------


def test_a_request_is_accepted_with_id_status_token_and_status_url(
    app: Flask, client: FlaskClient, widget: str
) -> None:
    response = post(client, {"widget": widget, "phone": "5123 4567", "page_title": "Boots"})

    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"id", "status", "token", "status_url"}
    assert body["status"] == "queued"
    assert isinstance(body["id"], str) and len(body["id"]) >= 16
    assert isinstance(body["token"], str) and len(body["token"]) >= 16
    assert body["id"] in body["status_url"] and body["token"] in body["status_url"]
    # Committed, then handed to the worker: exactly one dispatch waits in the broker.
    assert queued_tasks(app) == [("callback.dispatch", [body["id"]])]


def test_the_status_url_works_and_never_shows_the_phone_number(
    client: FlaskClient, widget: str
) -> None:
    created = post(client, {"widget": widget, "phone": EE_MOBILE, "page_title": "Boots"})
    assert created.status_code == 202

    response = client.get(created.get_json()["status_url"])

    assert response.status_code == 200
    view = response.get_json()
    assert view["id"] == created.get_json()["id"]
    assert view["status"] == "queued"
    assert set(view) <= {"id", "status", "reason", "eta_seconds", "events"}
    assert "requested" in [event["type"] for event in view["events"]]
    for event in view["events"]:
        assert set(event) == {"at", "type"}
        assert datetime.fromisoformat(event["at"]).tzinfo is not None
    for text in (created.get_data(as_text=True), response.get_data(as_text=True)):
        assert EE_MOBILE_NATIONAL not in text
        assert EE_MOBILE.removeprefix("+") not in text


def test_a_scheduled_request_waits_and_shows_its_eta(
    app: Flask, client: FlaskClient, widget: str
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    created = post(client, {"widget": widget, "phone": EE_MOBILE, "scheduled_for": later})

    assert created.status_code == 202
    assert created.get_json()["status"] == "scheduled"
    view = client.get(created.get_json()["status_url"]).get_json()
    assert view["status"] == "scheduled"
    assert 3500 <= view["eta_seconds"] <= 3600
    assert queued_tasks(app) == []  # nothing to dispatch before it is due


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda right: secrets.token_hex(16), id="other-token"),
        pytest.param(lambda right: right[:-1], id="truncated"),
        pytest.param(lambda right: right.upper(), id="upper-case"),
        pytest.param(lambda right: "", id="empty"),
        pytest.param(None, id="missing"),
    ],
)
def test_a_wrong_token_is_404(
    client: FlaskClient, widget: str, token: Callable[[str], str] | None
) -> None:
    created = post(client, {"widget": widget, "phone": EE_MOBILE}).get_json()
    query = {} if token is None else {"token": token(created["token"])}

    response = client.get(f"{CALLBACKS}/{created['id']}", query_string=query)

    assert_error(response, 404, "not_found")
    assert created["status"] not in response.get_data(as_text=True)


def test_the_token_of_one_callback_does_not_open_another(client: FlaskClient, widget: str) -> None:
    first = post(client, {"widget": widget, "phone": EE_MOBILE}).get_json()
    second = post(client, {"widget": widget, "phone": "+37251334567"}).get_json()
    assert first["id"] != second["id"]

    response = client.get(f"{CALLBACKS}/{second['id']}", query_string={"token": first["token"]})
    assert_error(response, 404, "not_found")
    response = client.get(f"{CALLBACKS}/no-such-id", query_string={"token": first["token"]})
    assert_error(response, 404, "not_found")


def test_a_second_request_for_the_same_number_is_coalesced(
    app: Flask, client: FlaskClient, widget: str
) -> None:
    first = post(client, {"widget": widget, "phone": "5123 4567"})
    again = post(client, {"widget": widget, "phone": "+372 5123-4567", "page_title": "Other"})
    other_number = post(client, {"widget": widget, "phone": "+37251334567"})
    other_widget = post(client, {"widget": new_widget(app), "phone": "5123 4567"})

    assert [r.status_code for r in (first, again, other_number, other_widget)] == [202] * 4
    assert again.get_json() == first.get_json()
    ids = {r.get_json()["id"] for r in (first, other_number, other_widget)}
    assert len(ids) == 3
    callback_id = first.get_json()["id"]
    assert event_types(app, callback_id).count("requested") == 1
    dispatches = [args for name, args in queued_tasks(app) if name == "callback.dispatch"]
    assert dispatches.count([callback_id]) == 1


# --- Refused requests -------------------------------------------------------------------------

Payload = Callable[[str], dict[str, object]]


def with_fields(**fields: object) -> Payload:
    """A payload for the widget under test: its key and a good number unless given."""
    return lambda key: {"widget": key, "phone": EE_MOBILE, **fields}


REFUSED: list[Any] = [
    # The widget.
    pytest.param(lambda key: {"phone": EE_MOBILE}, "missing_widget", "widget", id="no-widget"),
    pytest.param(with_fields(widget=""), "missing_widget", "widget", id="empty-widget"),
    pytest.param(with_fields(widget=None), "missing_widget", "widget", id="null-widget"),
    pytest.param(with_fields(widget="no-such-key"), "unknown_widget", "widget", id="unknown"),
    pytest.param(with_fields(widget=12345), "invalid_widget", "widget", id="widget-number"),
    pytest.param(with_fields(widget=["k"]), "invalid_widget", "widget", id="widget-list"),
    pytest.param(with_fields(widget="k" * 65), "invalid_widget", "widget", id="widget-long"),
    # The phone: missing, malformed, not a string.
    pytest.param(lambda key: {"widget": key}, "missing_phone", "phone", id="no-phone"),
    pytest.param(with_fields(phone=""), "missing_phone", "phone", id="empty-phone"),
    pytest.param(with_fields(phone="   "), "invalid_phone", "phone", id="blank-phone"),
    pytest.param(with_fields(phone="12"), "invalid_phone", "phone", id="too-short"),
    pytest.param(with_fields(phone="+372 0000"), "invalid_phone", "phone", id="unallocated"),
    pytest.param(with_fields(phone="!!@@##"), "invalid_phone", "phone", id="garbage"),
    pytest.param(with_fields(phone="call me"), "invalid_phone", "phone", id="letters"),
    pytest.param(with_fields(phone="5123 45ab"), "invalid_phone", "phone", id="some-letters"),
    pytest.param(with_fields(phone="1-800-FLOWERS"), "invalid_phone", "phone", id="vanity"),
    pytest.param(with_fields(phone="5123 4567 x12"), "invalid_phone", "phone", id="extension"),
    pytest.param(with_fields(phone="+372 5123 4567 +372"), "invalid_phone", "phone", id="two"),
    pytest.param(with_fields(phone="5" * 40), "invalid_phone", "phone", id="too-long"),
    pytest.param(with_fields(phone="5" * 65), "invalid_phone", "phone", id="over-field-limit"),
    pytest.param(with_fields(phone=51234567), "invalid_phone", "phone", id="phone-number"),
    pytest.param(with_fields(phone=True), "invalid_phone", "phone", id="phone-bool"),
    pytest.param(with_fields(phone=[EE_MOBILE]), "invalid_phone", "phone", id="phone-list"),
    pytest.param(with_fields(phone={"n": 1}), "invalid_phone", "phone", id="phone-object"),
    # The phone: valid, but not one we call.
    pytest.param(with_fields(phone=FI_MOBILE), "country_not_allowed", "phone", id="finland"),
    pytest.param(with_fields(phone=SATELLITE), "country_not_allowed", "phone", id="satellite"),
    pytest.param(
        with_fields(phone=GB_PREMIUM), "number_type_not_allowed", "phone", id="premium-rate"
    ),
    pytest.param(
        with_fields(phone=GB_TOLL_FREE), "number_type_not_allowed", "phone", id="toll-free"
    ),
    # The optional fields.
    pytest.param(with_fields(page_title=7), "invalid_page_title", "page_title", id="title-int"),
    pytest.param(
        with_fields(page_title="t" * 301), "invalid_page_title", "page_title", id="title-long"
    ),
    pytest.param(with_fields(page_url={}), "invalid_page_url", "page_url", id="url-object"),
    pytest.param(
        with_fields(page_url="https://shop.example/" + "p" * 2048),
        "invalid_page_url",
        "page_url",
        id="url-long",
    ),
    pytest.param(
        with_fields(scheduled_for="2030-01-02T09:30:00"),
        "invalid_scheduled_for",
        "scheduled_for",
        id="no-timezone",
    ),
    pytest.param(
        with_fields(scheduled_for="2030-01-02"),
        "invalid_scheduled_for",
        "scheduled_for",
        id="date-only",
    ),
    pytest.param(
        with_fields(scheduled_for="tomorrow at nine"),
        "invalid_scheduled_for",
        "scheduled_for",
        id="garbage-time",
    ),
    pytest.param(
        with_fields(scheduled_for="2030-02-30T09:30:00+02:00"),
        "invalid_scheduled_for",
        "scheduled_for",
        id="no-such-day",
    ),
    pytest.param(
        with_fields(scheduled_for=1893456000),
        "invalid_scheduled_for",
        "scheduled_for",
        id="epoch-number",
    ),
]


@pytest.mark.parametrize(("payload", "code", "field"), REFUSED)
def test_bad_input_is_422_with_code_and_field(
    app: Flask, client: FlaskClient, widget: str, payload: Payload, code: str, field: str
) -> None:
    response = post(client, payload(widget))

    assert_error(response, 422, code, field)
    assert queued_tasks(app) == []  # nothing was stored, so nothing was dispatched


def test_a_blocked_prefix_is_refused(app: Flask, client: FlaskClient, widget: str) -> None:
    with app.app_context(), context.transaction() as session:
        row = session.query(Widget).filter_by(public_key=widget).one()
        row.blocked_prefixes = ["+3725123"]

    blocked = post(client, {"widget": widget, "phone": "5123 4567"})
    allowed = post(client, {"widget": widget, "phone": "5133 4567"})

    error = assert_error(blocked, 422, "blocked", "phone")
    assert "+3725123" not in error["message"]  # the block list is not revealed
    assert allowed.status_code == 202


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param("hello", "text/plain", id="text"),
        pytest.param("widget=k&phone=51234567", "application/x-www-form-urlencoded", id="form"),
        pytest.param("{not json", "application/json", id="broken-json"),
        pytest.param(b"\xff\xfe{}", "application/json", id="not-utf8"),
        pytest.param("", "application/json", id="empty"),
        pytest.param("null", "application/json", id="null"),
        pytest.param('"51234567"', "application/json", id="string"),
        pytest.param("42", "application/json", id="number"),
        pytest.param('[{"widget": "k", "phone": "51234567"}]', "application/json", id="array"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(
    app: Flask, client: FlaskClient, data: str | bytes, content_type: str
) -> None:
    response = client.post(CALLBACKS, data=data, content_type=content_type)

    assert_error(response, 400, "invalid_json")
    assert queued_tasks(app) == []


def test_deeply_nested_json_is_400(client: FlaskClient) -> None:
    nested = "[" * 30_000 + "]" * 30_000  # under MAX_CONTENT_LENGTH

    response = client.post(CALLBACKS, data=nested, content_type="application/json")

    assert_error(response, 400, "invalid_json")


def test_a_body_over_the_size_limit_is_413(app: Flask, client: FlaskClient, widget: str) -> None:
    payload = {"widget": widget, "phone": EE_MOBILE, "page_title": "x" * MAX_CONTENT_LENGTH}
    data = json.dumps(payload)
    assert len(data) > MAX_CONTENT_LENGTH

    response = client.post(CALLBACKS, data=data, content_type="application/json")

    assert_error(response, 413, "request_entity_too_large")
    assert queued_tasks(app) == []


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_scheduled_for_at_the_ends_of_the_calendar_is_422(
    client: FlaskClient, widget: str, moment: str
) -> None:
    response = post(client, {"widget": widget, "phone": EE_MOBILE, "scheduled_for": moment})

    assert_error(response, 422, "invalid_scheduled_for", "scheduled_for")


NUL_ON_POSTGRESQL = (
    "BUG (PostgreSQL only): a NUL character in a string field reaches the database, which "
    "refuses it (psycopg DataError: text fields cannot contain NUL): 500 instead of 4xx"
)


def test_a_nul_character_in_the_widget_key_is_unknown_widget(
    request: pytest.FixtureRequest, database_url: str, client: FlaskClient, widget: str
) -> None:
    response = post(client, {"widget": widget + "\x00", "phone": EE_MOBILE})

    assert_error(response, 422, "unknown_widget", "widget")


@pytest.mark.parametrize("field", ["page_title", "page_url"])
def test_a_nul_character_in_the_page_fields_is_no_server_error(
    request: pytest.FixtureRequest,
    database_url: str,
    client: FlaskClient,
    widget: str,
    field: str,
) -> None:
    response = post(client, {"widget": widget, "phone": EE_MOBILE, field: "a\x00b"})

    # Either answer is fine (store it cleaned, or refuse the field); a 500 is not.
    if response.status_code != 202:
        assert_error(response, 422, f"invalid_{field}", field)


def test_a_nul_character_in_the_status_id_is_404(
    request: pytest.FixtureRequest, database_url: str, client: FlaskClient
) -> None:
    response = client.get(f"{CALLBACKS}/a%00b", query_string={"token": "t"})

    assert_error(response, 404, "not_found")


# --- The rest of the public surface -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/page", 404, "not_found"),
        ("GET", "/api/v1/nothing-here", 404, "not_found"),
        ("POST", "/api/v2/callbacks", 404, "not_found"),
        ("GET", CALLBACKS, 405, "method_not_allowed"),
        ("DELETE", "/healthz", 405, "method_not_allowed"),
    ],
)
def test_unknown_routes_and_methods_answer_json(
    client: FlaskClient, method: str, path: str, status: int, code: str
) -> None:
    assert_error(client.open(path, method=method), status, code)


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"ok": True}


def test_widget_js_is_javascript(client: FlaskClient) -> None:
    response = client.get("/widget.js")
    try:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        body = response.get_data(as_text=True)
        assert "window" in body and "Callback" in body
        assert not body.lstrip().startswith("<")  # not an HTML error page
    finally:
        response.close()
