"""The engine settings the service relies on, against a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import event, text

from callback.db import make_engine, make_session_factory, read_scope, session_scope


def test_a_reader_neither_waits_for_nor_takes_the_write_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", connect_args={"timeout": 5})
    sessions = make_session_factory(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, sql, *a: statements.append(sql))
    with session_scope(sessions) as session:
        session.execute(text("CREATE TABLE t (a INTEGER)"))
    writer = sessions()
    writer.begin()
    writer.execute(text("INSERT INTO t VALUES (1)"))  # holds the write lock, uncommitted
    try:
        started = time.monotonic()
        with read_scope(sessions) as session:
            count = session.execute(text("SELECT count(*) FROM t")).scalar()
        waited = time.monotonic() - started
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()
    assert count == 0  # the committed state, not the writer's
    assert waited < 4  # a reader queued behind the writer would wait the 5 s busy timeout
    assert statements[:4] == [
        "BEGIN IMMEDIATE",
        "CREATE TABLE t (a INTEGER)",
        "BEGIN IMMEDIATE",
        "INSERT INTO t VALUES (1)",
    ]
    assert "BEGIN" in statements[4:]
