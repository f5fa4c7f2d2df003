"""Demo data for `callback demo` and `callback run`: idempotent."""

from __future__ import annotations

from sqlalchemy import select

from ..models import Widget
from . import context
from .setup import add_agent, add_widget, ensure_rule

DEMO_KEY = "demo"
DEMO_AGENTS = (("Anna", "+37255550101"), ("Mart", "+37255550102"), ("Liis", "+37255550103"))
# The demo shop's widget offers itself to a visitor who looks at two products, compares, reads
# far down a page, lingers or is about to leave (layout: callback/services/widget_config.py).
DEMO_TRIGGERS = {
    "threshold": 1,
    "snooze_days": 1,
    "rules": [
        {"type": "product_pages", "pattern": "/demo/product/", "count": 2},
        {"type": "compare", "selector": ".compare"},
        {"type": "scroll_depth", "percent": 80},
        {"type": "time_on_page", "seconds": 45},
        {"type": "exit_intent"},
    ],
    "display": {"position": "right", "privacy_url": "/demo/privacy"},
}


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
    with context.transaction() as session:
        widget = session.scalars(select(Widget).where(Widget.public_key == DEMO_KEY)).one()
        widget.triggers = DEMO_TRIGGERS
    return "demo data seeded: widget key 'demo', agents Anna, Mart and Liis"
