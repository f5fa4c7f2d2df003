"""Signing in to the admin: session cookies, CSRF on forms and cookie API calls, logout,
roles on pages, and the login rate limit (429 with Retry-After)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_support import PASSWORD, Keys, assert_error, csrf_from, log_in, new_login, unique_email
from flask import Flask
from flask.testing import FlaskClient
from support.app import AUTH_TOKEN, running_app

from callback import create_app
from callback.config import Settings
from callback.services import accounts


@pytest.fixture
def fresh_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app of its own: its in-memory login counters start at zero."""
    with running_app(database_url, tmp_path) as app:
        yield app


def email_of(app: Flask, user_id: int) -> str:
    with app.app_context():
        return str(accounts.get_user(user_id)["email"])


def signed_in(app: Flask, role: str = "admin", agent_id: int | None = None) -> FlaskClient:
    user_id, _ = new_login(app, role, agent_id=agent_id)
    client = app.test_client()
    response = log_in(client, email_of(app, user_id))
    assert response.status_code == 302, response.text
    return client


def test_pages_need_a_login(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/admin/agents")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/agents"
    assert client.get("/admin/login").status_code == 200
    assert_error(client.get("/api/v1/admin/me"), 401, "unauthorized")


def test_login_sets_a_session_cookie_that_scripts_cannot_read(app: Flask) -> None:
    user_id, _ = new_login(app)
    client = app.test_client()
    response = log_in(client, email_of(app, user_id).upper())  # emails are case-insensitive
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/admin/agents").status_code == 200
    assert client.get("/admin/").headers["Location"] == "/admin/board"
    me = client.get("/api/v1/admin/me").get_json()
    assert me["id"] == user_id and me["scopes"] == ["read", "write"]


def test_the_cookie_is_secure_behind_https(database_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp_path),
            "PUBLIC_URL": "https://shop.example",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        }
    )
    app = create_app(settings)
    try:
        user_id, _ = new_login(app)
        client = app.test_client()
        https = {"base_url": "https://shop.example"}
        page = client.get("/admin/login", **https)
        response = client.post(
            "/admin/login",
            data={
                "email": email_of(app, user_id),
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
            },
            headers={"Referer": "https://shop.example/admin/login"},
            **https,
        )
        assert response.status_code == 302, response.text
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        app.extensions["db"].kw["bind"].dispose()


def test_a_wrong_password_and_an_unknown_email_look_alike(app: Flask) -> None:
    user_id, _ = new_login(app)
    client = app.test_client()
    wrong = log_in(client, email_of(app, user_id), "not the password")
    unknown = log_in(client, unique_email("nobody"))
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text
    assert "Set-Cookie" not in wrong.headers or "uid" not in wrong.headers["Set-Cookie"]
    assert_error(client.get("/api/v1/admin/me"), 401)


