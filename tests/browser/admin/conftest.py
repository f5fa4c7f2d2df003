"""Browser tests of the admin: Debian's Chromium driven by Playwright against a running system.

One running system (simulator, gunicorn, worker, beat; PostgreSQL and Redis when
TEST_DATABASE_URL / TEST_REDIS_URL are set) and one Chromium per session. Logins are made
with `callback.services.accounts` in the test process; each test gets a fresh browser context
(its own cookies) and signs in through the login form.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from admin_browser import PASSWORD, Login
from playwright.sync_api import Browser, BrowserContext, Page
from support.system import RunningSystem

from callback.services import accounts
from callback.services.setup import add_agent

# `system` and `browser` are the session's, from tests/browser/conftest.py: Playwright's sync
# API runs once per thread, and one running system serves every browser suite.


@pytest.fixture(scope="session")
def owner(system: RunningSystem) -> Login:
    email = f"owner-{secrets.token_hex(3)}@shop.example"
    with system.app_context():
        return Login(email, PASSWORD, accounts.create_user(email, PASSWORD, "owner"))


@pytest.fixture(scope="session")
def agent_login(system: RunningSystem) -> Login:
    email = f"anna-{secrets.token_hex(3)}@shop.example"
    with system.app_context():
        agent_id = add_agent("Anna Phone", "+37255550141", rule=f"own-{secrets.token_hex(3)}").id
        user_id = accounts.create_user(email, PASSWORD, "agent", agent_id)
    return Login(email, PASSWORD, user_id, agent_id)


@pytest.fixture
def context(browser: Browser, system: RunningSystem) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=system.web_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
