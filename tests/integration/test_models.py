"""The schema: migrations build it on SQLite and PostgreSQL, match the models, and keep
the promises the service relies on (atomic reservation, compare-and-set, UTC times).

PostgreSQL runs when TEST_DATABASE_URL is set; each run migrates a schema of its own
(through `search_path`) and drops it afterwards, so a shared database is left as found.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from hashlib import sha256

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, bindparam, event, inspect, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from support.app import migrated_database

from callback.db import make_engine, make_session_factory, session_scope
from callback.migrate import alembic_config, upgrade
from callback.models import (
    Agent,
    AgentState,
    Base,
    CallbackRequest,
    CallbackStatus,
    Event,
    RoutingRule,
    RuleMember,
    UTCDateTime,
    Widget,
)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()

RESERVE = text(
    "UPDATE agents SET state='ringing', reservation=:r, lease_until=:l "
    "WHERE id=:id AND state='available'"
).bindparams(bindparam("l", type_=UTCDateTime()))


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
    with migrated_database(
        request.param, tmp_path_factory.mktemp("db"), "nested/callback.db"
    ) as url:
        yield url


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def add_agent(factory: sessionmaker[Session], name: str = "Ann") -> int:
    with session_scope(factory) as session:
        agent = Agent(name=name, phone="+3725550100")
        session.add(agent)
        session.flush()
        return agent.id


def add_callback(factory: sessionmaker[Session]) -> str:
    with session_scope(factory) as session:
        rule = RoutingRule(name=f"rule-{secrets.token_hex(4)}")
        widget = Widget(name="Shop", default_region="EE", routing_rule=rule)
        callback = CallbackRequest(
            widget=widget,
            phone="+3725550199",
            page_title="Product X",
            token_hash=sha256(b"token").hexdigest(),
        )
        session.add(callback)
        session.flush()
        return callback.id


def reserve(session: Session, agent_id: int, token: str) -> int:
    lease = datetime.now(UTC) + timedelta(seconds=20)
    return session.execute(RESERVE, {"r": token, "l": lease, "id": agent_id}).rowcount


def poll(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        time.sleep(0.01)


def test_migration_reaches_head_and_is_idempotent(database_url: str, engine: Engine) -> None:
    upgrade(database_url)  # a second run finds nothing to do

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
        tables = set(inspect(connection).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_constraint_names_follow_the_convention(engine: Engine) -> None:
    with engine.connect() as connection:
        inspector = inspect(connection)
        assert inspector.get_pk_constraint("agents")["name"] == "pk_agents"
        assert {uq["name"] for uq in inspector.get_unique_constraints("widgets")} == {
            "uq_widgets_public_key"
        }
        assert {fk["name"] for fk in inspector.get_foreign_keys("callbacks")} == {
            "fk_callbacks_widget_id_widgets",
            "fk_callbacks_agent_id_agents",
        }
        assert {ck["name"] for ck in inspector.get_check_constraints("agents")} == {
            "ck_agents_presence",
            "ck_agents_state",
        }
        indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("callbacks")}
    assert indexes["ix_callbacks_due_at"] == ["due_at"]
    assert indexes["ix_callbacks_widget_id_phone_status"] == ["widget_id", "phone", "status"]


def test_concurrent_reservations_have_exactly_one_winner(factory: sessionmaker[Session]) -> None:
    def contend(agent_id: int, token: str, barrier: threading.Barrier) -> int:
        with session_scope(factory) as session:
            barrier.wait(timeout=10)
            return reserve(session, agent_id, token)

    for _ in range(10):
        agent_id = add_agent(factory)
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {
                token: pool.submit(contend, agent_id, token, barrier) for token in ("a", "b")
            }
            rowcounts = {token: future.result(timeout=30) for token, future in futures.items()}

        assert sorted(rowcounts.values()) == [0, 1]
        winner = next(token for token, count in rowcounts.items() if count == 1)
        with session_scope(factory) as session:
            agent = session.get_one(Agent, agent_id)
            assert (agent.state, agent.reservation) == (AgentState.RINGING, winner)
            assert agent.lease_until is not None and agent.lease_until.tzinfo is UTC


def test_reservation_waits_for_the_holder_and_then_loses(
    database_url: str, factory: sessionmaker[Session]
) -> None:
    """The second UPDATE is issued while the first transaction holds the agent: it waits,
    then sees the committed row and matches nothing (no lost update, no double booking)."""
    agent_id = add_agent(factory)
    contender_engine = make_engine(database_url)
    waiting = threading.Event()
    postgres = contender_engine.dialect.name == "postgresql"
    if not postgres:
        # SQLite queues writers at BEGIN IMMEDIATE; the trace hook fires as that statement
        # starts, while the holder still has the write lock.
        @event.listens_for(contender_engine, "connect")
        def _trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            def on_statement(sql: str) -> None:
                if sql.startswith("BEGIN IMMEDIATE"):
                    waiting.set()

            dbapi_connection.set_trace_callback(on_statement)

    def contend(pid_known: threading.Event, pid: list[int]) -> int:
        with session_scope(make_session_factory(contender_engine)) as session:
            if postgres:
                pid.append(session.scalar(text("SELECT pg_backend_pid()")))
                pid_known.set()
            return reserve(session, agent_id, "contender")

    try:
        with factory() as holder:
            assert reserve(holder, agent_id, "holder") == 1
            pid_known, pid = threading.Event(), []
            with ThreadPoolExecutor(max_workers=1) as pool:
                future = pool.submit(contend, pid_known, pid)
                if postgres:
                    assert pid_known.wait(timeout=10)
                    poll(lambda: blocked(holder, pid[0]))
                else:
                    assert waiting.wait(timeout=10)
                holder.commit()
                assert future.result(timeout=30) == 0
    finally:
        contender_engine.dispose()

    with session_scope(factory) as session:
        assert session.get_one(Agent, agent_id).reservation == "holder"


def blocked(session: Session, pid: int) -> bool:
    """Whether PostgreSQL backend `pid` is waiting on a lock."""
    return bool(session.scalar(text("SELECT cardinality(pg_blocking_pids(:pid))"), {"pid": pid}))


def test_callback_updates_compare_and_set_on_version(factory: sessionmaker[Session]) -> None:
    """A writer holding an old copy of the row cannot overwrite a newer state."""
    callback_id = add_callback(factory)
    with session_scope(factory) as session:
        stale = session.get_one(CallbackRequest, callback_id)  # kept after commit
    assert stale.version == 1

    with session_scope(factory) as session:
        session.get_one(CallbackRequest, callback_id).status = CallbackStatus.CALLING_AGENT

    with pytest.raises(StaleDataError), session_scope(factory) as session:
        session.add(stale)
        stale.status = CallbackStatus.CANCELED

    with session_scope(factory) as session:
        current = session.get_one(CallbackRequest, callback_id)
        assert (current.status, current.version) == (CallbackStatus.CALLING_AGENT, 2)


def test_events_are_appended_and_read_in_order(factory: sessionmaker[Session]) -> None:
    callback_id = add_callback(factory)
    start = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    with session_scope(factory) as session:
        for n, kind in enumerate(("created", "agent_ringing", "agent_accepted")):
            session.add(
                Event(
                    callback_id=callback_id,
                    at=start + timedelta(seconds=n),
                    type=kind,
                    data={"n": n, "agent": {"id": n}},
                )
            )

    with session_scope(factory) as session:
        events = session.scalars(
            select(Event).where(Event.callback_id == callback_id).order_by(Event.id)
        ).all()
    assert [e.type for e in events] == ["created", "agent_ringing", "agent_accepted"]
    assert [e.data for e in events] == [{"n": n, "agent": {"id": n}} for n in range(3)]
    assert [e.at for e in events] == [start + timedelta(seconds=n) for n in range(3)]
    assert all(e.at.tzinfo is UTC for e in events)
    assert events[0].id < events[1].id < events[2].id


def test_datetimes_are_stored_in_utc(factory: sessionmaker[Session]) -> None:
    callback_id = add_callback(factory)
    helsinki = timezone(timedelta(hours=2))
    due = datetime(2030, 6, 1, 12, 0, tzinfo=helsinki)
    with session_scope(factory) as session:
        session.get_one(CallbackRequest, callback_id).due_at = due
    with session_scope(factory) as session:
        stored = session.get_one(CallbackRequest, callback_id).due_at
        assert stored == due and stored.tzinfo is UTC and stored.hour == 10
        naive = session.get_one(CallbackRequest, callback_id)
        naive.due_at = datetime(2030, 6, 1, 12, 0)
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()


def test_rule_members_come_in_position_order(factory: sessionmaker[Session]) -> None:
    ids = [add_agent(factory, name) for name in ("first", "second", "third")]
    with session_scope(factory) as session:
        rule = RoutingRule(name=f"rule-{secrets.token_hex(4)}")
        rule.members = [
            RuleMember(agent_id=ids[i], position=p) for i, p in ((2, 3), (0, 1), (1, 2))
        ]
        session.add(rule)
        session.flush()
        rule_id = rule.id
    with session_scope(factory) as session:
        rule = session.get_one(RoutingRule, rule_id)
        assert [m.agent.name for m in rule.members] == ["first", "second", "third"]
        assert (rule.strategy, rule.ring_timeout, rule.require_keypress) == ("hedged", 15, True)
