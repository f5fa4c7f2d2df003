"""The widget's HTTP side through Flask's test client, on SQLite and (with TEST_DATABASE_URL)
PostgreSQL: the config endpoint, its languages, CORS, /widget.js caching, the demo pages."""

from __future__ import annotations

import gzip
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from support.app import queued_tasks, running_app
from werkzeug.test import TestResponse

from callback import i18n, widget_build
from callback.models import Agent, RuleMember, Widget
from callback.services import context, queue
from callback.services.setup import add_agent, add_widget

SHOP = "https://shop.example"
OTHER = "https://evil.example"
CONTRACT_KEYS = {
    "key", "language", "texts", "colors", "position", "triggers", "open_now", "next_opening",
    "slots", "agent_free", "eta_seconds", "countries", "region", "privacy_url",
}  # fmt: skip
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def new_widget(app: Flask, agents: int = 1, **columns: Any) -> str:
    """A widget (region EE, origin SHOP) on a rule of its own with `agents` free agents."""
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        for n in range(agents):
            add_agent(f"Agent {n}", f"+3725555{secrets.randbelow(10**4):04d}", rule=rule)
        key = add_widget("Shop", region="EE", countries=["EE", "FI"], origins=[SHOP], rule=rule)
        with context.transaction() as session:
            widget = session.scalars(select(Widget).where(Widget.public_key == key)).one()
            for name, value in columns.items():
                setattr(widget, name, value)
    return key


def config(client: FlaskClient, key: str, **headers: str) -> TestResponse:
    lang = headers.pop("lang", None)
    return client.get(f"/api/v1/widgets/{key}" + (f"?lang={lang}" if lang else ""), headers=headers)


