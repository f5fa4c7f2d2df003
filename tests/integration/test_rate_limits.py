"""Abuse limits on the public API through Flask's test client, on SQLite and (with
TEST_DATABASE_URL) PostgreSQL: rate limits per IP, per number and per widget (429 with
Retry-After), the daily cap per widget, failing closed when Redis is down (503), and the
honeypot and fill time. Client addresses come from X-Forwarded-For through ProxyFix, as
behind the production load balancer. With TEST_REDIS_URL, two apps (two web processes)
share their counters in Redis.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support.app import AUTH_TOKEN, PUBLIC_URL
from support.ports import free_port
from werkzeug.test import TestResponse

from callback import create_app
from callback.config import Settings
from callback.models import CallbackRequest, Widget
from callback.services import context
from callback.services.setup import add_agent, add_widget

CALLBACKS = "/api/v1/callbacks"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[AppFactory]:
    """Apps on the module's database with these extra settings (e.g. RATE_LIMIT_PER_IP)."""
    apps: list[Flask] = []

    def make(**env: str) -> Flask:
        settings = Settings.from_env(
            {
                "DATABASE_URL": database_url,
                "INSTANCE_DIR": str(tmp_path),
                "PUBLIC_URL": PUBLIC_URL,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                **env,
            }
        )
        app = create_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["db"].kw["bind"].dispose()


def new_widget(app: Flask, cap: int | None = None) -> str:
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        add_agent("Anna", "+37255550101", rule=rule)
        key = add_widget("Shop", region="EE", countries=["EE"], rule=rule)
        if cap is not None:
            with context.transaction() as session:
                widget = session.scalars(select(Widget).where(Widget.public_key == key)).one()
                widget.daily_call_cap = cap
        return key


_next_number = iter(range(10**6))


def mobile() -> str:
    """A fresh valid Estonian mobile number (+37255xxxxxx), distinct in its last 7 digits."""
    return f"+37255{next(_next_number):06d}"


def post(
    client: FlaskClient, widget: str, phone: str, ip: str = "198.51.100.1", **fields: Any
) -> TestResponse:
    return client.post(
        CALLBACKS,
        json={"widget": widget, "phone": phone, **fields},
        headers={"X-Forwarded-For": ip},
    )


def assert_error(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert set(body["error"]) <= {"code", "message", "field"}
    assert body["error"]["message"].strip()
    return body["error"]  # type: ignore[no-any-return]


def retry_after(response: TestResponse) -> int:
    value = response.headers.get("Retry-After", "")
    assert value.isdigit() and int(value) >= 1, value
    return int(value)


def stored(app: Flask, widget: str) -> int:
    with app.app_context(), context.transaction() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(CallbackRequest)
                .join(Widget, Widget.id == CallbackRequest.widget_id)
                .where(Widget.public_key == widget)
            )
            or 0
        )


# --- Rate limits -------------------------------------------------------------------------------


def test_one_address_is_limited_and_others_are_not(make_app: AppFactory) -> None:
    app = make_app(RATE_LIMIT_PER_IP="3 per minute")
    client, widget = app.test_client(), new_widget(app)
    answers = [post(client, widget, mobile(), ip="203.0.113.7").status_code for _ in range(3)]
    assert answers == [202, 202, 202]

    refused = post(client, widget, mobile(), ip="203.0.113.7")
    assert_error(refused, 429, "rate_limited")
    assert retry_after(refused) <= 60
    # Refused attempts count too (they are what probing looks like) ...
    assert_error(post(client, widget, "garbage", ip="203.0.113.7"), 429, "rate_limited")
    # ... and only for that address.
    assert post(client, widget, mobile(), ip="203.0.113.8").status_code == 202
    assert stored(app, widget) == 4


def test_one_number_is_limited_in_every_format_and_from_every_address(
    make_app: AppFactory,
) -> None:
    app = make_app(RATE_LIMIT_PER_PHONE="3 per minute")
    client, widget = app.test_client(), new_widget(app)
    number = mobile()
    national = number.removeprefix("+372")
    formats = [number, f"{national[:4]} {national[4:]}", "00372 " + national]
    for index, typed in enumerate(formats):
        assert post(client, widget, typed, ip=f"192.0.2.{index}").status_code == 202
    refused = post(client, widget, f"+372 {national}", ip="192.0.2.99")
    assert_error(refused, 429, "rate_limited")
    retry_after(refused)
    assert post(client, widget, mobile(), ip="192.0.2.99").status_code == 202


def test_a_widget_is_limited_by_the_callbacks_it_creates(make_app: AppFactory) -> None:
    app = make_app(RATE_LIMIT_PER_WIDGET="2 per minute")
    client, widget, other = app.test_client(), new_widget(app), new_widget(app)
    # A flood of refused requests does not use the widget's budget up ...
    for index in range(5):
        assert post(client, widget, "+372 0000", ip=f"10.1.0.{index}").status_code == 422
    first = mobile()
    assert post(client, widget, first, ip="10.2.0.1").status_code == 202
    # ... nor does asking again for a live callback (it is the same callback).
    assert post(client, widget, first, ip="10.2.0.2").status_code == 202
    assert post(client, widget, mobile(), ip="10.2.0.3").status_code == 202

    refused = post(client, widget, mobile(), ip="10.2.0.4")
    assert_error(refused, 429, "rate_limited")
    retry_after(refused)
    assert post(client, other, mobile(), ip="10.2.0.4").status_code == 202
    assert stored(app, widget) == 2


