"""CRM webhooks in-process on SQLite and PostgreSQL: the hook, signing, retries, order, the log.

The app's broker is a folder and no worker runs: what the services enqueue is read back from
it (`queued_tasks`) and the task bodies are called directly. The CRM is a real HTTP server of
the test's own that checks nothing itself but records every request, so each test verifies the
signature it received. Time passing is shown by moving `next_attempt_at` back, not by sleeping.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, update
from support.app import queued_tasks, running_app
from support.carrier import FakeCarrier
from support.crm import Crm, Hit
from support.ports import free_port

from callback import jobs
from callback.cli import main as cli
from callback.models import (
    CallbackRequest,
    StatusChange,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from callback.services import context, dispatch, notifications, sweeper
from callback.services.admin_errors import AdminError
from callback.services.notifications import webhooks
from callback.services.notifications.signature import verify
from callback.services.setup import add_agent, add_widget

# -- a CRM of the test's own ------------------------------------------------------------------


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with running_app(database_url, tmp_path) as app:
        app.extensions["provider"] = FakeCarrier()
        with app.app_context():
            yield app


@pytest.fixture
def crm() -> Iterator[Crm]:
    server = Crm()
    yield server
    server.stop()


def number() -> str:
    return f"+3725{secrets.randbelow(10**7):07d}"


def shop(agents: int = 0) -> str:
    rule = f"rule-{secrets.token_hex(4)}"
    for index in range(agents):
        add_agent(f"Agent {index}", number(), rule=rule)
    return add_widget("Kettle Shop", region="EE", countries=["EE"], rule=rule)


def request(app: Flask, key: str, **fields: object) -> str:
    body = {"widget": key, "phone": number(), "page_url": "https://shop.example/kettle", **fields}
    response = app.test_client().post("/api/v1/callbacks", json=body)
    assert response.status_code == 202, response.text
    return str(response.get_json()["id"])


def notify_tasks(app: Flask, callback_id: str) -> list[list[Any]]:
    return [
        args for name, args in queued_tasks(app) if name == jobs.NOTIFY and args[0] == callback_id
    ]


def run_notifications(app: Flask, callback_id: str) -> None:
    """Run every notify task queued for this callback, as the worker would."""
    for args in notify_tasks(app, callback_id):
        notifications.notify(*args)


def deliveries(callback_id: str) -> list[WebhookDelivery]:
    with context.transaction() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.callback_id == callback_id)
                .order_by(WebhookDelivery.change_id)
            )
        )


def attempts(delivery_id: int) -> list[WebhookAttempt]:
    with context.transaction() as session:
        return list(
            session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.attempt)
            )
        )


def make_due(delivery_id: int) -> None:
    """Time passes: the delivery's next attempt is due now."""
    with context.transaction() as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(next_attempt_at=context.now() - timedelta(seconds=1))
        )


def assert_signed(hit: Hit, secret: str) -> None:
    assert hit.headers["Content-Type"] == "application/json"
    assert verify(secret, hit.headers.get("X-Callback-Signature"), hit.body, now=time.time())


# -- the hook ---------------------------------------------------------------------------------


def test_a_status_change_queues_one_notify_task_after_the_commit(app: Flask) -> None:
    key = shop(agents=1)
    notifications.add_endpoint("https://crm.example/hook", key)

    callback_id = request(app, key)

    assert notify_tasks(app, callback_id) == [
        [callback_id, "queued", deliveries(callback_id)[0].change_id]
    ]
    # The dispatcher keeps only its hang-ups from the effects of `dispatched`: the hook does
    # not depend on effects, so this change is announced as well.
    dispatch.dispatch(callback_id)
    assert [args[1] for args in notify_tasks(app, callback_id)] == ["queued", "calling_agent"]
    assert [d.status for d in deliveries(callback_id)] == ["pending", "pending"]


def test_a_scheduled_callback_coming_due_in_the_sweep_is_announced(app: Flask) -> None:
    key = shop(agents=1)
    notifications.add_endpoint("https://crm.example/hook", key)
    later = (context.now() + timedelta(hours=1)).isoformat()
    callback_id = request(app, key, scheduled_for=later)
    with context.transaction() as session:  # an hour passes
        session.get_one(CallbackRequest, callback_id).due_at = context.now() - timedelta(seconds=1)

    sweeper.sweep()  # applies `due`; the sweep reads only `dispatch` from the effects

    assert [args[1] for args in notify_tasks(app, callback_id)] == ["scheduled", "queued"]


