"""The reporting queries on a migrated database (SQLite, and PostgreSQL when TEST_DATABASE_URL
is set): callbacks, legs and events written with known times, and the exact board, timeline,
statistics and CSV that must come out of them, for an admin and for an agent-role viewer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker
from support.app import BACKENDS, migrated_database

from callback.db import make_engine, make_session_factory
from callback.models import Agent, CallbackRequest, Event, Leg, RoutingRule, Widget
from callback.phone import mask
from callback.services import reporting
from callback.services.reporting import ReportError, Viewer
from callback.services.reporting.filters import HistoryQuery, parse_history, parse_period
from callback.services.reporting.history import label
from callback.services.reporting.stats import histogram, percentile
from callback.services.reporting.values import format_offset

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; 11:00 in Tallinn (UTC+2 in March)
BOARD_NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
TALLINN = "Europe/Tallinn"


def at(base: datetime, seconds: float) -> datetime:
    return base + timedelta(seconds=seconds)


@dataclass
class Shop:
    """Ids of what the builder wrote, by the names the tests use."""

    agents: dict[str, int] = field(default_factory=dict)
    widgets: dict[str, int] = field(default_factory=dict)
    legs: dict[str, int] = field(default_factory=dict)


class Builder:
    """Writes agents, widgets, callbacks, legs and events with explicit times."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.shop = Shop()
        self.rule = RoutingRule(name="rule")
        session.add(self.rule)
        session.flush()

    def agent(self, name: str, **fields: Any) -> int:
        agent = Agent(name=name, phone=f"+3725550{len(self.shop.agents):04d}", **fields)
        self.session.add(agent)
        self.session.flush()
        self.shop.agents[name] = agent.id
        return agent.id

    def widget(self, name: str, time_zone: str = "UTC") -> int:
        widget = Widget(
            name=name, default_region="EE", routing_rule_id=self.rule.id, time_zone=time_zone
        )
        self.session.add(widget)
        self.session.flush()
        self.shop.widgets[name] = widget.id
        return widget.id

    def callback(
        self,
        id_: str,
        widget: str,
        created: datetime,
        status: str,
        *,
        phone: str = "+37251234567",
        agent: str | None = None,
        connected_s: float | None = None,
        ended_s: float | None = None,
        updated: datetime | None = None,
        **fields: Any,
    ) -> CallbackRequest:
        callback = CallbackRequest(
            id=id_,
            widget_id=self.shop.widgets[widget],
            phone=phone,
            status=status,
            token_hash="x" * 64,
            created_at=created,
            due_at=fields.pop("due_at", created),
            updated_at=updated or created,
            agent_id=self.shop.agents[agent] if agent else None,
            connected_at=at(created, connected_s) if connected_s is not None else None,
            ended_at=at(created, ended_s) if ended_s is not None else None,
            **fields,
        )
        self.session.add(callback)
        self.session.flush()
        return callback

    def leg(
        self,
        name: str,
        callback: CallbackRequest,
        agent: str,
        status: str,
        rung_s: float,
        answered_s: float | None = None,
        ended_s: float | None = None,
        kind: str = "agent",
        reservation: str | None = None,
    ) -> int:
        base = callback.created_at
        leg = Leg(
            callback_id=callback.id,
            kind=kind,
            agent_id=self.shop.agents[agent],
            status=status,
            created_at=at(base, rung_s),
            answered_at=at(base, answered_s) if answered_s is not None else None,
            ended_at=at(base, ended_s) if ended_s is not None else None,
            reservation=reservation,
        )
        self.session.add(leg)
        self.session.flush()
        self.shop.legs[name] = leg.id
        return leg.id

    def events(
        self, callback: CallbackRequest, *entries: tuple[float, str, dict[str, Any]]
    ) -> None:
        for offset, type_, data in entries:
            self.session.add(
                Event(
                    callback_id=callback.id,
                    type=type_,
                    at=at(callback.created_at, offset),
                    data=data,
                )
            )
        self.session.flush()


