"""Demo data for `callback demo` and `callback run`: idempotent."""

from __future__ import annotations

import secrets
from typing import Any

import requests
from sqlalchemy import select

from ..models import User, Widget
from . import accounts, context
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


# The demo's admin login (`callback run` with the simulator only): a new password every start.
DEMO_LOGIN = "demo@callback.local"


def ensure_demo_login() -> str:
    """Create the demo owner login, or give it a fresh password; returns the password."""
    password = secrets.token_urlsafe(12)
    with context.transaction() as session:
        user_id = session.scalar(select(User.id).where(User.email == DEMO_LOGIN))
    if user_id is None:
        accounts.create_user(DEMO_LOGIN, password, "owner")
    else:
        accounts.set_password(user_id, password)
    return password


def demo_phones() -> dict[str, dict[str, Any]]:
    """Simulator phone behaviours for the demo: every phone waits for a person on /sim/phone.

    The agents' phones carry their names; "default" makes any other number (the visitor's own,
    typed into the widget) ring on the softphone page too instead of answering by itself.
    """
    phones: dict[str, dict[str, Any]] = {
        phone: {"outcome": "manual", "label": f"{name}, agent"} for name, phone in DEMO_AGENTS
    }
    phones["default"] = {"outcome": "manual", "label": "Visitor"}
    return phones


def configure_demo_phones(simulator_url: str) -> None:
    """Set the demo's phones on a running simulator (`PUT /sim/phones/…`)."""
    with requests.Session() as http:
        http.trust_env = False  # the simulator is on loopback: never through a proxy
        for number, behaviour in demo_phones().items():
            response = http.put(f"{simulator_url}/sim/phones/{number}", json=behaviour, timeout=5)
            response.raise_for_status()
