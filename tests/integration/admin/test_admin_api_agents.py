"""Admin API for agents and teams: success, bad input (422 in the error shape), 404."""

from __future__ import annotations

from datetime import UTC, datetime

import phonenumbers
from admin_support import Api, assert_error, e164_agent, unique
from flask import Flask
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from callback.routing import available_candidates
from callback.services import context


def example(region: str, kind: int) -> str:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def new_rule(api: Api) -> int:
    response = api.post("/api/v1/admin/rules", json={"name": unique("rule")})
    assert response.status_code == 201, response.text
    return int(response.get_json()["id"])


def test_create_an_agent_with_everything(api: Api) -> None:
    rule_id = new_rule(api)
    team = api.post("/api/v1/admin/teams", json={"name": unique("Sales")}).get_json()
    body = {
        "name": "  Anna Tamm ",
        "phone": "5555 0123",
        "region": "EE",
        "time_zone": "Europe/Tallinn",
        "hours": {"mon": [["09:00", "17:00"]], "sat": "10:00-12:00, 13:00-14:00"},
        "presence": "paused",
        "team_ids": [team["id"]],
        "rule_id": rule_id,
    }
    response = api.post("/api/v1/admin/agents", json=body)
    assert response.status_code == 201, response.text
    agent = response.get_json()
    assert agent["name"] == "Anna Tamm"
    assert agent["phone"] == "+37255550123"
    assert agent["phone_masked"] == "+372 55•• ••••"
    assert agent["hours"] == {
        "mon": [["09:00", "17:00"]],
        "sat": [["10:00", "12:00"], ["13:00", "14:00"]],
    }
    assert (agent["time_zone"], agent["presence"], agent["active"]) == (
        "Europe/Tallinn",
        "paused",
        True,
    )
    assert agent["teams"] == [{"id": team["id"], "name": team["name"]}]
    members = api.get(f"/api/v1/admin/rules/{rule_id}").get_json()["members"]
    assert [m["agent_id"] for m in members] == [agent["id"]]
    assert api.get(f"/api/v1/admin/agents/{agent['id']}").get_json() == agent
    listed = api.get("/api/v1/admin/agents").get_json()["agents"]
    assert agent["id"] in [a["id"] for a in listed]


def test_agent_phones_follow_the_public_policy(api: Api) -> None:
    cases = [
        ("123", "invalid_phone"),
        ("+372 5555 01234567890", "invalid_phone"),
        ("Call me", "invalid_phone"),
        (example("GB", PhoneNumberType.PREMIUM_RATE), "number_type_not_allowed"),
        (example("GB", PhoneNumberType.TOLL_FREE), "number_type_not_allowed"),
    ]
    for phone, code in cases:
        response = api.post("/api/v1/admin/agents", json={"name": "X", "phone": phone})
        assert_error(response, 422, code, "phone")
    assert_error(
        api.post("/api/v1/admin/agents", json={"name": "X"}), 422, "missing_phone", "phone"
    )
    response = api.post("/api/v1/admin/agents", json={"name": "X", "phone": 37255550101})
    assert_error(response, 422, "invalid_phone", "phone")


def test_bad_agent_input_is_422_with_the_field(api: Api) -> None:
    phone = e164_agent()
    cases = [
        ({"phone": phone}, "missing_name", "name"),
        ({"name": "x" * 121, "phone": phone}, "invalid_name", "name"),
        (
            {"name": "X", "phone": phone, "time_zone": "Mars/Olympus"},
            "invalid_time_zone",
            "time_zone",
        ),
        (
            {"name": "X", "phone": phone, "hours": {"mon": [["17:00", "09:00"]]}},
            "invalid_hours",
            "hours.mon",
        ),
        ({"name": "X", "phone": phone, "hours": {"moon": []}}, "invalid_hours", "hours"),
        ({"name": "X", "phone": phone, "hours": {"tue": "9 to 5"}}, "invalid_hours", "hours.tue"),
        (
            {
                "name": "X",
                "phone": phone,
                "hours": {"wed": [["09:00", "12:00"], ["11:00", "13:00"]]},
            },
            "invalid_hours",
            "hours.wed",
        ),
        ({"name": "X", "phone": phone, "hours": [1]}, "invalid_hours", "hours"),
        ({"name": "X", "phone": phone, "presence": "asleep"}, "invalid_presence", "presence"),
        ({"name": "X", "phone": phone, "active": "maybe"}, "invalid_active", "active"),
        ({"name": "X", "phone": phone, "team_ids": [999999]}, "unknown_team", "team_ids"),
        ({"name": "X", "phone": phone, "team_ids": "1"}, "invalid_team_ids", "team_ids"),
        ({"name": "X", "phone": phone, "rule_id": 999999}, "unknown_rule", "rule_id"),
        ({"name": "X", "phone": phone, "region": "XX"}, "invalid_region", "region"),
    ]
    for body, code, field in cases:
        assert_error(api.post("/api/v1/admin/agents", json=body), 422, code, field)
    for raw in (b"not json", b"[1, 2]", b'"text"'):
        response = api.post("/api/v1/admin/agents", data=raw, content_type="application/json")
        assert_error(response, 400, "invalid_json")


