"""Admin API for routing rules: settings, member order, bad input, and that the agent role
cannot change a rule."""

from __future__ import annotations

from admin_support import Api, assert_error, e164_agent, unique


def agents(api: Api, count: int) -> list[int]:
    return [
        api.post("/api/v1/admin/agents", json={"name": f"A{n}", "phone": e164_agent()}).get_json()[
            "id"
        ]
        for n in range(count)
    ]


def test_create_and_change_every_setting(api: Api) -> None:
    ids = agents(api, 2)
    name = unique("sales")
    response = api.post(
        "/api/v1/admin/rules", json={"name": name, "strategy": "ordered", "agent_ids": ids}
    )
    assert response.status_code == 201, response.text
    rule = response.get_json()
    assert (rule["name"], rule["strategy"]) == (name, "ordered")
    assert [m["agent_id"] for m in rule["members"]] == ids
    assert [m["position"] for m in rule["members"]] == [1, 2]

    settings = {
        "strategy": "hedged",
        "ring_timeout": 20,
        "hedge_after": 4,
        "simultaneous_count": 3,
        "max_rounds": 3,
        "customer_retry_delay": 90,
        "customer_max_attempts": 3,
        "whisper_template": "Callback from {page_title} for {phone}. Press 1.",
        "require_keypress": False,
    }
    response = api.patch(f"/api/v1/admin/rules/{rule['id']}", json=settings)
    assert response.status_code == 200, response.text
    changed = response.get_json()
    assert {k: changed[k] for k in settings} == settings
    # What the agent will hear: the title, and only the first digits of the customer's number.
    assert changed["whisper_sample"] == "Callback from Blue Kettle for +372 51•• ••••. Press 1."
    assert api.get(f"/api/v1/admin/rules/{rule['id']}").get_json() == changed
    assert any(r["id"] == rule["id"] for r in api.get("/api/v1/admin/rules").get_json()["rules"])


def test_members_are_put_in_the_order_given(api: Api) -> None:
    ids = agents(api, 3)
    rule_id = api.post(
        "/api/v1/admin/rules", json={"name": unique("r"), "agent_ids": ids}
    ).get_json()["id"]
    for order in ([ids[2], ids[0], ids[1]], [ids[1]], [], ids):
        response = api.put(f"/api/v1/admin/rules/{rule_id}/members", json={"agent_ids": order})
        assert response.status_code == 200, response.text
        stored = api.get(f"/api/v1/admin/rules/{rule_id}").get_json()["members"]
        assert [m["agent_id"] for m in stored] == order
        assert [m["position"] for m in stored] == list(range(1, len(order) + 1))


def test_bad_rule_input_is_422(api: Api) -> None:
    taken = unique("taken")
    assert api.post("/api/v1/admin/rules", json={"name": taken}).status_code == 201
    rule_id = api.post("/api/v1/admin/rules", json={"name": unique("r")}).get_json()["id"]
    cases = [
        ({"name": taken}, "name_taken", "name"),
        ({"strategy": "random"}, "invalid_strategy", "strategy"),
        ({"ring_timeout": 2}, "invalid_ring_timeout", "ring_timeout"),
        ({"ring_timeout": "ten"}, "invalid_ring_timeout", "ring_timeout"),
        ({"hedge_after": 0}, "invalid_hedge_after", "hedge_after"),
        ({"max_rounds": 11}, "invalid_max_rounds", "max_rounds"),
        ({"customer_retry_delay": -1}, "invalid_customer_retry_delay", "customer_retry_delay"),
        ({"customer_max_attempts": True}, "invalid_customer_max_attempts", "customer_max_attempts"),
        ({"simultaneous_count": 1.5}, "invalid_simultaneous_count", "simultaneous_count"),
        ({"whisper_template": "Call {customer_name}"}, "unknown_placeholder", "whisper_template"),
        ({"whisper_template": ""}, "missing_whisper_template", "whisper_template"),
        ({"whisper_template": "x" * 301}, "invalid_whisper_template", "whisper_template"),
        ({"require_keypress": "perhaps"}, "invalid_require_keypress", "require_keypress"),
        ({"agent_ids": [999999]}, "unknown_agent", "agent_ids"),
    ]
    for body, code, field in cases:
        assert_error(api.patch(f"/api/v1/admin/rules/{rule_id}", json=body), 422, code, field)
    assert_error(api.post("/api/v1/admin/rules", json={}), 422, "missing_name", "name")
    members = f"/api/v1/admin/rules/{rule_id}/members"
    assert_error(api.put(members, json={}), 422, "missing_agent_ids", "agent_ids")
    assert_error(api.put(members, json={"agent_ids": [1, 1]}), 422, "duplicate_agent_ids")
    assert_error(api.put(members, json={"agent_ids": ["1"]}), 422, "invalid_agent_ids")
    assert_error(api.put(members, json={"agent_ids": [999999]}), 422, "unknown_agent")
    assert_error(api.get("/api/v1/admin/rules/999999"), 404, "not_found")
    assert_error(api.put("/api/v1/admin/rules/999999/members", json={"agent_ids": []}), 404)


def test_an_agent_cannot_change_rules(api: Api) -> None:
    ids = agents(api, 2)
    rule = api.post("/api/v1/admin/rules", json={"name": unique("r"), "agent_ids": ids}).get_json()
    path = f"/api/v1/admin/rules/{rule['id']}"
    attempts = [
        api.patch(path, token="agent", json={"strategy": "simultaneous"}),
        api.put(path + "/members", token="agent", json={"agent_ids": ids[::-1]}),
        api.post("/api/v1/admin/rules", token="agent", json={"name": unique("mine")}),
        api.delete(path, token="agent"),
        api.get(path, token="agent"),
    ]
    for response in attempts:
        assert_error(response, 403, "forbidden")
    assert api.get(path).get_json() == rule


def test_a_rule_in_use_cannot_be_deleted(api: Api) -> None:
    rule_id = api.post("/api/v1/admin/rules", json={"name": unique("r")}).get_json()["id"]
    widget = api.post("/api/v1/admin/widgets", json={"name": "W", "routing_rule_id": rule_id})
    assert widget.status_code == 201, widget.text
    assert_error(api.delete(f"/api/v1/admin/rules/{rule_id}"), 422, "rule_in_use")
    spare = api.post("/api/v1/admin/rules", json={"name": unique("spare")}).get_json()["id"]
    assert api.delete(f"/api/v1/admin/rules/{spare}").status_code == 204
    assert_error(api.get(f"/api/v1/admin/rules/{spare}"), 404, "not_found")
