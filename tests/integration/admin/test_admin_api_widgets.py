"""Admin API for widgets: every setting, page routes, bad input, and that the public widget
config (what widget.js reads) shows what the admin saved."""

from __future__ import annotations

from datetime import UTC, datetime

from admin_support import Api, assert_error, unique
from flask import Flask

from callback.routing.page_routes import widget_routes
from callback.routing.selection import rule_for
from callback.services import context


def new_rule(api: Api) -> int:
    return int(api.post("/api/v1/admin/rules", json={"name": unique("r")}).get_json()["id"])


def new_widget(api: Api, **fields: object) -> dict:
    body = {"name": "Shop", "routing_rule_id": new_rule(api), **fields}
    response = api.post("/api/v1/admin/widgets", json=body)
    assert response.status_code == 201, response.text
    return response.get_json()  # type: ignore[no-any-return]


def test_create_a_widget_and_change_every_setting(api: Api) -> None:
    key = unique("key")
    widget = new_widget(api, public_key=key)
    assert widget["public_key"] == key
    assert (widget["default_region"], widget["allowed_countries"]) == ("EE", ["EE"])
    assert widget["hours"] is None and widget["holidays"] == []

    rule_id = new_rule(api)
    changes = {
        "name": "Kitchen shop",
        "allowed_origins": ["https://shop.example", "http://127.0.0.1:8000/"],
        "default_region": "fi",
        "allowed_countries": ["fi", "EE", "ee"],
        "language": "et",
        "texts": {
            "et": {"title": "Küsimusi?"},
            "en": {"title": "Questions?", "privacy_url": "/privacy"},
        },
        "colors": {"accent": "#112233", "text": "#fff"},
        "position": "left",
        "triggers": {
            "threshold": 2,
            "snooze_days": 3,
            "rules": [
                {"type": "time_on_page", "seconds": 20, "score": 1},
                {"type": "product_pages", "pattern": "/product/", "count": 2},
                {"type": "exit_intent"},
            ],
        },
        "time_zone": "Europe/Helsinki",
        "hours": {"mon": [["09:00", "17:00"]], "sat": "10:00-14:00"},
        "holidays": ["2026-12-24", "2026-12-25", "2026-12-24"],
        "routing_rule_id": rule_id,
        "daily_call_cap": 50,
        "blocked_prefixes": ["+358 9", "+3725999"],
    }
    response = api.patch(f"/api/v1/admin/widgets/{widget['id']}", json=changes)
    assert response.status_code == 200, response.text
    saved = response.get_json()
    assert saved["allowed_origins"] == ["https://shop.example", "http://127.0.0.1:8000"]
    assert (saved["default_region"], saved["allowed_countries"]) == ("FI", ["EE", "FI"])
    assert saved["texts"] == changes["texts"] and saved["language"] == "et"
    assert saved["colors"] == {"accent": "#112233", "text": "#fff"} and saved["position"] == "left"
    assert saved["triggers"] == changes["triggers"]
    assert saved["hours"] == {"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}
    assert saved["holidays"] == ["2026-12-24", "2026-12-25"]
    assert (saved["time_zone"], saved["routing_rule_id"], saved["daily_call_cap"]) == (
        "Europe/Helsinki",
        rule_id,
        50,
    )
    assert saved["blocked_prefixes"] == ["+3589", "+3725999"]
    assert api.get(f"/api/v1/admin/widgets/{widget['id']}").get_json() == saved
    # Changing the look keeps the triggers, and changing the triggers keeps the look.
    api.patch(f"/api/v1/admin/widgets/{widget['id']}", json={"position": "right"})
    again = api.patch(f"/api/v1/admin/widgets/{widget['id']}", json={"triggers": {"rules": []}})
    assert (
        again.get_json()["position"] == "right"
        and again.get_json()["colors"]["accent"] == "#112233"
    )
    assert again.get_json()["triggers"] == {"rules": []}


def test_the_public_config_shows_what_the_admin_saved(api: Api) -> None:
    today = datetime.now(UTC).date().isoformat()
    widget = new_widget(api)
    changes = {
        "colors": {"accent": "#aa0000", "text": "#000000"},
        "position": "left",
        "texts": {"en": {"title": "Ring me"}},
        "time_zone": "UTC",
        "holidays": [today],  # always open, except today
    }
    assert api.patch(f"/api/v1/admin/widgets/{widget['id']}", json=changes).status_code == 200
    public = api.get(f"/api/v1/widgets/{widget['public_key']}?lang=en", token=None).get_json()
    assert public["colors"] == {"accent": "#aa0000", "text": "#000000"}
    assert public["position"] == "left"
    assert public["texts"]["title"] == "Ring me"
    assert public["open_now"] is False
    admin_view = api.get(f"/api/v1/admin/widgets/{widget['id']}").get_json()
    assert admin_view["hours"] is None and admin_view["holidays"] == [today]

    api.patch(f"/api/v1/admin/widgets/{widget['id']}", json={"holidays": []})
    public = api.get(f"/api/v1/widgets/{widget['public_key']}", token=None).get_json()
    assert public["open_now"] is True


def test_page_routes(app: Flask, api: Api) -> None:
    widget = new_widget(api)
    products, checkout = new_rule(api), new_rule(api)
    routes = [
        {"url_pattern": "/product/*", "rule_id": products},
        {"url_pattern": " /checkout ", "rule_id": checkout},
    ]
    response = api.put(f"/api/v1/admin/widgets/{widget['id']}/routes", json={"routes": routes})
    assert response.status_code == 200, response.text
    assert response.get_json()["routes"] == [
        {"url_pattern": "/product/*", "rule_id": products, "position": 1},
        {"url_pattern": "/checkout", "rule_id": checkout, "position": 2},
    ]

    def rule_of(page_url: str) -> int:
        with app.app_context(), context.transaction() as session:
            return rule_for(
                widget_routes(session, widget["id"]), widget["routing_rule_id"], page_url
            )

    # What dispatch does with them (callback.routing.page_routes).
    assert rule_of("https://shop.example/product/kettle?x=1") == products
    assert rule_of("https://shop.example/checkout") == checkout
    assert rule_of("https://shop.example/about") == widget["routing_rule_id"]
    swapped = {"routes": routes[::-1]}
    stored = api.put(f"/api/v1/admin/widgets/{widget['id']}/routes", json=swapped).get_json()
    assert [r["rule_id"] for r in stored["routes"]] == [checkout, products]
    # A rule a route points at cannot be deleted.
    assert_error(api.delete(f"/api/v1/admin/rules/{products}"), 422, "rule_in_use")
    cleared = api.put(f"/api/v1/admin/widgets/{widget['id']}/routes", json={"routes": []})
    assert cleared.get_json()["routes"] == []


def test_bad_widget_input_is_422(api: Api) -> None:
    widget = new_widget(api)
    path = f"/api/v1/admin/widgets/{widget['id']}"
    cases = [
        ({"name": ""}, "missing_name", "name"),
        ({"allowed_origins": ["shop.example"]}, "invalid_origins", "allowed_origins"),
        ({"allowed_origins": ["https://shop.example/path"]}, "invalid_origins", "allowed_origins"),
        ({"allowed_origins": "https://shop.example"}, "invalid_origins", "allowed_origins"),
        ({"default_region": "XX"}, "invalid_region", "default_region"),
        ({"allowed_countries": ["UK"]}, "invalid_countries", "allowed_countries"),
        ({"allowed_countries": []}, "invalid_countries", "allowed_countries"),
        ({"language": "english"}, "invalid_language", "language"),
        ({"texts": {"en": {"no_such_text": "x"}}}, "invalid_texts", "texts"),
        ({"texts": {"EN!": {}}}, "invalid_texts", "texts"),
        ({"texts": ["x"]}, "invalid_texts", "texts"),
        ({"colors": {"accent": "red"}}, "invalid_colors", "colors"),
        ({"colors": {"background": "#ffffff"}}, "invalid_colors", "colors"),
        ({"position": "top"}, "invalid_position", "position"),
        ({"triggers": {"rules": [{"type": "telepathy"}]}}, "invalid_triggers", "triggers"),
        (
            {"triggers": {"rules": [{"type": "idle", "seconds": -1}]}},
            "invalid_triggers",
            "triggers",
        ),
        ({"triggers": {"rules": [{"type": "idle", "minutes": 1}]}}, "invalid_triggers", "triggers"),
        ({"triggers": {"threshold": "high"}}, "invalid_triggers", "triggers"),
        ({"triggers": {"colour": 1}}, "invalid_triggers", "triggers"),
        ({"triggers": []}, "invalid_triggers", "triggers"),
        ({"time_zone": "Europe/Atlantis"}, "invalid_time_zone", "time_zone"),
        ({"hours": {"sun": "late"}}, "invalid_hours", "hours.sun"),
        ({"holidays": ["24.12.2026"]}, "invalid_holidays", "holidays"),
        ({"holidays": ["2026-02-30"]}, "invalid_holidays", "holidays"),
        ({"routing_rule_id": 999999}, "unknown_rule", "routing_rule_id"),
        ({"daily_call_cap": 0}, "invalid_daily_call_cap", "daily_call_cap"),
        ({"blocked_prefixes": ["0800"]}, "invalid_blocked_prefixes", "blocked_prefixes"),
    ]
    for body, code, field in cases:
        assert_error(api.patch(path, json=body), 422, code, field)
    assert api.get(path).get_json() == widget  # nothing half-saved

    routes = f"{path}/routes"
    assert_error(api.put(routes, json={}), 422, "missing_routes", "routes")
    assert_error(
        api.put(routes, json={"routes": [{"url_pattern": "product", "rule_id": 1}]}),
        422,
        "invalid_routes",
    )
    assert_error(
        api.put(routes, json={"routes": [{"url_pattern": "/p/*", "rule_id": "1"}]}),
        422,
        "invalid_routes",
    )
    assert_error(
        api.put(routes, json={"routes": [{"url_pattern": "/p/*", "rule_id": 999999}]}),
        422,
        "unknown_rule",
    )
    assert_error(api.put(routes, json={"routes": "all"}), 422, "invalid_routes")

    create = "/api/v1/admin/widgets"
    assert_error(api.post(create, json={"name": "W"}), 422, "missing_routing_rule_id")
    rule = new_rule(api)
    body = {"name": "W", "routing_rule_id": rule, "public_key": widget["public_key"]}
    assert_error(api.post(create, json=body), 422, "key_taken", "public_key")
    body["public_key"] = "no spaces"
    assert_error(api.post(create, json=body), 422, "invalid_public_key", "public_key")
    assert_error(api.get("/api/v1/admin/widgets/999999"), 404, "not_found")
    assert_error(api.patch("/api/v1/admin/widgets/999999", json={"name": "x"}), 404, "not_found")
