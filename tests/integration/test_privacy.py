"""Personal data, on SQLite and (with TEST_DATABASE_URL) PostgreSQL: export and erasure of
everything stored for one number through the admin API and the CLI (owners and admins only),
and the retention purge the beat runs once a day.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from support.app import running_app

from callback import jobs
from callback.cli import main
from callback.models import CallbackRequest, Event, Leg
from callback.services import accounts, context, privacy
from callback.services.setup import add_agent, add_widget

PRIVACY = "/api/v1/admin/privacy"
_numbers = iter(range(10**5))


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def widget(app: Flask) -> str:
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        add_agent("Anna", number(), rule=rule)
        return add_widget("Shop", region="EE", countries=["EE"], rule=rule)


def number() -> str:
    return f"+372556{next(_numbers):05d}"


def token(app: Flask, role: str, scopes: list[str]) -> dict[str, str]:
    with app.app_context():
        agent_id = add_agent("Agent", number(), rule=f"r-{secrets.token_hex(3)}").id
        user = accounts.create_user(
            f"{role}-{secrets.token_hex(4)}@example.com",
            "correct horse battery",
            role,
            agent_id if role == "agent" else None,
        )
        return {"Authorization": f"Bearer {accounts.create_token(user, role, scopes)}"}


def callback_for(app: Flask, client: FlaskClient, widget: str, phone: str, **fields: str) -> str:
    """A finished callback of `phone` with a leg, as a call leaves it."""
    accepted = client.post(
        "/api/v1/callbacks",
        json={"widget": widget, "phone": phone, **fields},
        headers={"X-Forwarded-For": f"10.9.{secrets.randbelow(250)}.{secrets.randbelow(250)}"},
    )
    assert accepted.status_code == 202, accepted.get_data(as_text=True)
    callback_id: str = accepted.get_json()["id"]
    with app.app_context(), context.transaction() as session:
        session.add(Leg(callback_id=callback_id, kind="customer", status="completed"))
        session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.id == callback_id)
            .values(status="completed", version=CallbackRequest.version + 1)
        )
    return callback_id


def rows(app: Flask, callback_ids: list[str]) -> tuple[int, int, int]:
    """(callbacks, events, legs) stored for these callbacks."""
    with app.app_context(), context.transaction() as session:
        counts = [
            session.scalar(select(func.count()).select_from(model).where(column.in_(callback_ids)))
            for model, column in (
                (CallbackRequest, CallbackRequest.id),
                (Event, Event.callback_id),
                (Leg, Leg.callback_id),
            )
        ]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


# --- Export and erasure through the admin API -------------------------------------------------


def test_an_owner_exports_and_erases_everything_of_one_number(
    app: Flask, client: FlaskClient, widget: str
) -> None:
    person, bystander = number(), number()
    mine = [
        callback_for(app, client, widget, person, page_title="Blue Kettle"),
        callback_for(app, client, widget, person, page_url="https://shop.example/chair"),
    ]
    theirs = [callback_for(app, client, widget, bystander)]
    owner = token(app, "owner", ["read", "write"])

    exported = client.get(PRIVACY, query_string={"phone": person}, headers=owner)
    assert exported.status_code == 200, exported.get_data(as_text=True)
    assert exported.headers["Cache-Control"] == "no-store"
    body = exported.get_json()
    assert body["phone"] == person
    assert sorted(c["id"] for c in body["callbacks"]) == sorted(mine)
    assert {c["page_title"] for c in body["callbacks"]} == {"Blue Kettle", None}
    assert all(c["events"] and c["legs"] for c in body["callbacks"])
    assert bystander not in exported.get_data(as_text=True)

    # National and 00 forms name the same person.
    national = client.get(PRIVACY, query_string={"phone": "00" + person[1:]}, headers=owner)
    assert len(national.get_json()["callbacks"]) == 2

    before = rows(app, mine)
    assert before[0] == 2 and before[1] >= 2 and before[2] == 2
    erased = client.delete(PRIVACY, query_string={"phone": person}, headers=owner)
    assert erased.status_code == 200, erased.get_data(as_text=True)
    assert erased.get_json()["callbacks_deleted"] == 2
    assert rows(app, mine) == (0, 0, 0)  # events and legs went with them
    assert rows(app, theirs)[0] == 1
    again = client.get(PRIVACY, query_string={"phone": person}, headers=owner)
    assert again.get_json()["callbacks"] == []


def test_only_owners_and_admins_may_export_or_erase(app: Flask, client: FlaskClient) -> None:
    phone = {"phone": number()}
    assert client.get(PRIVACY, query_string=phone).status_code == 401
    agent = token(app, "agent", ["read", "write"])
    for method in (client.get, client.delete):
        refused = method(PRIVACY, query_string=phone, headers=agent)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "forbidden"
    reader = token(app, "admin", ["read"])
    assert client.get(PRIVACY, query_string=phone, headers=reader).status_code == 200
    assert client.delete(PRIVACY, query_string=phone, headers=reader).status_code == 403


@pytest.mark.parametrize("phone", [None, "", "call me", "+1", "5" * 40, "+372\x0055512345"])
def test_a_bad_number_is_422(app: Flask, client: FlaskClient, phone: str | None) -> None:
    owner = token(app, "owner", ["read", "write"])
    query = {} if phone is None else {"phone": phone}
    for method in (client.get, client.delete):
        response = method(PRIVACY, query_string=query, headers=owner)
        assert response.status_code == 422, response.get_data(as_text=True)
        error = response.get_json()["error"]
        assert error["code"] in ("missing_phone", "invalid_phone") and error["field"] == "phone"


# --- The CLI -------------------------------------------------------------------------------------


def test_the_cli_exports_and_erases(
    app: Flask, client: FlaskClient, widget: str, database_url: str, tmp_path: Path
) -> None:
    person = number()
    callback_id = callback_for(app, client, widget, person)
    env = {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path)}
    runner = CliRunner()

    exported = runner.invoke(main, ["privacy", "export", "--phone", person], env=env)
    assert exported.exit_code == 0, exported.output
    assert [c["id"] for c in json.loads(exported.output)["callbacks"]] == [callback_id]

    erased = runner.invoke(main, ["privacy", "erase", "--phone", person], env=env)
    assert erased.exit_code == 0, erased.output
    assert "deleted 1 callback" in erased.output
    assert rows(app, [callback_id]) == (0, 0, 0)

    bad = runner.invoke(main, ["privacy", "erase", "--phone", "nonsense"], env=env)
    assert bad.exit_code == 1 and "international form" in bad.output


# --- Retention purge ---------------------------------------------------------------------------


def age(app: Flask, callback_id: str, days: int) -> None:
    with app.app_context(), context.transaction() as session:
        session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.id == callback_id)
            .values(
                created_at=datetime.now(UTC) - timedelta(days=days),
                version=CallbackRequest.version + 1,
            )
        )


def test_the_purge_deletes_finished_callbacks_past_retention_only(
    app: Flask, client: FlaskClient, widget: str
) -> None:
    old = callback_for(app, client, widget, number())
    recent = callback_for(app, client, widget, number())
    accepted = client.post(
        "/api/v1/callbacks",
        json={"widget": widget, "phone": number()},
        headers={"X-Forwarded-For": "10.8.0.1"},
    )
    old_but_live = accepted.get_json()["id"]
    age(app, old, 91)
    age(app, recent, 89)
    age(app, old_but_live, 200)

    with app.app_context():
        assert privacy.purge_expired() >= 1  # RETENTION_DAYS defaults to 90
        assert privacy.purge_expired() == 0  # nothing left to do
    assert rows(app, [old]) == (0, 0, 0)
    assert rows(app, [recent])[0] == 1
    assert rows(app, [old_but_live])[0] == 1
    with app.app_context():
        assert privacy.purge_expired(retention_days=30) == 1  # RETENTION_DAYS=30: it goes too
    assert rows(app, [recent]) == (0, 0, 0)
    assert rows(app, [old_but_live])[0] == 1


def test_the_purge_runs_in_batches(app: Flask, client: FlaskClient, widget: str) -> None:
    ids = [callback_for(app, client, widget, number()) for _ in range(5)]
    for callback_id in ids:
        age(app, callback_id, 400)
    original = privacy.PURGE_BATCH
    privacy.PURGE_BATCH = 2
    try:
        with app.app_context():
            assert privacy.purge_expired() >= 5
    finally:
        privacy.PURGE_BATCH = original
    assert rows(app, ids) == (0, 0, 0)


def test_the_beat_runs_the_purge_once_a_day(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["purge"]["task"] == jobs.PURGE
    assert schedule["purge"]["schedule"].remaining_estimate(datetime.now(UTC)) <= timedelta(days=1)
    import worker.tasks

    assert worker.tasks.purge.name == jobs.PURGE
