"""The widget, on the shop's origin, can read Retry-After from a refusal (CORS exposes it).

Without `Access-Control-Expose-Headers: Retry-After` a cross-origin `fetch` sees the 429 but not
how long to wait, and widget.js could not tell the visitor "try again in 2 minutes". Through
Flask's test client, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from support.app import running_app

from callback.models import Widget
from callback.services import context
from callback.services.setup import add_agent, add_widget

SHOP = "https://shop.example"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    # Memory counters (no REDIS_URL) start empty with each app: this test's limits are its own.
    with running_app(database_url, tmp_path, RATE_LIMIT_PER_PHONE="1 per 10 minutes") as app:
        yield app


def shop_widget(app: Flask, cap: int) -> str:
    rule = f"rule-{secrets.token_hex(4)}"
    with app.app_context():
        add_agent("Anna", "+37255550101", rule=rule)
        key = add_widget("Shop", region="EE", countries=["EE"], origins=[SHOP], rule=rule)
        with context.transaction() as session:
            widget = session.scalars(select(Widget).where(Widget.public_key == key)).one()
            widget.daily_call_cap = cap
    return key


@pytest.mark.parametrize(
    ("code", "second_phone"),
    [("rate_limited", "+37255000001"), ("daily_cap_reached", "+37255000002")],
)
def test_a_refusal_with_retry_after_shows_it_to_the_shops_page(
    app: Flask, code: str, second_phone: str
) -> None:
    client, key = app.test_client(), shop_widget(app, cap=1)
    headers = {"Origin": SHOP, "X-Forwarded-For": f"198.51.100.{secrets.randbelow(200) + 1}"}
    first = client.post(
        "/api/v1/callbacks", json={"widget": key, "phone": "+37255000001"}, headers=headers
    )
    assert first.status_code == 202, first.get_data(as_text=True)
    assert "Access-Control-Expose-Headers" not in first.headers  # nothing to wait for

    # The same number again is over its limit; another number is over the widget's daily cap.
    refused = client.post(
        "/api/v1/callbacks", json={"widget": key, "phone": second_phone}, headers=headers
    )

    assert refused.status_code == 429, refused.get_data(as_text=True)
    assert refused.get_json()["error"]["code"] == code
    assert refused.headers["Retry-After"].isdigit()
    assert refused.headers["Access-Control-Allow-Origin"] == SHOP
    assert refused.headers["Access-Control-Expose-Headers"] == "Retry-After"
