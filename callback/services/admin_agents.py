"""Agents and teams as the admin manages them: create, edit, deactivate, presence, hours.

An agent's phone is checked by the same policy as a customer's (`callback.phone`): valid,
mobile or fixed line, no premium or shared-cost ranges. Deactivating keeps the agent (their
calls stay in the history) but routing never rings them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Agent, AgentState, Presence, RoutingRule, RuleMember, Team, TeamMember
from ..phone import NumberPolicy, NumberRejected, mask, parse_number
from . import admin_validation as check
from . import context
from .admin_errors import AdminError, NotFound

PRESENCES = tuple(p.value for p in Presence)


def agent_json(agent: Agent, teams: list[Team], *, full_phone: bool = True) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "phone": agent.phone if full_phone else mask(agent.phone),
        "phone_masked": mask(agent.phone),
        "active": agent.active,
        "presence": agent.presence,
        "state": agent.state,
        "time_zone": agent.time_zone,
        "hours": agent.hours,
        "teams": [{"id": t.id, "name": t.name} for t in teams],
        "created_at": agent.created_at.isoformat(),
    }


def _teams_by_agent(session: Session, agent_ids: list[int]) -> dict[int, list[Team]]:
    found: dict[int, list[Team]] = {agent_id: [] for agent_id in agent_ids}
    if agent_ids:
        rows = session.execute(
            select(TeamMember.agent_id, Team)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.agent_id.in_(agent_ids))
            .order_by(Team.name)
        )
        for agent_id, team in rows:
            found[agent_id].append(team)
    return found


def list_agents(include_inactive: bool = True) -> list[dict[str, Any]]:
    with context.transaction() as session:
        query = select(Agent).order_by(Agent.active.desc(), Agent.name, Agent.id)
        if not include_inactive:
            query = query.where(Agent.active.is_(True))
        agents = list(session.scalars(query))
        teams = _teams_by_agent(session, [a.id for a in agents])
        return [agent_json(a, teams[a.id]) for a in agents]


def get_agent(agent_id: int) -> dict[str, Any]:
    with context.transaction() as session:
        agent = _agent(session, agent_id)
        return agent_json(agent, _teams_by_agent(session, [agent.id])[agent.id])


def _agent(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent


def _phone(payload: Mapping[str, Any], required: bool) -> str | None:
    raw = check.text(payload, "phone", 40, required=required)
    if raw is None:
        return None
    region = check.text(payload, "region", 2)
    if region is not None and region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise AdminError("invalid_region", "The region is a country code like EE.", "region")
    try:
        return parse_number(raw, region.upper() if region else None, NumberPolicy())
    except NumberRejected as rejected:
        raise AdminError(rejected.code, rejected.message, "phone") from None


def create_agent(payload: Any) -> dict[str, Any]:
    """Add an agent: `name` and `phone` required; `time_zone`, `hours`, `presence`,
    `team_ids` and `rule_id` (joins that rule's order at the end) optional."""
    payload = check.require_object(payload)
    name = check.text(payload, "name", 120, required=True)
    phone = _phone(payload, required=True)
    with context.transaction() as session:
        agent = Agent(name=name, phone=phone)
        session.add(agent)
        _apply_settings(session, agent, payload)
        session.flush()
        rule_id = check.integer(payload, "rule_id", 1, check.MAX_ID)
        if rule_id is not None:
            _append_to_rule(session, rule_id, agent.id)
        _set_teams(session, agent.id, check.id_list(payload, "team_ids"))
        session.flush()
        return agent_json(agent, _teams_by_agent(session, [agent.id])[agent.id])


def update_agent(agent_id: int, payload: Any) -> dict[str, Any]:
    """Change any of name, phone, active, presence, time_zone, hours, team_ids."""
    payload = check.require_object(payload)
    name = check.text(payload, "name", 120, required="name" in payload)
    phone = _phone(payload, required="phone" in payload)
    with context.transaction() as session:
        agent = _agent(session, agent_id)
        if name is not None:
            agent.name = name
        if phone is not None:
            agent.phone = phone
        _apply_settings(session, agent, payload)
        _set_teams(session, agent.id, check.id_list(payload, "team_ids"))
        session.flush()
        return agent_json(agent, _teams_by_agent(session, [agent.id])[agent.id])


def _apply_settings(session: Session, agent: Agent, payload: Mapping[str, Any]) -> None:
    active = check.boolean(payload, "active")
    if active is not None:
        agent.active = active
    presence = check.choice(payload, "presence", PRESENCES)
    if presence is not None:
        agent.presence = presence
    if "time_zone" in payload:
        agent.time_zone = check.time_zone(payload["time_zone"])
    if "hours" in payload:
        agent.hours = check.weekly_hours(payload["hours"])


def set_presence(agent_id: int, presence: Any) -> dict[str, Any]:
    if presence not in PRESENCES:
        raise AdminError(
            "invalid_presence", "Presence must be online, paused or offline.", "presence"
        )
    return update_agent(agent_id, {"presence": presence})


def deactivate_agent(agent_id: int) -> dict[str, Any]:
    """Routing stops ringing the agent; a call in progress ends normally."""
    return update_agent(agent_id, {"active": False})


def _append_to_rule(session: Session, rule_id: int, agent_id: int) -> None:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise AdminError("unknown_rule", f"There is no rule {rule_id}.", "rule_id")
    last = max((m.position for m in rule.members), default=0)
    rule.members.append(RuleMember(agent_id=agent_id, position=last + 1))


def _set_teams(session: Session, agent_id: int, team_ids: list[int] | None) -> None:
    if team_ids is None:
        return
    known = set(session.scalars(select(Team.id).where(Team.id.in_(team_ids))))
    missing = [t for t in team_ids if t not in known]
    if missing:
        raise AdminError("unknown_team", f"There is no team {missing[0]}.", "team_ids")
    for member in session.scalars(select(TeamMember).where(TeamMember.agent_id == agent_id)):
        session.delete(member)
    session.flush()
    for team_id in team_ids:
        session.add(TeamMember(team_id=team_id, agent_id=agent_id))


def agent_state_label(agent: Mapping[str, Any]) -> str:
    """What the admin sees: 'inactive', or the presence unless the phone is busy."""
    if not agent["active"]:
        return "inactive"
    if agent["state"] != AgentState.AVAILABLE:
        return str(agent["state"])
    return str(agent["presence"])


# Teams ---------------------------------------------------------------------------------------


def team_json(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "agent_ids": sorted(m.agent_id for m in team.members),
    }


def list_teams() -> list[dict[str, Any]]:
    with context.transaction() as session:
        return [team_json(t) for t in session.scalars(select(Team).order_by(Team.name))]


def create_team(payload: Any) -> dict[str, Any]:
    payload = check.require_object(payload)
    name = check.text(payload, "name", 120, required=True)
    with context.transaction() as session:
        if session.scalar(select(Team.id).where(Team.name == name)) is not None:
            raise AdminError("name_taken", f"A team named {name!r} exists already.", "name")
        team = Team(name=name)
        session.add(team)
        session.flush()
        _set_team_members(session, team, check.id_list(payload, "agent_ids"))
        return team_json(team)


def update_team(team_id: int, payload: Any) -> dict[str, Any]:
    payload = check.require_object(payload)
    name = check.text(payload, "name", 120, required="name" in payload)
    with context.transaction() as session:
        team = session.get(Team, team_id)
        if team is None:
            raise NotFound("team", team_id)
        if name is not None and name != team.name:
            if session.scalar(select(Team.id).where(Team.name == name)) is not None:
                raise AdminError("name_taken", f"A team named {name!r} exists already.", "name")
            team.name = name
        _set_team_members(session, team, check.id_list(payload, "agent_ids"))
        return team_json(team)


def delete_team(team_id: int) -> None:
    with context.transaction() as session:
        team = session.get(Team, team_id)
        if team is None:
            raise NotFound("team", team_id)
        session.delete(team)


def _set_team_members(session: Session, team: Team, agent_ids: list[int] | None) -> None:
    if agent_ids is None:
        return
    known = set(session.scalars(select(Agent.id).where(Agent.id.in_(agent_ids))))
    missing = [a for a in agent_ids if a not in known]
    if missing:
        raise AdminError("unknown_agent", f"There is no agent {missing[0]}.", "agent_ids")
    # Delete, flush, insert: the unit of work would otherwise insert a kept member's row
    # before deleting its old copy.
    team.members.clear()
    session.flush()
    team.members.extend(TeamMember(agent_id=agent_id) for agent_id in agent_ids)
    session.flush()
