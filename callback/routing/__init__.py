"""Routing: which agents ring for a callback, and reserving them without double booking.

`strategies` is pure (candidate order, ring plan); `reservation` holds the SQL (one conditional
UPDATE per reservation, fenced by a token). Read `reservation`'s docstring for why.
"""

from .reservation import (
    Reservation,
    agent_on_shift,
    available_candidates,
    expire_leases,
    mark_on_call,
    pick_agents,
    release,
    reserve,
)
from .strategies import CandidateView, RingPlan, RuleSettings, order_candidates, ring_plan

__all__ = [
    "CandidateView",
    "Reservation",
    "RingPlan",
    "RuleSettings",
    "agent_on_shift",
    "available_candidates",
    "expire_leases",
    "mark_on_call",
    "order_candidates",
    "pick_agents",
    "release",
    "reserve",
    "ring_plan",
]
