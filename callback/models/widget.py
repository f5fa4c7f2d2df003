"""The embeddable widget a shop puts on its pages, and the calling policy attached to it."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .routing import RoutingRule


def new_public_key() -> str:
    """The key the shop pastes into its snippet: url-safe, unguessable, 22 characters."""
    return secrets.token_urlsafe(16)


class Widget(Base):
    __tablename__ = "widgets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[str] = mapped_column(String(43), unique=True, default=new_public_key)
    name: Mapped[str] = mapped_column(String(120))
    # Exact origins ("https://shop.example") allowed to call the public API (CORS).
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # ISO 3166-1 alpha-2: the region used to parse numbers typed without a country code.
    default_region: Mapped[str] = mapped_column(String(2))
    # ISO 3166-1 alpha-2 codes we agree to call; an empty list calls nowhere.
    allowed_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(16), default="en")
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    triggers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Weekly opening hours in `time_zone`; None means always open.
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    routing_rule_id: Mapped[int] = mapped_column(
        ForeignKey("routing_rules.id", ondelete="RESTRICT"), index=True
    )
    # Callbacks accepted per widget per day: a ceiling on what a fraudster can cost.
    daily_call_cap: Mapped[int] = mapped_column(Integer, default=200)
    # E.164 prefixes ("+4490", "+882") refused even inside an allowed country.
    blocked_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    routing_rule: Mapped[RoutingRule] = relationship()

    def __repr__(self) -> str:
        return f"<Widget {self.id} {self.name!r}>"
