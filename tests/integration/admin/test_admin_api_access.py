"""Every admin API endpoint refuses missing, wrong and revoked tokens (401), tokens without the
scope (403) and, where it changes the configuration, the agent role (403), in the error shape.

ENDPOINTS lists each endpoint once; a test checks the list against the app's URL map, so a new
endpoint without an entry here fails the suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from admin_support import Api, assert_error, new_login
from flask import Flask

from callback.services import accounts


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {agent} is the agent-role user's own agent; other ids need not exist
    scope: str
    managers_only: bool
    body: Any = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/api/v1/admin/me", "read", False),
    Endpoint("GET", "/api/v1/admin/agents", "read", False),
    Endpoint("POST", "/api/v1/admin/agents", "write", True, {"name": "X", "phone": "+37255550109"}),
    Endpoint("GET", "/api/v1/admin/agents/{agent}", "read", False),
    Endpoint("PATCH", "/api/v1/admin/agents/{agent}", "write", True, {"name": "Renamed"}),
    Endpoint("DELETE", "/api/v1/admin/agents/{agent}", "write", True),
    Endpoint(
        "PUT", "/api/v1/admin/agents/{agent}/presence", "write", False, {"presence": "paused"}
    ),
    Endpoint("GET", "/api/v1/admin/teams", "read", True),
    Endpoint("POST", "/api/v1/admin/teams", "write", True, {"name": "Sales"}),
    Endpoint("PATCH", "/api/v1/admin/teams/1", "write", True, {"name": "Sales"}),
    Endpoint("DELETE", "/api/v1/admin/teams/1", "write", True),
    Endpoint("GET", "/api/v1/admin/rules", "read", True),
    Endpoint("POST", "/api/v1/admin/rules", "write", True, {"name": "r"}),
    Endpoint("GET", "/api/v1/admin/rules/1", "read", True),
    Endpoint("PATCH", "/api/v1/admin/rules/1", "write", True, {"strategy": "ordered"}),
    Endpoint("PUT", "/api/v1/admin/rules/1/members", "write", True, {"agent_ids": []}),
    Endpoint("DELETE", "/api/v1/admin/rules/1", "write", True),
    Endpoint("GET", "/api/v1/admin/widgets", "read", True),
    Endpoint("POST", "/api/v1/admin/widgets", "write", True, {"name": "w", "routing_rule_id": 1}),
    Endpoint("GET", "/api/v1/admin/widgets/1", "read", True),
    Endpoint("PATCH", "/api/v1/admin/widgets/1", "write", True, {"name": "w"}),
    Endpoint("PUT", "/api/v1/admin/widgets/1/routes", "write", True, {"routes": []}),
    Endpoint("GET", "/api/v1/admin/tokens", "read", False),
    Endpoint("POST", "/api/v1/admin/tokens", "write", False, {"name": "t", "scopes": ["read"]}),
    Endpoint("DELETE", "/api/v1/admin/tokens/999999", "write", False),
    Endpoint("GET", "/api/v1/admin/users", "read", True),
    Endpoint("POST", "/api/v1/admin/users", "write", True, {"email": "a@b.cd"}),
    Endpoint("PATCH", "/api/v1/admin/users/1", "write", True, {"active": True}),
    Endpoint("GET", "/api/v1/admin/privacy?phone=%2B37255550199", "read", True),
    Endpoint("DELETE", "/api/v1/admin/privacy?phone=%2B37255550199", "write", True),
]


def url(endpoint: Endpoint, api: Api) -> str:
    return endpoint.path.replace("{agent}", str(api.keys.agent_id))


def send(api: Api, endpoint: Endpoint, token: str | None, **kwargs: Any) -> Any:
    if endpoint.body is not None:
        kwargs["json"] = endpoint.body
    return api.call(endpoint.method, url(endpoint, api), token=token, **kwargs)


def test_the_list_covers_every_admin_endpoint_of_the_app(app: Flask) -> None:
    served = {
        (method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin_api.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    listed = {
        (e.method, e.path.split("?")[0].replace("{agent}", "{agent_id}").replace("/1", "/{x}"))
        for e in ENDPOINTS
    }

    def shape(pair: tuple[str, str]) -> tuple[str, str]:
        method, path = pair
        return method, "/".join(
            "{}" if part.startswith("{") or part.isdigit() else part for part in path.split("/")
        )

    assert {shape(p) for p in served} == {shape(p) for p in listed}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_no_token_is_401(api: Api, endpoint: Endpoint) -> None:
    response = send(api, endpoint, None)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_wrong_token_is_401(api: Api, endpoint: Endpoint) -> None:
    assert_error(send(api, endpoint, "cbk_" + "x" * 43), 401, "invalid_token")
    assert_error(send(api, endpoint, "Basic abc", headers={}), 401, "invalid_token")


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.scope == "write"], ids=str)
def test_a_read_only_token_cannot_write(api: Api, endpoint: Endpoint) -> None:
    assert_error(send(api, endpoint, "owner_read"), 403, "insufficient_scope")


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.managers_only], ids=str)
def test_the_agent_role_cannot_use_manager_endpoints(api: Api, endpoint: Endpoint) -> None:
    assert_error(send(api, endpoint, "agent"), 403, "forbidden")


def test_a_revoked_token_is_refused_at_once(app: Flask, api: Api) -> None:
    _, token = new_login(app)
    assert api.get("/api/v1/admin/me", token=token).status_code == 200
    mine = api.get("/api/v1/admin/tokens", token=token).get_json()["tokens"]
    token_id = next(t["id"] for t in mine if token.startswith(t["prefix"]))
    assert api.delete(f"/api/v1/admin/tokens/{token_id}", token="owner").status_code == 204
    assert_error(api.get("/api/v1/admin/me", token=token), 401, "invalid_token")
    # Revoking twice finds nothing live.
    assert_error(api.delete(f"/api/v1/admin/tokens/{token_id}", token="owner"), 404, "not_found")


def test_a_deactivated_users_tokens_stop_working(app: Flask, api: Api) -> None:
    user_id, token = new_login(app)
    assert api.get("/api/v1/admin/me", token=token).status_code == 200
    response = api.patch(f"/api/v1/admin/users/{user_id}", json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert_error(api.get("/api/v1/admin/me", token=token), 401, "invalid_token")


def test_an_agent_cannot_read_or_set_another_agents_presence(app: Flask, api: Api) -> None:
    other = api.post(
        "/api/v1/admin/agents", json={"name": "Other", "phone": "+37255550177"}
    ).get_json()["id"]
    assert_error(api.get(f"/api/v1/admin/agents/{other}", token="agent"), 403, "forbidden")
    response = api.put(
        f"/api/v1/admin/agents/{other}/presence", token="agent", json={"presence": "offline"}
    )
    assert_error(response, 403, "forbidden")
    assert api.get(f"/api/v1/admin/agents/{other}").get_json()["presence"] == "online"


def test_the_agent_role_sees_itself_and_sets_its_own_presence(app: Flask, api: Api) -> None:
    agents = api.get("/api/v1/admin/agents", token="agent").get_json()["agents"]
    assert [a["id"] for a in agents] == [api.keys.agent_id]
    own = f"/api/v1/admin/agents/{api.keys.agent_id}/presence"
    response = api.put(own, token="agent", json={"presence": "paused"})
    assert response.status_code == 200 and response.get_json()["presence"] == "paused"
    assert_error(api.put(own, token="agent", json={"presence": "asleep"}), 422, "invalid_presence")
    me = api.get("/api/v1/admin/me", token="agent").get_json()
    assert (me["role"], me["agent_id"]) == ("agent", api.keys.agent_id)


def test_token_use_is_recorded(app: Flask, api: Api) -> None:
    api.get("/api/v1/admin/me", token="admin")
    with app.app_context():
        views = accounts.list_tokens()
    used = next(v for v in views if v.name == "admin" and v.user_email.startswith("admin-"))
    assert used.last_used_at is not None


GARBAGE: list[Any] = [
    None,
    [],
    "text",
    12,
    {"name": None, "phone": None, "agent_ids": None, "routes": None, "scopes": None},
    {"name": ["x"], "phone": {"a": 1}, "presence": 1, "strategy": [], "hours": "x", "texts": 1},
    {"agent_ids": [2**62], "team_ids": [2**62], "rule_id": 2**62, "routing_rule_id": 2**62},
    {"routes": [{"url_pattern": "/x", "rule_id": 2**62}], "agent_id": 2**62, "role": None},
    {"name": "\x00", "phone": "+372\x00555", "email": "\x00@x.ee", "password": "\x00" * 12},
    {"name": "x" * 10_000, "whisper_template": "{" * 500, "triggers": {"rules": [None, 1, []]}},
    {"hours": {"mon": [[None, None]]}, "holidays": [None], "colors": {"accent": None}},
    {"allowed_origins": [None], "allowed_countries": [None], "blocked_prefixes": [None]},
]


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.method != "GET"], ids=str)
def test_no_input_makes_a_500(api: Api, endpoint: Endpoint) -> None:
    for body in GARBAGE:
        response = api.call(endpoint.method, url(endpoint, api), token="owner", json=body)
        assert response.status_code < 500, (body, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if "/1" in e.path or "{agent}" in e.path], ids=str
)
def test_ids_beyond_the_column_range_match_no_route(api: Api, endpoint: Endpoint) -> None:
    """A 64-bit id is no row: refused by the URL map (PostgreSQL would fail on it: a 500)."""
    huge = f"/{2**40}"
    path = url(endpoint, api).replace("/1", huge).replace(f"/{api.keys.agent_id}", huge)
    response = api.call(endpoint.method, path, token="owner", json=endpoint.body or {})
    # 405 when werkzeug's matcher reports the methods of a similar-looking rule instead.
    assert response.status_code in (404, 405), response.text
    assert_error(response, response.status_code)
