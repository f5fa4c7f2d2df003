"""Browser tests of widget.js: real Chromium, a real running system, real host pages.

One running system (simulator, gunicorn, worker, beat) and one Chromium per session. Host pages
come from a small HTTP server of the test's own on another port (`HostSite`), so the widget is
loaded and talks to the API cross-origin, as it does on a shop's site. Each test gets a fresh
browser context (its own storage and cache) that records every `callback:*` event in
`window.__events`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import select
from support.browser import launched_chromium
from support.system import RunningSystem, running_system
from widget_page import TIME_SCALE, HostSite, new_context, number

from callback.models import Widget
from callback.services import context


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    with running_system(tmp_path_factory.mktemp("browser-system"), TIME_SCALE) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def site(system: RunningSystem) -> Iterator[HostSite]:
    host = HostSite(system.web_url)
    server = host.serve()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()


Shop = Callable[..., str]


@pytest.fixture
def shop(system: RunningSystem, site: HostSite) -> Shop:
    """A fresh widget (and rule with the given agents): `shop(agents=[...], triggers=..., ...)`.

    Keyword arguments set `Widget` columns; `allowed_origins` defaults to the host site's.
    """

    def make(agents: list[str] | None = None, strategy: str = "ordered", **columns: Any) -> str:
        key = system.shop(strategy, agents if agents is not None else [number()])
        columns.setdefault("allowed_origins", [site.origin])
        columns.setdefault("triggers", {"threshold": 1, "rules": []})
        with system.app_context(), context.transaction() as session:
            widget = session.scalars(select(Widget).where(Widget.public_key == key)).one()
            for name, value in columns.items():
                setattr(widget, name, value)
        return key

    return make


@pytest.fixture
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = new_context(browser)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    return browser_context.new_page()