def build_history(b: Builder) -> None:
    """Six callbacks in the week of 2 March 2026 and two before it (see the expected numbers)."""
    for name in ("Anna", "Mart", "Liis"):
        b.agent(name)
    b.agent("Peeter", active=False)
    b.widget("Shop", TALLINN)
    b.widget("Other")

    # A: completed; Anna took it and the customer answered after 9.8 s.
    a = b.callback(
        "cb-a",
        "Shop",
        T0,
        "completed",
        agent="Anna",
        connected_s=9.8,
        ended_s=70,
        duration_s=60,
        page_title="Blue Kettle",
        phone="+37251230001",
    )
    leg1 = b.leg("a-anna", a, "Anna", "completed", 0.1, answered_s=4.0, ended_s=70)
    b.leg("a-customer", a, "Anna", "completed", 6.3, answered_s=9.8, ended_s=70, kind="customer")
    a.accepted_leg_id = leg1
    b.events(
        a,
        (0, "requested", {}),
        (0.02, "queued", {}),
        (0.1, "dispatched", {"agent": "Anna", "agent_id": b.shop.agents["Anna"], "leg": leg1}),
        (0.5, "agent_ringing", {"leg": leg1}),
        (4.0, "agent_answered", {"leg": leg1}),
        (6.3, "agent_accepted", {"leg": leg1}),
        (7.0, "customer_ringing", {"leg": leg1, "customer_leg": leg1 + 1}),
        (9.8, "customer_answered", {"leg": leg1, "customer_leg": leg1 + 1}),
        (70, "call_ended", {"leg": leg1, "duration_s": 60}),
    )
    # B: hedged; Mart never answered, Anna (rung at +6 s) took it, connected after 25 s.
    b_ = b.callback(
        "cb-b",
        "Shop",
        at(T0, 3600),
        "completed",
        agent="Anna",
        connected_s=25,
        ended_s=55,
        duration_s=30,
        phone="+37251230002",
    )
    b.leg("b-mart", b_, "Mart", "no-answer", 0.1, ended_s=15)
    leg4 = b.leg("b-anna", b_, "Anna", "completed", 6, answered_s=10, ended_s=55)
    b.events(b_, (0, "requested", {}), (12, "agent_accepted", {"leg": leg4}))
    # C: nobody answered.
    c = b.callback(
        "cb-c",
        "Shop",
        at(T0, 23 * 3600),
        "failed",
        reason="no_agent_available",
        ended_s=20,
        phone="+37251230003",
    )
    b.leg("c-mart", c, "Mart", "no-answer", 0.1, ended_s=15)
    # D: Mart accepted, the customer's line was busy.
    d = b.callback(
        "cb-d",
        "Shop",
        at(T0, 23.5 * 3600),
        "failed",
        agent="Mart",
        reason="customer_busy",
        ended_s=30,
        phone="+37251230004",
    )
    leg6 = b.leg("d-mart", d, "Mart", "completed", 0.1, answered_s=3.0, ended_s=30)
    b.events(d, (0, "requested", {}), (5, "agent_accepted", {"leg": leg6}))
    # E: the visitor canceled before anyone was rung.
    b.callback("cb-e", "Shop", at(T0, 2 * 3600), "canceled", phone="+37251230005")
    # H: Wednesday 22:30 UTC is Thursday 00:30 in Tallinn; Liis lost the race to Mart.
    h = b.callback(
        "cb-h",
        "Shop",
        datetime(2026, 3, 4, 22, 30, tzinfo=UTC),
        "completed",
        agent="Mart",
        connected_s=12.0,
        ended_s=57,
        duration_s=45,
        page_title="=HYPERLINK(evil)",
        page_url="https://shop.example/kettles/blue",
        phone="+37251230006",
    )
    leg7 = b.leg("h-mart", h, "Mart", "completed", 0.2, answered_s=6.2, ended_s=57)
    b.leg("h-liis", h, "Liis", "canceled", 0.2, ended_s=6.5)
    b.events(h, (0, "requested", {}), (7, "agent_accepted", {"leg": leg7}))
    # S: scheduled for half an hour after the click; connected 6 s after it fell due.
    b.widget("Scheduled")
    scheduled = b.callback(
        "cb-s",
        "Scheduled",
        datetime(2026, 2, 27, 9, 0, tzinfo=UTC),
        "completed",
        connected_s=1806,
        ended_s=1900,
        duration_s=90,
        phone="+37251230010",
    )
    b.events(scheduled, (0, "requested", {}), (0, "scheduled", {}), (1800, "due", {}))
    # G1, G2: before the period, created at the same instant (paging must still be stable).
    for id_ in ("cb-g1", "cb-g2"):
        b.callback(
            id_,
            "Other",
            datetime(2026, 2, 28, 12, 0, tzinfo=UTC),
            "completed",
            phone="+37251230009",
        )


