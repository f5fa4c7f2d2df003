"""Statistics over a period: how fast customers got a human, who answers, what failed, when.

Definitions (the admin page and the API document the same):

- The period selects callbacks by `created_at` (the click), half-open [from, to).
- Time to connect: from the click (for a scheduled callback: from when it fell due) to the
  customer answering. Percentiles interpolate linearly between the two nearest values (as
  numpy's default does), over connected callbacks only.
- Within the promise: connected within 20 s. The share is taken over the callbacks whose fate
  is decided: connected, ended, or older than 20 s; callbacks canceled before they were
  connected and scheduled ones not yet due are left out of it.
- Per agent, from the agent legs of the period's callbacks: rung (legs placed), answered
  (picked up), accepted (pressed 1 and won), missed (no answer, busy, failed), canceled (we
  ended the ringing: a colleague was faster, or the callback no longer needed them). Rates
  are over answered + missed; legs still ringing count in neither.
- Hours and weekdays are read in the period's time zone (`tz`; UTC by default).

Four queries over rows bounded by the period (callbacks, their due events, agent legs,
accept events); the arithmetic is done in Python so that it is the same on SQLite and
PostgreSQL, whose date functions differ.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, aliased

from ...flow import TERMINAL_STATUSES, EventType, Reason, Status
from ...models import Agent, CallbackRequest, Event, Leg, Widget
from .board import LEG_FINAL, PROMISE_S
from .filters import Period, ReportError, Viewer
from .history import due_times, time_to_connect, viewer_filter
from .values import jsonable, seconds

# Histogram of time to connect: 2-second bins up to 30 s, then everything slower.
BIN_S = 2
LAST_EDGE_S = 30
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FAILURE_LABELS: dict[str, str] = {
    Reason.NO_AGENT_AVAILABLE: "missed: no agent took it",
    Reason.CUSTOMER_NO_ANSWER: "customer did not answer",
    Reason.CUSTOMER_BUSY: "customer's line was busy",
    Reason.CUSTOMER_FAILED: "call to the customer failed",
    Reason.AGENT_HUNG_UP: "agent hung up before the customer answered",
}


@dataclass(frozen=True)
class Bucket:
    label: str
    low_s: float
    high_s: float | None  # None: open-ended
    count: int


@dataclass(frozen=True)
class AgentStats:
    agent_id: int
    name: str
    rung: int
    answered: int
    accepted: int
    missed: int
    canceled: int
    answer_rate: float | None
    accept_rate: float | None
    mean_answer_s: float | None
    connected: int
    talk_time_s: int


@dataclass(frozen=True)
class Failure:
    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class Statistics:
    start: datetime
    end: datetime
    tz: str
    widget_id: int | None
    total: int
    by_status: dict[str, int]
    connected: int
    within_promise: int
    promise_base: int
    within_promise_share: float | None
    p50_s: float | None
    p95_s: float | None
    mean_s: float | None
    time_to_connect: list[Bucket]
    agents: list[AgentStats]
    failures: list[Failure]
    by_hour: list[int]  # 24 counts, hour 0 first
    by_weekday: list[int]  # 7 counts, Monday first

    def as_dict(self) -> dict[str, Any]:
        return jsonable({**asdict(self), "promise_s": PROMISE_S, "weekdays": list(WEEKDAYS)})


@dataclass(frozen=True)
class PeriodCallback:
    """One callback of the period, as the statistics and the CSV export read it."""

    id: str
    created_at: datetime
    status: str
    reason: str | None
    widget: str
    agent_id: int | None
    agent: str | None
    phone: str  # E.164: mask it before it leaves the service
    page_title: str | None
    page_url: str | None
    connected_at: datetime | None
    ended_at: datetime | None
    duration_s: int | None
    time_to_connect_s: float | None
    clock_started_at: datetime  # the click, or when a scheduled callback fell due


def widget_zone(session: Session, widget_id: int) -> str:
    """The widget's time zone: the default for reading hours and dates about its callbacks."""
    zone = session.scalar(select(Widget.time_zone).where(Widget.id == widget_id))
    if zone is None:
        raise ReportError("invalid_widget", f"There is no widget {widget_id}.", "widget")
    return zone


