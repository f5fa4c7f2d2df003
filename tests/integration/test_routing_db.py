"""Agent reservation on SQLite and PostgreSQL: strategy order, fencing, leases, and no double
booking when several processes pick agents from one rule at once.

PostgreSQL runs when TEST_DATABASE_URL is set, in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import secrets
import time
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from support.app import migrated_database

from callback import routing
from callback.db import make_engine, make_session_factory, session_scope
from callback.models import Agent, AgentState, Presence, RoutingRule, RuleMember
from callback.routing import (
    CandidateView,
    Reservation,
    available_candidates,
    expire_leases,
    mark_on_call,
    pick_agents,
    release,
    reserve,
)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
LEASE_S = 20


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL not set"),
        ),
    ],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A freshly migrated database, one per backend for this module."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db"), "routing.db") as url:
        yield url


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def make_rule(
    factory: sessionmaker[Session], strategy: str, *agents: dict[str, Any]
) -> tuple[int, list[int]]:
    """A rule whose members are new agents, one per dict of Agent fields, at positions 1, 2, ...
    (a dict may give its own `position`). Returns the rule id and the agent ids in that order."""
    with session_scope(factory) as session:
        rule = RoutingRule(name=f"rule-{secrets.token_hex(4)}", strategy=strategy)
        created = []
        for n, fields in enumerate(agents, start=1):
            fields = dict(fields)
            position = fields.pop("position", n)
            agent = Agent(name=f"agent-{n}", phone=f"+372555{n:04d}", **fields)
            rule.members.append(RuleMember(agent=agent, position=position))
            created.append(agent)
        session.add(rule)
        session.flush()
        return rule.id, [agent.id for agent in created]


def pick(
    factory: sessionmaker[Session],
    rule_id: int,
    count: int = 1,
    exclude: Collection[int] = (),
    now: datetime | None = None,
) -> list[Reservation]:
    with session_scope(factory) as session:
        rule = session.get_one(RoutingRule, rule_id)
        return pick_agents(
            session, rule, now or datetime.now(UTC), exclude, count, lease_seconds=LEASE_S
        )


def agent_row(factory: sessionmaker[Session], agent_id: int) -> Agent:
    with session_scope(factory) as session:
        return session.get_one(Agent, agent_id)


def free(factory: sessionmaker[Session], reservations: list[Reservation]) -> None:
    with session_scope(factory) as session:
        for r in reservations:
            assert release(session, r.agent_id, r.token, now=datetime.now(UTC))


def test_pick_agents_reserves_available_members_in_order(factory: sessionmaker[Session]) -> None:
    rule_id, ids = make_rule(
        factory,
        "ordered",
        {"position": 7},
        {"position": 2, "presence": Presence.PAUSED},
        {"position": 3, "active": False},
        {"position": 4, "presence": Presence.OFFLINE},
        {"position": 5, "state": AgentState.ON_CALL},
        {"position": 6},
        {"position": 1},
        {"position": 8},
    )
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        seen = available_candidates(session, rule_id, now, exclude_agent_ids=[ids[6]])
    assert [(c.agent_id, c.position) for c in seen] == [(ids[5], 6), (ids[0], 7), (ids[7], 8)]

    picked = pick(factory, rule_id, count=2, exclude=[ids[6]], now=now)
    assert [r.agent_id for r in picked] == [ids[5], ids[0]]
    first = picked[0]
    assert (first.name, first.phone) == ("agent-6", "+3725550006")
    assert first.lease_until == now + timedelta(seconds=LEASE_S)
    assert len(first.token) == 16 and picked[0].token != picked[1].token
    stored = agent_row(factory, first.agent_id)
    assert (stored.state, stored.reservation) == (AgentState.RINGING, first.token)
    assert stored.lease_until == first.lease_until and stored.lease_until.tzinfo is UTC

    # The two ringing agents are no longer candidates; only the last one is left.
    assert [r.agent_id for r in pick(factory, rule_id, count=5, exclude=[ids[6]])] == [ids[7]]
    assert pick(factory, rule_id, count=1, exclude=[ids[6]]) == []


def test_a_reserved_agent_cannot_be_reserved_again(factory: sessionmaker[Session]) -> None:
    _, (agent_id,) = make_rule(factory, "ordered", {})
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        loaded = session.get_one(Agent, agent_id)
        first = reserve(session, agent_id, LEASE_S, now)
        assert first is not None
        assert reserve(session, agent_id, LEASE_S, now) is None
        # An agent already loaded in the session shows the reservation too.
        assert (loaded.state, loaded.reservation) == (AgentState.RINGING, first.token)
    with session_scope(factory) as session:
        assert reserve(session, agent_id, LEASE_S, now) is None
    assert agent_row(factory, agent_id).reservation == first.token


def test_pick_agents_skips_an_agent_lost_to_a_race(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another dispatcher reserves the first candidate after the candidates were read."""
    rule_id, ids = make_rule(factory, "ordered", {}, {}, {})
    real = routing.reservation.candidate_page

    def stale(session: Session, *args: Any) -> tuple[list[CandidateView], bool]:
        seen, complete = real(session, *args)
        assert reserve(session, seen[0].agent_id, LEASE_S, datetime.now(UTC)) is not None
        return seen, complete

    monkeypatch.setattr(routing.reservation, "candidate_page", stale)
    assert [r.agent_id for r in pick(factory, rule_id, count=1)] == [ids[1]]


