"""Admin API: API tokens (shown once, stored hashed, revocable) and admin logins."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import accounts
from ..errors import error_response
from .api_common import json_body, principal
from .auth import MANAGER_ROLES, token_required
from .blueprints import api


@api.get("/tokens")
@token_required("read")
def list_tokens() -> Response:
    """Tokens (a manager sees all, others their own); never the secret.
    ---
    get:
      tags: [tokens]
      summary: List API tokens
      responses:
        200:
          description: Tokens, newest first
          content:
            application/json:
              schema:
                type: object
                properties:
                  tokens: {type: array, items: {$ref: '#/components/schemas/Token'}}
    """
    user = principal()
    views = accounts.list_tokens(None if user.is_manager else user.user_id)
    return jsonify({"tokens": [view.as_json() for view in views]})


@api.post("/tokens")
@token_required("write")
def create_token() -> tuple[Response, int] | Response:
    """Create a token for yourself; the response is the only time the secret is shown.
    ---
    post:
      tags: [tokens]
      summary: Create an API token
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name, scopes]
              properties:
                name: {type: string, maxLength: 120}
                scopes: {type: array, items: {type: string, enum: [read, write]}}
      responses:
        201:
          description: The token, with its secret in `token` (shown once)
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: '#/components/schemas/Token'}
                  - type: object
                    properties:
                      token: {type: string, example: cbk_3q2…}
    """
    body = json_body()
    user = principal()
    name, scopes = body.get("name"), body.get("scopes")
    if not isinstance(name, str):
        raise accounts.AccountError("invalid_name", "Give the token a name.", "name")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise accounts.AccountError("invalid_scopes", "Scopes are a list.", "scopes")
    scopes = accounts.validate_scopes(scopes)
    # A token never holds more than the credentials that made it.
    if not set(scopes) <= user.scopes:
        return error_response(
            403, "insufficient_scope", "A token cannot grant scopes its creator lacks."
        )
    secret = accounts.create_token(user.user_id, name, scopes)
    created = accounts.list_tokens(user.user_id)[0]
    return jsonify({**created.as_json(), "token": secret}), 201


@api.delete("/tokens/<id:token_id>")
@token_required("write")
def revoke_token(token_id: int) -> tuple[str, int] | Response:
    """Revoke a token (managers any, others their own); it stops working at once.
    ---
    delete:
      tags: [tokens]
      summary: Revoke an API token
      responses:
        204: {description: Revoked}
    """
    user = principal()
    if not accounts.revoke_token(token_id, None if user.is_manager else user.user_id):
        return error_response(404, "not_found", f"No live token {token_id} of yours.")
    return "", 204


@api.get("/users")
@token_required("read", roles=MANAGER_ROLES)
def list_users() -> Response:
    """Admin logins.
    ---
    get:
      tags: [users]
      summary: List logins
      responses:
        200:
          description: Logins by email
          content:
            application/json:
              schema:
                type: object
                properties:
                  users: {type: array, items: {$ref: '#/components/schemas/User'}}
    """
    return jsonify({"users": accounts.list_users()})


@api.post("/users")
@token_required("write", roles=MANAGER_ROLES)
def create_user() -> tuple[Response, int] | Response:
    """Create a login; an agent login names its agent.
    ---
    post:
      tags: [users]
      summary: Create a login
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [email, password, role]
              properties:
                email: {type: string, format: email}
                password: {type: string, minLength: 10}
                role: {type: string, enum: [owner, admin, agent]}
                agent_id: {type: integer, nullable: true}
      responses:
        201:
          description: The login
          content:
            application/json:
              schema: {$ref: '#/components/schemas/User'}
    """
    body = json_body()
    email, password, role = body.get("email"), body.get("password"), body.get("role")
    agent_id = body.get("agent_id")
    if not isinstance(email, str):
        raise accounts.AccountError("invalid_email", "'email' is required.", "email")
    if not isinstance(password, str):
        raise accounts.AccountError("weak_password", "'password' is required.", "password")
    if not isinstance(role, str):
        raise accounts.AccountError("invalid_role", "'role' is required.", "role")
    if agent_id is not None and (isinstance(agent_id, bool) or not isinstance(agent_id, int)):
        raise accounts.AccountError("unknown_agent", "'agent_id' is an agent's id.", "agent_id")
    if role == "owner" and principal().role != "owner":
        return error_response(403, "owner_only", "Only an owner may create owners.")
    user_id = accounts.create_user(email, password, role, agent_id)
    return jsonify(accounts.get_user(user_id)), 201


@api.patch("/users/<id:user_id>")
@token_required("write", roles=MANAGER_ROLES)
def update_user(user_id: int) -> Response:
    """Change a login's role, active flag, agent or password.
    ---
    patch:
      tags: [users]
      summary: Update a login
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                role: {type: string, enum: [owner, admin, agent]}
                active: {type: boolean}
                agent_id: {type: integer, nullable: true}
                password: {type: string, minLength: 10}
      responses:
        200:
          description: The login
          content:
            application/json:
              schema: {$ref: '#/components/schemas/User'}
    """
    body = json_body()
    allowed = {"role", "active", "agent_id", "password"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise accounts.AccountError("unknown_field", f"Unknown field {unknown[0]!r}.", unknown[0])
    return jsonify(accounts.update_user(user_id, body, principal().role))
