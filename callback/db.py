"""Engines, sessions and the one place a transaction is committed.

SQLite (the default for development and tests) is tuned for several processes writing
to one file: WAL so readers never block the writer, a busy timeout so writers queue
instead of failing, foreign keys enforced, and every transaction opened with
`BEGIN IMMEDIATE`. The last point matters: with a deferred BEGIN, a transaction that
reads and then writes can fail at once with "database is locked" when another writer
committed in between; taking the write lock up front makes it wait its turn instead.
PostgreSQL gets a pre-pinged pool sized for a few web threads or worker processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["make_engine", "make_session_factory", "read_scope", "session_scope"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option of `read_scope` connections: SQLite opens them with a deferred BEGIN.
READ_ONLY = "callback_read_only"


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for `url` with the settings this service relies on; `kwargs` override them."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_recycle": 1800,
    }
    options.update(kwargs)
    return create_engine(url, **options)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (they are handed to templates/tasks)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises, then close.

    Models and helpers never commit; the service layer wraps each operation in this.
    """
    with factory() as session, session.begin():
        yield session


@contextmanager
def read_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads. On SQLite it opens with a plain (deferred) BEGIN: under
    WAL a reader neither waits for nor blocks the writer, where BEGIN IMMEDIATE would queue
    every status poll and widget config behind the worker's writes. Never commits."""
    with factory() as session:
        session.connection(execution_options={READ_ONLY: True})
        try:
            yield session
        finally:
            session.rollback()


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    in_memory = url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    if not in_memory and url.database and not url.database.startswith("file:"):
        Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {
        "check_same_thread": False,
        "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
    }
    connect_args.update(kwargs.pop("connect_args", {}))
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; `_on_begin` issues BEGIN.
        dbapi_connection.isolation_level = None
        if not in_memory:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine
