"""History: finding callbacks (filters, paging) and reading one callback's timeline.

The timeline is the `events` table read back with offsets from the first event and a label a
person can follow ("+0.1 s ringing Anna", "+6.3 s Anna pressed 1"). Event rows carry the agent
leg's id, not the agent, so one query maps the callback's legs to agent names. Numbers are only
ever shown masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from ...flow import EventType
from ...models import Agent, CallbackRequest, Event, Leg, Widget
from ...phone import mask
from .filters import HistoryQuery, Viewer
from .values import format_offset, jsonable, seconds


@dataclass(frozen=True)
class HistoryRow:
    id: str
    created_at: datetime
    status: str
    reason: str | None
    widget: str
    agent: str | None
    phone: str  # masked
    page_title: str | None
    time_to_connect_s: float | None
    duration_s: int | None


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryRow]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def as_dict(self) -> dict[str, Any]:
        return jsonable({**asdict(self), "pages": self.pages})


@dataclass(frozen=True)
class TimelineEntry:
    offset_s: float
    offset: str  # "+6.3 s"
    at: datetime
    type: str
    label: str
    agent: str | None = None


@dataclass(frozen=True)
class LegView:
    id: int
    kind: str
    agent: str | None
    status: str
    rung_at_s: float  # offsets from the first event, like the timeline
    answered_at_s: float | None
    ended_at_s: float | None


@dataclass(frozen=True)
class CallbackDetail:
    id: str
    status: str
    reason: str | None
    widget: str
    agent: str | None
    phone: str  # masked
    page_title: str | None
    page_url: str | None
    created_at: datetime
    connected_at: datetime | None
    ended_at: datetime | None
    time_to_connect_s: float | None
    duration_s: int | None
    timeline: list[TimelineEntry] = field(default_factory=list)
    legs: list[LegView] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


def viewer_filter(viewer: Viewer) -> ColumnElement[bool] | None:
    """The WHERE clause that limits callbacks to the viewer; None for everyone's."""
    if not viewer.own_only:
        return None
    if viewer.agent_id is None:
        return false()
    return CallbackRequest.agent_id == viewer.agent_id


def search(session: Session, query: HistoryQuery, viewer: Viewer) -> HistoryPage:
    conditions = _conditions(query, viewer)
    total = session.scalar(select(func.count()).select_from(CallbackRequest).where(*conditions))
    agent = aliased(Agent)
    rows = session.execute(
        select(CallbackRequest, Widget.name, agent.name)
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .outerjoin(agent, agent.id == CallbackRequest.agent_id)
        .where(*conditions)
        # Newest first; the id breaks ties so that paging never skips or repeats a row.
        .order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc())
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    )
    found = rows.all()
    due = due_times(session, [callback.id for callback, _, _ in found]) if found else {}
    items = [
        HistoryRow(
            id=callback.id,
            created_at=callback.created_at,
            status=callback.status,
            reason=callback.reason,
            widget=widget,
            agent=agent_name,
            phone=mask(callback.phone),
            page_title=callback.page_title,
            time_to_connect_s=time_to_connect(
                callback.created_at, callback.connected_at, due.get(callback.id)
            ),
            duration_s=callback.duration_s,
        )
        for callback, widget, agent_name in found
    ]
    return HistoryPage(items, query.page, query.per_page, total or 0)


def time_to_connect(
    created_at: datetime, connected_at: datetime | None, due_at: datetime | None = None
) -> float | None:
    """Click to the customer answering: the number the 20-second promise is about.

    A scheduled callback's clock starts when it fell due (its `due` event), not at the click.
    """
    if connected_at is None:
        return None
    return seconds(connected_at - max(created_at, due_at or created_at))


def due_times(session: Session, callback_ids: Any) -> dict[str, datetime]:
    """callback id -> when it first fell due, for scheduled callbacks among `callback_ids`
    (a list of ids or a SELECT of them)."""
    rows = session.execute(
        select(Event.callback_id, func.min(Event.at))
        .where(Event.type == EventType.DUE, Event.callback_id.in_(callback_ids))
        .group_by(Event.callback_id)
    )
    return {callback_id: at for callback_id, at in rows}


def detail(session: Session, callback_id: str, viewer: Viewer) -> CallbackDetail | None:
    """One callback with its timeline and legs; None if it does not exist or is out of viewer."""
    agent = aliased(Agent)
    condition = viewer_filter(viewer)
    statement = (
        select(CallbackRequest, Widget.name, agent.name)
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .outerjoin(agent, agent.id == CallbackRequest.agent_id)
        .where(CallbackRequest.id == callback_id)
    )
    if condition is not None:
        statement = statement.where(condition)
    row = session.execute(statement).one_or_none()
    if row is None:
        return None
    callback, widget, agent_name = row
    legs = session.execute(
        select(Leg, Agent.name)
        .outerjoin(Agent, Agent.id == Leg.agent_id)
        .where(Leg.callback_id == callback_id)
        .order_by(Leg.id)
    ).all()
    events = list(
        session.scalars(
            select(Event).where(Event.callback_id == callback_id).order_by(Event.at, Event.id)
        )
    )
    names = {leg.id: name for leg, name in legs}
    due_at = next((e.at for e in events if e.type == EventType.DUE), None)
    origin = events[0].at if events else callback.created_at
    return CallbackDetail(
        id=callback.id,
        status=callback.status,
        reason=callback.reason,
        widget=widget,
        agent=agent_name,
        phone=mask(callback.phone),
        page_title=callback.page_title,
        page_url=callback.page_url,
        created_at=callback.created_at,
        connected_at=callback.connected_at,
        ended_at=callback.ended_at,
        time_to_connect_s=time_to_connect(callback.created_at, callback.connected_at, due_at),
        duration_s=callback.duration_s,
        timeline=[_entry(event, origin, names) for event in events],
        legs=[
            LegView(
                id=leg.id,
                kind=leg.kind,
                agent=name,
                status=leg.status,
                rung_at_s=seconds(leg.created_at - origin),
                answered_at_s=seconds(leg.answered_at - origin) if leg.answered_at else None,
                ended_at_s=seconds(leg.ended_at - origin) if leg.ended_at else None,
            )
            for leg, name in legs
        ],
    )


