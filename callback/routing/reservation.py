"""Reserving agents for a call, in SQL: each reservation is one conditional UPDATE.

`reserve` moves an agent from available to ringing with
`UPDATE agents SET state='ringing', reservation=:token, lease_until=:lease
WHERE id=:id AND state='available' AND active AND presence='online'` and looks at whether a row
matched. The database applies the condition and the write as one step: on PostgreSQL a second
UPDATE of the row waits for the first transaction and then re-checks the WHERE against the
committed row; on SQLite `BEGIN IMMEDIATE` lets one writer in at a time. So two dispatchers (in
any number of processes) can never both win the same agent, and the loser simply moves on to the
next candidate. That is why there is no Redis lock (a second system whose lock can expire or be
lost while the database still says "available") and no SELECT-then-UPDATE (two readers both see
"available" and both write).

The token written into `reservation` is a fencing token. Every later write about that call
(`mark_on_call`, `release`) names it in its WHERE clause, so a late or duplicate webhook from a
call whose lease already expired, and whose agent has since been reserved again, matches nothing
instead of hanging up on or freeing the agent's new call. A lease that runs out without news is
ended by `expire_leases`, which clears the token and with it every write the old call could make.

These functions take a Session and never commit: the caller's `session_scope` does, and should
commit soon after (on SQLite the write lock is held until then).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, Update, case, literal, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from callback import hours as working_hours
from callback.models import (
    Agent,
    AgentState,
    Presence,
    RoutingRule,
    RuleMember,
    Strategy,
    UTCDateTime,
)

from .strategies import CandidateView, order_candidates

__all__ = [
    "Reservation",
    "agent_on_shift",
    "available_candidates",
    "candidate_page",
    "count_on_shift",
    "expire_leases",
    "free_members",
    "mark_on_call",
    "pick_agents",
    "release",
    "reserve",
]

# Agent states that hold a reservation token.
HELD_STATES = (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)
# Held states whose lease the sweeper ends; on_call ends only with news of the call itself.
LEASED_STATES = (AgentState.RINGING, AgentState.WRAP_UP)


@dataclass(frozen=True, slots=True)
class Reservation:
    """An agent held for one call, and the token every later write about that call must carry."""

    agent_id: int
    token: str
    lease_until: datetime
    name: str
    phone: str


def agent_on_shift(hours: dict[str, Any] | None, time_zone: str, now: datetime) -> bool:
    """Whether the agent works at `now` by their own hours (None: always); an agent off shift
    is never rung, whatever their presence says."""
    week, holidays = working_hours.split_schedule(hours)
    return working_hours.is_open(week, time_zone, now, holidays)


def available_candidates(
    session: Session,
    rule_id: int,
    now: datetime,
    exclude_agent_ids: Collection[int] = (),
    rule: RoutingRule | None = None,
    limit: int | None = None,
) -> list[CandidateView]:
    """Members of the rule who could be reserved right now, in position order; given the
    `rule`, in its strategy order. With `limit`, only the first `limit` members in that order
    are read (those off shift are then dropped, so fewer may come back).

    A hint, not a promise: an agent listed here can be reserved by someone else a moment later,
    which `reserve` detects.
    """
    candidates, _ = candidate_page(session, rule_id, now, exclude_agent_ids, rule, limit)
    return candidates


def candidate_page(
    session: Session,
    rule_id: int,
    now: datetime,
    exclude_agent_ids: Collection[int] = (),
    rule: RoutingRule | None = None,
    limit: int | None = None,
) -> tuple[list[CandidateView], bool]:
    """`available_candidates`, and whether the read reached the last matching member (so a
    read without the limit would find nobody more)."""
    order = _strategy_order(rule) if rule is not None else [RuleMember.position]
    query = _candidates_query(rule_id, exclude_agent_ids).order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    complete = limit is None or len(rows) < limit
    candidates = [
        CandidateView(row.agent_id, row.position, row.last_call_ended_at)
        for row in rows
        if agent_on_shift(row.hours, row.time_zone, now)
    ]
    if rule is None:
        return candidates, complete
    # The ORDER BY is order_candidates' sort key in SQL, so a limited read is the head of the
    # full list; order_candidates still orders what was read, and stays the reference.
    return order_candidates(rule.strategy, candidates, rule.round_robin_cursor), complete


def free_members(session: Session, rule_id: int, now: datetime, enough: int) -> int:
    """How many members could be reserved right now, counted no further than `enough`: the
    widget's config and every status poll ask "is anyone free?", and a rule of 10,000 agents
    must not be read whole to answer it."""
    query = _candidates_query(rule_id, ()).order_by(RuleMember.position)
    return count_on_shift(session, query, now, enough)


def count_on_shift(session: Session, query: Select[Any], now: datetime, enough: int) -> int:
    """Rows of `query` (with `hours` and `time_zone` columns, in a stable order) whose agent is
    on shift at `now`, counted no further than `enough`. Shifts are JSON read in Python, so the
    rows are read a page at a time until `enough` are found or none are left."""
    found, offset, page = 0, 0, enough + FIRST_BATCH_SLACK
    while found < enough:
        rows = session.execute(query.limit(page).offset(offset)).all()
        found += sum(1 for row in rows if agent_on_shift(row.hours, row.time_zone, now))
        if len(rows) < page:
            break
        offset += page
    return min(found, enough)


# Candidates read at first beyond the `count` wanted: enough for a few lost races and agents
# off shift, without reading a rule of thousands of members on every dispatch.
FIRST_BATCH_SLACK = 16


def _strategy_order(rule: RoutingRule) -> list[ColumnElement[Any] | InstrumentedAttribute[Any]]:
    """`order_candidates`' sort key for the rule's strategy, as ORDER BY terms."""
    match Strategy(rule.strategy):
        case Strategy.ROUND_ROBIN:  # the members after the cursor, then from the top
            after_cursor = case((RuleMember.position > rule.round_robin_cursor, 0), else_=1)
            return [after_cursor, RuleMember.position]
        case Strategy.LONGEST_IDLE:  # never called first, then the longest idle
            never = case((Agent.last_call_ended_at.is_(None), 0), else_=1)
            return [never, Agent.last_call_ended_at, RuleMember.position]
        case _:
            return [RuleMember.position]


def _candidates_query(rule_id: int, exclude_agent_ids: Collection[int]) -> Select[Any]:
    query = (
        select(
            RuleMember.agent_id,
            RuleMember.position,
            Agent.last_call_ended_at,
            Agent.hours,
            Agent.time_zone,
        )
        .join(Agent, Agent.id == RuleMember.agent_id)
        .where(
            RuleMember.rule_id == rule_id,
            Agent.active.is_(True),
            Agent.presence == Presence.ONLINE,
            Agent.state == AgentState.AVAILABLE,
        )
    )
    if exclude_agent_ids:
        query = query.where(RuleMember.agent_id.not_in(list(exclude_agent_ids)))
    return query


def reserve(
    session: Session, agent_id: int, lease_seconds: float, now: datetime
) -> Reservation | None:
    """Reserve the agent until `now + lease_seconds`, or None if they are not available."""
    token = secrets.token_hex(8)
    lease_until = now + timedelta(seconds=lease_seconds)
    available = (
        Agent.id == agent_id,
        Agent.state == AgentState.AVAILABLE,
        Agent.active.is_(True),
        Agent.presence == Presence.ONLINE,
    )
    statement = (
        _update_agents()
        .where(*available, Agent.id.in_(_unlocked(*available)))
        .values(state=AgentState.RINGING, reservation=token, lease_until=lease_until)
    )
    if _can_return(session):
        row = session.execute(statement.returning(Agent.name, Agent.phone)).first()
        if row is None:
            return None
    else:
        if _rowcount(session, statement) != 1:
            return None
        # Safe: the agent is ours now, and only a write carrying our token changes it.
        row = session.execute(select(Agent.name, Agent.phone).where(Agent.id == agent_id)).one()
    return Reservation(agent_id, token, lease_until, row.name, row.phone)


def pick_agents(
    session: Session,
    rule: RoutingRule,
    now: datetime,
    exclude_agent_ids: Collection[int],
    count: int,
    lease_seconds: float,
) -> list[Reservation]:
    """Reserve up to `count` agents of `rule` in its strategy order (fewer if not enough are
    free), skipping agents someone else reserved since the candidates were read.

    Pass the agents already rung for this callback in `exclude_agent_ids` (hedging, next
    round). For round_robin the rule's cursor moves to the last agent reserved; read `rule` in
    the same transaction so the cursor is current.
    """
    reserved: list[Reservation] = []
    last_position: int | None = None
    tried = set(exclude_agent_ids)
    # The head of the strategy order first; the rest only if races or shifts used it up.
    for limit in (count + FIRST_BATCH_SLACK, None):
        candidates, complete = candidate_page(session, rule.id, now, tried, rule, limit)
        for candidate in candidates:
            if len(reserved) >= count:
                break
            tried.add(candidate.agent_id)
            reservation = reserve(session, candidate.agent_id, lease_seconds, now)
            if reservation is not None:
                reserved.append(reservation)
                last_position = candidate.position
        if len(reserved) >= count or complete:  # enough, or nobody left to read
            break
    if rule.strategy == Strategy.ROUND_ROBIN and last_position is not None:
        # A concurrent pick may write its own cursor; the last writer wins, which only skews
        # the rotation a little. Reservations stay exclusive either way.
        session.execute(
            update(RoutingRule)
            .where(RoutingRule.id == rule.id)
            .values(round_robin_cursor=last_position)
        )
    return reserved


def mark_on_call(
    session: Session, agent_id: int, token: str, check_at: datetime | None = None
) -> bool:
    """The agent accepted the call `token` reserved them for. False if that reservation is gone
    (expired or released): hang that leg up. Repeating it for the same call is harmless.

    A call has no lease that frees the agent (conversations last as long as they last);
    `lease_until = check_at` is when the sweeper asks the carrier whether it is still up,
    in case its final status callback was lost."""
    statement = (
        _update_agents()
        .where(
            Agent.id == agent_id,
            Agent.reservation == token,
            Agent.state.in_((AgentState.RINGING, AgentState.ON_CALL)),
        )
        .values(state=AgentState.ON_CALL, lease_until=check_at)
    )
    return _matched(session, statement)


def release(
    session: Session, agent_id: int, token: str, *, wrap_up_seconds: float = 0, now: datetime
) -> bool:
    """End the agent's part in the call `token` reserved them for; False if it already ended.

    With `wrap_up_seconds > 0` the agent goes to wrap_up until `now + wrap_up_seconds` (still
    holding the token, so a second release ends the wrap-up early), otherwise straight back to
    available. Leaving a call (on_call) records `last_call_ended_at = now` for longest_idle.
    """
    # SET expressions see the row as it was before the UPDATE, so `state` here is the old one.
    ended_at = case(
        (Agent.state == AgentState.ON_CALL, literal(now, UTCDateTime())),
        else_=Agent.last_call_ended_at,
    )
    values: dict[str, Any]
    if wrap_up_seconds > 0:
        lease = now + timedelta(seconds=wrap_up_seconds)
        values = {"state": AgentState.WRAP_UP, "lease_until": lease}
    else:
        values = {"state": AgentState.AVAILABLE, "reservation": None, "lease_until": None}
    statement = (
        _update_agents()
        .where(Agent.id == agent_id, Agent.reservation == token, Agent.state.in_(HELD_STATES))
        .values(last_call_ended_at=ended_at, **values)
    )
    return _matched(session, statement)


def expire_leases(session: Session, now: datetime) -> list[int]:
    """Free every ringing or wrap_up agent whose lease ran out before `now`; returns their ids.

    Clearing the token fences off the expired call: its late webhooks no longer match.
    """
    conditions = (Agent.state.in_(LEASED_STATES), Agent.lease_until < now)
    values = {"state": AgentState.AVAILABLE, "reservation": None, "lease_until": None}
    if _can_return(session):
        statement = (
            _update_agents()
            .where(*conditions, Agent.id.in_(_unlocked(*conditions)))
            .values(**values)
            .returning(Agent.id)
        )
        return sorted(session.scalars(statement))
    # The UPDATE repeats the conditions, so an agent released in between is not touched.
    ids = sorted(session.scalars(select(Agent.id).where(*conditions)))
    if ids:
        session.execute(_update_agents().where(Agent.id.in_(ids), *conditions).values(**values))
    return ids


def _unlocked(*conditions: ColumnElement[bool]) -> Select[int]:
    """The ids of agents matching `conditions` that no other transaction holds, locked for
    this one (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite has one writer, so no clause).

    An agent row another transaction has locked is being reserved, released or expired right
    now: waiting for it gains nothing and, with several workers locking agents in different
    orders (strategy orders, a sweep's expiry in table order), makes deadlock cycles. Skipping
    it means the agent is not ours this time, exactly as if it had been reserved first.
    """
    return select(Agent.id).where(*conditions).with_for_update(skip_locked=True)


def _update_agents() -> Update:
    # Agents already loaded in the session are synchronised with the rows the UPDATE matched in
    # the database, not with a guess evaluated in Python on possibly stale attributes.
    return update(Agent).execution_options(synchronize_session="fetch")


def _can_return(session: Session) -> bool:
    """UPDATE ... RETURNING: PostgreSQL, and SQLite from 3.35."""
    return bool(session.get_bind().dialect.update_returning)


def _rowcount(session: Session, statement: Update) -> int:
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def _matched(session: Session, statement: Update) -> bool:
    return _rowcount(session, statement) == 1