def test_writes_with_the_wrong_token_change_nothing(factory: sessionmaker[Session]) -> None:
    rule_id, (agent_id,) = make_rule(factory, "ordered", {})
    (held,) = pick(factory, rule_id)
    now = datetime.now(UTC)
    with session_scope(factory) as session:
        assert not release(session, agent_id, "0" * 16, now=now)
        assert not release(session, agent_id, "0" * 16, wrap_up_seconds=30, now=now)
        assert not mark_on_call(session, agent_id, "0" * 16)
    stored = agent_row(factory, agent_id)
    assert (stored.state, stored.reservation) == (AgentState.RINGING, held.token)

    with session_scope(factory) as session:
        assert mark_on_call(session, agent_id, held.token)
        assert mark_on_call(session, agent_id, held.token)  # a duplicate webhook is harmless
        assert release(session, agent_id, held.token, now=now)
        assert not release(session, agent_id, held.token, now=now)  # and so is a second release
    stored = agent_row(factory, agent_id)
    assert (stored.state, stored.reservation, stored.lease_until) == ("available", None, None)
    assert stored.last_call_ended_at == now


def test_wrap_up_holds_the_agent_until_the_sweeper_frees_them(
    factory: sessionmaker[Session],
) -> None:
    rule_id, (agent_id,) = make_rule(factory, "ordered", {})
    (held,) = pick(factory, rule_id)
    ended = datetime.now(UTC)
    with session_scope(factory) as session:
        assert mark_on_call(session, agent_id, held.token)
        assert release(session, agent_id, held.token, wrap_up_seconds=30, now=ended)
    stored = agent_row(factory, agent_id)
    assert (stored.state, stored.reservation) == (AgentState.WRAP_UP, held.token)
    assert stored.lease_until == ended + timedelta(seconds=30)
    assert stored.last_call_ended_at == ended
    assert pick(factory, rule_id) == []  # wrapping up is not available

    with session_scope(factory) as session:
        assert agent_id not in expire_leases(session, ended + timedelta(seconds=29))
    with session_scope(factory) as session:
        assert agent_id in expire_leases(session, ended + timedelta(seconds=31))
    stored = agent_row(factory, agent_id)
    assert (stored.state, stored.reservation, stored.lease_until) == ("available", None, None)
    assert stored.last_call_ended_at == ended
    # The old call's token no longer matches anything.
    with session_scope(factory) as session:
        assert not mark_on_call(session, agent_id, held.token)
    assert [r.agent_id for r in pick(factory, rule_id)] == [agent_id]


def test_expired_ringing_leases_are_freed_but_calls_in_progress_are_not(
    factory: sessionmaker[Session],
) -> None:
    rule_id, (ringing_id, talking_id) = make_rule(factory, "simultaneous", {}, {})
    ringing, talking = pick(factory, rule_id, count=2)
    past = datetime.now(UTC) - timedelta(hours=1)
    with session_scope(factory) as session:
        assert mark_on_call(session, talking_id, talking.token)
        # Even a (stale) lease on an agent in a call must not end the call.
        session.execute(update(Agent).where(Agent.id == talking_id).values(lease_until=past))
    later = datetime.now(UTC) + timedelta(seconds=LEASE_S + 1)
    with session_scope(factory) as session:
        freed = expire_leases(session, later)
    assert ringing_id in freed and talking_id not in freed
    assert agent_row(factory, ringing_id).state == AgentState.AVAILABLE
    stored = agent_row(factory, talking_id)
    assert (stored.state, stored.reservation) == (AgentState.ON_CALL, talking.token)
    with session_scope(factory) as session:
        assert not mark_on_call(session, ringing_id, ringing.token)  # too late: hang it up
        assert release(session, talking_id, talking.token, now=later)


def test_round_robin_moves_on_with_every_call(factory: sessionmaker[Session]) -> None:
    rule_id, ids = make_rule(factory, "round_robin", {}, {}, {})
    order = []
    for _ in range(4):
        picked = pick(factory, rule_id)
        order.append(picked[0].agent_id)
        free(factory, picked)
    assert order == [ids[0], ids[1], ids[2], ids[0]]

    # The cursor follows the agent actually reserved, past one who is busy.
    (busy,) = pick(factory, rule_id, exclude=[ids[2]])  # ids[1]
    assert busy.agent_id == ids[1]
    with session_scope(factory) as session:
        assert session.get_one(RoutingRule, rule_id).round_robin_cursor == 2
    (next_,) = pick(factory, rule_id)
    assert next_.agent_id == ids[2]
    free(factory, [busy, next_])
    with session_scope(factory) as session:
        assert session.get_one(RoutingRule, rule_id).round_robin_cursor == 3


