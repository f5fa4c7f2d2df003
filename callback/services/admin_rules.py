"""Routing rules as the admin manages them: strategy, timings, whisper, and member order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Agent, RoutingRule, RuleMember, Strategy, Widget, WidgetRoute
from ..phone import mask
from ..telephony.twiml import whisper_text
from . import admin_validation as check
from . import context
from .admin_errors import AdminError, NotFound

STRATEGIES = tuple(s.value for s in Strategy)
WHISPER_PLACEHOLDERS = ("page_title", "phone")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# Used to show the admin what an agent will hear.
SAMPLE_TITLE = "Blue Kettle"
SAMPLE_PHONE = "+37251234567"

# Field -> (lowest, highest) accepted, in seconds or counts.
LIMITS: dict[str, tuple[int, int]] = {
    "ring_timeout": (5, 120),
    "hedge_after": (1, 60),
    "simultaneous_count": (1, 10),
    "max_rounds": (1, 10),
    "customer_retry_delay": (0, 3600),
    "customer_max_attempts": (1, 5),
}


def whisper_sample(template: str) -> str:
    return whisper_text(template, SAMPLE_TITLE, mask(SAMPLE_PHONE))


def rule_json(rule: RoutingRule, agents: dict[int, Agent]) -> dict[str, Any]:
    members = []
    for member in rule.members:
        agent = agents.get(member.agent_id)
        members.append(
            {
                "agent_id": member.agent_id,
                "position": member.position,
                "name": agent.name if agent else None,
                "active": agent.active if agent else False,
            }
        )
    return {
        "id": rule.id,
        "name": rule.name,
        "strategy": rule.strategy,
        **{field: getattr(rule, field) for field in LIMITS},
        "whisper_template": rule.whisper_template,
        "whisper_sample": whisper_sample(rule.whisper_template),
        "require_keypress": rule.require_keypress,
        "members": members,
        "created_at": rule.created_at.isoformat(),
    }


def _agents_of(session: Session, rules: list[RoutingRule]) -> dict[int, Agent]:
    ids = {m.agent_id for rule in rules for m in rule.members}
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Agent).where(Agent.id.in_(ids)))}


def list_rules() -> list[dict[str, Any]]:
    with context.transaction() as session:
        rules = list(session.scalars(select(RoutingRule).order_by(RoutingRule.name)))
        agents = _agents_of(session, rules)
        return [rule_json(r, agents) for r in rules]


def get_rule(rule_id: int) -> dict[str, Any]:
    with context.transaction() as session:
        rule = _rule(session, rule_id)
        return rule_json(rule, _agents_of(session, [rule]))


def _rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("rule", rule_id)
    return rule


def create_rule(payload: Any) -> dict[str, Any]:
    payload = check.require_object(payload)
    name = check.text(payload, "name", 120, required=True)
    with context.transaction() as session:
        _unique_name(session, name)
        rule = RoutingRule(name=name)
        _apply(rule, payload)
        session.add(rule)
        session.flush()
        agent_ids = check.id_list(payload, "agent_ids")
        if agent_ids is not None:
            _replace_members(session, rule, agent_ids)
        return rule_json(rule, _agents_of(session, [rule]))


def update_rule(rule_id: int, payload: Any) -> dict[str, Any]:
    payload = check.require_object(payload)
    name = check.text(payload, "name", 120, required="name" in payload)
    with context.transaction() as session:
        rule = _rule(session, rule_id)
        if name is not None and name != rule.name:
            _unique_name(session, name)
            rule.name = name
        _apply(rule, payload)
        agent_ids = check.id_list(payload, "agent_ids")
        if agent_ids is not None:
            _replace_members(session, rule, agent_ids)
        return rule_json(rule, _agents_of(session, [rule]))


def set_members(rule_id: int, payload: Any) -> dict[str, Any]:
    """Replace the rule's members with `agent_ids`, in that order."""
    payload = check.require_object(payload)
    agent_ids = check.id_list(payload, "agent_ids")
    if agent_ids is None:
        raise AdminError("missing_agent_ids", "'agent_ids' is required.", "agent_ids")
    with context.transaction() as session:
        rule = _rule(session, rule_id)
        _replace_members(session, rule, agent_ids)
        return rule_json(rule, _agents_of(session, [rule]))


def delete_rule(rule_id: int) -> None:
    with context.transaction() as session:
        rule = _rule(session, rule_id)
        used = session.scalar(
            select(func.count()).select_from(Widget).where(Widget.routing_rule_id == rule_id)
        ) or session.scalar(
            select(func.count()).select_from(WidgetRoute).where(WidgetRoute.rule_id == rule_id)
        )
        if used:
            raise AdminError(
                "rule_in_use", "A widget or page route uses this rule; point it elsewhere first."
            )
        session.delete(rule)


def _unique_name(session: Session, name: str | None) -> None:
    if session.scalar(select(RoutingRule.id).where(RoutingRule.name == name)) is not None:
        raise AdminError("name_taken", f"A rule named {name!r} exists already.", "name")


def _apply(rule: RoutingRule, payload: Mapping[str, Any]) -> None:
    strategy = check.choice(payload, "strategy", STRATEGIES)
    if strategy is not None:
        rule.strategy = strategy
    for field, (low, high) in LIMITS.items():
        value = check.integer(payload, field, low, high)
        if value is not None:
            setattr(rule, field, value)
    template = check.text(payload, "whisper_template", 300, required="whisper_template" in payload)
    if template is not None:
        unknown = [p for p in _PLACEHOLDER.findall(template) if p not in WHISPER_PLACEHOLDERS]
        if unknown:
            raise AdminError(
                "unknown_placeholder",
                f"Unknown placeholder {{{unknown[0]}}}; use {{page_title}} or {{phone}}.",
                "whisper_template",
            )
        rule.whisper_template = template
    keypress = check.boolean(payload, "require_keypress")
    if keypress is not None:
        rule.require_keypress = keypress


def _replace_members(session: Session, rule: RoutingRule, agent_ids: list[int]) -> None:
    known = set(session.scalars(select(Agent.id).where(Agent.id.in_(agent_ids))))
    missing = [a for a in agent_ids if a not in known]
    if missing:
        raise AdminError("unknown_agent", f"There is no agent {missing[0]}.", "agent_ids")
    # Positions are unique per rule: delete the old list before writing the new one.
    rule.members.clear()
    session.flush()
    for position, agent_id in enumerate(agent_ids, start=1):
        rule.members.append(RuleMember(agent_id=agent_id, position=position))
    session.flush()
