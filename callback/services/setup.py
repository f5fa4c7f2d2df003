"""Setting the shop up: agents, rules and widgets (used by the CLI, later by the admin)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Agent, RoutingRule, RuleMember, Widget
from ..phone import NumberPolicy, NumberRejected, parse_number
from . import context

DEFAULT_RULE = "default"
_HOURS = re.compile(
    r"^(?P<days>(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)\s+"
    r"(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)$"
)


class SetupError(ValueError):
    """A bad value given to a setup command; the message says what to fix."""


@dataclass(frozen=True)
class AgentAdded:
    id: int
    phone: str
    rule: str
    position: int


def add_agent(
    name: str,
    phone: str,
    rule: str | None = None,
    position: int | None = None,
    region: str | None = None,
) -> AgentAdded:
    try:
        e164 = parse_number(phone, region, NumberPolicy())
    except NumberRejected as rejected:
        raise SetupError(f"{phone!r}: {rejected.message}") from None
    if not name.strip():
        raise SetupError("the agent needs a name")
    with context.transaction() as session:
        routing_rule = ensure_rule(session, rule or DEFAULT_RULE)
        agent = Agent(name=name.strip(), phone=e164)
        session.add(agent)
        session.flush()
        members = list(routing_rule.members)
        place = len(members) if position is None else max(0, min(position - 1, len(members)))
        # Positions are unique per rule: renumber the whole list with the newcomer inserted.
        ordered = [m.agent_id for m in members]
        ordered.insert(place, agent.id)
        routing_rule.members.clear()
        session.flush()
        for index, agent_id in enumerate(ordered, start=1):
            routing_rule.members.append(RuleMember(agent_id=agent_id, position=index))
        return AgentAdded(agent.id, e164, routing_rule.name, place + 1)


def ensure_rule(session: Session, name: str, strategy: str | None = None) -> RoutingRule:
    rule = session.scalars(select(RoutingRule).where(RoutingRule.name == name)).one_or_none()
    if rule is None:
        rule = RoutingRule(name=name)
        if strategy:
            rule.strategy = strategy
        session.add(rule)
        session.flush()
    return rule


def add_widget(
    name: str,
    key: str | None = None,
    region: str = "EE",
    countries: list[str] | None = None,
    origins: list[str] | None = None,
    rule: str | None = None,
    hours: str | None = None,
    time_zone: str = "UTC",
) -> str:
    region = region.upper()
    countries = [c.upper() for c in (countries or [region])]
    try:
        NumberPolicy.create(allowed_countries=countries)
    except ValueError as error:
        raise SetupError(str(error)) from None
    parsed_hours = parse_hours(hours) if hours else None
    with context.transaction() as session:
        if key and session.scalar(select(func.count()).where(Widget.public_key == key)):
            raise SetupError(f"a widget with key {key!r} exists already")
        widget = Widget(
            name=name,
            default_region=region,
            allowed_countries=countries,
            allowed_origins=origins or [],
            routing_rule_id=ensure_rule(session, rule or DEFAULT_RULE).id,
            hours=parsed_hours,
            time_zone=time_zone,
        )
        if key:
            widget.public_key = key
        session.add(widget)
        session.flush()
        return widget.public_key


def parse_hours(text: str) -> dict[str, list[list[str]]]:
    """'mon-fri 09:00-17:00, sat 10:00-14:00' -> {"mon": [["09:00", "17:00"]], ...}."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    week: dict[str, list[list[str]]] = {}
    for part in text.lower().split(","):
        match = _HOURS.match(part.strip())
        if not match or match["start"] >= match["end"]:
            raise SetupError(f"hours like 'mon-fri 09:00-17:00', not {part.strip()!r}")
        first, _, last = match["days"].partition("-")
        span = days[days.index(first) : days.index(last or first) + 1]
        for day in span:
            week.setdefault(day, []).append([match["start"], match["end"]])
    return week