def _entry(event: Event, origin: datetime, names: Mapping[int, str | None]) -> TimelineEntry:
    data = event.data or {}
    leg = data.get("leg")
    agent = names.get(leg) if isinstance(leg, int) else None
    if agent is None and isinstance(data.get("agent"), str):
        agent = data["agent"]
    offset = seconds(event.at - origin)
    return TimelineEntry(
        offset_s=offset,
        offset=format_offset(offset),
        at=event.at,
        type=event.type,
        label=label(event.type, data, agent),
        agent=agent,
    )


_FIXED_LABELS: dict[str, str] = {
    EventType.REQUESTED: "requested",
    "queued": "queued",
    "scheduled": "scheduled",
    EventType.DUE: "scheduled time reached",
    EventType.RETRY_DUE: "calling the customer again",
    EventType.HEDGE_DUE: "nobody accepted yet: ringing the next agent too",
    EventType.CUSTOMER_RINGING: "customer's phone ringing",
    EventType.CUSTOMER_ANSWERED: "customer answered: connected",
    EventType.CUSTOMER_NO_ANSWER: "customer did not answer",
    EventType.CUSTOMER_BUSY: "customer's line busy",
    EventType.CUSTOMER_FAILED: "call to the customer failed",
    EventType.NO_AGENT_AVAILABLE: "no agent available",
    EventType.WATCHDOG: "watchdog: dispatching again",
    EventType.CANCELED: "canceled",
}
# "{agent}" is the agent whose leg the event is about.
_AGENT_LABELS: dict[str, str] = {
    EventType.DISPATCHED: "ringing {agent}",
    EventType.AGENT_RINGING: "{agent}'s phone ringing",
    EventType.AGENT_ANSWERED: "{agent} answered, hearing the whisper",
    EventType.AGENT_ACCEPTED: "{agent} pressed 1",
    EventType.AGENT_NO_ANSWER: "{agent} did not answer",
    EventType.AGENT_BUSY: "{agent} was busy",
    EventType.AGENT_FAILED: "call to {agent} failed",
    EventType.AGENT_LEG_CANCELED: "call to {agent} canceled",
    EventType.LEASE_EXPIRED: "no news from {agent}'s call: released",
}


def label(type_: str, data: Mapping[str, Any], agent: str | None) -> str:
    """The words a timeline shows for one event. Pure, so every event type is unit-tested."""
    who = agent or "the agent"
    if type_ == EventType.AGENT_DECLINED:
        key = data.get("key")
        if isinstance(key, str) and key:
            return f"{who} pressed {key[:4]}, not 1"
        return f"{who} did not press 1"
    if type_ == EventType.CALL_ENDED:
        duration = data.get("duration_s")
        return f"call ended after {duration} s" if isinstance(duration, int) else "call ended"
    if type_ in _AGENT_LABELS:
        text = _AGENT_LABELS[type_].format(agent=who)
        error = data.get("error")
        return f"{text} ({error})" if type_ == EventType.AGENT_FAILED and error else text
    return _FIXED_LABELS.get(type_, type_.replace("_", " "))


def _conditions(query: HistoryQuery, viewer: Viewer) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    condition = viewer_filter(viewer)
    if condition is not None:
        conditions.append(condition)
    if query.status:
        conditions.append(CallbackRequest.status == query.status)
    if query.widget_id is not None:
        conditions.append(CallbackRequest.widget_id == query.widget_id)
    if query.agent_id is not None:
        conditions.append(CallbackRequest.agent_id == query.agent_id)
    if query.start is not None:
        conditions.append(CallbackRequest.created_at >= query.start)
    if query.end is not None:
        conditions.append(CallbackRequest.created_at < query.end)
    if query.number_suffix:
        conditions.append(CallbackRequest.phone.endswith(query.number_suffix, autoescape=True))
    if query.text:
        conditions.append(
            or_(
                CallbackRequest.id == query.text,
                CallbackRequest.page_title.icontains(query.text, autoescape=True),
                CallbackRequest.page_url.icontains(query.text, autoescape=True),
            )
        )
    return conditions


def filter_choices(session: Session) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(id, name) of every widget and every agent, for the history filters' drop-downs."""
    widgets = session.execute(select(Widget.id, Widget.name).order_by(Widget.name, Widget.id))
    agents = session.execute(select(Agent.id, Agent.name).order_by(Agent.name, Agent.id))
    return [(r.id, r.name) for r in widgets], [(r.id, r.name) for r in agents]
