"""Each trigger opens the widget at its moment and not before, and counts only once.

Every case runs twice. First alone (threshold 1): the condition half met leaves the widget shut,
met it opens the panel with `callback:open` naming the trigger. Then beside a `url` rule for
`/finish` with threshold 2: the condition is met twice, yet the panel stays shut (a rule that
counted twice would reach 2), and `/finish` opens it (so the rule did count, once).

Time-based rules run on Playwright's clock, so "20 seconds on the page" takes no wall time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from support.browser import screenshot
from widget_page import HostSite, Visitor, new_context

TALL = "<main style='height: 4000px'>A long product page</main>"
FINISH = {"type": "url", "pattern": "/finish"}


def settle(visitor: Visitor) -> None:
    """Wait until the page has handled its pending scroll events (two frames later)."""
    visitor.page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def scroll_to(visitor: Visitor, fraction: float) -> None:
    visitor.page.evaluate(
        "f => window.scrollTo(0, (document.documentElement.scrollHeight - innerHeight) * f)",
        fraction,
    )


def flick_up(visitor: Visitor) -> None:
    visitor.page.evaluate("window.scrollTo(0, 2500)")
    settle(visitor)
    visitor.page.evaluate("window.scrollTo(0, 300)")
    settle(visitor)


@dataclass
class Case:
    rule: dict[str, Any]
    start: str
    not_yet: Callable[[Visitor], None]
    meet: Callable[[Visitor], None]
    body: str = ""
    clock: bool = False
    phone: bool = False


def _pages(*paths: str) -> Callable[[Visitor], None]:
    def visit(visitor: Visitor) -> None:
        for path in paths:
            visitor.go(path)

    return visit


def _tick(ms: int) -> Callable[[Visitor], None]:
    return lambda visitor: visitor.page.clock.run_for(ms)


def _site_time_not_yet(visitor: Visitor) -> None:
    visitor.page.clock.run_for(12_000)
    visitor.go("/shop/second")  # page time starts again; site time goes on (12 s)
    visitor.page.clock.run_for(5_000)


def _idle_not_yet(visitor: Visitor) -> None:
    visitor.page.clock.run_for(7_000)
    visitor.page.mouse.move(300, 300)  # activity: idle time starts again
    visitor.page.clock.run_for(7_000)


def _scroll(fraction: float) -> Callable[[Visitor], None]:
    def scroll(visitor: Visitor) -> None:
        scroll_to(visitor, fraction)
        visitor.page.clock.run_for(1_100)

    return scroll


def _mouse_stays_in(visitor: Visitor) -> None:
    visitor.page.mouse.move(600, 400)
    visitor.page.mouse.move(600, 2, steps=4)  # close to the top, still inside
    visitor.page.mouse.move(600, 400, steps=2)


def _mouse_leaves_by_the_top(visitor: Visitor) -> None:
    visitor.page.mouse.move(600, 300)
    visitor.page.mouse.move(600, -10)


def _slow_scroll_up(visitor: Visitor) -> None:
    visitor.page.evaluate("window.scrollTo(0, 1500)")
    settle(visitor)
    for y in (1450, 1400, 1350):
        visitor.page.evaluate("y => window.scrollTo(0, y)", y)
        settle(visitor)


# Headless Chromium keeps every tab "visible" (another tab in front, a minimised window: no
# change), so the page's visibility is set the way a phone's browser sets it when the visitor
# switches apps or tabs: `document.visibilityState` and `hidden` change, then `visibilitychange`
# is dispatched on the document, where the widget listens.
SET_VISIBILITY = """state => {
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => state});
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => state === 'hidden'});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def _comes_back_to_the_tab(visitor: Visitor) -> None:
    _slow_scroll_up(visitor)
    visitor.page.evaluate(SET_VISIBILITY, "visible")  # shown again is no sign of leaving


def _leaves_the_tab(visitor: Visitor) -> None:
    visitor.page.evaluate(SET_VISIBILITY, "hidden")
    visitor.page.evaluate(SET_VISIBILITY, "visible")  # and comes back to see the panel


def _click(selector: str) -> Callable[[Visitor], None]:
    return lambda visitor: visitor.page.locator(selector).click()


def _product_markup(visitor: Visitor) -> None:
    visitor.go("/item", body="<article data-product='kettle'>Kettle</article>")


