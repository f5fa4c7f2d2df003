"""pick_agents reads the head of the strategy order first: it must pick what the full order picks.

With more members than the first read takes (count + FIRST_BATCH_SLACK), the SQL ORDER BY has
to be order_candidates' own order, and members off shift or already ringing at the head must
send it on to the rest. On both backends (the fixtures of test_routing_db).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from integration.test_routing_db import database_url, engine, factory, make_rule  # noqa: F401
from sqlalchemy.orm import Session, sessionmaker

from callback.db import session_scope
from callback.models import AgentState, RoutingRule
from callback.routing.reservation import (
    FIRST_BATCH_SLACK,
    available_candidates,
    free_members,
    pick_agents,
)
from callback.routing.strategies import order_candidates

MEMBERS = 3 * FIRST_BATCH_SLACK


def off_shift(now: datetime) -> dict[str, list[list[str]]]:
    """Hours that do not include `now` (UTC): one minute, tomorrow."""
    tomorrow = (now + timedelta(days=1)).strftime("%a").lower()
    return {tomorrow: [["03:00", "03:01"]]}


def members(seed: int, strategy: str) -> list[dict[str, object]]:
    """Members whose strategy order differs from their positions; the first ones made are
    ringing or off shift, and (positions reversed for `ordered`) not all at the head."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for n in range(MEMBERS):
        fields: dict[str, object] = {"position": MEMBERS - n if strategy == "ordered" else n + 1}
        if n % 7 or strategy != "longest_idle":  # a few never called, who come first
            fields["last_call_ended_at"] = now - timedelta(minutes=rng.randint(1, 6000))
        if n < FIRST_BATCH_SLACK + 4:
            if n % 2:
                fields["state"] = AgentState.RINGING
            else:
                fields["hours"] = off_shift(now)
        rows.append(fields)
    return rows


@pytest.mark.parametrize("strategy", ["ordered", "round_robin", "longest_idle", "hedged"])
def test_pick_agents_picks_the_head_of_the_full_order(
    factory: sessionmaker[Session],  # noqa: F811
    strategy: str,
) -> None:
    for seed in range(3):
        rule_id, _ = make_rule(factory, strategy, *members(seed, strategy))
        now = datetime.now(UTC)
        with session_scope(factory) as session:
            rule = session.get_one(RoutingRule, rule_id)
            rule.round_robin_cursor = MEMBERS - 5  # past the head of the position order
            session.flush()
            everyone = available_candidates(session, rule_id, now)
            expected = order_candidates(strategy, everyone, rule.round_robin_cursor)[:3]
            picked = pick_agents(session, rule, now, (), 3, lease_seconds=30)
            assert [r.agent_id for r in picked] == [c.agent_id for c in expected], seed
            session.rollback()


def test_pick_agents_reads_on_when_the_whole_first_read_is_off_shift(
    factory: sessionmaker[Session],  # noqa: F811
) -> None:
    """The first read returns only agents off shift: the second read finds the free one."""
    now = datetime.now(UTC)
    away = [{"hours": off_shift(now)}] * (1 + FIRST_BATCH_SLACK)
    rule_id, ids = make_rule(factory, "ordered", *away, {}, {})
    with session_scope(factory) as session:
        rule = session.get_one(RoutingRule, rule_id)
        picked = pick_agents(session, rule, now, (), 1, lease_seconds=30)
    assert [r.agent_id for r in picked] == [ids[1 + FIRST_BATCH_SLACK]]


def test_free_members_counts_past_a_first_page_off_shift_and_stops_at_enough(
    factory: sessionmaker[Session],  # noqa: F811
) -> None:
    """The "is anyone free?" count reads pages until it has its answer: a first page of members off
    shift or ringing does not hide the free ones after it, and counting stops at `enough`."""
    now = datetime.now(UTC)
    away = [{"hours": off_shift(now)}, {"state": AgentState.RINGING}] * (FIRST_BATCH_SLACK + 2)
    free = [{}] * 5
    rule_id, _ = make_rule(factory, "ordered", *away, *free)
    with session_scope(factory) as session:
        assert free_members(session, rule_id, now, enough=1) == 1
        assert free_members(session, rule_id, now, enough=3) == 3
        assert free_members(session, rule_id, now, enough=50) == len(free)
        assert free_members(session, rule_id, now, enough=50) == len(
            available_candidates(session, rule_id, now)
        )