def test_after_login_only_pages_of_this_admin_are_followed(app: Flask) -> None:
    user_id, _ = new_login(app)
    email = email_of(app, user_id)
    for target, expected in (
        ("/admin/rules", "/admin/rules"),
        ("https://evil.example/admin", "/admin/"),
        ("//evil.example/admin", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("/api/v1/admin/me", "/admin/"),
    ):
        client = app.test_client()
        page = client.get("/admin/login")
        response = client.post(
            "/admin/login",
            data={
                "email": email,
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_from(page.text),
            },
        )
        assert response.headers["Location"] == expected, target


def test_forms_without_the_csrf_token_are_refused(app: Flask) -> None:
    client = signed_in(app)
    for data in ({"name": "r"}, {"name": "r", "csrf_token": "forged"}):
        response = client.post("/admin/rules", data=data)
        assert response.status_code == 400 and "expired" in response.text
    # The login form too: nobody can sign a victim in to the attacker's account.
    user_id, _ = new_login(app)
    response = app.test_client().post(
        "/admin/login", data={"email": email_of(app, user_id), "password": PASSWORD}
    )
    assert response.status_code == 400


def test_cookie_api_calls_need_the_csrf_header(app: Flask) -> None:
    client = signed_in(app)
    token = csrf_from(client.get("/admin/rules").text)
    body = {"name": unique_email("rule")}
    assert_error(client.post("/api/v1/admin/rules", json=body), 403, "csrf_failed")
    response = client.post("/api/v1/admin/rules", json=body, headers={"X-CSRFToken": "forged"})
    assert_error(response, 403, "csrf_failed")
    response = client.post("/api/v1/admin/rules", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.text
    assert client.get("/api/v1/admin/rules").status_code == 200  # reads need no token


def test_logout_ends_the_session(app: Flask) -> None:
    client = signed_in(app)
    token = csrf_from(client.get("/admin/agents").text)
    assert client.get("/admin/logout").status_code == 405  # a link cannot log anyone out
    assert client.post("/admin/logout").status_code == 400  # nor a forged form
    assert client.get("/api/v1/admin/me").status_code == 200
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert_error(client.get("/api/v1/admin/me"), 401)
    assert client.get("/admin/agents").status_code == 302


def test_a_new_password_or_deactivation_ends_open_sessions(app: Flask) -> None:
    user_id, _ = new_login(app)
    client = app.test_client()
    log_in(client, email_of(app, user_id))
    assert client.get("/api/v1/admin/me").status_code == 200
    with app.app_context():
        accounts.set_password(user_id, "another long password")
    assert_error(client.get("/api/v1/admin/me"), 401)
    assert log_in(client, email_of(app, user_id), "another long password").status_code == 302
    with app.app_context():
        accounts.update_user(user_id, {"active": False}, "owner")
    assert_error(client.get("/api/v1/admin/me"), 401)
    assert (
        log_in(app.test_client(), email_of(app, user_id), "another long password").status_code
        == 401
    )


def test_an_agent_sees_presence_and_may_not_configure(app: Flask, keys: Keys) -> None:
    client = signed_in(app, "agent", keys.agent_id)
    assert client.get("/admin/").headers["Location"] == "/admin/presence"
    for page in (
        "/admin/rules",
        "/admin/agents",
        "/admin/widgets",
        f"/admin/agents/{keys.agent_id}",
    ):
        assert client.get(page).status_code == 403, page
    presence = client.get("/admin/presence")
    assert presence.status_code == 200 and 'aria-pressed="true"' in presence.text
    token = csrf_from(presence.text)
    response = client.post("/admin/presence", data={"presence": "paused", "csrf_token": token})
    assert response.status_code == 302
    assert '<strong id="current-presence">paused</strong>' in client.get("/admin/presence").text
    assert client.post("/admin/rules", data={"name": "x", "csrf_token": token}).status_code == 403
    assert client.get("/admin/tokens").status_code == 200


def test_failed_logins_per_email_are_limited(fresh_app: Flask) -> None:
    user_id, _ = new_login(fresh_app)
    email = email_of(fresh_app, user_id)
    client = fresh_app.test_client()
    for _ in range(5):
        assert log_in(client, email, "wrong password").status_code == 401
    blocked = log_in(client, email)  # even the right password waits now
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 600
    assert "Too many failed attempts" in blocked.text
    # Another login from the same address is not affected by this email's failures.
    other_id, _ = new_login(fresh_app)
    assert log_in(client, email_of(fresh_app, other_id)).status_code == 302


def test_failed_logins_per_address_are_limited(fresh_app: Flask) -> None:
    client = fresh_app.test_client()
    for _ in range(20):
        assert log_in(client, unique_email("guess"), "wrong password").status_code == 401
    user_id, _ = new_login(fresh_app)
    response = log_in(client, email_of(fresh_app, user_id))
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_successful_logins_are_never_limited(fresh_app: Flask) -> None:
    user_id, _ = new_login(fresh_app)
    email = email_of(fresh_app, user_id)
    for _ in range(8):
        client = fresh_app.test_client()
        assert log_in(client, email).status_code == 302