def _returning_not_yet(visitor: Visitor) -> None:
    visitor.go("/shop/other")  # the same visit, a second page


def _comes_back(visitor: Visitor) -> None:
    visitor.new_tab()
    visitor.go("/shop/back")


CASES = {
    "time_on_page": Case(
        {"type": "time_on_page", "seconds": 20}, "/shop", _tick(15_000), _tick(6_000), clock=True
    ),
    "time_on_site": Case(
        {"type": "time_on_site", "seconds": 20},
        "/shop",
        _site_time_not_yet,
        _tick(4_000),
        clock=True,
    ),
    "pages_viewed": Case(
        {"type": "pages_viewed", "count": 3}, "/shop", _pages("/shop/2"), _pages("/shop/3")
    ),
    "product_pages": Case(
        {"type": "product_pages", "pattern": "/product/", "count": 2},
        "/product/kettle",
        _pages("/about", "/product/kettle"),  # the same product again is not a second one
        _pages("/product/chair"),
    ),
    "product_pages_selector": Case(
        {"type": "product_pages", "selector": "[data-product]", "count": 1},
        "/plain",
        _pages("/about"),
        _product_markup,
    ),
    "compare": Case(
        {"type": "compare", "selector": ".compare"},
        "/product/kettle",
        _click(".buy"),
        _click(".compare"),
        body="<button class='buy'>Buy</button><button class='compare'>Compare</button>",
    ),
    "scroll_depth": Case(
        {"type": "scroll_depth", "percent": 60},
        "/long",
        _scroll(0.3),
        _scroll(1.0),
        body=TALL,
        clock=True,
    ),
    "exit_intent": Case(
        {"type": "exit_intent"}, "/shop", _mouse_stays_in, _mouse_leaves_by_the_top
    ),
    "exit_intent_phone": Case(
        {"type": "exit_intent"}, "/long", _slow_scroll_up, flick_up, body=TALL, phone=True
    ),
    "exit_intent_phone_hidden": Case(
        {"type": "exit_intent"},
        "/long",
        _comes_back_to_the_tab,
        _leaves_the_tab,
        body=TALL,
        phone=True,
    ),
    "idle": Case({"type": "idle", "seconds": 10}, "/shop", _idle_not_yet, _tick(4_000), clock=True),
    "returning": Case({"type": "returning"}, "/shop", _returning_not_yet, _comes_back),
    "url": Case(
        {"type": "url", "pattern": "/sale"}, "/shop", _pages("/shop/new"), _pages("/sale/x")
    ),
    "utm": Case(
        {"type": "utm", "source": "newsletter", "campaign": "winter"},
        "/shop?utm_source=ads",
        _pages("/landing?utm_source=newsletter&utm_campaign=spring"),
        _pages("/landing2?utm_source=newsletter&utm_campaign=winter&utm_medium=email"),
    ),
}


def _visitor(browser: Browser, site: HostSite, key: str, case: Case) -> Visitor:
    options: dict[str, Any] = {}
    if case.phone:
        options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    visitor = Visitor(new_context(browser, **options), site, key)
    if case.clock:
        visitor.page.clock.install()
    return visitor


@pytest.mark.parametrize("name", CASES)
def test_each_trigger_opens_the_widget_at_its_moment(browser, site, shop, name):
    case = CASES[name]
    key = shop(triggers={"threshold": 1, "rules": [case.rule]})
    visitor = _visitor(browser, site, key, case)
    try:
        visitor.go(case.start, body=case.body)
        case.not_yet(visitor)
        assert visitor.opened() == []
        expect(visitor.panel).to_have_count(0)

        case.meet(visitor)

        expect(visitor.panel).to_be_visible()
        assert visitor.opened() == [{"source": "trigger", "trigger": case.rule["type"]}]
        # A trigger never takes the focus from what the visitor is doing.
        assert visitor.page.evaluate("document.activeElement.tagName") != "CALLBACK-WIDGET"
        screenshot(visitor.page, f"widget-trigger-{name}")
    finally:
        visitor.ctx.close()