def test_longest_idle_rings_the_agent_idle_longest(factory: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    rule_id, ids = make_rule(
        factory,
        "longest_idle",
        {"last_call_ended_at": now - timedelta(minutes=5)},
        {"last_call_ended_at": now - timedelta(hours=2)},
        {"last_call_ended_at": now - timedelta(minutes=30)},
    )
    (first,) = pick(factory, rule_id)
    assert first.agent_id == ids[1]
    with session_scope(factory) as session:
        assert mark_on_call(session, first.agent_id, first.token)
        assert release(session, first.agent_id, first.token, now=now)
    # Having just finished a call, that agent is now the least idle.
    picked = pick(factory, rule_id, count=3)
    assert [r.agent_id for r in picked] == [ids[2], ids[0], ids[1]]
    free(factory, picked)


def test_reservation_works_without_returning(database_url: str) -> None:
    """The fallback for databases without UPDATE ... RETURNING (SQLite before 3.35)."""
    engine = make_engine(database_url)
    engine.dialect.update_returning = False
    try:
        factory = make_session_factory(engine)
        rule_id, (agent_id,) = make_rule(factory, "ordered", {})
        (held,) = pick(factory, rule_id)
        assert (held.agent_id, held.name) == (agent_id, "agent-1")
        assert pick(factory, rule_id) == []
        with session_scope(factory) as session:
            assert agent_id in expire_leases(session, held.lease_until + timedelta(seconds=1))
    finally:
        engine.dispose()


# --- several processes picking from one rule at once -------------------------------------------

WORKERS = 4
ATTEMPTS = 50
RACE_DEADLINE_S = 90.0
# Test-only: who holds each agent right now. The primary key turns a double booking into an error.
HOLDERS = Table(
    "race_holders",
    MetaData(),
    Column("agent_id", Integer, primary_key=True),
    Column("token", String(32), nullable=False),
)


def race_worker(url: str, rule_id: int, barrier: Any, results: Any) -> None:
    """Pick one agent, claim it in `race_holders` (one row per agent), check the fence, release.

    If two reservations ever held one agent, the second claim would violate the primary key.
    """
    engine = make_engine(url)
    factory = make_session_factory(engine)
    stats = {"reserved": 0, "none_free": 0, "double_booked": 0, "fence_failed": 0}
    try:
        barrier.wait(timeout=60)
        deadline = time.monotonic() + RACE_DEADLINE_S
        for _ in range(ATTEMPTS):
            if time.monotonic() > deadline:
                break
            with session_scope(factory) as session:
                rule = session.get_one(RoutingRule, rule_id)
                picked = pick_agents(session, rule, datetime.now(UTC), (), 1, lease_seconds=60)
            if not picked:
                stats["none_free"] += 1
                continue
            held = picked[0]
            stats["reserved"] += 1
            try:
                with session_scope(factory) as session:
                    session.execute(
                        insert(HOLDERS), {"agent_id": held.agent_id, "token": held.token}
                    )
            except IntegrityError:
                stats["double_booked"] += 1
            # The call: time outside any transaction, so that the other processes get the
            # database (SQLite's busy handler would otherwise let one process run its whole loop).
            time.sleep(random.uniform(0, 0.005))
            with session_scope(factory) as session:
                if not mark_on_call(session, held.agent_id, held.token):
                    stats["fence_failed"] += 1
            with session_scope(factory) as session:
                session.execute(
                    delete(HOLDERS).where(
                        HOLDERS.c.agent_id == held.agent_id, HOLDERS.c.token == held.token
                    )
                )
                if not release(session, held.agent_id, held.token, now=datetime.now(UTC)):
                    stats["fence_failed"] += 1
        results.put(stats)
    except BaseException as exc:
        results.put({"error": repr(exc)})
        raise
    finally:
        engine.dispose()


def test_processes_racing_for_agents_never_double_book(
    database_url: str, engine: Engine, factory: sessionmaker[Session]
) -> None:
    rule_id, ids = make_rule(factory, "ordered", {}, {}, {})
    HOLDERS.create(engine, checkfirst=True)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    processes = [
        context.Process(target=race_worker, args=(database_url, rule_id, barrier, results))
        for _ in range(WORKERS)
    ]
    try:
        for process in processes:
            process.start()
        stats = [results.get(timeout=RACE_DEADLINE_S + 60) for _ in processes]
        for process in processes:
            process.join(timeout=30)
            assert process.exitcode == 0
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join(timeout=10)
        results.close()
        with engine.connect() as connection:
            left_over = connection.execute(select(HOLDERS)).all()
        HOLDERS.drop(engine, checkfirst=True)

    assert left_over == []
    assert all("error" not in s for s in stats), stats
    assert sum(s["double_booked"] for s in stats) == 0, stats
    assert sum(s["fence_failed"] for s in stats) == 0, stats
    assert sum(s["reserved"] for s in stats) > 0, stats
    assert sum(s["reserved"] + s["none_free"] for s in stats) == WORKERS * ATTEMPTS, stats
    with session_scope(factory) as session:
        rows = session.execute(
            select(Agent.state, Agent.reservation).where(Agent.id.in_(ids))
        ).all()
    assert [tuple(row) for row in rows] == [("available", None)] * 3
