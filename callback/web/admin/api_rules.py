"""Admin API: routing rules and the order of their members. Managers only."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import admin_rules
from .api_common import json_body
from .auth import MANAGER_ROLES, token_required
from .blueprints import api


@api.get("/rules")
@token_required("read", roles=MANAGER_ROLES)
def list_rules() -> Response:
    """Every routing rule with its members in order.
    ---
    get:
      tags: [rules]
      summary: List rules
      responses:
        200:
          description: Rules by name
          content:
            application/json:
              schema:
                type: object
                properties:
                  rules: {type: array, items: {$ref: '#/components/schemas/Rule'}}
    """
    return jsonify({"rules": admin_rules.list_rules()})


@api.post("/rules")
@token_required("write", roles=MANAGER_ROLES)
def create_rule() -> tuple[Response, int]:
    """Create a rule.
    ---
    post:
      tags: [rules]
      summary: Create a rule
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RuleInput'}
      responses:
        201:
          description: The rule
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Rule'}
    """
    return jsonify(admin_rules.create_rule(json_body())), 201


@api.get("/rules/<id:rule_id>")
@token_required("read", roles=MANAGER_ROLES)
def get_rule(rule_id: int) -> Response:
    """One rule.
    ---
    get:
      tags: [rules]
      summary: Get a rule
      responses:
        200:
          description: The rule
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Rule'}
    """
    return jsonify(admin_rules.get_rule(rule_id))


@api.patch("/rules/<id:rule_id>")
@token_required("write", roles=MANAGER_ROLES)
def update_rule(rule_id: int) -> Response:
    """Change a rule's settings (and, with `agent_ids`, its members).
    ---
    patch:
      tags: [rules]
      summary: Update a rule
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/RuleInput'}
      responses:
        200:
          description: The rule
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Rule'}
    """
    return jsonify(admin_rules.update_rule(rule_id, json_body()))


@api.put("/rules/<id:rule_id>/members")
@token_required("write", roles=MANAGER_ROLES)
def set_members(rule_id: int) -> Response:
    """Replace the members, in the order given.
    ---
    put:
      tags: [rules]
      summary: Set a rule's members in order
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [agent_ids]
              properties:
                agent_ids: {type: array, items: {type: integer}, description: first rung first}
      responses:
        200:
          description: The rule
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Rule'}
    """
    return jsonify(admin_rules.set_members(rule_id, json_body()))


@api.delete("/rules/<id:rule_id>")
@token_required("write", roles=MANAGER_ROLES)
def delete_rule(rule_id: int) -> tuple[str, int]:
    """Delete a rule that no widget or route uses.
    ---
    delete:
      tags: [rules]
      summary: Delete a rule
      responses:
        204: {description: Deleted}
        422: {$ref: '#/components/responses/Invalid'}
    """
    admin_rules.delete_rule(rule_id)
    return "", 204