def test_nobody_listening_means_no_task_and_no_row(app: Flask) -> None:
    callback_id = request(app, shop())

    assert notify_tasks(app, callback_id) == []
    assert [name for name, _ in queued_tasks(app)] == [jobs.DISPATCH]
    with context.transaction() as session:
        assert (
            session.scalars(
                select(StatusChange).where(StatusChange.callback_id == callback_id)
            ).all()
            == []
        )


def test_a_widget_endpoint_hears_only_its_own_widget(app: Flask) -> None:
    mine, other = shop(), shop()
    notifications.add_endpoint("https://crm.example/hook", mine)

    assert deliveries(request(app, other)) == []
    assert len(deliveries(request(app, mine))) == 1


def test_an_endpoint_for_every_widget_hears_them_all(app: Flask) -> None:
    added = notifications.add_endpoint("https://crm.example/all")
    try:
        assert len(deliveries(request(app, shop()))) == 1
        assert len(deliveries(request(app, shop()))) == 1
    finally:
        notifications.remove_endpoint(added.endpoint.id)


# -- delivering -------------------------------------------------------------------------------


def test_a_delivery_is_a_signed_json_post_and_is_logged(app: Flask, crm: Crm) -> None:
    key = shop()
    secret = notifications.add_endpoint(crm.url, key).secret
    callback_id = request(app, key)
    run_notifications(app, callback_id)
    (delivery,) = deliveries(callback_id)
    assert (jobs.DELIVER_WEBHOOK, [delivery.id]) in queued_tasks(app)

    assert notifications.deliver_webhook(delivery.id) is None

    (hit,) = crm.received()
    assert_signed(hit, secret)
    assert hit.headers["X-Callback-Delivery"] == str(delivery.id)
    document = hit.document
    assert document["event"] == "callback.status"
    assert (document["id"], document["status"], document["reason"]) == (callback_id, "queued", None)
    assert document["widget"] == key
    assert document["page_url"] == "https://shop.example/kettle"
    with context.transaction() as session:
        phone = session.get_one(CallbackRequest, callback_id).phone
    assert phone not in hit.body.decode() and phone[-6:] not in hit.body.decode()
    (logged,) = attempts(delivery.id)
    assert (logged.attempt, logged.status_code, logged.error, logged.retry_in_s) == (
        1,
        200,
        None,
        None,
    )
    assert logged.duration_ms >= 0
    assert deliveries(callback_id)[0].status == "delivered"


def test_5xx_and_429_are_retried_with_backoff_until_delivered(app: Flask, crm: Crm) -> None:
    key = shop()
    secret = notifications.add_endpoint(crm.url, key).secret
    callback_id = request(app, key)
    run_notifications(app, callback_id)
    (delivery,) = deliveries(callback_id)
    crm.answer(500, 429)

    first_wait = notifications.deliver_webhook(delivery.id)
    assert first_wait is not None and 1 <= first_wait <= webhooks.RETRY_BASE_S
    # A second task for the same delivery before the wait is over does nothing.
    assert notifications.deliver_webhook(delivery.id) is None
    assert len(crm.received()) == 1

    make_due(delivery.id)
    assert notifications.deliver_webhook(delivery.id) == 7  # the receiver's Retry-After
    make_due(delivery.id)
    assert notifications.deliver_webhook(delivery.id) is None

    hits = crm.received()
    assert len(hits) == 3
    for hit in hits:
        assert_signed(hit, secret)
        assert hit.body == hits[0].body  # the same document every time
        assert hit.headers["X-Callback-Delivery"] == str(delivery.id)
    log = [(a.attempt, a.status_code, a.error, a.retry_in_s) for a in attempts(delivery.id)]
    assert log == [(1, 500, "HTTP 500", first_wait), (2, 429, "HTTP 429", 7), (3, 200, None, None)]
    assert deliveries(callback_id)[0].status == "delivered"


def test_a_4xx_is_not_retried(app: Flask, crm: Crm) -> None:
    key = shop()
    notifications.add_endpoint(crm.url, key)
    callback_id = request(app, key)
    run_notifications(app, callback_id)
    (delivery,) = deliveries(callback_id)
    crm.answer(410)

    assert notifications.deliver_webhook(delivery.id) is None

    assert [(a.status_code, a.retry_in_s) for a in attempts(delivery.id)] == [(410, None)]
    assert deliveries(callback_id)[0].status == "failed"


