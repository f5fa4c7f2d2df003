"""The admin's board, history and statistics in Chromium, against the real running system.

The running system (simulator, gunicorn, worker, beat at TIME_SCALE 10) and Chromium are the
session fixtures of tests/browser/conftest.py, shared with the widget's browser tests rather
than started a second time: two systems on one TEST_REDIS_URL database would consume each
other's tasks, and Playwright's sync API cannot be started twice in one thread.

Here: one shop per module (a rule with Anna and Mart, a widget), an owner login, and pages
of a fresh, logged-in browser context per test.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from admin_shop import PASSWORD, Login, ReportsShop, number
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from support.system import RunningSystem

from callback.models import RoutingRule, Widget
from callback.services import accounts, context
from callback.services.setup import add_agent, add_widget


@pytest.fixture(scope="module")
def reports_shop(system: RunningSystem) -> ReportsShop:
    rule = f"reports-{secrets.token_hex(4)}"
    phones = {"Anna": number(), "Mart": number()}
    with system.app_context():
        agents = {name: add_agent(name, phone, rule=rule).id for name, phone in phones.items()}
        key = add_widget(
            "Kettle shop", region="EE", countries=["EE"], rule=rule, time_zone="Europe/Tallinn"
        )
        with context.transaction() as session:
            routing = session.scalars(select(RoutingRule).where(RoutingRule.name == rule)).one()
            routing.strategy = "ordered"
            # A customer who does not answer fails at once instead of being retried in a minute.
            routing.customer_max_attempts = 1
            widget_id = session.scalars(select(Widget.id).where(Widget.public_key == key)).one()
    return ReportsShop(key, widget_id, agents, phones)


@pytest.fixture(autouse=True)
def agents_answer(system: RunningSystem, reports_shop: ReportsShop) -> None:
    """Both agents pick up after 2 s and press 1 (set per test: other tests may reset phones)."""
    for phone in reports_shop.phones.values():
        system.sim.phone(phone, outcome="answer", answer_after=2, digits="1")


@pytest.fixture(scope="session")
def owner(system: RunningSystem) -> Login:
    email = f"owner-{secrets.token_hex(4)}@example.com"
    with system.app_context():
        accounts.create_user(email, PASSWORD, "owner")
    return Login(email, PASSWORD)


@pytest.fixture
def admin_context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def admin_page(admin_context: BrowserContext, system: RunningSystem, owner: Login) -> Page:
    """A page logged in as the owner, on the live board (where the admin starts)."""
    page = admin_context.new_page()
    page.goto(f"{system.web_url}/admin/login")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{system.web_url}/admin/board")
    return page
