"""Schemathesis against the app's own `/api/openapi.json`, in-process (WSGI), on SQLite and
(with TEST_DATABASE_URL) PostgreSQL: for every documented operation, public and admin (with
an owner's read+write token), generated requests — valid and invalid — never get a 5xx, and
every 4xx is in the error shape `{"error": {"code", "message", "field"?}}`.

The example count is bounded (EXAMPLES per operation, no shrinking database) so the whole
module runs in well under a minute per backend. The public rate limits are raised for this
app: the point is to reach the intake's validation, not the limiter's 429 (which has a test
of its own).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from support.app import AUTH_TOKEN, PUBLIC_URL

from callback import create_app
from callback.config import Settings
from callback.services import accounts
from callback.services.setup import add_agent, add_widget

EXAMPLES = 8


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    settings_ = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp_path_factory.mktemp("instance")),
            "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "RATE_LIMIT_PER_IP": "100000 per minute",
            "RATE_LIMIT_PER_PHONE": "100000 per minute",
            "RATE_LIMIT_PER_WIDGET": "100000 per minute",
            "RATE_LIMIT_STATUS": "100000 per minute",
        }
    )
    app = create_app(settings_)
    with app.app_context():
        add_agent("Anna", "+37255550101", rule="schemathesis")
        add_widget("Shop", key="schemathesis", region="EE", countries=["EE"], rule="schemathesis")
    yield app
    app.extensions["db"].kw["bind"].dispose()


@pytest.fixture(scope="module")
def owner(app: Flask) -> dict[str, str]:
    with app.app_context():
        user = accounts.create_user(
            f"owner-{secrets.token_hex(4)}@example.com", "correct horse battery", "owner"
        )
        return {"Authorization": f"Bearer {accounts.create_token(user, 'fuzz', ['read', 'write'])}"}


def assert_error_shape(status: int, body: Any, text: str) -> None:
    assert isinstance(body, dict) and set(body) == {"error"}, f"{status}: {text[:300]}"
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], text[:300]
    assert isinstance(error.get("message"), str) and error["message"].strip(), text[:300]
    if "field" in error:
        assert isinstance(error["field"], str), text[:300]


def check(case: schemathesis.Case, owner: dict[str, str]) -> int:
    response = case.call(headers={**(case.headers or {}), **owner})
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.text[:300]}"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        assert_error_shape(response.status_code, body, f"{where}: {response.text}")
    return response.status_code


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_and_every_4xx_in_the_error_shape(
    app: Flask, owner: dict[str, str], mode: GenerationMode
) -> None:
    """Valid requests (positive) and requests that break the schema (negative)."""
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    statuses: set[int] = set()
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            # No shrinking: the first failing request is reported as it is, in bounded time.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            statuses.add(check(case, owner))

        try:
            run()
        except Exception as error:  # one line per operation, all of them reported at once
            failures.append(f"{operation.label}: {str(error).splitlines()[0][:400]}")
    assert operations >= 20, "the document lists every /api/ operation"
    assert not failures, "\n".join(failures)
    # The requests reached the views: answers and refusals both came back.
    assert {200, 422} <= statuses if mode == GenerationMode.POSITIVE else {400, 422} & statuses