def build_board(b: Builder) -> None:
    now = BOARD_NOW
    b.agent("Anna", state="on_call", reservation="r-anna")
    b.agent("Mart", state="ringing", reservation="r-mart", lease_until=at(now, 10))
    b.agent("Liis", presence="offline")
    b.agent("Kati", state="wrap_up", reservation="r-kati", lease_until=at(now, 3))
    b.agent("Jaan", state="wrap_up", reservation="r-jaan", lease_until=at(now, -1))
    b.agent("Pille", presence="paused")
    b.agent("Peeter", active=False)
    b.widget("Board shop")
    l1 = b.callback(
        "live-1",
        "Board shop",
        at(now, -40),
        "connected",
        agent="Anna",
        connected_s=15,
        page_title="Red Kettle",
        phone="+37251239001",
    )
    b.leg("l1-anna", l1, "Anna", "in-progress", 0.1, answered_s=5, reservation="r-anna")
    b.leg(
        "l1-cust",
        l1,
        "Anna",
        "in-progress",
        6,
        answered_s=15,
        kind="customer",
        reservation="r-anna",
    )
    l2 = b.callback("live-2", "Board shop", at(now, -25), "calling_agent", phone="+37251239002")
    b.leg("l2-liis", l2, "Liis", "no-answer", 0.1, ended_s=8)
    b.leg("l2-mart", l2, "Mart", "ringing", 8, reservation="r-mart")
    b.callback("live-3", "Board shop", at(now, -3), "queued", phone="+37251239003")
    # Scheduled an hour ago for five seconds ago: its clock started when it fell due.
    b.callback(
        "live-4",
        "Board shop",
        at(now, -3600),
        "queued",
        due_at=at(now, -5),
        phone="+37251239006",
    )
    b.callback(
        "done-1",
        "Board shop",
        at(now, -200),
        "completed",
        agent="Mart",
        connected_s=10,
        ended_s=140,
        updated=at(now, -60),
        phone="+37251239004",
    )
    b.callback(
        "done-old",
        "Board shop",
        at(now, -3600),
        "failed",
        reason="no_agent_available",
        ended_s=20,
        updated=at(now, -1200),
        phone="+37251239005",
    )


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def _world(backend: str, folder: Path, build: Any) -> Iterator[tuple[sessionmaker[Session], Shop]]:
    with migrated_database(backend, folder) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            builder = Builder(session)
            build(builder)
        try:
            yield factory, builder.shop
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def history_world(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sessionmaker[Session], Shop]]:
    yield from _world(backend, tmp_path_factory.mktemp("history"), build_history)


@pytest.fixture(scope="module")
def board_world(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sessionmaker[Session], Shop]]:
    yield from _world(backend, tmp_path_factory.mktemp("board"), build_board)


@pytest.fixture
def session(history_world: tuple[sessionmaker[Session], Shop]) -> Iterator[Session]:
    factory, _ = history_world
    with factory() as session, session.begin():
        yield session


@pytest.fixture
def shop(history_world: tuple[sessionmaker[Session], Shop]) -> Shop:
    return history_world[1]


def week(tz: str = TALLINN) -> reporting.Period:
    return parse_period({"from": "2026-03-02", "to": "2026-03-08", "tz": tz}, BOARD_NOW)


def count_queries(engine: Engine) -> list[str]:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


# --- the board -------------------------------------------------------------------------------


