"""The whole demo, as a person plays it, in headless Chromium against the running system.

The demo shop's widget, the softphones of the simulator (one page for the agents and the
visitor, as in `callback run`), the keypress, the bridge, the widget's "connected", and the
callback's timeline in the admin. The screenshots (`demo-1-shop.png` … `demo-7-timeline.png`
in ARTIFACTS_DIR) are the README's pictures (copied into docs/).

The session's simulator runs at TIME_SCALE 10 while this test clicks in real time, as a person
does: the demo's phones are `manual`, whose ringing and listening the simulator does not speed
up (a person lives in real time), so the rule's ring timeout and the whisper's Gather leave the
clicks as long as they leave a person in the demo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select
from support.browser import screenshot
from support.receiver import wait_until
from support.system import RunningSystem
from widget_page import new_context, number

from callback.models import CallbackRequest, RoutingRule, Widget
from callback.services import admin_agents, admin_rules, context
from callback.services.demo import DEMO_AGENTS, DEMO_KEY, DEMO_LOGIN, ensure_demo_login, seed_demo

EN = json.loads((Path(__file__).parents[2] / "callback/i18n/en.json").read_text("utf-8"))
ANNA = DEMO_AGENTS[0][1]


@pytest.fixture
def demo(system: RunningSystem) -> Iterator[None]:
    """The seeded demo, its rule ringing only the demo agents, their phones held by a person."""
    with system.app_context():
        seed_demo()
        with context.transaction() as session:
            rule_id = session.scalars(
                select(RoutingRule.id).join(Widget).where(Widget.public_key == DEMO_KEY)
            ).one()
        agents = {a["phone"]: a["id"] for a in admin_agents.list_agents()}
        # Other suites add agents to the default rule; the demo rings Anna, Mart and Liis.
        admin_rules.set_members(rule_id, {"agent_ids": [agents[p] for _, p in DEMO_AGENTS]})
    for name, phone in DEMO_AGENTS:
        system.sim.phone(phone, outcome="manual", label=f"{name}, agent")
    yield
    for _, phone in DEMO_AGENTS:
        system.sim.http.delete(f"{system.sim.base_url}/sim/phones/{phone}")


@pytest.fixture
def person(browser: Browser) -> Iterator[BrowserContext]:
    ctx = new_context(browser, viewport={"width": 1180, "height": 760})
    try:
        yield ctx
    finally:
        ctx.close()


def phone_card(page: Page, e164: str) -> Locator:
    return page.locator(f'.phone[data-number="{e164}"]')


def wait_for_status(page: Page, status: str) -> None:
    page.wait_for_function(
        "s => window.__events.some(e => e.name === 'status' && e.detail.status === s)",
        arg=status,
        timeout=30_000,
    )


def test_the_whole_demo_from_the_shop_to_the_timeline(
    system: RunningSystem, person: BrowserContext, demo: None
) -> None:
    visitor = number()
    shop = person.new_page()
    shop.goto(f"{system.web_url}/demo")
    expect(shop.locator(".card")).to_have_count(4)
    screenshot(shop, "demo-1-shop")

    phones = person.new_page()
    phones.goto(f"{system.sim.base_url}/sim/phone")
    for name, phone in DEMO_AGENTS:
        expect(phone_card(phones, phone).locator(".who")).to_have_text(f"{name}, agent")
    sound = phones.locator("#sound")
    expect(sound).to_have_text("Sound off")
    sound.click()  # the click that lets the page ring and speak
    expect(sound).to_have_attribute("aria-pressed", "true")
    expect(sound).to_have_text("Sound on")
    phones.get_by_label("Add a phone for a number").fill("5555 0201")
    phones.get_by_role("button", name="Add phone").click()
    expect(phones.get_by_role("alert")).to_contain_text("international form")
    phones.get_by_label("Add a phone for a number").fill(visitor[:4] + " " + visitor[4:])
    phones.get_by_role("button", name="Add phone").click()
    expect(phone_card(phones, visitor).locator(".who")).to_have_text("Visitor")
    expect(phone_card(phones, visitor).get_by_role("status")).to_have_text("Idle")

    shop.get_by_role("link", name="Blue Kettle").click()
    launcher = shop.locator("callback-widget .fab")
    launcher.click()
    panel = shop.locator("callback-widget [role=dialog]")
    expect(panel).to_be_visible()
    shop.get_by_label(EN["phone"]).fill(visitor.removeprefix("+372"))
    screenshot(shop, "demo-2-widget")
    panel.get_by_role("button", name=EN["submit"]).click()

    anna = phone_card(phones, ANNA)
    expect(anna).to_have_class(re.compile(r"\bringing\b"))
    expect(anna.get_by_role("status")).to_have_text("Ringing — call from +372 6000 000")
    expect(phones).to_have_title(re.compile("^☎ Ringing"))
    screenshot(phones, "demo-3-agent-ringing")
    anna.get_by_role("button", name="Answer").click()
    anna.get_by_role("button", name="Key 1").click()  # during the whisper: barge-in
    expect(anna.locator(".say")).to_have_text(
        "Web callback from Blue Kettle — Callback demo shop. Press 1 to connect."
    )
    expect(anna.locator(".pressed")).to_have_text("1")

    caller = phone_card(phones, visitor)
    expect(caller).to_have_class(re.compile(r"\bringing\b"))
    screenshot(phones, "demo-4-visitor-ringing")
    caller.get_by_role("button", name="Answer").click()

    expect(caller.get_by_role("status")).to_have_text("Connected — talking with +372 6…")
    expect(anna.get_by_role("status")).to_have_text("Connected — talking with +372 5…")
    expect(anna.locator(".timer")).to_have_text(re.compile(r"^0:\d\d$"))
    screenshot(phones, "demo-5-connected-phones")

    wait_for_status(shop, "connected")
    expect(panel.get_by_role("status")).to_have_text(EN["s_connected"])
    screenshot(shop, "demo-6-connected")
    callback_id = shop.evaluate("window.__events.find(e => e.name === 'submitted').detail.id")

    admin = person.new_page()
    with system.app_context():
        password = ensure_demo_login()
    admin.goto(f"{system.web_url}/admin/login")
    admin.get_by_label("Email").fill(DEMO_LOGIN)
    admin.get_by_label("Password").fill(password)
    admin.get_by_role("button", name="Log in").click()
    admin.wait_for_url(lambda url: "/admin/login" not in url)
    admin.goto(f"{system.web_url}/admin/history/{callback_id}")
    timeline = admin.locator("#timeline tbody tr")
    expect(admin.locator("#callback-summary")).to_contain_text("connected")
    expect(admin.locator("#callback-summary")).to_contain_text("Anna")
    types = timeline.evaluate_all("rows => rows.map(r => r.dataset.type)")
    assert types[0] == "requested", types
    assert {"agent_answered", "agent_accepted", "customer_answered"} <= set(types), types
    assert visitor not in admin.content()  # the admin shows the number masked
    screenshot(admin, "demo-7-timeline")

    anna.get_by_role("button", name="Hang up").click()
    expect(anna.get_by_role("status")).to_have_text("Call ended (completed)")
    expect(caller.get_by_role("status")).to_have_text("Call ended (completed)")


def test_an_agent_who_declines_passes_the_callback_to_the_next(
    system: RunningSystem, person: BrowserContext, demo: None
) -> None:
    visitor = number()
    agents = dict((phone, name) for name, phone in DEMO_AGENTS)
    phones = person.new_page()
    phones.goto(f"{system.sim.base_url}/sim/phone")
    phones.get_by_label("Add a phone for a number").fill(visitor)
    phones.get_by_role("button", name="Add phone").click()
    expect(phone_card(phones, visitor).locator(".who")).to_have_text("Visitor")
    shop = person.new_page()
    shop.goto(f"{system.web_url}/demo/product/oak-chair")
    shop.locator("callback-widget .fab").click()
    shop.get_by_label(EN["phone"]).fill(visitor)
    shop.locator("callback-widget [role=dialog]").get_by_role("button", name=EN["submit"]).click()

    # Whoever the rule rings first (an agent still wrapping up an earlier call is skipped).
    first = phones.locator(".phone.ringing").first
    declined = first.get_attribute("data-number")
    assert declined in agents
    phone_card(phones, declined).get_by_role("button", name="Decline").click()
    expect(phone_card(phones, declined).get_by_role("status")).to_have_text("Declined (busy)")
    second = phones.locator(f'.phone.ringing:not([data-number="{declined}"])').first
    taker = second.get_attribute("data-number")
    assert taker in agents and taker != declined
    card = phone_card(phones, taker)
    card.get_by_role("button", name="Answer").click()
    card.get_by_role("button", name="Key 1").click()
    caller = phone_card(phones, visitor)
    caller.get_by_role("button", name="Answer").click()
    expect(card.get_by_role("status")).to_have_text("Connected — talking with +372 5…")
    wait_for_status(shop, "connected")

    caller.get_by_role("button", name="Hang up").click()  # the visitor ends the call
    expect(card.get_by_role("status")).to_have_text("Call ended (completed)")
    callback_id = shop.evaluate("window.__events.find(e => e.name === 'submitted').detail.id")
    with system.app_context():
        taker_id = next(a["id"] for a in admin_agents.list_agents() if a["phone"] == taker)

    def finished() -> tuple[str, int | None] | None:
        with system.app_context(), context.transaction() as session:
            callback = session.get(CallbackRequest, callback_id)
            assert callback is not None
            return (callback.status, callback.agent_id) if callback.status == "completed" else None

    assert wait_until(finished, 15, "the callback to complete") == ("completed", taker_id)