def percentile(values: list[float], q: float) -> float | None:
    """The q-th quantile (0..1) by linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)


def histogram(values: list[float]) -> list[Bucket]:
    edges = list(range(0, LAST_EDGE_S + 1, BIN_S))
    counts = [0] * len(edges)
    for value in values:
        counts[min(int(value // BIN_S), len(edges) - 1)] += 1
    buckets = [
        Bucket(f"{low}-{low + BIN_S} s", low, low + BIN_S, counts[index])
        for index, low in enumerate(edges[:-1])
    ]
    buckets.append(Bucket(f"≥ {LAST_EDGE_S} s", LAST_EDGE_S, None, counts[-1]))
    return buckets


def period_callbacks(
    session: Session, period: Period, viewer: Viewer, widget_id: int | None = None
) -> list[PeriodCallback]:
    ids = _period_ids(period, viewer, widget_id)
    agent = aliased(Agent)
    rows = session.execute(
        select(CallbackRequest, Widget.name, agent.name)
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .outerjoin(agent, agent.id == CallbackRequest.agent_id)
        .where(CallbackRequest.id.in_(ids))
        .order_by(CallbackRequest.created_at, CallbackRequest.id)
    ).all()
    due = due_times(session, ids) if rows else {}
    return [
        PeriodCallback(
            id=c.id,
            created_at=c.created_at,
            status=c.status,
            reason=c.reason,
            widget=widget,
            agent_id=c.agent_id,
            agent=agent_name,
            phone=c.phone,
            page_title=c.page_title,
            page_url=c.page_url,
            connected_at=c.connected_at,
            ended_at=c.ended_at,
            duration_s=c.duration_s,
            time_to_connect_s=time_to_connect(c.created_at, c.connected_at, due.get(c.id)),
            clock_started_at=max(c.created_at, due.get(c.id) or c.created_at),
        )
        for c, widget, agent_name in rows
    ]


def statistics(
    session: Session, period: Period, now: datetime, viewer: Viewer, widget_id: int | None = None
) -> Statistics:
    callbacks = period_callbacks(session, period, viewer, widget_id)
    connect_times = [c.time_to_connect_s for c in callbacks if c.time_to_connect_s is not None]
    within = sum(1 for t in connect_times if t <= PROMISE_S)
    base = sum(1 for c in callbacks if _decided(c, now))
    by_hour, by_weekday = [0] * 24, [0] * 7
    for c in callbacks:
        local = c.created_at.astimezone(period.tz)
        by_hour[local.hour] += 1
        by_weekday[local.weekday()] += 1
    failures = Counter(c.reason or "unknown" for c in callbacks if c.status == Status.FAILED)
    return Statistics(
        start=period.start,
        end=period.end,
        tz=period.tz_name,
        widget_id=widget_id,
        total=len(callbacks),
        by_status=dict(Counter(c.status for c in callbacks)),
        connected=len(connect_times),
        within_promise=within,
        promise_base=base,
        within_promise_share=round(within / base, 4) if base else None,
        p50_s=percentile(connect_times, 0.5),
        p95_s=percentile(connect_times, 0.95),
        mean_s=round(sum(connect_times) / len(connect_times), 3) if connect_times else None,
        time_to_connect=histogram(connect_times),
        agents=_agent_stats(session, period, viewer, widget_id, callbacks),
        failures=[
            Failure(reason, FAILURE_LABELS.get(reason, reason.replace("_", " ")), count)
            for reason, count in sorted(failures.items(), key=lambda item: (-item[1], item[0]))
        ],
        by_hour=by_hour,
        by_weekday=by_weekday,
    )


def _decided(callback: PeriodCallback, now: datetime) -> bool:
    if callback.connected_at is not None:
        return True
    if callback.status in (Status.CANCELED, Status.SCHEDULED):
        return False
    waited = now - callback.clock_started_at
    return callback.status in TERMINAL_STATUSES or waited > timedelta(seconds=PROMISE_S)


def _period_conditions(period: Period, widget_id: int | None) -> list[ColumnElement[bool]]:
    conditions = [
        CallbackRequest.created_at >= period.start,
        CallbackRequest.created_at < period.end,
    ]
    if widget_id is not None:
        conditions.append(CallbackRequest.widget_id == widget_id)
    return conditions


def _period_ids(period: Period, viewer: Viewer, widget_id: int | None) -> Select[Any]:
    conditions = _period_conditions(period, widget_id)
    own = viewer_filter(viewer)
    if own is not None:
        conditions.append(own)
    return select(CallbackRequest.id).where(*conditions)


def _agent_stats(
    session: Session,
    period: Period,
    viewer: Viewer,
    widget_id: int | None,
    callbacks: list[PeriodCallback],
) -> list[AgentStats]:
    # Legs are selected by whose phone rang, not by who took the callback: an agent's misses
    # belong to callbacks a colleague (or nobody) took.
    leg_conditions = [*_period_conditions(period, widget_id), Leg.kind == "agent"]
    if viewer.own_only:
        leg_conditions.append(Leg.agent_id == (viewer.agent_id or -1))
    legs = session.execute(
        select(Leg.id, Leg.agent_id, Leg.status, Leg.created_at, Leg.answered_at, Leg.ended_at)
        .join(CallbackRequest, CallbackRequest.id == Leg.callback_id)
        .where(*leg_conditions, Leg.agent_id.is_not(None))
    ).all()
    accepted_legs = {
        data.get("leg")
        for data in session.scalars(
            select(Event.data).where(
                Event.type == EventType.AGENT_ACCEPTED,
                Event.callback_id.in_(
                    select(CallbackRequest.id).where(*_period_conditions(period, widget_id))
                ),
            )
        )
        if isinstance(data, dict)
    }
    names_query = select(Agent.id, Agent.name)
    agent_ids = {leg.agent_id for leg in legs}
    if viewer.own_only:
        names_query = names_query.where(Agent.id == (viewer.agent_id or -1))
    else:
        names_query = names_query.where(Agent.active.is_(True) | Agent.id.in_(agent_ids or {-1}))
    names = {
        row.id: row.name for row in session.execute(names_query.order_by(Agent.name, Agent.id))
    }
    legs_of: dict[int, list[Any]] = {}
    for leg in legs:
        legs_of.setdefault(leg.agent_id, []).append(leg)
    taken_by: dict[int, list[PeriodCallback]] = {}
    for callback in callbacks:
        if callback.agent_id is not None:
            taken_by.setdefault(callback.agent_id, []).append(callback)
    rows = []
    for agent_id, name in names.items():
        mine = legs_of.get(agent_id, [])
        answered = [leg for leg in mine if leg.answered_at is not None]
        canceled = [leg for leg in mine if leg.answered_at is None and leg.status == "canceled"]
        missed = [
            leg
            for leg in mine
            if leg.answered_at is None
            and leg.status != "canceled"
            and (leg.status in LEG_FINAL or leg.ended_at is not None)
        ]
        offered = len(answered) + len(missed)
        accepted = sum(1 for leg in answered if leg.id in accepted_legs)
        waits = [seconds(leg.answered_at - leg.created_at) for leg in answered]
        taken = taken_by.get(agent_id, [])
        rows.append(
            AgentStats(
                agent_id=agent_id,
                name=name,
                rung=len(mine),
                answered=len(answered),
                accepted=accepted,
                missed=len(missed),
                canceled=len(canceled),
                answer_rate=round(len(answered) / offered, 4) if offered else None,
                accept_rate=round(accepted / offered, 4) if offered else None,
                mean_answer_s=round(sum(waits) / len(waits), 3) if waits else None,
                connected=sum(1 for c in taken if c.connected_at is not None),
                talk_time_s=sum(c.duration_s or 0 for c in taken),
            )
        )
    return rows