def test_the_board_shows_each_agent_state_and_every_callback_in_flight(board_world):
    factory, _ = board_world
    with factory() as session, session.begin():
        board = reporting.board(session, BOARD_NOW)

    states = {a.name: (a.state, a.callback_id) for a in board.agents}
    assert states == {
        "Anna": ("on_call", "live-1"),
        "Mart": ("ringing", "live-2"),
        "Liis": ("offline", None),
        "Kati": ("wrap_up", None),
        "Jaan": ("available", None),  # the wrap-up lease ran out a second ago
        "Pille": ("offline", None),  # paused: takes no callbacks
    }
    assert [a.name for a in board.agents] == ["Anna", "Jaan", "Kati", "Liis", "Mart", "Pille"]
    anna = next(a for a in board.agents if a.name == "Anna")
    assert anna.since == at(BOARD_NOW, -35)  # answered 5 s into a callback made 40 s ago

    flight = {c.id: c for c in board.in_flight}
    assert list(flight) == ["live-1", "live-2", "live-4", "live-3"]  # longest waiting first
    assert (flight["live-1"].elapsed_s, flight["live-1"].connected_after_s) == (40.0, 15.0)
    assert flight["live-1"].agent == "Anna" and flight["live-1"].promise_kept is True
    assert flight["live-2"].ringing == ["Mart"]  # Liis's leg ended
    assert (flight["live-2"].elapsed_s, flight["live-2"].promise_kept) == (25.0, False)
    assert (flight["live-3"].elapsed_s, flight["live-3"].promise_kept) == (3.0, None)
    assert (flight["live-4"].elapsed_s, flight["live-4"].promise_kept) == (5.0, None)
    assert flight["live-3"].phone == mask("+37251239003") == "+372 51•• ••••"
    # Finished within the last 15 minutes stay visible; the one from 20 minutes ago does not.
    assert [(c.id, c.status, c.elapsed_s) for c in board.recent] == [("done-1", "completed", 140.0)]


def test_the_board_as_json_has_no_phone_number(board_world):
    factory, _ = board_world
    with factory() as session, session.begin():
        data = reporting.board(session, BOARD_NOW).as_dict()
    assert data["promise_s"] == 20.0
    assert data["at"] == BOARD_NOW.isoformat()
    text = repr(data)
    assert "39001" not in text and "5123900" not in text


def test_an_agent_sees_only_callbacks_that_ring_them_or_are_theirs(board_world):
    factory, shop = board_world
    with factory() as session, session.begin():
        mart = reporting.board(session, BOARD_NOW, Viewer.agent(shop.agents["Mart"]))
        nobody = reporting.board(session, BOARD_NOW, Viewer.agent(None))
    assert [c.id for c in mart.in_flight] == ["live-2"]
    assert [c.id for c in mart.recent] == ["done-1"]
    assert nobody.in_flight == [] and nobody.recent == []


def test_the_board_takes_a_fixed_number_of_queries(board_world):
    factory, _ = board_world
    engine = factory.kw["bind"]
    statements = count_queries(engine)
    with factory() as session, session.begin():
        reporting.board(session, BOARD_NOW)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4  # agents, callbacks in flight, their ringing legs, recent


# --- history and the timeline ----------------------------------------------------------------


def ids(page: reporting.HistoryPage) -> list[str]:
    return [row.id for row in page.items]


def test_history_is_newest_first_with_stable_paging(session):
    everyone = Viewer.everyone()
    pages = [
        reporting.search(session, HistoryQuery(page=n, per_page=3), everyone) for n in (1, 2, 3)
    ]
    assert [ids(p) for p in pages] == [
        ["cb-h", "cb-d", "cb-c"],
        ["cb-e", "cb-b", "cb-a"],
        ["cb-g2", "cb-g1", "cb-s"],  # g1 and g2 at the same instant: the id breaks the tie
    ]
    assert (pages[0].total, pages[0].pages) == (9, 3)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"status": "failed"}, ["cb-d", "cb-c"]),
        ({"from": "2026-03-03", "to": "2026-03-03"}, ["cb-d", "cb-c"]),  # the whole day, UTC
        ({"from": "2026-03-05", "tz": TALLINN}, ["cb-h"]),  # 00:30 on the 5th in Tallinn
        ({"number": "0004"}, ["cb-d"]),
        ({"number": "+372 5123 0006"}, ["cb-h"]),
        ({"q": "kettle"}, ["cb-h", "cb-a"]),  # page title or URL, any case
        ({"q": "cb-b"}, ["cb-b"]),
        ({"q": "100%_"}, []),  # LIKE wildcards are matched literally
    ],
)
def test_history_filters(session, shop, args, expected):
    page = reporting.search(session, parse_history(args), Viewer.everyone())
    assert ids(page) == expected