def error_of(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error: dict[str, Any] = response.get_json()["error"]
    assert error["message"]
    return error


# --- the config -------------------------------------------------------------------------------


def test_the_config_has_the_contracts_fields(app, client):
    key = new_widget(app)
    response = config(client, key)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == CONTRACT_KEYS
    assert body["key"] == key and body["language"] == "en" and body["region"] == "EE"
    assert body["open_now"] is True and body["agent_free"] is True
    assert body["eta_seconds"] == 20 and body["slots"] == [] and body["next_opening"] is None
    assert body["countries"] == [
        {"code": "EE", "dial": "+372", "trunk": ""},
        {"code": "FI", "dial": "+358", "trunk": "0"},
    ]
    assert body["texts"]["title"] == "Questions? We'll call you"
    assert body["triggers"]["rules"]  # the defaults when the admin set none
    assert response.headers["Cache-Control"] == "public, max-age=10"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_built_in_language_is_complete(app, client, language):
    key = new_widget(app)
    body = config(client, key, lang=language).get_json()
    english = i18n.builtin_texts("en")
    assert body["language"] == language
    assert set(body["texts"]) == set(english)
    assert all(isinstance(text, str) and text.strip() for text in body["texts"].values())
    assert "{time}" in body["texts"]["s_scheduled"]
    if language != "en":
        assert body["texts"]["title"] != english["title"]


@pytest.mark.parametrize(
    ("lang", "default", "expected"),
    [
        ("et-EE,en;q=0.8", "en", "et"),
        ("ja,fi", "en", "fi"),  # the first supported one
        ("ja", "de", "de"),  # none supported: the widget's language
        (None, "lv", "lv"),
        ("ja", "xx", "en"),  # a widget language we do not have: English
    ],
)
def test_the_language_is_the_best_the_visitor_accepts(app, client, lang, default, expected):
    key = new_widget(app, language=default)
    assert config(client, key, lang=lang).get_json()["language"] == expected


def test_the_admins_texts_win_and_may_add_a_language(app, client):
    texts = {"et": {"title": "Helistame!"}, "sv": {"title": "Vi ringer dig"}, "_junk": 1}
    key = new_widget(app, texts=texts)
    estonian = config(client, key, lang="et").get_json()["texts"]
    assert estonian["title"] == "Helistame!"
    assert estonian["submit"] == i18n.builtin_texts("et")["submit"]
    swedish = config(client, key, lang="sv-SE").get_json()
    assert swedish["language"] == "sv" and swedish["texts"]["title"] == "Vi ringer dig"
    assert swedish["texts"]["submit"] == i18n.builtin_texts("en")["submit"]


def test_stored_display_settings_are_checked_before_they_reach_a_page(app, client):
    triggers = {
        "threshold": "3",
        "snooze_days": 2,
        "rules": [
            {"type": "scroll_depth", "percent": 70, "score": 2},
            {"type": "eval", "code": "alert(1)"},
            "nonsense",
            {"type": "url", "pattern": "x" * 500, "extra": True},
        ],
        "display": {
            "position": "left",
            "colors": {"accent": "red;background:url(x)", "text": "#000"},
            "privacy_url": "javascript:alert(1)",
        },
    }
    body = config(client, new_widget(app, triggers=triggers)).get_json()
    assert body["triggers"] == {
        "threshold": 1,
        "snooze_days": 2,
        "rules": [
            {"type": "scroll_depth", "percent": 70, "score": 2},
            {"type": "url", "pattern": "x" * 200, "score": 1},
        ],
    }
    assert body["position"] == "left"
    assert body["colors"] == {"accent": "#0b6bcb", "text": "#000"}
    assert body["privacy_url"] is None


def test_a_privacy_link_per_language_or_for_all(app, client):
    triggers = {"rules": [], "display": {"privacy_url": "https://shop.example/privacy"}}
    texts = {"et": {"privacy_url": "https://shop.example/et/privaatsus"}}
    key = new_widget(app, triggers=triggers, texts=texts)
    assert config(client, key).get_json()["privacy_url"] == "https://shop.example/privacy"
    estonian = config(client, key, lang="et").get_json()
    assert estonian["privacy_url"] == "https://shop.example/et/privaatsus"
    assert "privacy_url" not in estonian["texts"]


def test_when_closed_the_config_offers_the_next_opening_and_slots(app, client):
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    hours = {DAYS[tomorrow.weekday()]: [["09:00", "17:00"]], "holidays": []}
    body = config(client, new_widget(app, hours=hours, time_zone="UTC")).get_json()
    opening = datetime.combine(tomorrow, datetime.min.time(), UTC).replace(hour=9)
    assert body["open_now"] is False and body["agent_free"] is True
    assert body["next_opening"] == opening.isoformat()
    assert body["slots"] == [(opening + timedelta(minutes=30 * n)).isoformat() for n in range(6)]
    assert body["eta_seconds"] is None


def test_a_holiday_closes_the_shop(app, client):
    today = datetime.now(UTC).date()
    hours = {day: [["00:00", "24:00"]] for day in DAYS} | {"holidays": [today.isoformat()]}
    body = config(client, new_widget(app, hours=hours, time_zone="UTC")).get_json()
    assert body["open_now"] is False
    assert body["next_opening"] == f"{today + timedelta(days=1)}T00:00:00+00:00"


@pytest.mark.parametrize("why", ["no agents", "all on a call"])
def test_when_nobody_is_free_the_config_offers_slots(app, client, why):
    key = new_widget(app, agents=0 if why == "no agents" else 2)
    with app.app_context(), context.transaction() as session:
        rule_id = select(Widget.routing_rule_id).where(Widget.public_key == key).scalar_subquery()
        members = select(RuleMember.agent_id).where(RuleMember.rule_id == rule_id)
        session.execute(update(Agent).where(Agent.id.in_(members)).values(state="on_call"))
    body = config(client, key).get_json()
    assert body["open_now"] is True and body["agent_free"] is False
    assert len(body["slots"]) == 6
    # An honest wait: nobody to wait for, or one call's length (no history yet: the default).
    busy_wait = queue.PROMISE_SECONDS + queue.DEFAULT_HANDLING_S + queue.WRAP_UP_AND_DIAL_S
    assert body["eta_seconds"] == (None if why == "no agents" else busy_wait)
    first = datetime.fromisoformat(body["slots"][0])
    assert timedelta(minutes=10) <= first - datetime.now(UTC) <= timedelta(minutes=41)


def test_bad_requests_get_clear_errors(client, app):
    key = new_widget(app)
    assert error_of(config(client, "no-such-key"), 404)["code"] == "unknown_widget"
    assert error_of(config(client, "k" * 65), 404)["code"] == "unknown_widget"
    assert error_of(client.get("/api/v1/widgets/a%00b"), 404)["code"] == "unknown_widget"
    assert error_of(client.get("/api/v1/widgets/%E2%98%83"), 404)["code"] == "unknown_widget"
    for lang in ("<script>", "en_US", ",".join(["en"] * 40), "e" * 20):
        error = error_of(config(client, key, lang=lang), 400)
        assert (error["code"], error["field"]) == ("invalid_lang", "lang")


# --- CORS -------------------------------------------------------------------------------------


def test_the_config_is_shared_only_with_the_widgets_origins(app, client):
    key = new_widget(app)
    allowed = config(client, key, Origin=SHOP)
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in allowed.headers["Vary"]
    refused = config(client, key, Origin=OTHER)
    assert refused.status_code == 200 and "Access-Control-Allow-Origin" not in refused.headers
    preflight = client.options(
        f"/api/v1/widgets/{key}", headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    for response in (allowed, refused, preflight):
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_widget_without_origins_is_open_to_any_site(app, client):
    key = new_widget(app, allowed_origins=[])
    assert config(client, key, Origin=OTHER).headers["Access-Control-Allow-Origin"] == OTHER


def test_the_callbacks_preflight_answers_any_origin(client):
    for path in ("/api/v1/callbacks", "/api/v1/callbacks/some-id"):
        response = client.options(
            path,
            headers={
                "Origin": OTHER,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == OTHER
        assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Max-Age"] == "600"


def test_a_post_from_a_foreign_site_is_refused_before_it_is_stored(app, client):
    key = new_widget(app)
    body = {"widget": key, "phone": "+372 5123 4567"}
    refused = client.post("/api/v1/callbacks", json=body, headers={"Origin": OTHER})
    assert error_of(refused, 403)["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert queued_tasks(app) == []

    accepted = client.post("/api/v1/callbacks", json=body, headers={"Origin": SHOP})
    assert accepted.status_code == 202
    assert accepted.headers["Access-Control-Allow-Origin"] == SHOP
    status_url = accepted.get_json()["status_url"]
    assert client.get(status_url, headers={"Origin": SHOP}).headers[
        "Access-Control-Allow-Origin"
    ] == SHOP  # fmt: skip
    assert (
        "Access-Control-Allow-Origin"
        not in client.get(status_url, headers={"Origin": OTHER}).headers
    )


def test_the_services_own_pages_and_servers_are_always_allowed(app, client):
    key = new_widget(app)
    body = {"widget": key, "phone": "+372 5123 4568"}
    same_site = client.post("/api/v1/callbacks", json=body, headers={"Origin": "http://localhost"})
    assert same_site.status_code == 202
    no_origin = client.post("/api/v1/callbacks", json={**body, "phone": "+372 5123 4569"})
    assert no_origin.status_code == 202 and "Access-Control-Allow-Origin" not in no_origin.headers


def test_bad_bodies_from_a_browser_still_get_intakes_answers(app, client):
    for raw in (b"[" * 100_000, b"[" * 60_000, b"{not json", b'{"widget": 5}'):
        response = client.post(
            "/api/v1/callbacks",
            data=raw,
            content_type="application/json",
            headers={"Origin": OTHER},
        )
        assert response.status_code in (400, 413, 422), response.get_data(as_text=True)


def test_cors_headers_stay_off_other_endpoints(client):
    response = client.get("/healthz", headers={"Origin": OTHER})
    assert "Access-Control-Allow-Origin" not in response.headers


# --- /widget.js -------------------------------------------------------------------------------


def test_widget_js_is_the_minified_build_with_an_etag(client):
    built = widget_build.build()
    plain = client.get("/widget.js")
    assert plain.status_code == 200 and plain.mimetype == "text/javascript"
    assert plain.data == built.minified
    assert len(plain.data) < len(widget_build.SOURCE.read_bytes())
    assert plain.headers["ETag"] == f'"{built.version}"'
    assert plain.headers["Cache-Control"] == "public, max-age=300"

    zipped = client.get("/widget.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == built.minified
    assert len(zipped.data) <= widget_build.BUDGET_BYTES
    assert "Accept-Encoding" in zipped.headers["Vary"]

    versioned = client.get(f"/widget.js?v={built.version}")
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get("/widget.js?v=000000000000")
    assert stale.headers["Cache-Control"] == "public, max-age=300"

    again = client.get("/widget.js", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == plain.headers["ETag"]


# --- the demo shop ----------------------------------------------------------------------------


def test_the_demo_shop_pages_embed_the_widget_under_a_strict_csp(client):
    for path in ("/demo", "/demo/product/blue-kettle", "/demo/privacy"):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
    page = client.get("/demo/product/blue-kettle").get_data(as_text=True)
    assert '<script async src="/widget.js" data-widget="demo"></script>' in page
    assert 'class="compare"' in page and "style=" not in page
    assert '<html lang="et">' in client.get("/demo?lang=et").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/demo?lang=%3Cx%3E").get_data(as_text=True)
    assert error_of(client.get("/demo/product/nothing"), 404)["code"] == "not_found"


def test_every_i18n_file_is_valid_json_with_the_same_keys():
    folder = Path(i18n.__file__).parent
    english = set(json.loads((folder / "en.json").read_text("utf-8")))
    for language in i18n.LANGUAGES:
        assert set(json.loads((folder / f"{language}.json").read_text("utf-8"))) == english
