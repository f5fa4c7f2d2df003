"""Who to ring first and how many legs at once: pure functions over plain values.

Nothing here touches the database or the clock. `reservation` fetches the agents that can take a
call, `order_candidates` puts them in the rule's strategy order, and `ring_plan` says how many
legs the dispatcher starts now and whether it adds one more after the hedge delay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from callback.models.routing import Strategy

__all__ = ["CandidateView", "RingPlan", "RuleSettings", "order_candidates", "ring_plan"]


@dataclass(frozen=True, slots=True)
class CandidateView:
    """An agent who could take the call, as far as ordering needs to know."""

    agent_id: int
    position: int
    last_call_ended_at: datetime | None  # None: never called, so idle the longest


@dataclass(frozen=True, slots=True)
class RingPlan:
    """How the dispatcher rings: `initial` legs now, one more after `hedge_after_s` if no agent
    has accepted by then (None: never), each leg given up after `ring_timeout_s`."""

    initial: int
    hedge_after_s: float | None
    ring_timeout_s: int


class RuleSettings(Protocol):
    """The fields of a `RoutingRule` that `ring_plan` reads (a rule, or any stand-in)."""

    @property
    def strategy(self) -> str: ...
    @property
    def ring_timeout(self) -> int: ...
    @property
    def hedge_after(self) -> int: ...
    @property
    def simultaneous_count(self) -> int: ...


def order_candidates(
    strategy: str, members: Sequence[CandidateView], cursor: int
) -> list[CandidateView]:
    """`members` in the order `strategy` rings them.

    ordered, simultaneous, hedged: by position. round_robin: by position, starting with the
    first member after `cursor` (the position rung last) and wrapping around. longest_idle: by
    `last_call_ended_at`, never-called agents first, ties by position.
    Raises ValueError for an unknown strategy.
    """
    by_position = sorted(members, key=lambda m: m.position)
    match Strategy(strategy):
        case Strategy.ORDERED | Strategy.SIMULTANEOUS | Strategy.HEDGED:
            return by_position
        case Strategy.ROUND_ROBIN:
            after = [m for m in by_position if m.position > cursor]
            return after + [m for m in by_position if m.position <= cursor]
        case Strategy.LONGEST_IDLE:
            # (0, position) sorts before any (1, time, position): never called comes first.
            return sorted(
                by_position,
                key=lambda m: (
                    (0, m.position)
                    if m.last_call_ended_at is None
                    else (1, m.last_call_ended_at, m.position)
                ),
            )
    raise AssertionError(f"unhandled strategy {strategy!r}")  # pragma: no cover


def ring_plan(rule: RuleSettings) -> RingPlan:
    """How many agent legs to start for `rule`, and when to add a hedge leg.

    ordered, round_robin, longest_idle: one at a time, the next on no answer. simultaneous:
    `simultaneous_count` at once. hedged: one now and one more after `hedge_after` seconds
    unless somebody accepted (a hedge delay at or beyond the ring timeout degrades to ordered).
    Raises ValueError for an unknown strategy.
    """
    timeout = rule.ring_timeout
    match Strategy(rule.strategy):
        case Strategy.ORDERED | Strategy.ROUND_ROBIN | Strategy.LONGEST_IDLE:
            return RingPlan(initial=1, hedge_after_s=None, ring_timeout_s=timeout)
        case Strategy.SIMULTANEOUS:
            return RingPlan(
                initial=max(1, rule.simultaneous_count), hedge_after_s=None, ring_timeout_s=timeout
            )
        case Strategy.HEDGED:
            return RingPlan(
                initial=1, hedge_after_s=float(max(0, rule.hedge_after)), ring_timeout_s=timeout
            )
    raise AssertionError(f"unhandled strategy {rule.strategy!r}")  # pragma: no cover