def test_history_filters_by_widget_and_agent(session, shop):
    by_agent = parse_history({"agent": str(shop.agents["Mart"])})
    by_widget = parse_history({"widget": str(shop.widgets["Other"])})
    assert ids(reporting.search(session, by_agent, Viewer.everyone())) == ["cb-h", "cb-d"]
    assert ids(reporting.search(session, by_widget, Viewer.everyone())) == ["cb-g2", "cb-g1"]


def test_history_rows_are_masked_and_carry_time_to_connect(session):
    page = reporting.search(session, parse_history({"status": "completed"}), Viewer.everyone())
    row = next(r for r in page.items if r.id == "cb-a")
    assert row.phone == mask("+37251230001") and "0001" not in row.phone
    assert (row.time_to_connect_s, row.duration_s, row.agent, row.widget) == (
        9.8,
        60,
        "Anna",
        "Shop",
    )
    assert "+37251230001" not in repr(page.as_dict())


def test_an_agent_finds_only_their_own_callbacks(session, shop):
    mart = Viewer.agent(shop.agents["Mart"])
    assert ids(reporting.search(session, HistoryQuery(), mart)) == ["cb-h", "cb-d"]
    assert ids(reporting.search(session, HistoryQuery(), Viewer.agent(None))) == []
    assert reporting.detail(session, "cb-a", mart) is None  # Anna's
    assert reporting.detail(session, "cb-d", mart) is not None


def test_the_timeline_reads_as_offsets_and_labels(session):
    detail = reporting.detail(session, "cb-a", Viewer.everyone())
    assert detail is not None
    assert [(e.offset, e.label) for e in detail.timeline] == [
        ("+0 s", "requested"),
        ("+0.02 s", "queued"),
        ("+0.1 s", "ringing Anna"),
        ("+0.5 s", "Anna's phone ringing"),
        ("+4 s", "Anna answered, hearing the whisper"),
        ("+6.3 s", "Anna pressed 1"),
        ("+7 s", "customer's phone ringing"),
        ("+9.8 s", "customer answered: connected"),
        ("+70 s", "call ended after 60 s"),
    ]
    assert [e.offset_s for e in detail.timeline][:4] == [0.0, 0.02, 0.1, 0.5]
    assert [(leg.kind, leg.agent, leg.rung_at_s, leg.answered_at_s) for leg in detail.legs] == [
        ("agent", "Anna", 0.1, 4.0),
        ("customer", "Anna", 6.3, 9.8),
    ]
    assert (detail.time_to_connect_s, detail.phone) == (9.8, mask("+37251230001"))
    assert reporting.detail(session, "no-such-id", Viewer.everyone()) is None


@pytest.mark.parametrize(
    ("type_", "data", "agent", "expected"),
    [
        ("agent_declined", {"key": "2"}, "Mart", "Mart pressed 2, not 1"),
        ("agent_declined", {}, "Mart", "Mart did not press 1"),
        ("agent_no_answer", {}, "Mart", "Mart did not answer"),
        ("agent_failed", {"error": "21211"}, None, "call to the agent failed (21211)"),
        ("lease_expired", {}, "Liis", "no news from Liis's call: released"),
        ("hedge_due", {}, None, "nobody accepted yet: ringing the next agent too"),
        ("customer_busy", {}, None, "customer's line busy"),
        ("call_ended", {}, None, "call ended"),
        ("something_new", {}, None, "something new"),
    ],
)
def test_timeline_labels(type_, data, agent, expected):
    assert label(type_, data, agent) == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "+0 s"),
        (0.02, "+0.02 s"),
        (0.1, "+0.1 s"),
        (6.34, "+6.3 s"),
        (70, "+70 s"),
        (125.4, "+125 s"),
    ],
)
def test_offsets_are_written_as_precisely_as_useful(seconds, text):
    assert format_offset(seconds) == text


# --- statistics ------------------------------------------------------------------------------


