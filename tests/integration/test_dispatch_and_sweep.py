"""Dispatch and the beat's sweep, in-process on SQLite and PostgreSQL: first come first
served, page routes, hedge and call watchdogs, queue timeouts, the queue estimate, and the
carrier's lost and overtaken status callbacks of a customer leg.

Tasks are not run: the app's broker is a folder, so what the sweep enqueues is read back
from it (`queued_tasks`). Time passing is shown by moving rows' timestamps back, not by
sleeping.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, update
from support.app import BACKENDS, is_postgresql, migrated_database, queued_tasks, running_app
from support.carrier import FakeCarrier

from callback import jobs
from callback.models import Agent, AgentState, CallbackRequest, Event, Leg, Widget, WidgetRoute
from callback.routing.reservation import mark_on_call
from callback.services import carrier_events, context, dispatch, machine, queue, sweeper
from callback.services.scheduling import RESCHEDULE_AFTER
from callback.services.setup import add_agent, add_widget, ensure_rule
from callback.telephony.provider import CallInfo

ANNA, BEN = "+37255550101", "+37255550102"


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def carrier() -> FakeCarrier:
    return FakeCarrier()


@pytest.fixture
def app(database_url: str, tmp_path: Path, carrier: FakeCarrier) -> Iterator[Flask]:
    with running_app(database_url, tmp_path) as app:
        app.extensions["provider"] = carrier
        with app.app_context():
            yield app


def shop(strategy: str, agents: list[str], hedge_after: int = 6) -> str:
    name = f"rule-{secrets.token_hex(4)}"
    with context.transaction() as session:
        ensure_rule(session, name, strategy=strategy).hedge_after = hedge_after
    for index, phone in enumerate(agents):
        add_agent(f"Agent {index}", phone, rule=name)
    return add_widget("Shop", region="EE", countries=["EE"], rule=name)


def request(app: Flask, key: str, phone: str) -> str:
    response = app.test_client().post("/api/v1/callbacks", json={"widget": key, "phone": phone})
    assert response.status_code == 202, response.text
    return str(response.get_json()["id"])


def age_legs(callback_id: str, seconds: float) -> None:
    with context.transaction() as session:
        for leg in session.scalars(select(Leg).where(Leg.callback_id == callback_id)):
            leg.created_at -= timedelta(seconds=seconds)


def swept(app: Flask, callback_id: str) -> list[str]:
    """The tasks one sweep enqueues for this callback."""
    before = len(queued_tasks(app))
    sweeper.sweep()
    return [name for name, args in queued_tasks(app)[before:] if args == [callback_id]]


def unique_number() -> str:
    return f"+3725{secrets.randbelow(10**7):07d}"


def test_a_ringing_callback_is_left_to_its_legs(app: Flask) -> None:
    callback_id = request(app, shop("ordered", [unique_number()]), unique_number())
    dispatch.dispatch(callback_id)
    age_legs(callback_id, 5)
    assert swept(app, callback_id) == []


def test_an_overdue_hedge_timer_is_fired_again_by_the_sweep(app: Flask) -> None:
    callback_id = request(
        app, shop("hedged", [unique_number(), unique_number()], hedge_after=4), unique_number()
    )
    dispatch.dispatch(callback_id)
    assert swept(app, callback_id) == []  # the countdown task still has time
    age_legs(callback_id, 4 + sweeper.HEDGE_SLACK_S)
    assert swept(app, callback_id) == [jobs.HEDGE]


def test_a_calling_callback_with_no_leg_left_is_dispatched_again(app: Flask) -> None:
    callback_id = request(app, shop("ordered", [unique_number()]), unique_number())
    dispatch.dispatch(callback_id)
    with context.transaction() as session:
        # The leg ended, but the task that should ring the next agent was lost.
        session.execute(
            update(Leg).where(Leg.callback_id == callback_id).values(status="no-answer")
        )
        status = session.scalar(
            select(CallbackRequest.status).where(CallbackRequest.id == callback_id)
        )
    assert status == "calling_agent"
    assert swept(app, callback_id) == [jobs.DISPATCH]


def test_a_queued_callback_is_dispatched_by_the_sweep(app: Flask) -> None:
    callback_id = request(app, shop("ordered", [unique_number()]), unique_number())
    assert swept(app, callback_id) == [jobs.DISPATCH]


def test_the_sweep_leaves_the_queue_alone_while_every_agent_is_busy(app: Flask) -> None:
    """A task per waiting callback every sweep could only leave each waiting; the first sweep
    after an agent frees up dispatches the queue again."""
    agent = unique_number()
    key = shop("ordered", [agent])
    first = request(app, key, unique_number())
    dispatch.dispatch(first)  # the only agent rings for the first
    waiting = request(app, key, unique_number())
    assert swept(app, waiting) == []
    with context.transaction() as session:
        session.execute(
            update(Agent)
            .where(Agent.phone == agent)
            .values(state=AgentState.AVAILABLE, reservation=None)
        )
    assert swept(app, waiting) == [jobs.DISPATCH]


def test_a_sweep_reads_routes_and_availability_once_per_widget_not_per_callback(
    database_url: str, tmp_path: Path
) -> None:
    """While every agent is busy, up to a hundred callbacks of one widget wait; the sweep's
    reads for them (the widget's page routes, whether anyone could free up) do not grow with
    their number. A database of its own, so no other test's callbacks are in the sweep."""
    backend = "postgresql" if is_postgresql(database_url) else "sqlite"
    with (
        migrated_database(backend, tmp_path / "db") as url,
        running_app(url, tmp_path / "app") as app,
        app.app_context(),
    ):
        app.extensions["provider"] = FakeCarrier()
        key = shop("ordered", [unique_number()])
        dispatch.dispatch(request(app, key, unique_number()))  # the only agent is busy now
        statements: list[str] = []
        engine = app.extensions["db"].kw["bind"]

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        def statements_of_a_sweep() -> int:
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                sweeper.sweep()
            finally:
                event.remove(engine, "before_cursor_execute", count)
            return len(statements)

        for _ in range(2):
            request(app, key, unique_number())
        with_two = statements_of_a_sweep()
        for _ in range(6):
            request(app, key, unique_number())
        assert statements_of_a_sweep() == with_two
        # And neither sweep sent a dispatch for them: the 9 are intake's own, one per POST.
        assert [name for name, _ in queued_tasks(app)].count(jobs.DISPATCH) == 9


def test_the_sweep_dispatches_a_callback_nobody_could_ever_take(app: Flask) -> None:
    """No member online to free up: the dispatch is what turns it into a scheduled callback."""
    agent = unique_number()
    callback_id = request(app, shop("ordered", [agent]), unique_number())
    with context.transaction() as session:
        session.execute(update(Agent).where(Agent.phone == agent).values(presence="offline"))
    assert swept(app, callback_id) == [jobs.DISPATCH]


def test_the_older_callback_gets_the_free_agent_even_from_the_newer_ones_task(
    app: Flask, carrier: FakeCarrier
) -> None:
    agent = unique_number()
    key = shop("ordered", [agent])
    older = request(app, key, unique_number())
    newer = request(app, key, unique_number())
    dispatch.dispatch(newer)  # the newer task runs first, e.g. on another worker thread
    assert [call["to"] for call in carrier.placed] == [agent]
    with context.transaction() as session:
        legs = session.execute(select(Leg.callback_id, Leg.agent_id)).all()
    assert [callback for callback, _ in legs if callback in (older, newer)] == [older]
    # The older task arrives later and finds nothing left to do; the agent is not double-booked.
    dispatch.dispatch(older)
    assert len(carrier.placed) == 1


def agent_on_a_call(app: Flask) -> tuple[str, Leg]:
    """A callback whose agent accepted: their leg answered, the agent on_call, check overdue."""
    callback_id = request(app, shop("ordered", [unique_number()]), unique_number())
    dispatch.dispatch(callback_id)
    with context.transaction() as session:
        leg = session.scalars(select(Leg).where(Leg.callback_id == callback_id)).one()
        leg.answered_at, leg.status = context.now(), "in-progress"
        assert leg.agent_id is not None and leg.reservation is not None
        overdue = context.now() - timedelta(seconds=1)
        assert mark_on_call(session, leg.agent_id, leg.reservation, check_at=overdue)
    return callback_id, leg


def agent_row(agent_id: int) -> Agent:
    with context.transaction() as session:
        return session.get_one(Agent, agent_id)


def test_a_long_call_is_checked_with_the_carrier_once_per_interval(app: Flask) -> None:
    _, leg = agent_on_a_call(app)

    def checks() -> int:  # other tests' silent legs may be reconciled too: count this one's
        return queued_tasks(app).count((jobs.RECONCILE_LEG, [leg.id]))

    sweeper.sweep()
    assert checks() == 1
    assert leg.agent_id is not None
    agent = agent_row(leg.agent_id)
    assert agent.state == AgentState.ON_CALL
    assert agent.lease_until is not None and agent.lease_until > context.now()
    sweeper.sweep()  # the next check waits for the interval
    assert checks() == 1


def test_an_agent_left_on_a_call_that_ended_is_freed(app: Flask) -> None:
    _, leg = agent_on_a_call(app)
    with context.transaction() as session:
        session.get_one(Leg, leg.id).ended_at = context.now()
    sweeper.sweep()
    assert leg.agent_id is not None
    assert agent_row(leg.agent_id).state == AgentState.AVAILABLE


def callback_row(callback_id: str) -> CallbackRequest:
    with context.transaction() as session:
        return session.get_one(CallbackRequest, callback_id)


def test_nobody_to_ring_becomes_a_scheduled_callback_once_then_fails(app: Flask) -> None:
    key = add_widget("Shop", region="EE", countries=["EE"], rule=f"empty-{secrets.token_hex(4)}")
    callback_id = request(app, key, unique_number())
    dispatch.dispatch(callback_id)
    first = callback_row(callback_id)
    assert (first.status, first.reason) == ("scheduled", None)
    assert first.due_at >= context.now() + RESCHEDULE_AFTER - timedelta(seconds=5)
    assert first.due_at.minute % 5 == 0 and first.due_at.second == 0
    with context.transaction() as session:  # the promised time comes
        session.get_one(CallbackRequest, callback_id).due_at = context.now()
    sweeper.sweep()
    dispatch.dispatch(callback_id)
    assert (callback_row(callback_id).status, callback_row(callback_id).reason) == (
        "failed",
        "no_agent_available",
    )


def test_a_callback_that_waited_too_long_is_scheduled_once(app: Flask) -> None:
    busy_agent = unique_number()
    key = shop("ordered", [busy_agent])
    talking = request(app, key, unique_number())
    dispatch.dispatch(talking)  # the only agent is now ringing for someone else
    waiting = request(app, key, unique_number())
    dispatch.dispatch(waiting)
    assert callback_row(waiting).status == "queued"
    max_wait = app.extensions["settings"].queue_max_wait_s

    def wait_longer() -> None:  # due (or queued) since longer than the maximum wait
        with context.transaction() as session:
            row = session.get_one(CallbackRequest, waiting)
            row.due_at = context.now() - timedelta(seconds=max_wait + 1)

    sweeper.sweep()
    assert callback_row(waiting).status == "queued"  # not waited long enough yet
    wait_longer()
    sweeper.sweep()
    assert callback_row(waiting).status == "scheduled"
    wait_longer()  # the promised time came long ago, and again nobody is free
    sweeper.sweep()
    assert callback_row(waiting).status == "queued"  # due now; it keeps its place in the queue


def status_eta(app: Flask, callback_id: str) -> int | None:
    with context.transaction() as session:
        callback = session.get_one(CallbackRequest, callback_id)
        return queue.eta_for(session, callback, context.now())


def test_the_queue_estimate_counts_who_is_ahead_and_how_long_calls_take(app: Flask) -> None:
    key = shop("ordered", [unique_number()])
    first = request(app, key, unique_number())
    dispatch.dispatch(first)  # the only agent is busy with the first
    second, third = request(app, key, unique_number()), request(app, key, unique_number())
    one_call = queue.DEFAULT_HANDLING_S + queue.WRAP_UP_AND_DIAL_S
    assert status_eta(app, second) == queue.PROMISE_SECONDS + one_call
    assert status_eta(app, third) == queue.PROMISE_SECONDS + 2 * one_call
    with context.transaction() as session:  # the rule's calls turn out to be short
        done = session.get_one(CallbackRequest, first)
        done.status, done.duration_s, done.ended_at = "completed", 60, context.now()
    assert status_eta(app, second) == queue.PROMISE_SECONDS + 60 + queue.WRAP_UP_AND_DIAL_S


def test_a_page_route_sends_product_pages_to_their_own_rule(
    app: Flask, carrier: FakeCarrier
) -> None:
    front_desk, product_expert = unique_number(), unique_number()
    key = shop("ordered", [front_desk])
    experts = f"experts-{secrets.token_hex(4)}"
    add_agent("Expert", product_expert, rule=experts)
    with context.transaction() as session:
        widget = session.scalars(select(Widget).where(Widget.public_key == key)).one()
        rule_id = ensure_rule(session, experts).id
        session.add(
            WidgetRoute(widget_id=widget.id, url_pattern="/product/*", rule_id=rule_id, position=1)
        )

    def rung_for(page_url: str) -> str:
        response = app.test_client().post(
            "/api/v1/callbacks",
            json={"widget": key, "phone": unique_number(), "page_url": page_url},
        )
        dispatch.dispatch(response.get_json()["id"])
        return str(carrier.placed[-1]["to"])

    assert rung_for("https://shop.example/product/blue-kettle?ref=ad") == product_expert
    assert rung_for("https://shop.example/about") == front_desk


# --- Lost and overtaken status callbacks of the customer leg ----------------------------------


class CheckedCarrier(FakeCarrier):
    """Also answers the watchdog's GET of a call: every call has ended after `duration_s`."""

    duration_s = 60

    def fetch_call(self, sid: str) -> CallInfo:
        return CallInfo(sid=sid, status="completed", duration_s=self.duration_s, parent_sid=None)


def customer_dialled(app: Flask) -> tuple[str, int, int]:
    """A callback whose agent pressed 1: (callback id, agent leg, customer leg being rung)."""
    callback_id = request(app, shop("ordered", [unique_number()]), unique_number())
    dispatch.dispatch(callback_id)
    with context.transaction() as session:
        agent_leg = session.scalars(select(Leg.id).where(Leg.callback_id == callback_id)).one()
    carrier_events.agent_answered(agent_leg)
    carrier_events.agent_pressed(agent_leg, "1")
    with context.transaction() as session:
        customer_leg = session.scalars(
            select(Leg.id).where(Leg.callback_id == callback_id, Leg.kind == "customer")
        ).one()
    assert callback_row(callback_id).status == "agent_connected"
    return callback_id, agent_leg, customer_leg


def customer_callback(legs: tuple[str, int, int], status: str, sequence: int, **extra: str) -> None:
    _, agent_leg, customer_leg = legs
    params = {"CallStatus": status, "SequenceNumber": str(sequence), **extra}
    carrier_events.customer_status(customer_leg, agent_leg, params)


def timeline(callback_id: str) -> list[str]:
    with context.transaction() as session:
        events = session.scalars(
            select(Event).where(Event.callback_id == callback_id).order_by(Event.id)
        )
        return [event.type for event in events]


def assert_talked_once(app: Flask, callback_id: str, duration_s: int) -> None:
    """Completed after one conversation: no retry due, nothing dispatched, agent let go."""
    row = callback_row(callback_id)
    assert (row.status, row.reason, row.duration_s) == ("completed", None, duration_s)
    events = timeline(callback_id)
    assert events[-2:] == ["customer_answered", "call_ended"], events
    assert "customer_no_answer" not in events
    assert queued_tasks(app).count((jobs.DISPATCH, [callback_id])) == 1  # intake's, no retry
    assert row.agent_id is not None
    assert agent_row(row.agent_id).state in (AgentState.WRAP_UP, AgentState.AVAILABLE)


def test_a_customer_completed_that_overtakes_its_answer_is_a_conversation(app: Flask) -> None:
    legs = customer_dialled(app)
    customer_callback(legs, "ringing", 1)
    # `completed` (sequence 3) arrives before `in-progress` (2): its duration proves the answer.
    customer_callback(legs, "completed", 3, CallDuration="42")
    customer_callback(legs, "in-progress", 2)  # the overtaken one, now stale
    _, agent_leg, _ = legs
    carrier_events.agent_status(agent_leg, {"CallStatus": "completed", "SequenceNumber": "4"})
    assert_talked_once(app, legs[0], 42)


def test_a_customer_completed_without_its_answer_is_a_conversation(app: Flask) -> None:
    legs = customer_dialled(app)
    customer_callback(legs, "ringing", 1)  # `in-progress` (2) was lost
    customer_callback(legs, "completed", 3, CallDuration="42")
    assert_talked_once(app, legs[0], 42)


def test_an_unanswered_customer_leg_is_still_a_retry(app: Flask) -> None:
    legs = customer_dialled(app)
    customer_callback(legs, "ringing", 1)
    customer_callback(legs, "no-answer", 2, CallDuration="0")
    row = callback_row(legs[0])
    assert (row.status, row.reason) == ("queued", None)
    assert row.due_at > context.now()  # the retry waits for the rule's delay
    assert timeline(legs[0])[-1] == "customer_no_answer"


def test_the_dial_action_settles_a_conversation_whose_callbacks_were_lost(app: Flask) -> None:
    legs = customer_dialled(app)
    callback_id, agent_leg, customer_leg = legs
    # Every status callback of the customer leg was lost; the Dial action still comes.
    dialled = {"DialCallStatus": "completed", "DialCallDuration": "37", "DialBridged": "true"}
    document = carrier_events.customer_dialed(customer_leg, dialled)
    assert "<Hangup" in document
    assert_talked_once(app, callback_id, 37)
    # The agent's hang-up and the customer's late callbacks change nothing any more.
    carrier_events.agent_status(agent_leg, {"CallStatus": "completed", "SequenceNumber": "4"})
    customer_callback(legs, "in-progress", 2)
    customer_callback(legs, "completed", 3, CallDuration="37")
    assert_talked_once(app, callback_id, 37)
    with context.transaction() as session:
        assert session.get_one(Leg, customer_leg).status == "completed"


def test_the_dial_action_after_the_customers_own_completed_changes_nothing(app: Flask) -> None:
    legs = customer_dialled(app)
    customer_callback(legs, "in-progress", 2)
    customer_callback(legs, "completed", 3, CallDuration="20")
    before = timeline(legs[0])
    dialled = {"DialCallStatus": "completed", "DialCallDuration": "20", "DialBridged": "true"}
    carrier_events.customer_dialed(legs[2], dialled)
    assert timeline(legs[0]) == before
    assert_talked_once(app, legs[0], 20)


def test_the_dial_action_tells_a_customer_who_never_answered(app: Flask) -> None:
    legs = customer_dialled(app)
    callback_id, agent_leg, customer_leg = legs
    carrier_events.customer_dialed(customer_leg, {"DialCallStatus": "busy"})
    row = callback_row(callback_id)
    assert row.status == "queued" and row.due_at > context.now()
    # The agent hears "the customer did not answer" from this very answer: not canceled.
    assert (jobs.CANCEL_LEG, [agent_leg]) not in queued_tasks(app)
    customer_callback(legs, "busy", 2)  # the leg's own late callback: no second retry
    assert timeline(callback_id).count("customer_busy") == 1


def test_a_call_whose_every_final_callback_was_lost_is_settled_within_the_check(
    app: Flask, carrier: FakeCarrier
) -> None:
    app.extensions["provider"] = CheckedCarrier()
    legs = customer_dialled(app)
    callback_id, agent_leg, _ = legs
    customer_callback(legs, "in-progress", 2)
    assert callback_row(callback_id).status == "connected"
    agent_id = callback_row(callback_id).agent_id
    assert agent_id is not None
    # Bounded: the carrier is asked about a live call within CALL_CHECK_S, not minutes later.
    check_at = agent_row(agent_id).lease_until
    assert check_at is not None
    assert check_at <= context.now() + timedelta(seconds=machine.CALL_CHECK_S)
    assert machine.CALL_CHECK_S <= 30
    with context.transaction() as session:  # the call ended; neither final callback came
        session.get_one(Agent, agent_id).lease_until = context.now() - timedelta(seconds=1)
    sweeper.sweep()
    assert (jobs.RECONCILE_LEG, [agent_leg]) in queued_tasks(app)
    sweeper.reconcile_leg(agent_leg)  # the task the sweep enqueued
    row = callback_row(callback_id)
    assert (row.status, row.duration_s) == ("completed", CheckedCarrier.duration_s)
    assert agent_row(agent_id).state in (AgentState.WRAP_UP, AgentState.AVAILABLE)


def agent_hangs_up(legs: tuple[str, int, int]) -> None:
    carrier_events.agent_status(legs[1], {"CallStatus": "completed", "SequenceNumber": "4"})


def test_an_agent_hang_up_before_the_customers_news_waits_for_it(app: Flask) -> None:
    legs = customer_dialled(app)
    customer_callback(legs, "ringing", 1)  # `in-progress` lost (or still on its way)
    agent_hangs_up(legs)  # the agent's `completed` comes first: bridged or not?
    assert callback_row(legs[0]).status == "agent_connected"
    customer_callback(legs, "completed", 3, CallDuration="25")
    assert_talked_once(app, legs[0], 25)


def test_an_agent_who_hangs_up_while_the_customer_rings_is_a_retry(app: Flask) -> None:
    legs = customer_dialled(app)
    customer_callback(legs, "ringing", 1)
    agent_hangs_up(legs)
    customer_callback(legs, "canceled", 2)  # the carrier ends the dial the agent left
    row = callback_row(legs[0])
    assert row.status == "queued" and row.due_at > context.now()
    assert timeline(legs[0])[-1] == "call_ended"  # read as agent_hung_up by the flow
    assert row.agent_id is not None
    assert agent_row(row.agent_id).state == AgentState.AVAILABLE  # not kept for the retry


def test_an_agent_hang_up_with_no_news_of_the_customer_is_settled_after_the_grace(
    app: Flask,
) -> None:
    legs = customer_dialled(app)
    agent_hangs_up(legs)  # and every callback of the customer leg, and the Dial action, lost
    sweeper.sweep()
    assert callback_row(legs[0]).status == "agent_connected"  # its news may still come
    with context.transaction() as session:
        leg = session.get_one(Leg, legs[1])
        assert leg.ended_at is not None
        leg.ended_at -= timedelta(seconds=sweeper.WATCHDOG_GRACE_S + 1)
    sweeper.sweep()
    row = callback_row(legs[0])
    assert row.status == "queued" and row.due_at > context.now()
    assert timeline(legs[0])[-1] == "call_ended"
