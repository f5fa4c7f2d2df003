"""The live board: where every active agent is, and every callback in flight against the promise.

Three queries whatever the size of the shop (agents with their current leg, callbacks in
flight, the agents their legs are ringing) plus one for the recently finished callbacks, so
that a callback that just completed stays on the board for a while instead of vanishing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from ...flow import TERMINAL_STATUSES, Status
from ...models import Agent, AgentState, CallbackRequest, Leg, Presence, Widget
from ...phone import mask
from .filters import Viewer
from .values import jsonable, seconds

# The product's promise: a human on the line within 20 s of the click.
PROMISE_S = 20.0
IN_FLIGHT = (Status.QUEUED, Status.CALLING_AGENT, Status.AGENT_CONNECTED, Status.CONNECTED)
LEG_FINAL = ("completed", "busy", "no-answer", "failed", "canceled")
RECENT_WINDOW = timedelta(minutes=15)
RECENT_LIMIT = 20
IN_FLIGHT_LIMIT = 200


@dataclass(frozen=True)
class BoardAgent:
    id: int
    name: str
    state: str  # available, ringing, on_call, wrap_up, offline
    presence: str
    callback_id: str | None  # the callback they are ringing for or talking on
    since: datetime | None  # when that leg started ringing (ringing) or was answered (on call)


@dataclass(frozen=True)
class BoardCallback:
    id: str
    status: str
    widget: str
    page_title: str | None
    phone: str  # masked
    created_at: datetime
    elapsed_s: float  # since the click; ticks on until the callback ends
    connected_after_s: float | None  # click to customer answer, once connected
    agent: str | None  # the agent who accepted it
    ringing: list[str] = field(default_factory=list)  # agents whose phones ring for it
    reason: str | None = None
    # None while it can still keep the promise; True or False once that is decided.
    promise_kept: bool | None = None


@dataclass(frozen=True)
class Board:
    at: datetime
    promise_s: float
    agents: list[BoardAgent]
    in_flight: list[BoardCallback]
    recent: list[BoardCallback]

    def as_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


def agent_state(
    active: bool, presence: str, state: str, lease_until: datetime | None, now: datetime
) -> str:
    """The state shown for an agent: a call in progress wins over presence, then presence."""
    if not active:
        return AgentState.OFFLINE.value
    if state in (AgentState.RINGING, AgentState.ON_CALL):
        return state
    if state == AgentState.WRAP_UP and lease_until is not None and lease_until > now:
        return state  # an expired wrap-up is freed by the sweeper on its next pass
    if presence != Presence.ONLINE or state == AgentState.OFFLINE:
        return AgentState.OFFLINE.value
    return AgentState.AVAILABLE.value


def promise_kept(status: str, elapsed_s: float, connected_after_s: float | None) -> bool | None:
    if connected_after_s is not None:
        return connected_after_s <= PROMISE_S
    if status == Status.CANCELED:
        return None  # the visitor withdrew: no promise was broken
    if elapsed_s > PROMISE_S or status in TERMINAL_STATUSES:
        return False
    return None


def board(session: Session, now: datetime, viewer: Viewer | None = None) -> Board:
    viewer = viewer or Viewer.everyone()
    agents = _agents(session, now)
    live = _callbacks(session, now, _live_filter(), IN_FLIGHT_LIMIT, CallbackRequest.created_at)
    live.sort(key=lambda item: (item["start"], item["id"]))  # longest waiting first
    ringing = _ringing(session, [c["id"] for c in live])
    recent_filter = and_(
        CallbackRequest.status.in_([s.value for s in TERMINAL_STATUSES]),
        CallbackRequest.updated_at >= now - RECENT_WINDOW,
    )
    recent = _callbacks(
        session, now, recent_filter, RECENT_LIMIT, CallbackRequest.updated_at.desc()
    )
    if viewer.own_only:
        mine = viewer.agent_id
        if mine is None:  # an agent login linked to no agent: nothing is theirs
            live, recent = [], []
        live = [c for c in live if c["agent_id"] == mine or mine in ringing.get(c["id"], {})]
        recent = [c for c in recent if c["agent_id"] == mine]
    return Board(
        at=now,
        promise_s=PROMISE_S,
        agents=agents,
        in_flight=[_board_callback(c, ringing.get(c["id"], {})) for c in live],
        recent=[_board_callback(c, {}) for c in recent],
    )


def _agents(session: Session, now: datetime) -> list[BoardAgent]:
    # Only the agent leg that carries the agent's current reservation tells what they are on.
    current = aliased(Leg)
    rows = session.execute(
        select(Agent, current.callback_id, current.created_at, current.answered_at)
        .outerjoin(
            current,
            and_(
                current.agent_id == Agent.id,
                current.reservation == Agent.reservation,
                current.kind == "agent",
            ),
        )
        .where(Agent.active.is_(True))
        .order_by(Agent.name, Agent.id)
    )
    agents: dict[int, BoardAgent] = {}
    for agent, callback_id, rung_at, answered_at in rows:
        state = agent_state(agent.active, agent.presence, agent.state, agent.lease_until, now)
        held = state in (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)
        since = answered_at if state == AgentState.ON_CALL else rung_at
        agents[agent.id] = BoardAgent(
            id=agent.id,
            name=agent.name,
            state=state,
            presence=agent.presence,
            callback_id=callback_id if held else None,
            since=since if held and state != AgentState.WRAP_UP else None,
        )
    return list(agents.values())


def _live_filter() -> Any:
    return CallbackRequest.status.in_([s.value for s in IN_FLIGHT])


def _callbacks(
    session: Session, now: datetime, where: Any, limit: int, order: Any
) -> list[dict[str, Any]]:
    accepted_by = aliased(Agent)
    rows = session.execute(
        select(
            CallbackRequest.id,
            CallbackRequest.status,
            CallbackRequest.reason,
            CallbackRequest.phone,
            CallbackRequest.page_title,
            CallbackRequest.created_at,
            CallbackRequest.due_at,
            CallbackRequest.customer_attempts,
            CallbackRequest.connected_at,
            CallbackRequest.ended_at,
            CallbackRequest.updated_at,
            CallbackRequest.agent_id,
            Widget.name.label("widget"),
            accepted_by.name.label("agent"),
        )
        .join(Widget, Widget.id == CallbackRequest.widget_id)
        .outerjoin(accepted_by, accepted_by.id == CallbackRequest.agent_id)
        .where(where)
        .order_by(order, CallbackRequest.id)
        .limit(limit)
    )
    found = []
    for row in rows.mappings():
        item = dict(row)
        item["start"] = clock_start(item["created_at"], item["due_at"], item["customer_attempts"])
        finished = item["ended_at"] or (
            item["updated_at"] if item["status"] in TERMINAL_STATUSES else None
        )
        item["elapsed_s"] = seconds((finished or now) - item["start"])
        found.append(item)
    return found


def clock_start(created_at: datetime, due_at: datetime, customer_attempts: int) -> datetime:
    """When the 20-second clock started: the click, or for a scheduled callback the time it
    fell due. `due_at` moves only when a customer retry is scheduled (customer_attempts > 0),
    and a retry keeps the clock of the first attempt."""
    return created_at if customer_attempts else max(created_at, due_at)


def _ringing(session: Session, callback_ids: list[str]) -> dict[str, dict[int, str]]:
    """callback id -> {agent id: name} of the agent legs still ringing for it."""
    if not callback_ids:
        return {}
    rows = session.execute(
        select(Leg.callback_id, Agent.id, Agent.name)
        .join(Agent, Agent.id == Leg.agent_id)
        .where(
            Leg.callback_id.in_(callback_ids),
            Leg.kind == "agent",
            Leg.ended_at.is_(None),
            Leg.status.not_in(LEG_FINAL),
        )
        .order_by(Leg.id)
    )
    ringing: dict[str, dict[int, str]] = {}
    for callback_id, agent_id, name in rows:
        ringing.setdefault(callback_id, {})[agent_id] = name
    return ringing


def _board_callback(item: dict[str, Any], ringing: dict[int, str]) -> BoardCallback:
    connected_after = (
        seconds(item["connected_at"] - item["start"]) if item["connected_at"] else None
    )
    return BoardCallback(
        id=item["id"],
        status=item["status"],
        widget=item["widget"],
        page_title=item["page_title"],
        phone=mask(item["phone"]),
        created_at=item["created_at"],
        elapsed_s=item["elapsed_s"],
        connected_after_s=connected_after,
        agent=item["agent"],
        ringing=list(ringing.values()) if item["status"] == Status.CALLING_AGENT else [],
        reason=item["reason"],
        promise_kept=promise_kept(item["status"], item["elapsed_s"], connected_after),
    )