def test_a_network_error_is_logged_and_retried(app: Flask) -> None:
    key = shop()
    notifications.add_endpoint(f"http://127.0.0.1:{free_port()}/nobody-listens", key)
    callback_id = request(app, key)
    run_notifications(app, callback_id)
    (delivery,) = deliveries(callback_id)

    wait = notifications.deliver_webhook(delivery.id)

    assert wait is not None
    (logged,) = attempts(delivery.id)
    assert logged.status_code is None
    assert logged.error is not None and logged.error.startswith("ConnectionError")
    assert deliveries(callback_id)[0].status == "pending"


def test_after_the_last_attempt_the_delivery_fails(app: Flask, crm: Crm) -> None:
    key = shop()
    notifications.add_endpoint(crm.url, key)
    callback_id = request(app, key)
    run_notifications(app, callback_id)
    (delivery,) = deliveries(callback_id)
    with context.transaction() as session:
        session.get_one(WebhookDelivery, delivery.id).attempts = webhooks.MAX_ATTEMPTS - 1
    crm.answer(503)

    assert notifications.deliver_webhook(delivery.id) is None

    assert [(a.attempt, a.status_code) for a in attempts(delivery.id)] == [
        (webhooks.MAX_ATTEMPTS, 503)
    ]
    assert deliveries(callback_id)[0].status == "failed"


def test_redelivered_tasks_send_nothing_twice(app: Flask, crm: Crm) -> None:
    key = shop()
    notifications.add_endpoint(crm.url, key)
    callback_id = request(app, key)
    (args,) = notify_tasks(app, callback_id)

    notifications.notify(*args)
    notifications.notify(*args)  # the broker delivered it again
    (delivery,) = deliveries(callback_id)
    assert queued_tasks(app).count((jobs.DELIVER_WEBHOOK, [delivery.id])) == 1
    notifications.deliver_webhook(delivery.id)
    notifications.deliver_webhook(delivery.id)

    assert len(crm.received()) == 1
    assert len(attempts(delivery.id)) == 1


def test_one_callbacks_changes_reach_an_endpoint_in_order(app: Flask, crm: Crm) -> None:
    key = shop(agents=1)
    notifications.add_endpoint(crm.url, key)
    callback_id = request(app, key)
    dispatch.dispatch(callback_id)
    run_notifications(app, callback_id)
    first, second = deliveries(callback_id)
    crm.answer(500)

    assert notifications.deliver_webhook(first.id) is not None  # failed once, will retry
    assert notifications.deliver_webhook(second.id) is None  # waits behind the first
    assert [hit.document["status"] for hit in crm.received()] == ["queued"]

    make_due(first.id)
    notifications.deliver_webhook(first.id)
    # The first one, done, starts the one behind it.
    assert (jobs.DELIVER_WEBHOOK, [second.id]) in queued_tasks(app)
    notifications.deliver_webhook(second.id)
    assert [hit.document["status"] for hit in crm.received()] == [
        "queued",
        "queued",
        "calling_agent",
    ]


def test_a_paused_endpoint_gets_nothing_more(app: Flask, crm: Crm) -> None:
    key = shop()
    endpoint = notifications.add_endpoint(crm.url, key).endpoint
    callback_id = request(app, key)
    run_notifications(app, callback_id)
    (delivery,) = deliveries(callback_id)

    assert notifications.set_active(endpoint.id, False).active is False
    notifications.deliver_webhook(delivery.id)

    assert crm.received() == []
    assert [a.error for a in attempts(delivery.id)] == ["the endpoint was removed or deactivated"]
    assert deliveries(callback_id)[0].status == "failed"
    assert deliveries(request(app, key)) == []  # and new changes are not queued for it


# -- the sweep --------------------------------------------------------------------------------


