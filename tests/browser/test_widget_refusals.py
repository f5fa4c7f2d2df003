"""The abuse limits and outages as a visitor meets them: each refusal said inline, in words.

`too_fast` and `daily_cap_reached` come from the real server: a widget whose cap is used up, and
a second web process of the running system (same database, broker and Redis) whose MIN_FILL_MS
no test visitor can meet (the session's system has the check off, as development does). A
per-number `rate_limited` would spend the one test address's per-IP budget that every browser
test shares, and a 503 needs Redis or the database down, so those two are played by Playwright
in place of the API's answer, in the contract's shape; that the real answers carry a readable
Retry-After is `tests/integration/test_widget_retry_after.py`'s part.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Route, expect
from support.browser import screenshot
from support.ports import free_port
from support.system import RunningSystem
from widget_page import Visitor, events, number

from callback import processes
from callback.system import pieces

I18N = Path(__file__).parents[2] / "callback/i18n"
EN = json.loads((I18N / "en.json").read_text("utf-8"))
ET = json.loads((I18N / "et.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def strict_web(system: RunningSystem) -> Iterator[str]:
    """Another web process of the running system that refuses every form as filled too fast."""
    port = free_port()
    (web,) = [piece for piece in pieces(system.settings, port) if piece.name == "web"]
    env = {**system.child_env, "MIN_FILL_MS": "60000"}  # the most the setting allows
    process = processes.start(web.argv, f"http://127.0.0.1:{port}/healthz", env=env, timeout=60)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        processes.stop(process)


def send(visitor: Visitor, phone: str) -> list[str]:
    """Open the panel, type `phone`, press the button; the POSTs the page made by then."""
    page = visitor.page
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    visitor.launcher.click()
    visitor.panel.locator("input[type=tel]").fill(phone)
    visitor.panel.locator(".go").click()
    page.wait_for_function("window.__events.some(e => e.name === 'error')")
    return posts


def assert_said_inline(visitor: Visitor, code: str, text: str) -> None:
    """The refusal in words, the number not blamed, and the form ready to send again."""
    expect(visitor.panel.get_by_role("alert")).to_have_text(text)
    assert [e["detail"] for e in events(visitor.page, "error")] == [{"code": code}]
    assert events(visitor.page, "submitted") == []
    phone = visitor.panel.locator("input[type=tel]")
    expect(phone).to_have_attribute("aria-invalid", "false")
    expect(phone).to_be_visible()
    expect(visitor.panel.locator(".go")).to_have_attribute("aria-disabled", "false")


def test_a_form_sent_faster_than_a_person_types_is_too_fast(
    browser_context, site, shop, strict_web
):
    visitor = Visitor(browser_context, site, shop())
    visitor.go("/shop", web_url=strict_web)

    posts = send(visitor, number())

    assert posts == [f"{strict_web}/api/v1/callbacks"]  # the real server said it
    assert_said_inline(visitor, "too_fast", EN["e_too_fast"])
    screenshot(visitor.page, "widget-error-too-fast")


def test_a_widget_over_its_daily_cap_asks_to_come_back_tomorrow(
    system, browser_context, site, shop
):
    # No callback is left today: the cap is spent (0, as if the day's calls were all taken).
    visitor = Visitor(browser_context, site, shop(daily_call_cap=0))
    visitor.go("/shop")

    posts = send(visitor, number())

    assert posts == [f"{system.web_url}/api/v1/callbacks"]
    assert_said_inline(visitor, "daily_cap_reached", EN["e_daily_cap_reached"])
    screenshot(visitor.page, "widget-error-daily-cap-reached")


def _answer(route: Route, origin: str, status: int, body: str, headers: dict[str, str]) -> None:
    """The API's answer as the server sends it to an allowed origin (see web/cors.py)."""
    cors = {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "Retry-After"}
    route.fulfill(status=status, body=body, headers={**cors, **headers})


def _error(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}})


@pytest.mark.parametrize(
    ("lang", "status", "body", "headers", "code", "expected"),
    [
        pytest.param(
            "en",
            429,
            _error("rate_limited", "Too many requests; please try again in 120 seconds."),
            {"Retry-After": "120", "Content-Type": "application/json"},
            "rate_limited",
            "Too many tries. Please try again in 2 minutes.",
            id="rate-limited",
        ),
        pytest.param(
            "et",
            429,
            _error("rate_limited", "Too many requests; please try again in 120 seconds."),
            {"Retry-After": "120", "Content-Type": "application/json"},
            "rate_limited",
            ET["e_rate_limited"].replace("{wait}", "2 minuti pärast"),
            id="rate-limited-et",
        ),
        pytest.param(
            "en",
            503,
            _error("unavailable", "We cannot take callback requests right now."),
            {"Retry-After": "5", "Content-Type": "application/json"},
            "unavailable",
            "Our service is briefly unavailable. Please try again in 5 seconds.",
            id="unavailable",
        ),
        pytest.param(
            "en",
            503,
            "<html><body>Service Unavailable</body></html>",  # a load balancer's own page
            {"Content-Type": "text/html"},
            "unavailable",
            "Our service is briefly unavailable. Please try again in 1 minute.",
            id="unavailable-not-json",
        ),
    ],
)
def test_a_limit_or_an_outage_says_how_long_to_wait(
    request, system, browser_context, site, shop, lang, status, body, headers, code, expected
):
    visitor = Visitor(browser_context, site, shop())
    page = visitor.go("/shop", lang=lang)
    answered: list[Any] = []

    def refuse(route: Route) -> None:
        answered.append(route.request.post_data_json)
        _answer(route, site.origin, status, body, headers)

    page.route(f"{system.web_url}/api/v1/callbacks", refuse)

    send(visitor, number())

    assert len(answered) == 1 and answered[0]["widget"] == visitor.key  # the widget's POST
    assert_said_inline(visitor, code, expected)
    screenshot(page, f"widget-error-{request.node.callspec.id}")
