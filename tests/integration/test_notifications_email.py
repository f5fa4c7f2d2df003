"""The admins' email for missed callbacks, through a real local SMTP server (aiosmtpd), with
login, on SQLite and PostgreSQL. No worker runs: the broker folder's tasks are run by hand.
"""

from __future__ import annotations

import email
import email.policy
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from sqlalchemy import select
from support.app import AUTH_TOKEN, PUBLIC_URL, queued_tasks
from support.carrier import FakeCarrier
from support.ports import free_port

from callback import create_app, flow, jobs
from callback.config import Settings
from callback.models import CallbackRequest, OutgoingMessage
from callback.services import context, machine, notifications
from callback.services.setup import add_widget

ALERTS = "ops@shop.example, boss@shop.example"


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage


class MailServer:
    """aiosmtpd on a free port; it only lets in the login alerts / p@ss."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self._lock = threading.Lock()
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,  # loopback only, in a test
        )

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    @staticmethod
    def _authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"alerts",
            b"p@ss",
        )
        return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself

    def received(self) -> list[Mail]:
        with self._lock:
            return list(self.mails)

    def __enter__(self) -> MailServer:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@contextmanager
def alerting_app(database_url: str, folder: Path, **env: str) -> Iterator[Flask]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(folder),
            "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            **env,
        }
    )
    app = create_app(settings)
    app.extensions["provider"] = FakeCarrier()  # no SMS here: nobody gives consent
    try:
        with app.app_context():
            yield app
    finally:
        app.extensions["db"].kw["bind"].dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path, smtp: MailServer) -> Iterator[Flask]:
    smtp_url = f"smtp://alerts:p%40ss@127.0.0.1:{smtp.port}?from=callback@shop.example"
    with alerting_app(database_url, tmp_path, SMTP_URL=smtp_url, ALERT_EMAIL=ALERTS) as app:
        yield app


def shop() -> str:
    return add_widget("Kettle Shop", region="EE", countries=["EE"], time_zone="Europe/Tallinn")


def request(app: Flask, key: str) -> tuple[str, str]:
    phone = f"+3725{secrets.randbelow(10**7):07d}"
    body = {"widget": key, "phone": phone, "page_title": "Blue Kettle"}
    response = app.test_client().post("/api/v1/callbacks", json=body)
    assert response.status_code == 202, response.text
    return str(response.get_json()["id"]), phone


def fail(callback_id: str) -> list[str]:
    """Nobody can take it, as often as the flow reschedules; the statuses it went through."""
    seen = []
    for _ in range(5):
        with context.transaction() as session:
            callback = machine.lock_callback(session, callback_id)
            assert callback is not None
            if callback.status == "scheduled":
                machine.apply(session, callback, flow.Event(flow.EventType.DUE), context.now())
            machine.apply(
                session, callback, flow.Event(flow.EventType.NO_AGENT_AVAILABLE), context.now()
            )
            seen.append(callback.status)
            if callback.status == "failed":
                return seen
    raise AssertionError(f"never failed: {seen}")


def run_tasks(app: Flask, done: set[int]) -> None:
    while pending := [
        (i, name, args)
        for i, (name, args) in enumerate(queued_tasks(app))
        if i not in done and name in (jobs.NOTIFY, jobs.SEND_MESSAGE)
    ]:
        for index, name, args in pending:
            done.add(index)
            if name == jobs.NOTIFY:
                notifications.notify(*args)
            else:
                notifications.send_message(*args)


def emails_of(callback_id: str) -> list[OutgoingMessage]:
    with context.transaction() as session:
        return list(
            session.scalars(
                select(OutgoingMessage)
                .where(OutgoingMessage.callback_id == callback_id)
                .order_by(OutgoingMessage.id)
            )
        )


def test_a_missed_callback_is_emailed_to_the_admins(app: Flask, smtp: MailServer) -> None:
    key = shop()
    callback_id, phone = request(app, key)
    statuses = fail(callback_id)

    run_tasks(app, set())

    missed = [m for m in smtp.received() if m.message["Subject"].startswith("Missed callback")]
    assert len(missed) == 1
    mail = missed[0]
    assert mail.sender == "callback@shop.example"
    assert mail.recipients == ["ops@shop.example", "boss@shop.example"]
    assert mail.message["Subject"] == "Missed callback on Kettle Shop: no agent available"
    text = mail.message.get_content()
    assert f"{PUBLIC_URL}/admin/history/{callback_id}" in text
    assert "Blue Kettle" in text and key in text
    assert phone not in text and phone[-6:] not in text  # masked: "+372 5x•• ••••"
    assert "+372 5" in text
    recorded = [m for m in emails_of(callback_id) if m.kind == "missed_callback"]
    assert [(m.channel, m.status) for m in recorded] == [("email", "sent")]
    # Rescheduled first because every agent was silent: the admins heard of that too.
    if "scheduled" in statuses:
        assert any(
            m.message["Subject"].startswith("Nobody took a callback") for m in smtp.received()
        )


def test_the_email_goes_out_once_however_often_the_tasks_run(app: Flask, smtp: MailServer) -> None:
    callback_id, _ = request(app, shop())
    fail(callback_id)
    run_tasks(app, set())
    count = len(smtp.received())

    run_tasks(app, set())  # every task delivered a second time
    for message in emails_of(callback_id):
        notifications.send_message(message.id)

    assert len(smtp.received()) == count


def test_a_callback_that_has_not_failed_sends_no_email(app: Flask, smtp: MailServer) -> None:
    callback_id, _ = request(app, shop())

    run_tasks(app, set())

    assert emails_of(callback_id) == []
    assert smtp.received() == []


def test_no_email_when_alert_email_is_unset(
    database_url: str, tmp_path: Path, smtp: MailServer
) -> None:
    with alerting_app(database_url, tmp_path) as app:
        callback_id, _ = request(app, shop())
        fail(callback_id)
        assert not [name for name, _ in queued_tasks(app) if name == jobs.NOTIFY]
        assert emails_of(callback_id) == []
    assert smtp.received() == []


def test_an_unreachable_smtp_server_is_recorded_not_raised(
    database_url: str, tmp_path: Path
) -> None:
    dead = f"smtp://127.0.0.1:{free_port()}"
    with alerting_app(database_url, tmp_path, SMTP_URL=dead, ALERT_EMAIL="ops@shop.example") as app:
        callback_id, _ = request(app, shop())
        fail(callback_id)
        run_tasks(app, set())
        (missed,) = [m for m in emails_of(callback_id) if m.kind == "missed_callback"]

    assert missed.status == "failed"
    assert missed.detail is not None and "ConnectionRefusedError" in missed.detail


def test_a_wrong_smtp_password_is_recorded(
    database_url: str, tmp_path: Path, smtp: MailServer
) -> None:
    url = f"smtp://alerts:wrong@127.0.0.1:{smtp.port}"
    with alerting_app(database_url, tmp_path, SMTP_URL=url, ALERT_EMAIL="ops@shop.example") as app:
        callback_id, _ = request(app, shop())
        fail(callback_id)
        run_tasks(app, set())
        (missed,) = [m for m in emails_of(callback_id) if m.kind == "missed_callback"]
        with context.transaction() as session:  # the callback itself is untouched by it
            assert session.get_one(CallbackRequest, callback_id).status == "failed"

    assert (missed.status, smtp.received()) == ("failed", [])
    assert missed.detail is not None and "SMTPAuthenticationError" in missed.detail