def test_the_sweep_sends_again_what_the_broker_lost(app: Flask, crm: Crm) -> None:
    key = shop(agents=1)
    notifications.add_endpoint(crm.url, key)
    callback_id = request(app, key)
    dispatch.dispatch(callback_id)
    (queued_change, calling_change) = [args[2] for args in notify_tasks(app, callback_id)]
    with context.transaction() as session:  # both changes are 31 s old and were never processed
        session.execute(
            update(StatusChange)
            .where(StatusChange.callback_id == callback_id)
            .values(at=context.now() - timedelta(seconds=31))
        )
    before = len(queued_tasks(app))

    notifications.sweep()

    again = queued_tasks(app)[before:]
    assert (jobs.NOTIFY, [callback_id, "queued", queued_change]) in again
    assert (jobs.NOTIFY, [callback_id, "calling_agent", calling_change]) in again
    # Their deliveries are overdue too, but only the first in line is sent again.
    first, second = deliveries(callback_id)
    for delivery in (first, second):
        with context.transaction() as session:
            session.get_one(WebhookDelivery, delivery.id).next_attempt_at -= timedelta(seconds=31)
    before = len(queued_tasks(app))
    notifications.sweep()
    resent = [args for name, args in queued_tasks(app)[before:] if name == jobs.DELIVER_WEBHOOK]
    assert resent == [[first.id]]


# -- managing endpoints -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "missing_url"),
        ("ftp://crm.example/hook", "invalid_url"),
        ("crm.example/hook", "invalid_url"),
        ("https://", "invalid_url"),
        ("https://crm.example:port/hook", "invalid_url"),
        ("https://crm.example/ho ok", "invalid_url"),
        ("https://crm.example/hook#x", "invalid_url"),
        ("https://crm.example/" + "a" * 2048, "invalid_url"),
    ],
)
def test_a_bad_url_is_refused_with_a_code(app: Flask, url: str, code: str) -> None:
    with pytest.raises(AdminError) as refused:
        notifications.add_endpoint(url)
    assert (refused.value.code, refused.value.field, refused.value.status) == (code, "url", 422)


def test_an_unknown_widget_or_endpoint_is_refused(app: Flask) -> None:
    with pytest.raises(AdminError) as unknown:
        notifications.add_endpoint("https://crm.example/hook", "no-such-widget")
    assert (unknown.value.code, unknown.value.field) == ("unknown_widget", "widget")
    with pytest.raises(AdminError) as missing:
        notifications.set_active(987_654, False)
    assert (missing.value.code, missing.value.status) == ("not_found", 404)


def test_endpoints_are_listed_without_their_secret_and_can_be_rotated(app: Flask) -> None:
    key = shop()
    added = notifications.add_endpoint("https://crm.example/a", key, "Pipedrive")

    (listed,) = notifications.list_endpoints(key)
    assert (listed.id, listed.url, listed.widget, listed.description) == (
        added.endpoint.id,
        "https://crm.example/a",
        key,
        "Pipedrive",
    )
    assert added.secret.startswith(listed.secret_hint.rstrip("…"))
    assert added.secret not in repr(listed)
    rotated = notifications.rotate_secret(added.endpoint.id)
    assert rotated != added.secret and rotated.startswith("whsec_")
    notifications.remove_endpoint(added.endpoint.id)
    assert notifications.list_endpoints(key) == []


def test_the_delivery_log_shows_each_attempt(app: Flask, crm: Crm) -> None:
    key = shop()
    endpoint = notifications.add_endpoint(crm.url, key).endpoint
    callback_id = request(app, key)
    run_notifications(app, callback_id)
    (delivery,) = deliveries(callback_id)
    crm.answer(502)
    notifications.deliver_webhook(delivery.id)
    make_due(delivery.id)
    notifications.deliver_webhook(delivery.id)

    (entry,) = notifications.delivery_log(endpoint_id=endpoint.id)

    assert (entry["callback"], entry["status_change"], entry["state"]) == (
        callback_id,
        "queued",
        "delivered",
    )
    assert [(a["attempt"], a["status_code"]) for a in entry["attempts"]] == [(1, 502), (2, 200)]
    with pytest.raises(AdminError):
        notifications.delivery_log(limit=0)


def test_the_cli_adds_an_endpoint_and_prints_its_secret_once(
    database_url: str, tmp_path: Path, app: Flask
) -> None:
    key = shop()
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path)}
    runner = CliRunner()

    added = runner.invoke(
        cli, ["webhook", "add", "--url", "https://crm.example/cli", "--widget", key], env=env
    )
    listed = runner.invoke(cli, ["webhook", "list"], env=env)
    refused = runner.invoke(cli, ["webhook", "add", "--url", "not a url"], env=env)

    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    with context.transaction() as session:
        stored = session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.url == "https://crm.example/cli")
        ).one()
    assert stored.secret == secret
    assert f"webhook {stored.id} for widget {key}" in added.output
    assert listed.exit_code == 0 and "https://crm.example/cli" in listed.output
    assert secret not in listed.output
    assert refused.exit_code == 1 and "one line" in refused.output
