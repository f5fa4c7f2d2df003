"""Hardening through Flask's test client, on SQLite and (with TEST_DATABASE_URL) PostgreSQL:
413 on big bodies everywhere, the security headers on every kind of response, CORS on the
limiter's answers, the number policy at the CLI, and phone numbers masked in log records.

Already covered elsewhere and not repeated here: 413 and CORS of the public API
(test_public_api.py, test_widget_api.py), forged, foreign and replayed webhook signatures
and repeated status callbacks (test_webhooks_http.py), the number policy in the admin API
(admin/test_admin_api_agents.py).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from support.app import AUTH_TOKEN, PUBLIC_URL, running_app
from werkzeug.test import TestResponse

from callback import create_app
from callback.cli import main
from callback.config import Settings
from callback.logs import mask_numbers
from callback.services import accounts
from callback.services.setup import add_agent, add_widget
from callback.web.security import NON_HTML_CSP

SHOP = "https://shop.example"
BIG = 64 * 1024 + 1


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def new_widget(app: Flask, origins: list[str] | None = None) -> str:
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        add_agent("Anna", "+37255550101", rule=rule)
        return add_widget("Shop", region="EE", countries=["EE"], origins=origins, rule=rule)


def owner_token(app: Flask) -> str:
    with app.app_context():
        user = accounts.create_user(
            f"owner-{secrets.token_hex(4)}@example.com", "correct horse battery", "owner"
        )
        return accounts.create_token(user, "hardening", ["read", "write"])


def assert_error(response: TestResponse, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"].strip()


# --- 413 -----------------------------------------------------------------------------------------


def test_a_big_body_is_413_on_the_admin_api_and_the_webhooks(
    app: Flask, client: FlaskClient
) -> None:
    token = owner_token(app)
    too_big = "x" * BIG
    admin = client.post(
        "/api/v1/admin/widgets",
        data='{"name": "' + too_big + '"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_error(admin, 413, "request_entity_too_large")
    hook = client.post(
        "/twilio/status?leg=1",
        data={"CallSid": "CA" + "1" * 32, "Padding": too_big},
        headers={"X-Twilio-Signature": "irrelevant"},
    )
    assert hook.status_code == 413
    assert (
        client.post("/api/v1/callbacks", data=too_big, content_type="application/json").status_code
        == 413
    )


# --- Security headers ------------------------------------------------------------------------------


def assert_common_headers(response: TestResponse) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "same-origin")
    assert "Content-Security-Policy" in response.headers


def test_json_answers_may_not_load_anything_nor_be_framed(app: Flask, client: FlaskClient) -> None:
    key = new_widget(app)
    for response in (
        client.get(f"/api/v1/widgets/{key}"),
        client.post("/api/v1/callbacks", json={"widget": key, "phone": "+37255512345"}),
        client.get("/api/v1/callbacks/nope?token=x"),
        client.get("/api/openapi.json"),
        client.get("/healthz"),
        client.get("/no/such/page"),
    ):
        assert_common_headers(response)
        assert response.headers["Content-Security-Policy"] == NON_HTML_CSP
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in response.headers  # PUBLIC_URL is http


def test_pages_keep_their_own_policies(app: Flask, client: FlaskClient) -> None:
    login = client.get("/admin/login")
    assert login.status_code == 200
    assert_common_headers(login)
    # The admin frames its own widget preview: same origin, never anyone else.
    assert login.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in login.headers["Content-Security-Policy"]
    demo = client.get("/demo")
    assert_common_headers(demo)
    assert demo.headers["X-Frame-Options"] == "DENY"
    assert "script-src" in demo.headers["Content-Security-Policy"]
    script = client.get("/widget.js")
    assert script.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_when_the_public_url_is_https(database_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp_path),
            "PUBLIC_URL": "https://callback.example",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        }
    )
    app = create_app(settings)
    try:
        response = app.test_client().get("/healthz")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    finally:
        app.extensions["db"].kw["bind"].dispose()


# --- CORS on the limiter's answers -------------------------------------------------------------


def test_a_rate_limited_answer_is_readable_by_the_widgets_origin_only(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp_path),
            "PUBLIC_URL": PUBLIC_URL,
            "RATE_LIMIT_PER_IP": "1 per minute",
        }
    )
    app = create_app(settings)
    try:
        client, key = app.test_client(), new_widget(app, origins=[SHOP])
        body = {"widget": key, "phone": "+37255512001"}
        assert (
            client.post("/api/v1/callbacks", json=body, headers={"Origin": SHOP}).status_code == 202
        )
        limited = client.post(
            "/api/v1/callbacks", json={**body, "phone": "+37255512002"}, headers={"Origin": SHOP}
        )
        assert_error(limited, 429, "rate_limited")
        # The widget must be able to read the 429 (and tell the visitor to wait).
        assert limited.headers["Access-Control-Allow-Origin"] == SHOP
        foreign = client.post(
            "/api/v1/callbacks",
            json={**body, "phone": "+37255512003"},
            headers={"Origin": "https://evil.example"},
        )
        # The limits come first (before any database work), so a foreign page on the same
        # address is counted and refused too, and cannot read that refusal either.
        assert_error(foreign, 429, "rate_limited")
        assert "Access-Control-Allow-Origin" not in foreign.headers
    finally:
        app.extensions["db"].kw["bind"].dispose()


# --- The number policy at the CLI ----------------------------------------------------------------


def example(region: str, kind: int) -> str:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        (example("GB", PhoneNumberType.PREMIUM_RATE), "premium"),
        (example("FR", PhoneNumberType.SHARED_COST), "shared-cost"),
        ("+372 0000", "valid"),
        ("call me", "digits"),
    ],
)
def test_the_cli_refuses_numbers_the_policy_refuses(
    app: Flask, database_url: str, tmp_path: Path, phone: str, message: str
) -> None:
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path)}
    result = CliRunner().invoke(
        main, ["agent", "add", "--name", "Mallory", "--phone", phone], env=env
    )
    assert result.exit_code == 1, result.output
    assert message in result.output.lower(), result.output


# --- Numbers masked in logs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "calling +37255512345 now",
        "calling +372 5551 2345 now",
        "to=37255512345 failed",
        "IntegrityError: (phone)=(+37255512345) already exists",
    ],
)
def test_anything_that_looks_like_a_number_is_masked(text: str) -> None:
    masked = mask_numbers(text)
    assert "55512345" not in masked.replace(" ", "")
    assert "5551 2345" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "callback AbC123 reached completed in 1234 ms",
        "2026-11-22T08:48:46+00:00 leg CA0123456789abcdef0123456789abcdef",
        "GET /api/v1/callbacks/xyz?token=0123456789abcdef HTTP/1.1 200",
        "port 127.0.0.1:54321",
    ],
)
def test_what_is_not_a_number_is_left_alone(text: str) -> None:
    assert mask_numbers(text) == text


def test_log_records_are_masked_once_the_app_exists(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("callback.tests.hardening")
    with caplog.at_level(logging.INFO, logger="callback.tests.hardening"):
        log.info("dialling %s for %s", "+37255512345", "Anna")
        try:
            raise ValueError("carrier refused To=+37255598765")
        except ValueError:
            log.exception("call failed")
    text = caplog.text
    assert "Anna" in text and "carrier refused" in text
    assert "+37255512345" not in text and "55598765" not in text
    assert "+372 55" in text  # the mask keeps the country and two digits
