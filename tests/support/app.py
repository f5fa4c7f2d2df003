"""A Callback app for tests that go through its HTTP layer with Flask's test client.

`migrated_database()` yields the URL of a freshly migrated database: a SQLite file, or, for the
"postgresql" backend (when TEST_DATABASE_URL is set), a schema of its own on that server reached
through `search_path` and dropped afterwards, so a shared database is left as found.

`running_app()` builds the app on it as production does, `create_app(Settings.from_env(...))`.
Without REDIS_URL its Celery broker is a folder under the instance dir: tasks the app enqueues
become files there (`queued_tasks()` reads them) and, with no worker running, stay there.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from callback import create_app
from callback.config import Settings
from callback.db import make_engine
from callback.migrate import upgrade
from callback.models import Event
from callback.services import context

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
PUBLIC_URL = "http://127.0.0.1:5000"
# Signs (and verifies) the carrier's webhooks; deliberately not the development default.
AUTH_TOKEN = "test-auth-token-for-webhooks"

# For `@pytest.fixture(params=BACKENDS)`: SQLite always, PostgreSQL when TEST_DATABASE_URL is set.
BACKENDS = (
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL not set"),
    ),
)


@contextmanager
def migrated_database(backend: str, folder: Path, sqlite_name: str = "t.db") -> Iterator[str]:
    """A migrated database for `backend`: a SQLite file in `folder`, or a private schema of
    TEST_DATABASE_URL (reached through search_path, dropped afterwards)."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / sqlite_name}"
        upgrade(url)
        yield url
        return

    schema = f"test_{secrets.token_hex(6)}"
    admin = make_engine(TEST_DATABASE_URL)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = (
            make_url(TEST_DATABASE_URL)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        upgrade(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def is_postgresql(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


@contextmanager
def running_app(database_url: str, instance_dir: Path, **env: str) -> Iterator[Flask]:
    """The app on `database_url`, its broker folder in `instance_dir`; its pool closed after.
    `env`: more settings, as environment variables (RATE_LIMIT_PER_PHONE="1 per minute")."""
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(instance_dir),
            "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            **env,
        }
    )
    app = create_app(settings)
    try:
        yield app
    finally:
        app.extensions["db"].kw["bind"].dispose()


def queued_tasks(app: Flask) -> list[tuple[str, list[Any]]]:
    """(task name, args) of every message waiting in the app's filesystem broker."""
    folder = app.extensions["settings"].instance_dir / "broker"
    tasks = []
    for path in sorted(folder.glob("*.msg")):
        message = json.loads(path.read_text())
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args))
    return tasks


def event_types(app: Flask, callback_id: str) -> list[str]:
    """The callback's timeline, read from the `events` table in order."""
    with app.app_context(), context.transaction() as session:
        return list(
            session.scalars(
                select(Event.type)
                .where(Event.callback_id == callback_id)
                .order_by(Event.at, Event.id)
            )
        )


def xfail_on_postgresql(request: pytest.FixtureRequest, database_url: str, reason: str) -> None:
    """Mark the running test as a strict xfail when it runs on PostgreSQL (a backend-only bug).

    Call it from the test body: pytest evaluates marks added during the call after it ends.
    """
    if is_postgresql(database_url):
        request.applymarker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))
