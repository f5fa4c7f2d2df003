"""Demo data for `callback demo` and `callback run`: idempotent."""

from __future__ import annotations

from sqlalchemy import select

from ..models import Widget
from . import context
from .setup import add_agent, add_widget, ensure_rule

DEMO_KEY = "demo"
DEMO_AGENTS = (("Anna", "+37255550101"), ("Mart", "+37255550102"), ("Liis", "+37255550103"))


def seed_demo() -> str:
    with context.transaction() as session:
        if session.scalar(select(Widget.id).where(Widget.public_key == DEMO_KEY)):
            return "demo data present (widget key 'demo')"
        ensure_rule(session, "default", strategy="hedged")
    for name, phone in DEMO_AGENTS:
        add_agent(name, phone)
    add_widget(
        "Demo shop",
        key=DEMO_KEY,
        region="EE",
        countries=["EE", "FI", "LV", "LT"],
        origins=["http://127.0.0.1:5000"],
    )
    return "demo data seeded: widget key 'demo', agents Anna, Mart and Liis"
