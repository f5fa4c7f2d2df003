"""A broker that is down when a callback is accepted: the row is the record, not the task.

Intake commits first and enqueues after; when the enqueue fails it is logged (no number) and
the visitor still gets their callback, which the beat's sweep dispatches once the broker is
back (the real-process half of this is `test_outages.py`, with Redis).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from support.app import migrated_database
from support.proxy import TcpProxy

from callback import create_app, jobs
from callback.config import Settings
from callback.models import CallbackRequest
from callback.services import context
from callback.services.intake import request_callback
from callback.services.setup import add_agent, add_widget

CUSTOMER = "+37255670999"


@pytest.fixture
def app_with_broker_down(tmp_path: Path) -> Iterator[Flask]:
    # A Redis address that resets every connection: the broker is down, not misconfigured.
    proxy = TcpProxy("127.0.0.1", 9)
    proxy.down()
    with migrated_database("sqlite", tmp_path) as url:
        settings = Settings.from_env(
            {
                "DATABASE_URL": url,
                "INSTANCE_DIR": str(tmp_path),
                "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
            }
        )
        app = create_app(settings)
        yield app
        app.extensions["db"].kw["bind"].dispose()
    proxy.close()


def test_intake_accepts_and_stores_when_the_broker_is_down(app_with_broker_down, caplog):
    caplog.set_level(logging.WARNING, logger="callback.jobs")
    with app_with_broker_down.app_context():
        add_agent("Anna", "+37255670998")
        key = add_widget("Shop", region="EE", countries=["EE"])
        started = time.monotonic()
        accepted = request_callback({"widget": key, "phone": CUSTOMER})
        elapsed = time.monotonic() - started
        with context.transaction() as session:
            row = session.scalars(
                select(CallbackRequest).where(CallbackRequest.id == accepted.id)
            ).one()
            assert row.status == "queued"
    assert elapsed < 5, "a dead broker must not hold the visitor's request"
    warnings = [r.getMessage() for r in caplog.records if r.name == "callback.jobs"]
    assert any("broker unavailable" in w and jobs.DISPATCH in w for w in warnings), warnings
    assert not any("5567" in w or "55 67" in w for w in warnings), warnings


def test_other_enqueue_errors_are_not_swallowed(app_with_broker_down):
    with app_with_broker_down.app_context(), pytest.raises(KeyError):
        # A programming error (no such Celery app) must still surface.
        app_with_broker_down.extensions.pop("celery")
        jobs.enqueue(jobs.DISPATCH, "x")
