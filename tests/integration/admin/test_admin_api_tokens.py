"""API tokens (shown once, stored hashed, scoped, revocable) and admin logins via the API."""

from __future__ import annotations

import hashlib

from admin_support import PASSWORD, Api, assert_error, new_login, unique_email
from flask import Flask
from sqlalchemy import select, text

from callback.models import ApiToken, User
from callback.services import context


def test_a_token_is_shown_once_and_stored_hashed(app: Flask, api: Api) -> None:
    response = api.post("/api/v1/admin/tokens", json={"name": "CRM sync", "scopes": ["read"]})
    assert response.status_code == 201, response.text
    created = response.get_json()
    secret = created["token"]
    assert secret.startswith("cbk_") and len(secret) >= 40
    assert created["prefix"] == secret[:10] and created["scopes"] == ["read"]

    listed = api.get("/api/v1/admin/tokens").get_json()["tokens"]
    mine = next(t for t in listed if t["id"] == created["id"])
    assert "token" not in mine and secret not in str(listed)
    assert mine["last_used_at"] is None and mine["revoked_at"] is None

    with app.app_context(), context.transaction() as session:
        row = session.get_one(ApiToken, created["id"])
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        # The secret appears in no column of the table.
        dump = session.execute(text("SELECT * FROM api_tokens")).all()
        assert secret not in str(dump) and secret[10:] not in str(dump)

    assert api.get("/api/v1/admin/me", token=secret).status_code == 200
    used = next(
        t for t in api.get("/api/v1/admin/tokens").get_json()["tokens"] if t["id"] == created["id"]
    )
    assert used["last_used_at"] is not None
    # The read scope cannot write, even on its own tokens.
    assert_error(
        api.delete(f"/api/v1/admin/tokens/{created['id']}", token=secret), 403, "insufficient_scope"
    )


def test_token_input_is_checked(api: Api) -> None:
    cases = [
        ({"scopes": ["read"]}, "invalid_name", "name"),
        ({"name": "", "scopes": ["read"]}, "invalid_name", "name"),
        ({"name": "x" * 121, "scopes": ["read"]}, "invalid_name", "name"),
        ({"name": "t"}, "invalid_scopes", "scopes"),
        ({"name": "t", "scopes": []}, "invalid_scopes", "scopes"),
        ({"name": "t", "scopes": ["admin"]}, "invalid_scopes", "scopes"),
        ({"name": "t", "scopes": "read"}, "invalid_scopes", "scopes"),
    ]
    for body, code, field in cases:
        assert_error(api.post("/api/v1/admin/tokens", json=body), 422, code, field)


def test_a_token_cannot_grant_more_than_its_creator_has(api: Api) -> None:
    body = {"name": "escalate", "scopes": ["read", "write"]}
    # A read-only token cannot even ask (writing needs write); a session user could.
    assert_error(
        api.post("/api/v1/admin/tokens", token="owner_read", json=body), 403, "insufficient_scope"
    )


def test_agents_see_and_revoke_only_their_own_tokens(app: Flask, api: Api) -> None:
    owner_tokens = api.get("/api/v1/admin/tokens").get_json()["tokens"]
    agent_view = api.get("/api/v1/admin/tokens", token="agent").get_json()["tokens"]
    assert {t["user"] for t in agent_view} == {agent_view[0]["user"]}
    assert len(agent_view) < len(owner_tokens)
    foreign = next(
        t for t in owner_tokens if t["user"] != agent_view[0]["user"] and not t["revoked_at"]
    )
    assert_error(
        api.delete(f"/api/v1/admin/tokens/{foreign['id']}", token="agent"), 404, "not_found"
    )
    response = api.post(
        "/api/v1/admin/tokens", token="agent", json={"name": "phone", "scopes": ["read"]}
    )
    assert response.status_code == 201
    own_id = response.get_json()["id"]
    assert api.delete(f"/api/v1/admin/tokens/{own_id}", token="agent").status_code == 204


def test_logins_through_the_api(app: Flask, api: Api) -> None:
    email = unique_email("new")
    agent_id = api.keys.agent_id
    body = {"email": email.upper(), "password": PASSWORD, "role": "agent", "agent_id": agent_id}
    response = api.post("/api/v1/admin/users", json=body)
    assert response.status_code == 201, response.text
    user = response.get_json()
    assert (user["email"], user["role"], user["agent_id"], user["active"]) == (
        email,
        "agent",
        agent_id,
        True,
    )
    assert "password" not in str(user) and "hash" not in str(user)
    with app.app_context(), context.transaction() as session:
        stored = session.scalars(select(User).where(User.email == email)).one()
        assert stored.password_hash.startswith("scrypt:") and PASSWORD not in stored.password_hash

    cases = [
        ({**body, "email": email}, 422, "email_taken"),
        ({**body, "email": "not-an-email"}, 422, "invalid_email"),
        ({**body, "email": unique_email(), "password": "short"}, 422, "weak_password"),
        ({**body, "email": unique_email(), "role": "superuser"}, 422, "invalid_role"),
        ({**body, "email": unique_email(), "agent_id": None}, 422, "agent_required"),
        ({**body, "email": unique_email(), "agent_id": 999999}, 422, "unknown_agent"),
        ({"email": unique_email(), "role": "admin"}, 422, "weak_password"),
    ]
    for payload, status, code in cases:
        assert_error(api.post("/api/v1/admin/users", json=payload), status, code)

    listed = api.get("/api/v1/admin/users").get_json()["users"]
    assert any(u["id"] == user["id"] for u in listed)
    response = api.patch(
        f"/api/v1/admin/users/{user['id']}", json={"role": "admin", "agent_id": None}
    )
    assert response.status_code == 200 and response.get_json()["role"] == "admin"
    assert_error(
        api.patch(f"/api/v1/admin/users/{user['id']}", json={"nickname": "x"}), 422, "unknown_field"
    )
    assert_error(
        api.patch(f"/api/v1/admin/users/{user['id']}", json={"active": "no"}), 422, "invalid_active"
    )
    assert_error(api.patch("/api/v1/admin/users/999999", json={"active": True}), 404, "not_found")


def test_only_an_owner_makes_or_changes_owners(app: Flask, api: Api) -> None:
    body = {"email": unique_email(), "password": PASSWORD, "role": "owner"}
    assert_error(api.post("/api/v1/admin/users", token="admin", json=body), 403, "owner_only")
    assert api.post("/api/v1/admin/users", token="owner", json=body).status_code == 201
    owner_id = api.keys.owner_id
    response = api.patch(f"/api/v1/admin/users/{owner_id}", token="admin", json={"active": False})
    assert_error(response, 403, "owner_only")
    user_id, _ = new_login(app)
    response = api.patch(f"/api/v1/admin/users/{user_id}", token="admin", json={"role": "owner"})
    assert_error(response, 403, "owner_only")
    assert api.get("/api/v1/admin/me").status_code == 200  # the owner still works