def test_edit_and_deactivate_an_agent(app: Flask, api: Api) -> None:
    rule_id = new_rule(api)
    agent_id = api.post(
        "/api/v1/admin/agents", json={"name": "Mart", "phone": e164_agent(), "rule_id": rule_id}
    ).get_json()["id"]
    changes = {
        "name": "Mart M",
        "phone": "+37255550155",
        "time_zone": "Europe/Helsinki",
        "hours": {"fri": [["08:00", "24:00"]]},
        "presence": "offline",
    }
    response = api.patch(f"/api/v1/admin/agents/{agent_id}", json=changes)
    assert response.status_code == 200, response.text
    assert {k: response.get_json()[k] for k in changes} == changes
    # Back to "whenever present".
    response = api.patch(
        f"/api/v1/admin/agents/{agent_id}", json={"hours": None, "presence": "online"}
    )
    assert response.get_json()["hours"] is None
    assert_error(
        api.patch(f"/api/v1/admin/agents/{agent_id}", json={"name": ""}), 422, "missing_name"
    )
    assert_error(
        api.patch(f"/api/v1/admin/agents/{agent_id}", json={"phone": "1"}), 422, "invalid_phone"
    )

    def candidates() -> list[int]:
        with app.app_context(), context.transaction() as session:
            return [c.agent_id for c in available_candidates(session, rule_id, datetime.now(UTC))]

    assert candidates() == [agent_id]
    response = api.delete(f"/api/v1/admin/agents/{agent_id}")
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert candidates() == []  # routing never rings a deactivated agent
    response = api.patch(f"/api/v1/admin/agents/{agent_id}", json={"active": True})
    assert response.get_json()["active"] is True and candidates() == [agent_id]


def test_unknown_agents_are_404(api: Api) -> None:
    assert_error(api.get("/api/v1/admin/agents/999999"), 404, "not_found")
    assert_error(api.patch("/api/v1/admin/agents/999999", json={"name": "X"}), 404, "not_found")
    assert_error(api.delete("/api/v1/admin/agents/999999"), 404, "not_found")
    response = api.put("/api/v1/admin/agents/999999/presence", json={"presence": "online"})
    assert_error(response, 404, "not_found")


def test_teams(api: Api) -> None:
    first = api.post("/api/v1/admin/agents", json={"name": "A", "phone": e164_agent()}).get_json()
    second = api.post("/api/v1/admin/agents", json={"name": "B", "phone": e164_agent()}).get_json()
    name = unique("Support")
    response = api.post("/api/v1/admin/teams", json={"name": name, "agent_ids": [first["id"]]})
    assert response.status_code == 201, response.text
    team = response.get_json()
    assert team["agent_ids"] == [first["id"]]
    assert_error(api.post("/api/v1/admin/teams", json={"name": name}), 422, "name_taken", "name")
    assert_error(api.post("/api/v1/admin/teams", json={}), 422, "missing_name", "name")
    response = api.post("/api/v1/admin/teams", json={"name": unique("T"), "agent_ids": [999999]})
    assert_error(response, 422, "unknown_agent", "agent_ids")

    ids = sorted([first["id"], second["id"]])
    response = api.patch(f"/api/v1/admin/teams/{team['id']}", json={"agent_ids": ids})
    assert response.get_json()["agent_ids"] == ids
    agent = api.get(f"/api/v1/admin/agents/{second['id']}").get_json()
    assert [t["name"] for t in agent["teams"]] == [name]
    listed = api.get("/api/v1/admin/teams").get_json()["teams"]
    assert any(t["id"] == team["id"] and t["agent_ids"] == ids for t in listed)

    assert api.delete(f"/api/v1/admin/teams/{team['id']}").status_code == 204
    assert api.get(f"/api/v1/admin/agents/{second['id']}").get_json()["teams"] == []
    assert_error(api.delete(f"/api/v1/admin/teams/{team['id']}"), 404, "not_found")
    assert_error(api.patch(f"/api/v1/admin/teams/{team['id']}", json={"name": "x"}), 404)