def test_statistics_for_the_week(session, shop):
    stats = reporting.statistics(session, week(), BOARD_NOW, Viewer.everyone())

    assert (stats.total, stats.connected, stats.within_promise, stats.promise_base) == (6, 3, 2, 5)
    assert stats.by_status == {"completed": 3, "failed": 2, "canceled": 1}
    assert stats.within_promise_share == 0.4
    # Time to connect 9.8, 12.0 and 25.0 s, interpolated between closest ranks.
    assert (stats.p50_s, stats.p95_s, stats.mean_s) == (12.0, 23.7, 15.6)
    assert {b.label: b.count for b in stats.time_to_connect if b.count} == {
        "8-10 s": 1,
        "12-14 s": 1,
        "24-26 s": 1,
    }
    assert [(f.reason, f.count) for f in stats.failures] == [
        ("customer_busy", 1),
        ("no_agent_available", 1),
    ]
    # In Tallinn: Monday 11:00, 12:00, 13:00; Tuesday 10:00 twice; Thursday 00:30.
    assert {h: n for h, n in enumerate(stats.by_hour) if n} == {0: 1, 10: 2, 11: 1, 12: 1, 13: 1}
    assert stats.by_weekday == [3, 2, 0, 1, 0, 0, 0]


def test_hours_and_weekdays_follow_the_time_zone(session):
    stats = reporting.statistics(session, week("UTC"), BOARD_NOW, Viewer.everyone())
    assert {h: n for h, n in enumerate(stats.by_hour) if n} == {8: 2, 9: 1, 10: 1, 11: 1, 22: 1}
    assert stats.by_weekday == [3, 2, 1, 0, 0, 0, 0]


def test_per_agent_answer_rates_come_from_the_legs(session):
    stats = reporting.statistics(session, week(), BOARD_NOW, Viewer.everyone())
    table = {a.name: a for a in stats.agents}
    assert list(table) == ["Anna", "Liis", "Mart"]  # active agents; Peeter is not
    anna, liis, mart = table["Anna"], table["Liis"], table["Mart"]
    assert (anna.rung, anna.answered, anna.accepted, anna.missed, anna.canceled) == (2, 2, 2, 0, 0)
    assert (anna.answer_rate, anna.mean_answer_s, anna.connected, anna.talk_time_s) == (
        1.0,
        3.95,
        2,
        90,
    )
    assert (mart.rung, mart.answered, mart.accepted, mart.missed) == (4, 2, 2, 2)
    assert (mart.answer_rate, mart.accept_rate, mart.mean_answer_s) == (0.5, 0.5, 4.45)
    assert (mart.connected, mart.talk_time_s) == (1, 45)
    # Losing a race is not a miss: Liis's only leg was canceled when Mart pressed 1.
    assert (liis.rung, liis.canceled, liis.missed, liis.answer_rate) == (1, 1, 0, None)


def test_a_scheduled_callback_is_timed_from_when_it_fell_due(session, shop):
    day = parse_period({"from": "2026-02-27", "to": "2026-02-27"}, BOARD_NOW)
    widget = shop.widgets["Scheduled"]
    stats = reporting.statistics(session, day, BOARD_NOW, Viewer.everyone(), widget_id=widget)
    assert (stats.total, stats.connected, stats.p50_s, stats.within_promise_share) == (
        1,
        1,
        6.0,
        1.0,
    )
    row = reporting.search(session, parse_history({"q": "cb-s"}), Viewer.everyone()).items[0]
    assert row.time_to_connect_s == 6.0
    detail = reporting.detail(session, "cb-s", Viewer.everyone())
    assert detail is not None and detail.time_to_connect_s == 6.0
    assert [e.label for e in detail.timeline] == [
        "requested",
        "scheduled",
        "scheduled time reached",
    ]


def test_statistics_for_one_widget_and_for_an_agent(session, shop):
    other = reporting.statistics(
        session, week(), BOARD_NOW, Viewer.everyone(), widget_id=shop.widgets["Other"]
    )
    assert other.total == 0 and other.p50_s is None and other.within_promise_share is None

    mart = reporting.statistics(session, week(), BOARD_NOW, Viewer.agent(shop.agents["Mart"]))
    assert (mart.total, mart.connected, mart.p50_s) == (2, 1, 12.0)
    assert [(a.name, a.rung, a.missed) for a in mart.agents] == [("Mart", 4, 2)]


