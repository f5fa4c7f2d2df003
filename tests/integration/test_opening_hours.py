"""Opening hours at intake and for agents, in-process on SQLite and PostgreSQL.

The clock is frozen (freezegun) at known local times in Europe/Tallinn; nothing here runs
across processes.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select
from support.app import running_app

from callback.models import Agent, Event, Widget
from callback.routing.reservation import available_candidates
from callback.services import context
from callback.services.setup import add_agent, add_widget, ensure_rule

WEEKDAYS = "mon-fri 09:00-17:00"
# Monday 23 November 2026, 17:01 in Tallinn (UTC+2): just closed.
MONDAY_1701 = datetime(2026, 11, 23, 15, 1, tzinfo=UTC)
TUESDAY_0900 = "2026-11-24T07:00:00+00:00"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app, app.app_context():
        yield app


def widget(hours: str | None = WEEKDAYS, holidays: list[str] | None = None) -> str:
    rule = f"rule-{secrets.token_hex(4)}"
    add_agent("Anna", "+37255550101", rule=rule)
    key = add_widget("Shop", rule=rule, hours=hours, time_zone="Europe/Tallinn")
    if holidays:
        with context.transaction() as session:
            row = session.scalars(select(Widget).where(Widget.public_key == key)).one()
            row.hours = {**(row.hours or {}), "holidays": holidays}
    return key


def post(app: Flask, key: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    body = {"widget": key, "phone": f"+3725{secrets.randbelow(10**7):07d}", **fields}
    response = app.test_client().post("/api/v1/callbacks", json=body)
    return response.status_code, response.get_json()


def test_an_asap_request_after_closing_becomes_tomorrows_first_slot(app: Flask) -> None:
    key = widget()
    with freeze_time(MONDAY_1701):
        status, body = post(app, key)
    assert status == 202, body
    assert body["status"] == "scheduled"
    assert body["scheduled_for"] == TUESDAY_0900


def test_a_request_while_open_is_queued_at_once(app: Flask) -> None:
    key = widget()
    with freeze_time("2026-11-23T10:00:00Z"):  # 12:00 in Tallinn
        status, body = post(app, key)
    assert (status, body["status"]) == (202, "queued")
    assert "scheduled_for" not in body


def test_a_chosen_time_outside_hours_is_refused_with_the_next_opening(app: Flask) -> None:
    key = widget()
    with freeze_time(MONDAY_1701):
        status, body = post(app, key, scheduled_for="2026-11-23T20:00:00+02:00")
    assert status == 422
    assert body["error"]["code"] == "closed"
    assert body["error"]["field"] == "scheduled_for"
    assert body["error"]["next_opening"] == TUESDAY_0900
    assert "next opening" in body["error"]["message"]


def test_a_chosen_time_inside_hours_is_scheduled_for_that_time(app: Flask) -> None:
    key = widget()
    with freeze_time(MONDAY_1701):
        status, body = post(app, key, scheduled_for="2026-11-24T10:30:00+02:00")
    assert (status, body["status"]) == (202, "scheduled")
    assert body["scheduled_for"] == "2026-11-24T08:30:00+00:00"


def test_a_holiday_moves_the_callback_to_the_next_working_day(app: Flask) -> None:
    key = widget(holidays=["2026-11-24"])
    with freeze_time(MONDAY_1701):
        status, body = post(app, key)
    assert (status, body["scheduled_for"]) == (202, "2026-11-25T07:00:00+00:00")


def test_a_widget_without_any_opening_refuses_with_no_next_opening(app: Flask) -> None:
    key = widget(
        holidays=[
            f"2026-{m:02d}-{d:02d}" for m in (11, 12) for d in range(1, 32) if (m, d) != (11, 31)
        ]
    )
    with freeze_time(MONDAY_1701):
        status, body = post(app, key)
    assert status == 422
    assert body["error"]["code"] == "closed"
    assert body["error"]["next_opening"] is None


def test_a_widget_without_hours_is_always_open(app: Flask) -> None:
    key = widget(hours=None)
    with freeze_time("2026-11-22T03:00:00Z"):  # a Sunday night
        status, body = post(app, key)
    assert (status, body["status"]) == (202, "queued")


def test_the_visitors_language_and_consent_are_kept_on_the_timeline(app: Flask) -> None:
    key = widget(hours=None)
    status, body = post(app, key, language="et", sms_consent=True)
    assert status == 202
    with context.transaction() as session:
        requested = session.scalars(
            select(Event).where(Event.callback_id == body["id"], Event.type == "requested")
        ).one()
    assert requested.data["language"] == "et"
    assert requested.data["sms_consent"] is True


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"language": "not a language"}, "invalid_language"),
        ({"language": 5}, "invalid_language"),
        ({"sms_consent": "yes"}, "invalid_sms_consent"),
    ],
)
def test_bad_visitor_context_is_422(app: Flask, fields: dict[str, Any], code: str) -> None:
    status, body = post(app, widget(hours=None), **fields)
    assert status == 422
    assert body["error"]["code"] == code


def test_an_agent_off_shift_is_never_a_candidate(app: Flask) -> None:
    rule = f"rule-{secrets.token_hex(4)}"
    on = add_agent("On shift", "+37255550102", rule=rule).id
    off = add_agent("Off shift", "+37255550103", rule=rule).id
    with context.transaction() as session:
        session.get_one(Agent, on).hours = {"mon": [["09:00", "17:00"]]}
        session.get_one(Agent, on).time_zone = "Europe/Tallinn"
        session.get_one(Agent, off).hours = {"mon": [["18:00", "22:00"]]}
        session.get_one(Agent, off).time_zone = "Europe/Tallinn"
        rule_id = ensure_rule(session, rule).id
    with context.transaction() as session:
        noon = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        candidates = [c.agent_id for c in available_candidates(session, rule_id, noon)]
        evening = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
        later = [c.agent_id for c in available_candidates(session, rule_id, evening)]
    assert candidates == [on]
    assert later == [off]
