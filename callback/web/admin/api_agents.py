"""Admin API: agents, their presence, and teams."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import admin_agents
from ..errors import error_response
from .api_common import json_body, owns_agent, principal
from .auth import MANAGER_ROLES, token_required
from .blueprints import api


@api.get("/me")
@token_required("read")
def me() -> Response:
    """Who the credentials belong to.
    ---
    get:
      tags: [admin]
      summary: The user behind the token or session
      responses:
        200:
          description: The user
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Me'}
    """
    user = principal()
    return jsonify(
        {
            "id": user.user_id,
            "email": user.email,
            "role": user.role,
            "agent_id": user.agent_id,
            "scopes": sorted(user.scopes),
        }
    )


@api.get("/agents")
@token_required("read")
def list_agents() -> Response:
    """Every agent (an agent-role user sees only themselves).
    ---
    get:
      tags: [agents]
      summary: List agents
      responses:
        200:
          description: Agents, active first
          content:
            application/json:
              schema:
                type: object
                properties:
                  agents: {type: array, items: {$ref: '#/components/schemas/Agent'}}
    """
    agents = admin_agents.list_agents()
    user = principal()
    if not user.is_manager:
        agents = [a for a in agents if a["id"] == user.agent_id]
    return jsonify({"agents": agents})


@api.post("/agents")
@token_required("write", roles=MANAGER_ROLES)
def create_agent() -> tuple[Response, int]:
    """Add an agent; the phone is checked by the same policy as a customer's.
    ---
    post:
      tags: [agents]
      summary: Create an agent
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/AgentInput'}
      responses:
        201:
          description: The new agent
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Agent'}
    """
    return jsonify(admin_agents.create_agent(json_body())), 201


@api.get("/agents/<id:agent_id>")
@token_required("read")
def get_agent(agent_id: int) -> Response:
    """One agent.
    ---
    get:
      tags: [agents]
      summary: Get an agent
      responses:
        200:
          description: The agent
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Agent'}
    """
    if not owns_agent(agent_id):
        return error_response(403, "forbidden", "Agents see only themselves.")
    return jsonify(admin_agents.get_agent(agent_id))


@api.patch("/agents/<id:agent_id>")
@token_required("write", roles=MANAGER_ROLES)
def update_agent(agent_id: int) -> Response:
    """Change an agent; `{"active": false}` deactivates.
    ---
    patch:
      tags: [agents]
      summary: Update an agent
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/AgentInput'}
      responses:
        200:
          description: The agent
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Agent'}
    """
    return jsonify(admin_agents.update_agent(agent_id, json_body()))


@api.delete("/agents/<id:agent_id>")
@token_required("write", roles=MANAGER_ROLES)
def deactivate_agent(agent_id: int) -> Response:
    """Deactivate an agent (kept for the history; never rung again).
    ---
    delete:
      tags: [agents]
      summary: Deactivate an agent
      responses:
        200:
          description: The deactivated agent
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Agent'}
    """
    return jsonify(admin_agents.deactivate_agent(agent_id))


@api.put("/agents/<id:agent_id>/presence")
@token_required("write")
def set_presence(agent_id: int) -> Response:
    """Set presence; an agent-role user may set their own.
    ---
    put:
      tags: [agents]
      summary: Set an agent's presence
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [presence]
              properties:
                presence: {type: string, enum: [online, paused, offline]}
      responses:
        200:
          description: The agent
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Agent'}
    """
    if not owns_agent(agent_id):
        return error_response(403, "forbidden", "Agents set only their own presence.")
    return jsonify(admin_agents.set_presence(agent_id, json_body().get("presence")))


@api.get("/teams")
@token_required("read", roles=MANAGER_ROLES)
def list_teams() -> Response:
    """Teams.
    ---
    get:
      tags: [teams]
      summary: List teams
      responses:
        200:
          description: Teams by name
          content:
            application/json:
              schema:
                type: object
                properties:
                  teams: {type: array, items: {$ref: '#/components/schemas/Team'}}
    """
    return jsonify({"teams": admin_agents.list_teams()})


@api.post("/teams")
@token_required("write", roles=MANAGER_ROLES)
def create_team() -> tuple[Response, int]:
    """Create a team.
    ---
    post:
      tags: [teams]
      summary: Create a team
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TeamInput'}
      responses:
        201:
          description: The team
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Team'}
    """
    return jsonify(admin_agents.create_team(json_body())), 201


@api.patch("/teams/<id:team_id>")
@token_required("write", roles=MANAGER_ROLES)
def update_team(team_id: int) -> Response:
    """Rename a team or replace its members.
    ---
    patch:
      tags: [teams]
      summary: Update a team
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TeamInput'}
      responses:
        200:
          description: The team
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Team'}
    """
    return jsonify(admin_agents.update_team(team_id, json_body()))


@api.delete("/teams/<id:team_id>")
@token_required("write", roles=MANAGER_ROLES)
def delete_team(team_id: int) -> tuple[str, int]:
    """Delete a team (its agents stay).
    ---
    delete:
      tags: [teams]
      summary: Delete a team
      responses:
        204: {description: Deleted}
    """
    admin_agents.delete_team(team_id)
    return "", 204