def test_the_status_read_has_a_limit_of_its_own(make_app: AppFactory) -> None:
    app = make_app(RATE_LIMIT_STATUS="2 per minute")
    client, widget = app.test_client(), new_widget(app)
    accepted = post(client, widget, mobile()).get_json()
    url, ip = accepted["status_url"], {"X-Forwarded-For": "198.51.100.40"}
    assert [client.get(url, headers=ip).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url, headers=ip)
    assert_error(refused, 429, "rate_limited")
    retry_after(refused)
    assert client.get(url, headers={"X-Forwarded-For": "198.51.100.41"}).status_code == 200


def test_the_limits_fail_closed_when_redis_is_down(make_app: AppFactory) -> None:
    """Nothing listens on the port: every callback request is 503, none is stored."""
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client, widget = app.test_client(), new_widget(app)
    for _ in range(3):
        refused = post(client, widget, mobile())
        assert_error(refused, 503, "unavailable")
        retry_after(refused)
    assert stored(app, widget) == 0
    # Reading a status costs nothing: it is not refused for the limiter's sake.
    assert_error(client.get(f"{CALLBACKS}/nope?token=x"), 404, "not_found")


@contextmanager
def redis_prefix() -> Iterator[str]:
    prefix = f"test-limits-{secrets.token_hex(4)}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(TEST_REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
        client.close()


@pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL not set")
def test_web_processes_share_their_counters_in_redis(make_app: AppFactory) -> None:
    with redis_prefix() as prefix:
        env = {
            "REDIS_URL": TEST_REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "RATE_LIMIT_PER_IP": "3 per minute",
        }
        one, two = make_app(**env), make_app(**env)
        widget = new_widget(one)
        ip = "203.0.113.50"
        assert post(one.test_client(), widget, mobile(), ip=ip).status_code == 202
        assert post(two.test_client(), widget, mobile(), ip=ip).status_code == 202
        assert post(one.test_client(), widget, mobile(), ip=ip).status_code == 202
        assert_error(post(two.test_client(), widget, mobile(), ip=ip), 429, "rate_limited")
        keys = redis.Redis.from_url(TEST_REDIS_URL).keys(f"{prefix}limits*")
        assert keys, "the counters live in Redis under the installation's prefix"
        # A keyed hash of the number is stored, never the number itself.
        assert not any(b"3725" in key for key in keys)


# --- The daily cap -----------------------------------------------------------------------------


def test_the_daily_cap_refuses_more_callbacks_than_the_widget_allows(
    make_app: AppFactory,
) -> None:
    app = make_app()
    client, widget, other = app.test_client(), new_widget(app, cap=2), new_widget(app, cap=2)
    first = mobile()
    created = [
        post(client, widget, phone, ip=f"10.3.0.{i}") for i, phone in enumerate([first, mobile()])
    ]
    assert [r.status_code for r in created] == [202, 202]

    refused = post(client, widget, mobile(), ip="10.3.1.1")
    assert_error(refused, 429, "daily_cap_reached")
    assert retry_after(refused) <= 24 * 3600
    # A visitor who already has a live callback still gets it back.
    again = post(client, widget, first, ip="10.3.1.2")
    assert again.status_code == 202
    assert again.get_json()["id"] == created[0].get_json()["id"]
    assert stored(app, widget) == 2
    assert post(client, other, mobile(), ip="10.3.1.3").status_code == 202


# --- Honeypot and fill time --------------------------------------------------------------------


def test_a_filled_honeypot_gets_a_quiet_202_and_nothing_is_stored(make_app: AppFactory) -> None:
    app = make_app()
    client, widget = app.test_client(), new_widget(app)
    answer = post(client, widget, mobile(), website="https://spam.example")
    assert answer.status_code == 202
    body = answer.get_json()
    assert set(body) == {"id", "status", "token", "status_url"}
    assert body["status"] == "queued"
    assert stored(app, widget) == 0
    assert client.get(body["status_url"]).status_code == 404


def test_a_form_filled_faster_than_a_person_types_is_too_fast(make_app: AppFactory) -> None:
    app = make_app(MIN_FILL_MS="1500")
    client, widget = app.test_client(), new_widget(app)
    error = assert_error(post(client, widget, mobile(), elapsed_ms=200), 422, "too_fast")
    assert error["field"] == "elapsed_ms"
    for bad in ("soon", -5, True, [1]):
        assert_error(post(client, widget, mobile(), elapsed_ms=bad), 422, "invalid_elapsed_ms")
    assert stored(app, widget) == 0
    assert post(client, widget, mobile(), elapsed_ms=4200).status_code == 202
    # API clients that are not the widget send no fill time; the other limits apply to them.
    assert post(client, widget, mobile()).status_code == 202


def test_the_fill_time_is_on_by_default_in_production_only() -> None:
    production = {
        "TELEPHONY": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
        "TWILIO_AUTH_TOKEN": "a-real-token",
        "TWILIO_CALLER_ID": "+3726001234",
        "SECRET_KEY": "s" * 40,
        "PUBLIC_URL": "https://callback.example",
    }
    assert Settings.from_env(production).min_fill_ms == 1500
    assert Settings.from_env({}).min_fill_ms == 0
    assert Settings.from_env({"MIN_FILL_MS": "900"}).min_fill_ms == 900