def test_statistics_take_a_fixed_number_of_queries(history_world):
    factory, _ = history_world
    statements = count_queries(factory.kw["bind"])
    with factory() as session, session.begin():
        reporting.statistics(session, week(), BOARD_NOW, Viewer.everyone())
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5  # callbacks, due events, legs, accept events, agent names


def test_percentiles_and_histogram_edges():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    buckets = histogram([0, 1.99, 2, 29.9, 30, 400])
    assert [b.count for b in buckets][:2] == [2, 1]
    assert (buckets[-2].count, buckets[-1].count, buckets[-1].high_s) == (1, 2, None)


# --- CSV -------------------------------------------------------------------------------------


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_callbacks_csv_is_masked_and_safe_for_spreadsheets(session):
    rows = read_csv(
        reporting.callbacks_csv(reporting.period_callbacks(session, week(), Viewer.everyone()))
    )
    assert [r["id"] for r in rows] == ["cb-a", "cb-b", "cb-e", "cb-c", "cb-d", "cb-h"]
    h = rows[-1]
    assert h["page_title"] == "'=HYPERLINK(evil)"
    assert h["phone"] == "'" + mask("+37251230006")
    assert (h["time_to_connect_s"], h["duration_s"], h["agent"]) == ("12.0", "45", "Mart")
    assert h["created_at"] == "2026-03-04T22:30:00+00:00"
    text = reporting.callbacks_csv(reporting.period_callbacks(session, week(), Viewer.everyone()))
    assert "5123000" not in text


def test_agents_csv_matches_the_table(session):
    stats = reporting.statistics(session, week(), BOARD_NOW, Viewer.everyone())
    rows = read_csv(reporting.agents_csv(stats.agents))
    assert [(r["agent"], r["rung"], r["answer_rate"], r["mean_answer_s"]) for r in rows] == [
        ("Anna", "2", "1.0", "3.95"),
        ("Liis", "1", "", ""),
        ("Mart", "4", "0.5", "4.45"),
    ]


# --- parameters ------------------------------------------------------------------------------


def test_a_period_defaults_to_the_last_seven_days():
    period = parse_period({}, datetime(2026, 3, 8, 15, 0, tzinfo=UTC))
    assert (period.start, period.end) == (
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 8, 15, 0, tzinfo=UTC),
    )
    tallinn = parse_period({"to": "2026-03-08", "tz": TALLINN}, BOARD_NOW)
    assert tallinn.start == datetime(2026, 3, 1, 22, 0, tzinfo=UTC)  # 2 March, 00:00 in Tallinn
    assert tallinn.end == datetime(2026, 3, 8, 22, 0, tzinfo=UTC)  # through 8 March
    exact = parse_period({"from": "2026-03-02T09:30", "to": "2026-03-02T12:00:00+02:00"}, T0)
    assert (exact.start, exact.end) == (
        datetime(2026, 3, 2, 9, 30, tzinfo=UTC),  # no offset: read in the period's zone (UTC)
        datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        ({"from": "yesterday"}, "invalid_from", "from"),
        ({"to": "2026-02-30"}, "invalid_to", "to"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "invalid_period", "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "invalid_period", "from"),
        ({"tz": "Mars/Olympus"}, "invalid_tz", "tz"),
        ({"tz": "../../etc/passwd"}, "invalid_tz", "tz"),
        ({"from": "9999-12-31T23:59:59-12:00"}, "invalid_from", "from"),
    ],
)
def test_bad_period_parameters_are_named(args, code, field):
    with pytest.raises(ReportError) as raised:
        parse_period(args, BOARD_NOW)
    assert (raised.value.code, raised.value.field) == (code, field)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"status": "done"}, "invalid_status"),
        ({"widget": "abc"}, "invalid_widget"),
        ({"agent": "-1"}, "invalid_agent"),
        ({"number": "1"}, "invalid_number"),
        ({"number": "12ab"}, "invalid_number"),
        ({"page": "0"}, "invalid_page"),
        ({"per_page": "500"}, "invalid_per_page"),
        ({"q": "x" * 201}, "invalid_q"),
        ({"from": "2026-03-05", "to": "2026-03-04"}, "invalid_period"),
    ],
)
def test_bad_history_parameters_are_named(args, code):
    with pytest.raises(ReportError) as raised:
        parse_history(args)
    assert raised.value.code == code