@pytest.mark.parametrize("name", CASES)
def test_each_trigger_counts_once_per_visitor(browser, site, shop, name):
    case = CASES[name]
    key = shop(triggers={"threshold": 2, "rules": [case.rule, FINISH]})
    visitor = _visitor(browser, site, key, case)
    try:
        visitor.go(case.start, body=case.body)
        case.not_yet(visitor)
        case.meet(visitor)
        case.meet(visitor)  # met again: must not count again
        if case.clock:
            visitor.page.clock.run_for(30_000)
        assert visitor.opened() == []

        visitor.go("/finish")

        expect(visitor.panel).to_be_visible()
        assert visitor.opened() == [{"source": "trigger", "trigger": "url"}]
    finally:
        visitor.ctx.close()


def test_on_a_phone_a_flick_up_and_leaving_the_tab_are_one_exit_intent(browser, site, shop):
    key = shop(triggers={"threshold": 2, "rules": [{"type": "exit_intent"}, FINISH]})
    visitor = _visitor(browser, site, key, CASES["exit_intent_phone"])
    try:
        visitor.go("/long", body=TALL)
        flick_up(visitor)
        _leaves_the_tab(visitor)
        assert visitor.opened() == []  # one rule, one point, however it was met

        visitor.go("/finish")

        expect(visitor.panel).to_be_visible()
        assert visitor.opened() == [{"source": "trigger", "trigger": "url"}]
    finally:
        visitor.ctx.close()


def test_on_a_desktop_leaving_the_tab_is_no_exit_intent(browser, site, shop):
    """A desktop visitor switching tabs comes back; only the pointer leaving says "exit"."""
    key = shop(triggers={"threshold": 1, "rules": [{"type": "exit_intent"}]})
    visitor = Visitor(new_context(browser), site, key)
    try:
        visitor.go("/shop")
        _leaves_the_tab(visitor)
        assert visitor.opened() == []

        _mouse_leaves_by_the_top(visitor)  # the control: the rule was armed all along

        expect(visitor.panel).to_be_visible()
        assert visitor.opened() == [{"source": "trigger", "trigger": "exit_intent"}]
    finally:
        visitor.ctx.close()


def test_finish_alone_does_not_reach_the_threshold(browser, site, shop):
    """The control for the test above: without the first rule, `/finish` scores only 1."""
    key = shop(triggers={"threshold": 2, "rules": [{"type": "returning"}, FINISH]})
    visitor = Visitor(new_context(browser), site, key)
    try:
        visitor.go("/finish")
        assert visitor.opened() == []
        expect(visitor.panel).to_have_count(0)
    finally:
        visitor.ctx.close()


def test_a_closed_widget_stays_closed_for_its_snooze_days(browser, site, shop):
    key = shop(triggers={"threshold": 1, "snooze_days": 2, "rules": [{"type": "pages_viewed"}]})
    visitor = Visitor(new_context(browser), site, key)
    try:
        visitor.go("/shop")
        expect(visitor.panel).to_be_visible()
        visitor.panel.get_by_role("button", name="Close").click()
        expect(visitor.panel).to_be_hidden()

        visitor.go("/shop/next")  # the rule is met again, but the visitor said "not now"
        assert visitor.opened() == []
        visitor.launcher.click()  # the button always works
        expect(visitor.panel).to_be_visible()
        assert visitor.opened() == [{"source": "button"}]

        visitor.new_tab()
        later = datetime.now(UTC) + timedelta(days=2, hours=1)
        visitor.page.clock.install(time=later)
        visitor.go("/shop/days-later")
        expect(visitor.panel).to_be_visible()
        assert visitor.opened() == [{"source": "trigger", "trigger": "pages_viewed"}]
    finally:
        visitor.ctx.close()


def test_rules_add_up_to_the_threshold(browser, site, shop):
    rules = [
        {"type": "pages_viewed", "count": 2, "score": 1},
        {"type": "url", "pattern": "/product/", "score": 2},
    ]
    key = shop(triggers={"threshold": 3, "rules": rules})
    visitor = Visitor(new_context(browser), site, key)
    try:
        visitor.go("/product/kettle")  # url: 2 points
        assert visitor.opened() == []
        visitor.go("/about")  # second page: 1 more point
        expect(visitor.panel).to_be_visible()
        assert visitor.opened() == [{"source": "trigger", "trigger": "pages_viewed"}]
    finally:
        visitor.ctx.close()
