"""The callback state machine (callback/flow.py): pure transitions, no I/O.

Scenarios are written as event sequences the way the carrier and our tasks would produce them,
including the awkward ones: two agents pressing 1 at once, status callbacks delivered twice or
out of order, timers firing after the flow moved on. The last section sweeps every status against
every event so that no combination can raise.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import pytest

from callback.flow import (
    AGENT_LEG_ENDINGS,
    ALREADY_TAKEN,
    NO_LONGER_NEEDED,
    PUBLIC_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    Action,
    CallbackState,
    CancelOtherLegs,
    Complete,
    DialCustomer,
    EnqueueDispatch,
    Event,
    EventType,
    Fail,
    HangUpLeg,
    MarkAgentOnCall,
    MarkAgentWrapUp,
    Outcome,
    OutcomeKind,
    PromptAgent,
    Reason,
    ReleaseAgent,
    Reschedule,
    RingNextAgents,
    ScheduleRetry,
    Status,
    WatchLeg,
    transition,
)

E = EventType
K = OutcomeKind
S = Status
Factory = Callable[[], CallbackState]


def ev(
    type_: EventType,
    leg: str | None = None,
    agent: str | None = None,
    status: str | None = None,
    seq: int | None = None,
    **data: object,
) -> Event:
    return Event(type_, leg, agent, status, seq, data)


def run(state: CallbackState, *events: Event) -> tuple[CallbackState, list[Outcome]]:
    """Apply events in order, as the shell would: the next event sees the previous outcome."""
    outcomes = []
    for event in events:
        outcome = transition(state, event)
        outcomes.append(outcome)
        state = outcome.state
    return state, outcomes


def ringing(*legs: str) -> CallbackState:
    """A callback whose agent legs `legs` are ringing (one `dispatched` each)."""
    state, _ = run(
        CallbackState(),
        ev(E.REQUESTED),
        *(ev(E.DISPATCHED, leg, f"ag-{leg}") for leg in legs),
    )
    assert state.status is S.CALLING_AGENT
    return state


def dialling_customer(leg: str = "A1") -> CallbackState:
    """Agent leg `leg` accepted; the customer is being dialled."""
    state, _ = run(ringing(leg), ev(E.AGENT_ACCEPTED, leg, f"ag-{leg}"))
    assert state.status is S.AGENT_CONNECTED
    return state


def test_public_statuses_are_the_contract_ones_in_flow_order() -> None:
    assert PUBLIC_STATUSES == (
        "scheduled",
        "queued",
        "calling_agent",
        "agent_connected",
        "connected",
        "completed",
        "failed",
        "canceled",
    )
    assert {S.COMPLETED, S.FAILED, S.CANCELED} == TERMINAL_STATUSES


# --- The happy path ------------------------------------------------------------------------------


def test_happy_path_from_click_to_completed_call() -> None:
    state, outcomes = run(
        CallbackState(),
        ev(E.REQUESTED),
        ev(E.DISPATCHED, "A1", "ag1"),
        ev(E.AGENT_RINGING, "A1", "ag1", "ringing", 1),
        ev(E.AGENT_ANSWERED, "A1", "ag1"),
        ev(E.AGENT_ACCEPTED, "A1", "ag1"),
        ev(E.CUSTOMER_RINGING, "A1", status="ringing", seq=1),
        ev(E.CUSTOMER_ANSWERED, "A1", status="in-progress", seq=2),
        ev(E.CALL_ENDED, "A1", "ag1", "completed", 3, duration_s="42"),
    )

    assert [o.kind for o in outcomes] == [K.APPLIED] * 8
    assert [o.state.status for o in outcomes] == [
        S.QUEUED,
        S.CALLING_AGENT,
        S.CALLING_AGENT,
        S.CALLING_AGENT,
        S.AGENT_CONNECTED,
        S.AGENT_CONNECTED,
        S.CONNECTED,
        S.COMPLETED,
    ]
    assert [o.actions for o in outcomes] == [
        (EnqueueDispatch(),),
        (WatchLeg("A1"),),
        (),
        (PromptAgent("A1"),),
        # A single leg: nothing else to cancel.
        (MarkAgentOnCall("ag1", "A1"), DialCustomer("A1", attempt=1)),
        (),
        (),
        (MarkAgentWrapUp("ag1", "A1"), Complete(duration_s=42)),
    ]
    assert state.accepted_leg == "A1"
    assert state.active_legs == frozenset()
    assert state.customer_attempts == 1
    assert state.reason is None


def test_scheduled_callback_is_dispatched_when_due() -> None:
    _, outcomes = run(CallbackState(status=S.SCHEDULED), ev(E.REQUESTED), ev(E.DUE))

    assert [o.state.status for o in outcomes] == [S.SCHEDULED, S.QUEUED]
    assert outcomes[0].actions == ()  # the beat finds it by due_at; nothing to enqueue yet
    assert outcomes[1].actions == (EnqueueDispatch(),)


def test_completion_without_a_usable_duration_still_completes() -> None:
    state, _ = run(dialling_customer(), ev(E.CUSTOMER_ANSWERED, "A1"))
    outcome = transition(state, ev(E.CALL_ENDED, "A1", duration_s="n/a"))

    assert outcome.state.status is S.COMPLETED
    assert Complete(duration_s=None) in outcome.actions


# --- Several agent legs: first keypress wins -----------------------------------------------------


def test_first_accept_wins_and_the_other_legs_are_canceled() -> None:
    state = ringing("A1", "A2", "A3")

    outcome = transition(state, ev(E.AGENT_ACCEPTED, "A2", "ag-A2"))

    assert outcome.kind is K.APPLIED
    assert outcome.state.status is S.AGENT_CONNECTED
    assert outcome.state.accepted_leg == "A2"
    assert outcome.state.active_legs == frozenset()
    assert outcome.actions == (
        MarkAgentOnCall("ag-A2", "A2"),
        CancelOtherLegs("A2", ("A1", "A3")),
        DialCustomer("A2", attempt=1),
    )


def test_second_accept_is_ignored_late_and_that_agent_is_hung_up() -> None:
    state, _ = run(ringing("A1", "A2"), ev(E.AGENT_ACCEPTED, "A1", "ag-A1"))

    outcome = transition(state, ev(E.AGENT_ACCEPTED, "A2", "ag-A2"))

    assert outcome.kind is K.IGNORED_LATE
    assert outcome.state is state
    assert outcome.actions == (HangUpLeg("A2", ALREADY_TAKEN),)


def test_loser_answering_after_the_accept_is_hung_up_too() -> None:
    state, _ = run(ringing("A1", "A2"), ev(E.AGENT_ACCEPTED, "A1"))

    outcome = transition(state, ev(E.AGENT_ANSWERED, "A2"))

    assert outcome.kind is K.IGNORED_LATE
    assert outcome.actions == (HangUpLeg("A2", ALREADY_TAKEN),)


def test_canceled_losers_report_back_without_effect() -> None:
    state, _ = run(ringing("A1", "A2"), ev(E.AGENT_ACCEPTED, "A1"))

    for late in (
        ev(E.AGENT_LEG_CANCELED, "A2", status="canceled"),
        ev(E.AGENT_RINGING, "A2", status="ringing"),
        ev(E.AGENT_NO_ANSWER, "A2", status="no-answer"),
    ):
        outcome = transition(state, late)
        assert (outcome.kind, outcome.actions) == (K.IGNORED_LATE, ()), late
        assert outcome.state is state


def test_the_winner_is_never_hung_up_by_a_late_event_about_itself() -> None:
    state, _ = run(ringing("A1", "A2"), ev(E.AGENT_ACCEPTED, "A1"))

    # The same keypress via another path (different key), and a stale `ringing`.
    for late in (ev(E.AGENT_ACCEPTED, "A1", seq=7), ev(E.AGENT_RINGING, "A1", status="ringing")):
        outcome = transition(state, late)
        assert (outcome.kind, outcome.actions) == (K.IGNORED_LATE, ()), late


def test_leg_dispatched_after_the_accept_is_ended_and_its_agent_released() -> None:
    # A hedge fired just as the first agent pressed 1.
    state, _ = run(ringing("A1"), ev(E.AGENT_ACCEPTED, "A1"))

    outcome = transition(state, ev(E.DISPATCHED, "A2", "ag2"))

    assert outcome.kind is K.IGNORED_LATE
    assert outcome.actions == (HangUpLeg("A2", ALREADY_TAKEN), ReleaseAgent("ag2", "A2"))


# --- Agents who do not take the call -------------------------------------------------------------


@pytest.mark.parametrize("ending", sorted(AGENT_LEG_ENDINGS - {E.AGENT_DECLINED, E.LEASE_EXPIRED}))
def test_agent_leg_ending_while_another_rings_waits_for_that_one(ending: EventType) -> None:
    outcome = transition(ringing("A1", "A2"), ev(ending, "A1", "ag-A1"))

    assert outcome.kind is K.APPLIED
    assert outcome.state.status is S.CALLING_AGENT
    assert outcome.state.active_legs == {"A2"}
    assert outcome.actions == (ReleaseAgent("ag-A1", "A1"),)  # no RingNextAgents yet


@pytest.mark.parametrize("ending", sorted(AGENT_LEG_ENDINGS - {E.AGENT_DECLINED, E.LEASE_EXPIRED}))
def test_last_agent_leg_ending_rings_the_next_agent_at_once(ending: EventType) -> None:
    state, _ = run(ringing("A1", "A2"), ev(E.AGENT_NO_ANSWER, "A1"))

    outcome = transition(state, ev(ending, "A2", "ag-A2"))

    assert outcome.kind is K.APPLIED
    assert outcome.state.status is S.CALLING_AGENT
    assert outcome.state.active_legs == frozenset()
    assert outcome.actions == (ReleaseAgent("ag-A2", "A2"), RingNextAgents())


def test_declining_agent_is_hung_up_then_the_next_agent_rung() -> None:
    outcome = transition(ringing("A1"), ev(E.AGENT_DECLINED, "A1", "ag1", digits="2"))

    assert outcome.state.status is S.CALLING_AGENT
    assert outcome.actions == (
        HangUpLeg("A1", "agent_declined"),
        ReleaseAgent("ag1", "A1"),
        RingNextAgents(),
    )


def test_expired_lease_ends_the_silent_leg_and_moves_on() -> None:
    outcome = transition(ringing("A1"), ev(E.LEASE_EXPIRED, "A1", "ag1"))

    assert outcome.state.active_legs == frozenset()
    assert outcome.actions == (
        HangUpLeg("A1", "lease_expired"),
        ReleaseAgent("ag1", "A1"),
        RingNextAgents(),
    )


def test_next_agent_is_rung_after_the_first_gave_up() -> None:
    state, outcomes = run(
        ringing("A1"),
        ev(E.AGENT_NO_ANSWER, "A1", status="no-answer"),
        ev(E.DISPATCHED, "A2", "ag2"),
        ev(E.AGENT_ACCEPTED, "A2", "ag2"),
    )

    assert [o.kind for o in outcomes] == [K.APPLIED] * 3
    assert state.status is S.AGENT_CONNECTED
    assert state.accepted_leg == "A2"


def test_no_agent_left_fails_the_callback() -> None:
    state, _ = run(ringing("A1"), ev(E.AGENT_NO_ANSWER, "A1"))

    outcome = transition(state, ev(E.NO_AGENT_AVAILABLE))

    assert outcome.state.status is S.FAILED
    assert outcome.state.reason is Reason.NO_AGENT_AVAILABLE
    assert outcome.actions == (Fail(Reason.NO_AGENT_AVAILABLE),)


def test_no_agent_at_all_fails_straight_from_queued() -> None:
    state, _ = run(CallbackState(), ev(E.REQUESTED))

    outcome = transition(state, ev(E.NO_AGENT_AVAILABLE))

    assert (outcome.state.status, outcome.state.reason) == (S.FAILED, Reason.NO_AGENT_AVAILABLE)


def test_no_agent_with_a_reschedule_left_becomes_a_scheduled_callback() -> None:
    state, _ = run(ringing("A1"), ev(E.AGENT_NO_ANSWER, "A1"))
    state = dataclasses.replace(state, reschedules_left=1)

    outcome = transition(state, ev(E.NO_AGENT_AVAILABLE))

    assert outcome.state.status is S.SCHEDULED
    assert outcome.state.reason is None
    assert outcome.state.reschedules_left == 0
    assert outcome.actions == (Reschedule(),)


def test_a_long_wait_in_the_queue_becomes_a_scheduled_callback_once() -> None:
    queued = CallbackState(reschedules_left=1)

    first = transition(queued, ev(E.QUEUE_TIMEOUT))
    again = transition(dataclasses.replace(queued, reschedules_left=0), ev(E.QUEUE_TIMEOUT))

    assert (first.state.status, first.actions) == (S.SCHEDULED, (Reschedule(),))
    assert again.kind is K.IGNORED_LATE
    assert again.state.status is S.QUEUED


def test_hedge_finding_nobody_keeps_the_ringing_leg() -> None:
    state, _ = run(ringing("A1"), ev(E.HEDGE_DUE))

    outcome = transition(state, ev(E.NO_AGENT_AVAILABLE))

    assert outcome.kind is K.APPLIED
    assert outcome.state.status is S.CALLING_AGENT
    assert outcome.state.active_legs == {"A1"}
    assert outcome.actions == ()


def test_hedge_rings_one_more_agent_only_while_nobody_accepted() -> None:
    assert transition(ringing("A1"), ev(E.HEDGE_DUE)).actions == (RingNextAgents(),)

    late = transition(dialling_customer(), ev(E.HEDGE_DUE))
    assert (late.kind, late.actions) == (K.IGNORED_LATE, ())


# --- The customer --------------------------------------------------------------------------------


def test_customer_no_answer_is_retried_once_then_fails() -> None:
    state = dialling_customer("A1")

    first = transition(state, ev(E.CUSTOMER_NO_ANSWER, "A1", "ag1", "no-answer"))
    assert first.kind is K.APPLIED
    assert first.state.status is S.QUEUED
    assert first.state.accepted_leg is None  # the next attempt starts from scratch
    assert first.actions == (
        HangUpLeg("A1", "customer_no_answer"),
        ReleaseAgent("ag1", "A1"),
        ScheduleRetry(delay_s=60),
    )

    state, outcomes = run(
        first.state,
        ev(E.RETRY_DUE, seq=1),
        ev(E.DISPATCHED, "B1", "ag2"),
        ev(E.AGENT_ACCEPTED, "B1", "ag2"),
    )
    assert outcomes[0].actions == (EnqueueDispatch(),)
    assert outcomes[2].actions[-1] == DialCustomer("B1", attempt=2)

    last = transition(state, ev(E.CUSTOMER_NO_ANSWER, "B1", "ag2", "no-answer"))
    assert last.state.status is S.FAILED
    assert last.state.reason is Reason.CUSTOMER_NO_ANSWER
    assert last.actions == (
        HangUpLeg("B1", "customer_no_answer"),
        ReleaseAgent("ag2", "B1"),
        Fail(Reason.CUSTOMER_NO_ANSWER),
    )


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (E.CUSTOMER_BUSY, Reason.CUSTOMER_BUSY),
        (E.CUSTOMER_FAILED, Reason.CUSTOMER_FAILED),
        (E.CUSTOMER_NO_ANSWER, Reason.CUSTOMER_NO_ANSWER),
    ],
)
def test_unreached_customer_fails_with_the_last_attempts_cause(
    event: EventType, reason: Reason
) -> None:
    state = dataclasses.replace(dialling_customer(), max_customer_attempts=1)

    outcome = transition(state, ev(event, "A1"))

    assert (outcome.state.status, outcome.state.reason) == (S.FAILED, reason)
    assert outcome.actions[-1] == Fail(reason)


def test_retry_delay_comes_from_the_state() -> None:
    state = dataclasses.replace(dialling_customer(), retry_delay_s=5)

    outcome = transition(state, ev(E.CUSTOMER_BUSY, "A1"))

    assert ScheduleRetry(delay_s=5) in outcome.actions


def test_agent_hanging_up_before_the_customer_answers_counts_as_an_attempt() -> None:
    outcome = transition(dialling_customer(), ev(E.CALL_ENDED, "A1", "ag-A1", "completed"))

    assert outcome.state.status is S.QUEUED
    # The agent's leg is already gone: release them, do not try to hang it up.
    assert outcome.actions == (ReleaseAgent("ag-A1", "A1"), ScheduleRetry(delay_s=60))


def test_events_from_an_earlier_attempt_are_late() -> None:
    state, _ = run(
        dialling_customer("A1"),
        ev(E.CUSTOMER_NO_ANSWER, "A1", status="no-answer"),
        ev(E.RETRY_DUE),
        ev(E.DISPATCHED, "B1"),
        ev(E.AGENT_ACCEPTED, "B1"),
    )

    # The same no-answer again, now from the <Dial> action callback (another key).
    outcome = transition(state, ev(E.CUSTOMER_NO_ANSWER, "A1", status="no-answer", seq=9))

    assert outcome.kind is K.IGNORED_LATE
    assert outcome.state is state


def test_second_answered_report_after_the_bridge_is_late() -> None:
    state, _ = run(dialling_customer(), ev(E.CUSTOMER_ANSWERED, "A1", status="answered"))

    outcome = transition(state, ev(E.CUSTOMER_ANSWERED, "A1", status="in-progress"))

    assert (outcome.kind, outcome.state) == (K.IGNORED_LATE, state)


# --- Duplicates, out of order, after the end ----------------------------------------------------


@pytest.mark.parametrize(
    ("state_factory", "event"),
    [
        (CallbackState, ev(E.REQUESTED)),
        (lambda: run(CallbackState(), ev(E.REQUESTED))[0], ev(E.DISPATCHED, "A9", "ag9")),
        (lambda: ringing("A1", "A2"), ev(E.AGENT_NO_ANSWER, "A1", "ag", "no-answer", 3)),
        (lambda: ringing("A1"), ev(E.AGENT_ACCEPTED, "A1")),
        (dialling_customer, ev(E.CUSTOMER_ANSWERED, "A1", status="in-progress", seq=2)),
    ],
)
def test_repeated_delivery_is_a_duplicate_and_changes_nothing(
    state_factory: Factory, event: Event
) -> None:
    first = transition(state_factory(), event)
    assert first.kind is K.APPLIED
    assert event.dedupe_key in first.state.seen_keys

    again = transition(first.state, dataclasses.replace(event))

    assert again.kind is K.DUPLICATE
    assert again.state is first.state
    assert again.actions == ()


def test_same_carrier_status_with_a_new_sequence_number_is_not_a_duplicate() -> None:
    _, outcomes = run(
        ringing("A1"),
        ev(E.AGENT_RINGING, "A1", status="ringing", seq=1),
        ev(E.AGENT_RINGING, "A1", status="ringing", seq=2),
    )

    assert [o.kind for o in outcomes] == [K.APPLIED, K.APPLIED]


def test_dedupe_keys() -> None:
    assert ev(E.AGENT_NO_ANSWER, "CA1", status="no-answer", seq=4).dedupe_key == (
        "CA1:agent_no_answer:no-answer:4"
    )
    assert ev(E.AGENT_ACCEPTED, "CA1").dedupe_key == "CA1:agent_accepted::"
    # Agent and customer events share the agent leg's id; the type keeps them apart.
    assert (
        ev(E.AGENT_RINGING, "CA1", status="ringing", seq=0).dedupe_key
        != ev(E.CUSTOMER_RINGING, "CA1", status="ringing", seq=0).dedupe_key
    )
    assert ev(E.REQUESTED).dedupe_key == "requested"
    assert ev(E.RETRY_DUE, seq=1).dedupe_key == "retry_due:1"
    assert ev(E.WATCHDOG).dedupe_key is None  # only the state can tell


def test_customer_answer_before_any_accept_is_illegal() -> None:
    state = ringing("A1")

    outcome = transition(state, ev(E.CUSTOMER_ANSWERED, "A1", status="in-progress"))

    assert outcome.kind is K.ILLEGAL
    assert outcome.state is state
    assert outcome.actions == ()
    assert "A1" in outcome.note


@pytest.mark.parametrize(
    ("state_factory", "event"),
    [
        (lambda: CallbackState(status=S.SCHEDULED), ev(E.DISPATCHED, "A1")),  # not due yet
        (lambda: CallbackState(status=S.SCHEDULED), ev(E.NO_AGENT_AVAILABLE)),
        (lambda: CallbackState(status=S.CONNECTED, accepted_leg="A1"), ev(E.REQUESTED)),
        (lambda: ringing("A1"), ev(E.AGENT_RINGING)),  # no leg id
        (dialling_customer, ev(E.CALL_ENDED)),  # no leg id
    ],
)
def test_events_that_make_no_sense_are_illegal(state_factory: Factory, event: Event) -> None:
    state = state_factory()

    outcome = transition(state, event)

    assert outcome.kind is K.ILLEGAL, outcome.note
    assert outcome.state is state
    assert outcome.actions == ()


def test_customer_failure_after_the_bridge_is_illegal() -> None:
    state, _ = run(dialling_customer(), ev(E.CUSTOMER_ANSWERED, "A1"))

    assert transition(state, ev(E.CUSTOMER_FAILED, "A1")).kind is K.ILLEGAL


def terminal_states() -> list[CallbackState]:
    completed, _ = run(dialling_customer(), ev(E.CUSTOMER_ANSWERED, "A1"), ev(E.CALL_ENDED, "A1"))
    failed, _ = run(ringing("A1"), ev(E.AGENT_BUSY, "A1"), ev(E.NO_AGENT_AVAILABLE))
    canceled, _ = run(ringing("A1", "A2"), ev(E.CANCELED))
    return [completed, failed, canceled]


@pytest.mark.parametrize("event_type", list(EventType))
def test_everything_after_a_terminal_status_is_late(event_type: EventType) -> None:
    for state in terminal_states():
        assert state.status in TERMINAL_STATUSES

        outcome = transition(state, ev(event_type, "A1", status="completed", seq=99))

        # `requested` was applied once at intake, so its fixed key makes it a duplicate.
        expected = K.DUPLICATE if event_type is E.REQUESTED else K.IGNORED_LATE
        assert outcome.kind is expected, (state.status, event_type)
        assert outcome.state is state


def test_agent_picking_up_after_cancel_hears_it_is_no_longer_needed() -> None:
    state, _ = run(ringing("A1", "A2"), ev(E.CANCELED))

    assert transition(state, ev(E.AGENT_ANSWERED, "A2")).actions == (
        HangUpLeg("A2", NO_LONGER_NEEDED),
    )
    assert transition(state, ev(E.DISPATCHED, "A3", "ag3")).actions == (
        HangUpLeg("A3", NO_LONGER_NEEDED),
        ReleaseAgent("ag3", "A3"),
    )


# --- Cancel and watchdogs ------------------------------------------------------------------------


def test_cancel_while_ringing_cancels_every_ringing_leg() -> None:
    outcome = transition(ringing("A1", "A2"), ev(E.CANCELED, reason="visitor"))

    assert outcome.state.status is S.CANCELED
    assert outcome.state.active_legs == frozenset()
    assert outcome.actions == (CancelOtherLegs(None, ("A1", "A2")),)


@pytest.mark.parametrize(
    ("state_factory", "actions"),
    [
        (lambda: CallbackState(status=S.SCHEDULED), ()),
        (CallbackState, ()),
        (
            dialling_customer,
            (HangUpLeg("A1", "canceled"), ReleaseAgent(None, "A1")),
        ),
        (
            lambda: run(dialling_customer(), ev(E.CUSTOMER_ANSWERED, "A1"))[0],
            (HangUpLeg("A1", "canceled"), MarkAgentWrapUp(None, "A1")),
        ),
    ],
)
def test_cancel_from_every_live_status(state_factory: Factory, actions: tuple[Action, ...]) -> None:
    outcome = transition(state_factory(), ev(E.CANCELED))

    assert outcome.kind is K.APPLIED
    assert outcome.state.status is S.CANCELED
    assert outcome.actions == actions


def test_watchdog_restarts_lost_work_and_leaves_live_work_alone() -> None:
    queued, _ = run(CallbackState(), ev(E.REQUESTED))
    assert transition(queued, ev(E.WATCHDOG)).actions == (EnqueueDispatch(),)

    nothing_rings, _ = run(ringing("A1"), ev(E.AGENT_FAILED, "A1"))
    assert transition(nothing_rings, ev(E.WATCHDOG)).actions == (RingNextAgents(),)

    busy = transition(ringing("A1"), ev(E.WATCHDOG))
    assert (busy.kind, busy.actions) == (K.IGNORED_LATE, ())


@pytest.mark.parametrize("timer", [E.DUE, E.RETRY_DUE, E.HEDGE_DUE, E.WATCHDOG])
def test_timers_firing_after_the_flow_moved_on_are_late_not_illegal(timer: EventType) -> None:
    connected, _ = run(dialling_customer(), ev(E.CUSTOMER_ANSWERED, "A1"))

    assert transition(connected, ev(timer)).kind is K.IGNORED_LATE


# --- The table as a whole ------------------------------------------------------------------------


def sample_states() -> list[CallbackState]:
    connected, _ = run(dialling_customer(), ev(E.CUSTOMER_ANSWERED, "A1"))
    nothing_rings, _ = run(ringing("A1"), ev(E.AGENT_NO_ANSWER, "A1"))
    return [
        CallbackState(status=S.SCHEDULED),
        CallbackState(),
        CallbackState(reschedules_left=1),
        ringing("A1", "A2"),
        nothing_rings,
        dialling_customer("A1"),
        dataclasses.replace(dialling_customer("A1"), max_customer_attempts=1),
        connected,
        *terminal_states(),
    ]


def sample_events() -> list[Event]:
    legs = [None, "A1", "A2", "ZZ"]
    return [
        ev(event_type, leg, "ag", "x", 1, duration_s=3)
        for event_type, leg in itertools.product(EventType, legs)
    ]


def test_every_status_and_event_gives_an_outcome_without_raising() -> None:
    produced: set[type[Action]] = set()
    statuses = set()
    for state, event in itertools.product(sample_states(), sample_events()):
        statuses.add(state.status)

        outcome = transition(state, event)

        where = (state.status, event)
        assert isinstance(outcome, Outcome), where
        assert outcome.kind in OutcomeKind, where
        assert all(isinstance(action, Action) for action in outcome.actions), where
        produced.update(type(action) for action in outcome.actions)
        if outcome.kind is not K.APPLIED:
            assert outcome.state is state, where
            continue
        new = outcome.state
        # Invariants any applied transition keeps.
        assert (state.status, event.type) in TRANSITIONS, where
        assert not new.active_legs or new.status is S.CALLING_AGENT, where
        assert (new.reason is not None) == (new.status is S.FAILED), where
        assert new.customer_attempts <= new.max_customer_attempts, where
        assert event.dedupe_key is None or event.dedupe_key in new.seen_keys, where

    assert statuses == set(Status)
    named = {action for rules in TRANSITIONS.values() for r in rules for action in r.actions}
    assert named <= produced, f"never built: {named - produced}"


def test_table_covers_every_event_and_only_live_statuses() -> None:
    assert {event for _, event in TRANSITIONS} == set(EventType)
    assert not {status for status, _ in TRANSITIONS} & TERMINAL_STATUSES
    for key, rules in TRANSITIONS.items():
        # The last rule has no guard, so a lookup always finds a rule.
        assert rules and rules[-1].guard is None, key
        for rule in rules:
            assert (rule.target == S.FAILED) == (rule.reason is not None), key


def test_events_are_hashable_values() -> None:
    a = ev(E.CALL_ENDED, "A1", duration_s=4)
    b = ev(E.CALL_ENDED, "A1", duration_s=4)

    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.leg_id = "A2"  # type: ignore[misc]
