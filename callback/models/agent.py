"""A sales agent who takes callbacks, with the lease that reserves them for one call.

`presence` is what the agent chose (online, paused, offline); `state` is where the
telephony has them. Routing reserves an agent with one conditional UPDATE that moves
`state` from available to ringing and writes `reservation` (the fencing token) and
`lease_until`; every later write about that call carries the token in its WHERE clause.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, one_of, utcnow


class Presence(StrEnum):
    ONLINE = "online"
    PAUSED = "paused"
    OFFLINE = "offline"


class AgentState(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    OFFLINE = "offline"


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        one_of("presence", Presence),
        one_of("state", AgentState),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(16))  # E.164: "+" and at most 15 digits
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    presence: Mapped[str] = mapped_column(String(16), default=Presence.ONLINE.value)
    state: Mapped[str] = mapped_column(String(16), default=AgentState.AVAILABLE.value)
    # When a reservation expires without news from the carrier, the sweeper frees the agent.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    reservation: Mapped[str | None] = mapped_column(String(32), default=None)
    # Orders agents for the longest_idle strategy; None sorts as "never called".
    last_call_ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # Weekly working hours in `time_zone`; None means whenever present.
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Agent {self.id} {self.name!r} {self.state}>"
