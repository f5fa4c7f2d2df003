"""The board, history and statistics endpoints of the admin API, and their pages, through
Flask's test client on SQLite and (with TEST_DATABASE_URL) PostgreSQL: success, 422 for bad
input in the error shape, 401 without a valid token, 403 for a missing scope or role, and an
agent who sees only their own callbacks.

Callbacks are requested through the public API (real intake: rows and events as production
writes them); one is then marked as taken and connected by Mart, as the webhooks would.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support.app import BACKENDS, migrated_database, running_app

from callback.models import ApiToken, CallbackRequest
from callback.phone import mask
from callback.services import accounts, context
from callback.services.setup import add_agent, add_widget

ENDPOINTS = [
    "/api/v1/admin/board",
    "/api/v1/admin/callbacks",
    "/api/v1/admin/callbacks/{taken}",
    "/api/v1/admin/stats",
    "/api/v1/admin/stats.csv",
]
CUSTOMERS = ("+37251230001", "+37251230002")
PASSWORD = "correct horse battery"


@dataclass
class World:
    app: Flask
    taken: str  # Mart's callback, connected after 8 s
    waiting: str  # still queued
    mart_id: int
    widget_id: int
    admin_token: str
    agent_token: str
    write_only_token: str
    revoked_token: str
    admin_email: str
    agent_email: str


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    folder: Path = tmp_path_factory.mktemp("reports-api")
    with migrated_database(request.param, folder) as url, running_app(url, folder) as app:
        yield _build(app)


def _build(app: Flask) -> World:
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        add_agent("Anna", "+37255550101", rule=rule)
        mart = add_agent("Mart", "+37255550102", rule=rule)
        key = add_widget(
            "Shop", region="EE", countries=["EE"], rule=rule, time_zone="Europe/Tallinn"
        )
    client = app.test_client()
    ids = []
    for phone in CUSTOMERS:
        response = client.post(
            "/api/v1/callbacks", json={"widget": key, "phone": phone, "page_title": "Blue Kettle"}
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    with app.app_context():
        with context.transaction() as session:
            taken = session.get_one(CallbackRequest, ids[0])
            taken.status, taken.agent_id = "completed", mart.id
            taken.connected_at = taken.created_at + timedelta(seconds=8)
            taken.ended_at, taken.duration_s = taken.created_at + timedelta(seconds=40), 32
            widget_id = taken.widget_id
        admin_email, agent_email = f"boss-{rule}@example.com", f"mart-{rule}@example.com"
        admin = accounts.create_user(admin_email, PASSWORD, "admin")
        agent = accounts.create_user(agent_email, PASSWORD, "agent", agent_id=mart.id)
        revoked = accounts.create_token(admin, "old", ["read"])
        with context.transaction() as session:
            token_id = session.scalar(
                select(ApiToken.id).where(ApiToken.token_hash == accounts.hash_token(revoked))
            )
        assert token_id is not None and accounts.revoke_token(token_id)
        return World(
            app=app,
            taken=ids[0],
            waiting=ids[1],
            mart_id=mart.id,
            widget_id=widget_id,
            admin_token=accounts.create_token(admin, "reports", ["read"]),
            agent_token=accounts.create_token(agent, "mine", ["read", "write"]),
            write_only_token=accounts.create_token(admin, "writer", ["write"]),
            revoked_token=revoked,
            admin_email=admin_email,
            agent_email=agent_email,
        )


@pytest.fixture
def client(world: World) -> FlaskClient:
    return world.app.test_client()


def get(client: FlaskClient, path: str, token: str | None = None, **params: str):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, query_string=params, headers=headers)


def assert_error(response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if field is not None:
        assert body["error"]["field"] == field


# --- success ---------------------------------------------------------------------------------


def test_the_board_lists_agents_and_the_callback_in_flight(world, client):
    response = get(client, "/api/v1/admin/board", world.admin_token)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    board = response.get_json()
    assert {a["name"]: a["state"] for a in board["agents"]} == {
        "Anna": "available",
        "Mart": "available",
    }
    assert [c["id"] for c in board["in_flight"]] == [world.waiting]
    waiting = board["in_flight"][0]
    assert (waiting["status"], waiting["phone"], waiting["widget"]) == (
        "queued",
        mask(CUSTOMERS[1]),
        "Shop",
    )
    assert waiting["elapsed_s"] >= 0 and board["promise_s"] == 20.0
    assert [c["id"] for c in board["recent"]] == [world.taken]
    assert CUSTOMERS[1] not in response.get_data(as_text=True)


def test_callbacks_search_and_paging(world, client):
    everything = get(client, "/api/v1/admin/callbacks", world.admin_token).get_json()
    assert [c["id"] for c in everything["items"]] == [world.waiting, world.taken]
    assert (everything["total"], everything["page"], everything["pages"]) == (2, 1, 1)
    second = get(client, "/api/v1/admin/callbacks", world.admin_token, per_page="1", page="2")
    assert [c["id"] for c in second.get_json()["items"]] == [world.taken]
    by_number = get(client, "/api/v1/admin/callbacks", world.admin_token, number="0002")
    assert [c["id"] for c in by_number.get_json()["items"]] == [world.waiting]
    by_agent = get(client, "/api/v1/admin/callbacks", world.admin_token, agent=str(world.mart_id))
    row = by_agent.get_json()["items"][0]
    assert (row["id"], row["agent"], row["time_to_connect_s"]) == (world.taken, "Mart", 8.0)


def test_one_callback_with_its_timeline(world, client):
    response = get(client, f"/api/v1/admin/callbacks/{world.waiting}", world.admin_token)
    assert response.status_code == 200
    detail = response.get_json()
    assert [(e["type"], e["label"], e["offset"]) for e in detail["timeline"]] == [
        ("requested", "requested", "+0 s"),
        ("queued", "queued", "+0 s"),
    ]
    assert detail["phone"] == mask(CUSTOMERS[1]) and detail["page_title"] == "Blue Kettle"
    missing = get(client, "/api/v1/admin/callbacks/nope", world.admin_token)
    assert_error(missing, 404, "not_found")


def test_statistics(world, client):
    stats = get(client, "/api/v1/admin/stats", world.admin_token).get_json()
    assert (stats["total"], stats["connected"], stats["p50_s"]) == (2, 1, 8.0)
    assert stats["tz"] == "UTC" and sum(stats["by_hour"]) == 2
    assert {a["name"]: a["connected"] for a in stats["agents"]} == {"Anna": 0, "Mart": 1}
    one_widget = get(
        client, "/api/v1/admin/stats", world.admin_token, widget=str(world.widget_id)
    ).get_json()
    assert one_widget["tz"] == "Europe/Tallinn"  # the widget's own zone by default


@pytest.mark.parametrize(
    ("path", "params"),
    [("/api/v1/admin/stats.csv", {}), ("/api/v1/admin/stats", {"format": "csv"})],
)
def test_csv_export_of_callbacks(world, client, path, params):
    response = get(client, path, world.admin_token, **params)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.match(
        r'attachment; filename="callbacks-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"',
        response.headers["Content-Disposition"],
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["id"] for r in rows] == [world.taken, world.waiting]
    assert rows[0]["phone"] == "'" + mask(CUSTOMERS[0])
    assert all(phone not in response.get_data(as_text=True) for phone in CUSTOMERS)


def test_csv_export_of_agents(world, client):
    response = get(client, "/api/v1/admin/stats.csv", world.admin_token, table="agents")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["agent"], r["connected"], r["talk_time_s"]) for r in rows] == [
        ("Anna", "0", "0"),
        ("Mart", "1", "32"),
    ]


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "code", "field"),
    [
        ("/api/v1/admin/callbacks", {"from": "last tuesday"}, "invalid_from", "from"),
        ("/api/v1/admin/callbacks", {"to": "2026-13-01"}, "invalid_to", "to"),
        ("/api/v1/admin/callbacks", {"status": "done"}, "invalid_status", "status"),
        ("/api/v1/admin/callbacks", {"per_page": "0"}, "invalid_per_page", "per_page"),
        ("/api/v1/admin/callbacks", {"page": "x"}, "invalid_page", "page"),
        ("/api/v1/admin/callbacks", {"widget": "shop"}, "invalid_widget", "widget"),
        ("/api/v1/admin/callbacks", {"number": "5"}, "invalid_number", "number"),
        ("/api/v1/admin/callbacks", {"tz": "Nowhere/Land"}, "invalid_tz", "tz"),
        ("/api/v1/admin/stats", {"from": "2026-02-30"}, "invalid_from", "from"),
        (
            "/api/v1/admin/stats",
            {"from": "2026-03-08", "to": "2026-03-01"},
            "invalid_period",
            "from",
        ),
        (
            "/api/v1/admin/stats",
            {"from": "2020-01-01", "to": "2026-01-01"},
            "invalid_period",
            "from",
        ),
        ("/api/v1/admin/stats", {"tz": "Mars/Base"}, "invalid_tz", "tz"),
        ("/api/v1/admin/stats", {"widget": "999999"}, "invalid_widget", "widget"),
        ("/api/v1/admin/stats", {"format": "xml"}, "invalid_format", "format"),
        ("/api/v1/admin/stats.csv", {"table": "legs"}, "invalid_table", "table"),
        ("/api/v1/admin/stats.csv", {"to": "\x00"}, "invalid_to", "to"),
    ],
)
def test_bad_parameters_are_422_with_the_field_named(world, client, path, params, code, field):
    assert_error(get(client, path, world.admin_token, **params), 422, code, field)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "%"},
        {"q": "x" * 5000},
        {"number": "9" * 400},
        {"page": "99999999999999999999"},
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"from": "2026-03-02T25:00"},
        {"status": "\x00"},
        {"agent": "\uff11\uff12"},  # full-width digits are not an id
    ],
)
def test_no_odd_parameter_causes_a_server_error(world, client, params):
    for path in ("/api/v1/admin/callbacks", "/api/v1/admin/stats", "/api/v1/admin/stats.csv"):
        response = get(client, path, world.admin_token, **params)
        assert response.status_code in (200, 422), (path, params, response.status_code)


# --- credentials, scopes and roles -------------------------------------------------------------


def paths(world: World) -> list[str]:
    return [path.format(taken=world.taken) for path in ENDPOINTS]


def test_without_a_token_every_endpoint_is_401(world, client):
    for path in paths(world):
        response = get(client, path)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["cbk_not-a-real-token", "revoked"])
def test_a_wrong_or_revoked_token_is_401(world, client, token):
    credential = world.revoked_token if token == "revoked" else token
    for path in paths(world):
        assert_error(get(client, path, credential), 401, "invalid_token")


def test_a_token_without_the_read_scope_is_403(world, client):
    for path in paths(world):
        assert_error(get(client, path, world.write_only_token), 403, "insufficient_scope")


def test_an_agent_may_not_see_the_board(world, client):
    assert_error(get(client, "/api/v1/admin/board", world.agent_token), 403, "forbidden")


def test_an_agent_sees_only_their_own_callbacks_and_numbers(world, client):
    mine = get(client, "/api/v1/admin/callbacks", world.agent_token).get_json()
    assert [c["id"] for c in mine["items"]] == [world.taken]
    other = get(client, f"/api/v1/admin/callbacks/{world.waiting}", world.agent_token)
    assert_error(other, 404, "not_found")
    assert (
        get(client, f"/api/v1/admin/callbacks/{world.taken}", world.agent_token).status_code == 200
    )
    stats = get(client, "/api/v1/admin/stats", world.agent_token).get_json()
    assert (stats["total"], [a["name"] for a in stats["agents"]]) == (1, ["Mart"])
    exported = get(client, "/api/v1/admin/stats.csv", world.agent_token).get_data(as_text=True)
    assert world.taken in exported and world.waiting not in exported


# --- the session cookie and the pages ----------------------------------------------------------


def log_in(client: FlaskClient, email: str) -> None:
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        "/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def test_the_pages_need_a_login(world, client):
    for page in ("/admin/board", "/admin/history", f"/admin/history/{world.taken}", "/admin/stats"):
        response = client.get(page)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login?next=")


def test_an_admin_session_reads_the_api_and_the_pages(world, client):
    log_in(client, world.admin_email)
    assert client.get("/api/v1/admin/board").status_code == 200

    board = client.get("/admin/board")
    assert board.status_code == 200
    assert "script-src 'self'" in board.headers["Content-Security-Policy"]
    html = board.get_data(as_text=True)
    assert f'data-callback-id="{world.waiting}"' in html and mask(CUSTOMERS[1]) in html

    history = client.get("/admin/history", query_string={"status": "completed"})
    assert history.status_code == 200
    html = history.get_data(as_text=True)
    assert f'data-callback-id="{world.taken}"' in html
    assert f'data-callback-id="{world.waiting}"' not in html

    timeline = client.get(f"/admin/history/{world.waiting}").get_data(as_text=True)
    assert 'data-type="requested"' in timeline and CUSTOMERS[1] not in timeline
    assert client.get("/admin/history/nope").status_code == 404

    stats = client.get("/admin/stats")
    assert stats.status_code == 200
    html = stats.get_data(as_text=True)
    assert html.count('<rect class="bar"') == 16 + 24 + 7
    assert 'data-label="8-10 s" data-value="1"' in html


def test_history_pages_link_to_each_other_keeping_the_filters(world, client):
    log_in(client, world.admin_email)
    first = client.get("/admin/history", query_string={"per_page": "1", "q": "Blue Kettle"})
    html = first.get_data(as_text=True)
    assert f'data-callback-id="{world.waiting}"' in html
    older = re.search(r'<a class="button" rel="next" href="([^"]+)"', html)
    assert older is not None and 'rel="prev"' not in html
    second = client.get(older[1].replace("&amp;", "&")).get_data(as_text=True)
    assert f'data-callback-id="{world.taken}"' in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


@pytest.mark.parametrize(
    ("page", "params"),
    [("/admin/history", {"from": "soon"}), ("/admin/stats", {"tz": "Mars/Base"})],
)
def test_bad_filters_on_a_page_are_shown_with_422(world, client, page, params):
    log_in(client, world.admin_email)
    response = client.get(page, query_string=params)
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)


def test_an_agent_session_gets_their_history_but_not_the_board(world, client):
    log_in(client, world.agent_email)
    assert client.get("/admin/board").status_code == 403
    html = client.get("/admin/history").get_data(as_text=True)
    assert f'data-callback-id="{world.taken}"' in html
    assert f'data-callback-id="{world.waiting}"' not in html
    assert client.get(f"/admin/history/{world.waiting}").status_code == 404


def test_the_openapi_document_describes_every_report_endpoint(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in (
        "/api/v1/admin/board",
        "/api/v1/admin/callbacks",
        "/api/v1/admin/callbacks/{callback_id}",
        "/api/v1/admin/stats",
        "/api/v1/admin/stats.csv",
    ):
        operation = spec["paths"][path]["get"]
        assert "x-undocumented" not in operation, path
        assert {"200", "401", "403"} <= set(operation["responses"]), path
