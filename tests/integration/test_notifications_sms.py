"""SMS to the visitor through the carrier simulator (a real process, over HTTP with the official
twilio client), on SQLite and PostgreSQL: confirmation, reminder, apology, consent, mobiles only.

No worker runs: the app's broker is a folder, and the tasks it holds are run by calling their
service functions. What the carrier received is read back from the simulator's `/sim/messages`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update
from support.app import AUTH_TOKEN, PUBLIC_URL, queued_tasks
from support.ports import free_port

from callback import create_app, flow, jobs, processes
from callback.config import DEV_CALLER_ID, Settings
from callback.models import CallbackRequest, OutgoingMessage, StatusChange, Widget
from callback.services import context, machine, notifications
from callback.services.notifications.texts import say_when
from callback.services.setup import add_widget

TALLINN = ZoneInfo("Europe/Tallinn")
LANDLINE = "+3726123456"  # an Estonian fixed line: callable, but cannot receive SMS


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = processes.start(
        processes.callback_command("simulator", "--port", str(port), "--auth-token", AUTH_TOKEN),
        health_url=f"{base_url}/healthz",
    )
    yield base_url
    processes.stop(process)


@contextmanager
def notifying_app(database_url: str, folder: Path, simulator: str, **env: str) -> Iterator[Flask]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(folder),
            "PUBLIC_URL": PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE": simulator,
            **env,
        }
    )
    app = create_app(settings)
    try:
        with app.app_context():
            yield app
    finally:
        app.extensions["db"].kw["bind"].dispose()


@pytest.fixture
def sim(simulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[requests.Session]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the twilio client's requests
    http = requests.Session()
    http.trust_env = False
    assert http.post(f"{simulator}/sim/reset").status_code == 200
    yield http
    http.close()


@pytest.fixture
def app(
    database_url: str, tmp_path: Path, simulator: str, sim: requests.Session
) -> Iterator[Flask]:
    with notifying_app(database_url, tmp_path, simulator) as app:
        yield app


def sent_sms(sim: requests.Session, simulator: str) -> list[dict[str, Any]]:
    return sim.get(f"{simulator}/sim/messages").json()["messages"]  # type: ignore[no-any-return]


def mobile() -> str:
    return f"+3725{secrets.randbelow(10**7):07d}"


def shop(language: str = "en") -> str:
    key = add_widget("Kettle Shop", region="EE", countries=["EE"], time_zone="Europe/Tallinn")
    with context.transaction() as session:
        session.scalars(select(Widget).where(Widget.public_key == key)).one().language = language
    return key


def tomorrow_at_ten() -> datetime:
    today = datetime.now(TALLINN).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), TALLINN).replace(
        hour=10
    )


def request(app: Flask, key: str, phone: str, **fields: object) -> dict[str, Any]:
    response = app.test_client().post(
        "/api/v1/callbacks", json={"widget": key, "phone": phone, **fields}
    )
    assert response.status_code == 202, response.text
    return response.get_json()  # type: ignore[no-any-return]


def run_tasks(app: Flask, done: set[int] | None = None) -> None:
    """Run the notification tasks waiting in the broker folder (once each), as the worker would."""
    seen = done if done is not None else set()
    while True:
        pending = [
            (index, name, args)
            for index, (name, args) in enumerate(queued_tasks(app))
            if index not in seen and name in (jobs.NOTIFY, jobs.SEND_MESSAGE)
        ]
        if not pending:
            return
        for index, name, args in pending:
            seen.add(index)
            if name == jobs.NOTIFY:
                notifications.notify(*args)
            else:
                notifications.send_message(*args)


def messages_of(callback_id: str) -> list[OutgoingMessage]:
    with context.transaction() as session:
        return list(
            session.scalars(
                select(OutgoingMessage)
                .where(OutgoingMessage.callback_id == callback_id)
                .order_by(OutgoingMessage.id)
            )
        )


def apply(callback_id: str, event: flow.EventType) -> None:
    with context.transaction() as session:
        callback = machine.lock_callback(session, callback_id)
        assert callback is not None
        machine.apply(session, callback, flow.Event(event), context.now())


def status_of(callback_id: str) -> str:
    with context.transaction() as session:
        return session.get_one(CallbackRequest, callback_id).status


# -- confirmation -----------------------------------------------------------------------------


def test_a_scheduled_callback_is_confirmed_in_the_visitors_language(
    app: Flask, sim: requests.Session, simulator: str
) -> None:
    phone = mobile()
    accepted = request(
        app,
        shop(),
        phone,
        scheduled_for=tomorrow_at_ten().isoformat(),
        language="et-EE",
        sms_consent=True,
    )
    assert accepted["status"] == "scheduled"
    assert [name for name, _ in queued_tasks(app)] == [jobs.NOTIFY]

    run_tasks(app)

    (sms,) = sent_sms(sim, simulator)
    assert (sms["to"], sms["from"]) == (phone, DEV_CALLER_ID)
    assert sms["body"] == "Kettle Shop: aitäh! Helistame teile tagasi homme kell 10:00."
    (recorded,) = messages_of(accepted["id"])
    assert (recorded.channel, recorded.kind, recorded.status) == ("sms", "confirmation", "sent")
    assert (recorded.language, recorded.provider_sid) == ("et", sms["sid"])
    assert recorded.promised_at == tomorrow_at_ten()


def test_the_widgets_language_then_english_when_the_visitors_is_unknown(
    app: Flask, sim: requests.Session, simulator: str
) -> None:
    when = tomorrow_at_ten().isoformat()
    request(app, shop("fi"), mobile(), scheduled_for=when, language="sv", sms_consent=True)
    request(app, shop("xx"), mobile(), scheduled_for=when, language="sv", sms_consent=True)

    run_tasks(app)

    bodies = sorted(sms["body"] for sms in sent_sms(sim, simulator))
    assert bodies == [
        "Kettle Shop: kiitos! Soitamme sinulle huomenna klo 10.00.",
        "Kettle Shop: thank you! We will call you back tomorrow at 10:00.",
    ]


def test_without_consent_no_sms_and_not_even_a_task(
    app: Flask, sim: requests.Session, simulator: str
) -> None:
    accepted = request(app, shop(), mobile(), scheduled_for=tomorrow_at_ten().isoformat())

    assert queued_tasks(app) == []
    assert messages_of(accepted["id"]) == []
    assert sent_sms(sim, simulator) == []


def test_a_landline_gets_no_sms_even_with_consent(
    app: Flask, sim: requests.Session, simulator: str
) -> None:
    key = shop()
    # With an endpoint listening the change is recorded, so the SMS decision is made and kept.
    notifications.add_endpoint("https://crm.example/hook", key)

    accepted = request(
        app, key, LANDLINE, scheduled_for=tomorrow_at_ten().isoformat(), sms_consent=True
    )
    run_tasks(app)

    (skipped,) = messages_of(accepted["id"])
    assert (skipped.status, skipped.detail, skipped.body) == ("skipped", "not_mobile", "")
    assert not [name for name, _ in queued_tasks(app) if name == jobs.SEND_MESSAGE]
    assert sent_sms(sim, simulator) == []


def test_a_redelivered_task_sends_no_second_sms(
    app: Flask, sim: requests.Session, simulator: str
) -> None:
    accepted = request(
        app, shop(), mobile(), scheduled_for=tomorrow_at_ten().isoformat(), sms_consent=True
    )
    ((_, notify_args),) = queued_tasks(app)

    notifications.notify(*notify_args)
    notifications.notify(*notify_args)
    (message,) = messages_of(accepted["id"])
    notifications.send_message(message.id)
    notifications.send_message(message.id)

    assert len(sent_sms(sim, simulator)) == 1


def test_a_refused_sms_is_recorded_with_the_carriers_reason(
    database_url: str, tmp_path: Path, simulator: str, sim: requests.Session
) -> None:
    # The simulator, like Twilio in countries without alphanumeric sender ids, refuses this From.
    with notifying_app(database_url, tmp_path, simulator, TWILIO_SMS_FROM="KettleShop") as app:
        accepted = request(
            app, shop(), mobile(), scheduled_for=tomorrow_at_ten().isoformat(), sms_consent=True
        )
        run_tasks(app)
        (message,) = messages_of(accepted["id"])

    assert message.status == "failed"
    assert message.detail is not None and "21212" in message.detail
    assert sent_sms(sim, simulator) == []


# -- reminder ---------------------------------------------------------------------------------


def test_a_reminder_goes_out_once_shortly_before_the_call(
    app: Flask, sim: requests.Session, simulator: str
) -> None:
    key = shop()
    soon = (context.now() + timedelta(minutes=10)).replace(microsecond=0)
    later = soon + timedelta(minutes=50)
    due_soon = request(app, key, mobile(), scheduled_for=soon.isoformat(), sms_consent=True)
    confirmed_just_now = request(
        app, key, mobile(), scheduled_for=soon.isoformat(), sms_consent=True
    )
    due_later = request(app, key, mobile(), scheduled_for=later.isoformat(), sms_consent=True)
    done: set[int] = set()
    run_tasks(app, done)
    assert len(sent_sms(sim, simulator)) == 3  # the three confirmations
    with context.transaction() as session:  # the first was confirmed an hour ago
        session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.callback_id == due_soon["id"])
            .values(created_at=context.now() - timedelta(hours=1))
        )

    notifications.sweep()
    run_tasks(app, done)
    notifications.sweep()  # a second sweep finds the reminder decided
    run_tasks(app, done)

    reminders = [sms for sms in sent_sms(sim, simulator) if "reminder" in sms["body"]]
    assert len(reminders) == 1
    when = say_when("en", soon.astimezone(TALLINN), datetime.now(TALLINN))
    assert reminders[0]["body"] == f"Kettle Shop: a reminder that we will call you {when}."
    assert [m.kind for m in messages_of(due_soon["id"])] == ["confirmation", "reminder"]
    skipped = messages_of(confirmed_just_now["id"])[-1]
    assert (skipped.kind, skipped.status, skipped.detail) == (
        "reminder",
        "skipped",
        "confirmed_recently",
    )
    assert [m.kind for m in messages_of(due_later["id"])] == ["confirmation"]


def test_no_reminders_when_they_are_turned_off(
    database_url: str, tmp_path: Path, simulator: str, sim: requests.Session
) -> None:
    with notifying_app(database_url, tmp_path, simulator, SMS_REMINDER_MINUTES="0") as app:
        soon = context.now() + timedelta(minutes=5)
        accepted = request(app, shop(), mobile(), scheduled_for=soon.isoformat(), sms_consent=True)
        with context.transaction() as session:
            session.execute(
                update(StatusChange)
                .where(StatusChange.callback_id == accepted["id"])
                .values(processed_at=context.now())  # no confirmation either, to keep it clear
            )
        notifications.sweep()
        assert messages_of(accepted["id"]) == []


# -- apology ----------------------------------------------------------------------------------


def test_an_apology_when_no_agent_could_take_the_callback(
    app: Flask, sim: requests.Session, simulator: str
) -> None:
    phone = mobile()
    accepted = request(app, shop(), phone, sms_consent=True)  # a rule with no agents at all
    for _ in range(5):  # as often as the flow reschedules before it gives up
        if status_of(accepted["id"]) == "scheduled":
            apply(accepted["id"], flow.EventType.DUE)
        apply(accepted["id"], flow.EventType.NO_AGENT_AVAILABLE)
        if status_of(accepted["id"]) == "failed":
            break
    assert status_of(accepted["id"]) == "failed"

    run_tasks(app)

    apology = sent_sms(sim, simulator)[0]  # the newest first
    assert apology["to"] == phone
    assert apology["body"] == (
        "Kettle Shop: sorry, nobody in our team could take your callback this time. "
        "Please ask for a new one on our website."
    )
    assert messages_of(accepted["id"])[-1].kind == "apology"


def test_an_apology_when_the_customer_did_not_answer(
    app: Flask, sim: requests.Session, simulator: str
) -> None:
    accepted = request(app, shop("de"), mobile(), sms_consent=True)
    now = context.now()
    with context.transaction() as session:  # the flow's end state after the last retry
        callback = session.get_one(CallbackRequest, accepted["id"])
        callback.status, callback.reason = "failed", "customer_no_answer"
        change = StatusChange(
            callback_id=callback.id,
            status="failed",
            reason="customer_no_answer",
            event_type="customer_no_answer",
            at=now,
        )
        session.add(change)
        session.flush()
        change_id = change.id

    notifications.notify(accepted["id"], "failed", change_id)
    run_tasks(app)

    (apology,) = sent_sms(sim, simulator)
    assert apology["body"].startswith("Kettle Shop: Wir haben versucht, Sie zurückzurufen")
