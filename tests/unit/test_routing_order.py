"""Candidate order and ring plans for the five strategies: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callback.models import RoutingRule, Strategy
from callback.routing import CandidateView, RingPlan, order_candidates, ring_plan

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def candidates(*specs: tuple[int, int, datetime | None]) -> list[CandidateView]:
    return [CandidateView(agent_id, position, ended) for agent_id, position, ended in specs]


def ids(ordered: list[CandidateView]) -> list[int]:
    return [c.agent_id for c in ordered]


# Agent ids deliberately differ from positions and arrive out of order.
MEMBERS = candidates((30, 3, None), (10, 1, None), (40, 4, None), (20, 2, None))


@pytest.mark.parametrize("strategy", ["ordered", "simultaneous", "hedged"])
def test_position_strategies_ring_by_position(strategy: str) -> None:
    assert ids(order_candidates(strategy, MEMBERS, cursor=0)) == [10, 20, 30, 40]
    # The cursor only matters to round_robin.
    assert ids(order_candidates(strategy, MEMBERS, cursor=3)) == [10, 20, 30, 40]


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        (0, [10, 20, 30, 40]),  # nobody rung yet
        (1, [20, 30, 40, 10]),
        (2, [30, 40, 10, 20]),
        (4, [10, 20, 30, 40]),  # the last member was rung last: wrap around
        (9, [10, 20, 30, 40]),  # the cursor's member left the rule
    ],
)
def test_round_robin_starts_after_the_cursor(cursor: int, expected: list[int]) -> None:
    assert ids(order_candidates(Strategy.ROUND_ROBIN, MEMBERS, cursor)) == expected


def test_round_robin_skips_to_the_next_present_position() -> None:
    """Positions need not be contiguous, and the member at the cursor may be unavailable."""
    sparse = candidates((1, 5, None), (2, 10, None), (3, 20, None))
    assert ids(order_candidates("round_robin", sparse, cursor=7)) == [2, 3, 1]
    assert ids(order_candidates("round_robin", sparse, cursor=10)) == [3, 1, 2]


def test_longest_idle_rings_never_called_first_then_the_oldest_call() -> None:
    members = candidates(
        (1, 1, T0 - timedelta(minutes=5)),
        (2, 2, None),
        (3, 3, T0 - timedelta(hours=1)),
        (4, 4, T0 - timedelta(minutes=5)),  # same as agent 1: position decides
        (5, 5, None),
        (6, 0, T0 - timedelta(minutes=5)),
    )
    assert ids(order_candidates("longest_idle", members, cursor=0)) == [2, 5, 3, 6, 1, 4]


def test_never_called_agents_keep_position_order() -> None:
    members = candidates((7, 3, None), (8, 1, None), (9, 2, None))
    assert ids(order_candidates("longest_idle", members, cursor=0)) == [8, 9, 7]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_strategy_handles_no_members_and_does_not_mutate(strategy: Strategy) -> None:
    assert order_candidates(strategy, [], cursor=0) == []
    members = list(MEMBERS)
    result = order_candidates(strategy, members, cursor=2)
    assert members == MEMBERS and sorted(ids(result)) == [10, 20, 30, 40]


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="random"):
        order_candidates("random", MEMBERS, cursor=0)


def rule(strategy: str, **overrides: int) -> RoutingRule:
    settings = {"ring_timeout": 15, "hedge_after": 6, "simultaneous_count": 3} | overrides
    return RoutingRule(strategy=strategy, **settings)


@pytest.mark.parametrize("strategy", ["ordered", "round_robin", "longest_idle"])
def test_sequential_strategies_ring_one_at_a_time(strategy: str) -> None:
    assert ring_plan(rule(strategy)) == RingPlan(initial=1, hedge_after_s=None, ring_timeout_s=15)


def test_simultaneous_rings_the_configured_count_at_once() -> None:
    assert ring_plan(rule("simultaneous")) == RingPlan(3, None, 15)
    assert ring_plan(rule("simultaneous", simultaneous_count=0)).initial == 1


def test_hedged_rings_one_and_adds_one_after_the_hedge_delay() -> None:
    plan = ring_plan(rule("hedged", hedge_after=6, ring_timeout=20))
    assert plan == RingPlan(initial=1, hedge_after_s=6.0, ring_timeout_s=20)
    assert isinstance(plan.hedge_after_s, float)


def test_ring_plan_refuses_an_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="random"):
        ring_plan(rule("random"))


def test_views_and_plans_are_immutable() -> None:
    with pytest.raises(AttributeError):
        MEMBERS[0].position = 9  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ring_plan(rule("ordered")).initial = 2  # type: ignore[misc]
