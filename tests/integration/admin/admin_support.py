"""Helpers for the admin API tests (imported by their conftest and the test modules)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct horse battery staple"


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


def e164_agent() -> str:
    """A valid Estonian mobile number, different per call (tests share a database)."""
    return "+3725" + str(secrets.randbelow(10**6)).zfill(6) + "1"


@dataclass
class Keys:
    owner: str
    owner_read: str
    admin: str
    agent: str
    agent_id: int
    owner_id: int
    agent_user_id: int


@dataclass
class Api:
    client: FlaskClient
    keys: Keys

    def call(
        self, method: str, path: str, token: str | None = "owner", **kwargs: Any
    ) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = "Bearer " + getattr(self.keys, token, token)
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("DELETE", path, **kwargs)


def assert_error(
    response: TestResponse, status: int, code: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """The response has `status` and the error shape (with `code` and `field` when given)."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str), error
    assert set(error) <= {"code", "message", "field"}, error
    if code is not None:
        assert error["code"] == code, error
    if field is not None:
        assert error.get("field") == field, error
    return error  # type: ignore[no-any-return]


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
    )


def new_login(
    app: Flask,
    role: str = "admin",
    scopes: tuple[str, ...] = ("read", "write"),
    agent_id: int | None = None,
) -> tuple[int, str]:
    """A login of its own for a test that revokes or deactivates: (user id, token)."""
    from callback.services import accounts

    with app.app_context():
        user_id = accounts.create_user(unique_email(role), PASSWORD, role, agent_id)
        return user_id, accounts.create_token(user_id, unique("token"), list(scopes))
