"""The widget on other people's pages: hostile CSS changes nothing in it and it changes nothing
on the page; a strict CSP is enough; one global, no layout shift; it stays silent where it is
not allowed; and the demo shop."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from support.browser import screenshot
from widget_page import Visitor, events, new_context

from callback.services.demo import seed_demo

HOSTILE = ["reset", "important", "bootstrap", "tailwind"]
HOST_BODY = (
    "<h1>Shop</h1><p>Warm things <a href='#x'>for the home</a></p><h2>Kettles</h2>"
    "<label>Search <input placeholder='kettle'></label><select><option>All</option></select>"
    "<button class='btn'>Buy</button><div hidden>hidden</div>"
)
PROPS = [
    "display", "position", "box-sizing", "width", "height", "top", "left", "right", "bottom",
    "margin-top", "margin-left", "padding-top", "padding-left", "border-top-width",
    "border-top-style", "border-top-color", "border-top-left-radius", "color",
    "background-color", "font-family", "font-size", "font-weight", "font-style", "line-height",
    "letter-spacing", "word-spacing", "text-transform", "text-align", "opacity", "transform",
    "visibility", "box-shadow", "cursor", "z-index", "fill",
]  # fmt: skip
WIDGET_PARTS = [":host", ".w", ".fab", ".fab svg", ".p", ".x", "h2", "label", "select", "#cb-phone", ".go", ".f"]  # fmt: skip
HOST_PARTS = ["html", "body", "h1", "p", "a", "h2", "label", "input", "select", "button", "div"]

STYLES_OF = """([parts, props, inShadow]) => {
  const root = document.querySelector('callback-widget');
  const out = {};
  for (const part of parts) {
    const node = !inShadow ? document.querySelector(part)
      : part === ':host' ? root : root.shadowRoot.querySelector(part);
    const style = getComputedStyle(node);
    const box = node.getBoundingClientRect();
    out[part] = Object.fromEntries(props.map(p => [p, style.getPropertyValue(p)]));
    out[part].box = [box.x, box.y, box.width, box.height].map(Math.round);
  }
  return out;
}"""


def styles(page: Page, parts: list[str], in_shadow: bool) -> dict[str, Any]:
    return page.evaluate(STYLES_OF, [parts, PROPS, in_shadow])  # type: ignore[no-any-return]


def open_panel(visitor: Visitor, path: str, **options: Any) -> Page:
    page = visitor.go(path, body=HOST_BODY, **options)
    visitor.launcher.click()
    expect(visitor.panel).to_be_visible()
    return page


@pytest.fixture
def clean_widget_styles(browser, site, shop) -> tuple[str, dict[str, Any]]:
    key = shop()
    ctx = new_context(browser, reduced_motion="reduce")
    try:
        page = open_panel(Visitor(ctx, site, key), "/clean")
        return key, styles(page, WIDGET_PARTS, in_shadow=True)
    finally:
        ctx.close()


@pytest.mark.parametrize("sheet", HOSTILE)
def test_hostile_page_css_neither_changes_the_widget_nor_is_changed_by_it(
    browser, site, clean_widget_styles, sheet
):
    key, clean = clean_widget_styles
    link = f"<link rel='stylesheet' href='/hostile-{sheet}.css'>"
    ctx = new_context(browser, reduced_motion="reduce")
    try:
        page = ctx.new_page()
        page.goto(site.page(f"/bare-{sheet}", None, body=HOST_BODY, head=link))
        host_before = styles(page, HOST_PARTS, in_shadow=False)

        visitor = Visitor(ctx, site, key)
        page = open_panel(visitor, f"/hostile-{sheet}", head=link)

        assert styles(page, WIDGET_PARTS, in_shadow=True) == clean
        assert styles(page, HOST_PARTS, in_shadow=False) == host_before
        screenshot(page, f"widget-hostile-{sheet}")
    finally:
        ctx.close()


def test_a_strict_csp_is_enough(system, browser_context, site, shop):
    csp = (
        f"default-src 'none'; script-src 'self' {system.web_url}; "
        f"connect-src {system.web_url}; style-src 'self'; img-src 'self'"
    )
    browser_context.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    visitor = Visitor(browser_context, site, shop())
    page = open_panel(visitor, "/strict", csp=csp)
    page.get_by_label("Your phone number").fill("+372 000 0000")
    visitor.panel.get_by_role("button", name="Call me now").click()
    expect(visitor.panel.get_by_role("alert")).not_to_be_empty()  # the POST went and came back

    fab = styles(page, [".fab", ".p"], in_shadow=True)
    assert fab[".fab"]["position"] == "fixed"
    assert fab[".fab"]["background-color"] == "rgb(11, 107, 203)"  # set through CSSOM
    assert fab[".p"]["background-color"] == "rgb(255, 255, 255)"
    assert page.evaluate("window.__csp") == []
    screenshot(page, "widget-strict-csp")


def test_one_global_no_layout_shift_and_motion_only_when_wanted(browser, site, shop):
    key = shop()
    for motion, animations in (("no-preference", 1), ("reduce", 0)):
        ctx = new_context(browser, reduced_motion=motion)
        ctx.add_init_script(
            "window.__before = Object.getOwnPropertyNames(window); window.__shift = 0;"
            "new PerformanceObserver(l => l.getEntries().forEach(e => window.__shift += e.value))"
            ".observe({type: 'layout-shift', buffered: true});"
        )
        try:
            visitor = Visitor(ctx, site, key)
            page = open_panel(visitor, "/globals")
            added = page.evaluate(
                "Object.getOwnPropertyNames(window).filter(n => !window.__before.includes(n))"
            )
            assert sorted(added) == ["Callback", "__before", "__shift"]  # ours, then the test's
            running = page.evaluate(
                "document.querySelector('callback-widget').shadowRoot"
                ".querySelector('.p').getAnimations().length"
            )
            assert running == animations
            page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            assert page.evaluate("window.__shift") == 0
        finally:
            ctx.close()


def test_an_unknown_key_leaves_the_page_alone_and_says_why(browser_context, site):
    page = browser_context.new_page()
    page.goto(site.page("/typo", "no-such-widget", body=HOST_BODY))
    page.wait_for_function("window.__events.some(e => e.name === 'error')")
    assert events(page) == [{"name": "error", "detail": {"code": "unknown_widget"}}]
    expect(page.locator("callback-widget")).to_have_count(0)
    expect(page.locator("h1")).to_have_text("Shop")


def test_a_site_not_among_the_widgets_origins_gets_no_widget(browser_context, site, shop):
    page = browser_context.new_page()
    page.goto(site.page("/elsewhere", shop(allowed_origins=["https://shop.example"])))
    page.wait_for_function("window.__events.some(e => e.name === 'error')")
    assert events(page) == [{"name": "error", "detail": {"code": "network"}}]
    expect(page.locator("callback-widget")).to_have_count(0)


def test_a_widget_without_origins_works_on_any_site(browser_context, site, shop):
    visitor = Visitor(browser_context, site, shop(allowed_origins=[]))
    open_panel(visitor, "/anywhere")


def test_the_demo_shop_offers_the_widget_on_its_product_pages(system, browser_context):
    with system.app_context():
        seed_demo()
    browser_context.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective));"
    )
    page = browser_context.new_page()
    page.goto(f"{system.web_url}/demo")
    expect(page.locator(".card")).to_have_count(4)
    page.get_by_role("link", name="Blue Kettle").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blue Kettle")
    launcher = page.locator("callback-widget .fab")
    expect(launcher).to_be_visible()
    assert events(page, "open") == []

    page.get_by_role("link", name="Oak Chair").click()  # the second product page

    expect(page.locator("callback-widget [role=dialog]")).to_be_visible()
    assert [e["detail"] for e in events(page, "open")] == [
        {"source": "trigger", "trigger": "product_pages"}
    ]
    expect(
        page.locator("callback-widget").get_by_role("link", name="Privacy policy")
    ).to_have_attribute("href", "/demo/privacy")
    assert page.evaluate("window.__csp") == []
    screenshot(page, "widget-demo-shop")
