"""What the services need from the running app: a transaction, the carrier, the clock.

Set up once by `create_app()` (web and worker alike); tasks run inside the app
context (see `jobs.celery_init_app`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy.orm import Session

from ..config import Settings
from ..db import read_scope, session_scope
from ..telephony import Provider


@contextmanager
def transaction() -> Iterator[Session]:
    with session_scope(current_app.extensions["db"]) as session:
        yield session


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only unit of work (never commits; see `db.read_scope`)."""
    with read_scope(current_app.extensions["db"]) as session:
        yield session


def settings() -> Settings:
    return current_app.extensions["settings"]


def provider() -> Provider:
    return current_app.extensions["provider"]


def now() -> datetime:
    return datetime.now(UTC)


def public_url(path: str) -> str:
    return settings().public_url + path
