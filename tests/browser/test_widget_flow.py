"""The visitor's flow in the panel against the running system and the carrier simulator:
submit, countdown, live status to `connected`; every error path; a booked slot when closed;
languages; a phone-sized screen; the whole flow by keyboard alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from playwright.sync_api import Page, expect
from sqlalchemy import select
from support.browser import screenshot
from support.system import RunningSystem
from widget_page import Visitor, events, new_context, number

from callback.models import Agent, CallbackRequest
from callback.services import context

I18N = Path(__file__).parents[2] / "callback/i18n"
EN = json.loads((I18N / "en.json").read_text("utf-8"))
ET = json.loads((I18N / "et.json").read_text("utf-8"))
FLOW = ["queued", "calling_agent", "agent_connected", "connected"]
DATA_LAYER = "<script>window.dataLayer = [];</script>"


def e164(region: str, kind: int) -> str:
    example = phonenumbers.example_number_for_type(region, kind)
    return phonenumbers.format_number(example, PhoneNumberFormat.E164)


def statuses(page: Page) -> list[str]:
    return [e["detail"]["status"] for e in events(page, "status")]


def wait_for_status(page: Page, status: str, timeout: float = 20_000) -> None:
    page.wait_for_function(
        "s => window.__events.some(e => e.name === 'status' && e.detail.status === s)",
        arg=status,
        timeout=timeout,
    )


def answering_agent(system: RunningSystem) -> str:
    agent = number()
    system.sim.phone(agent, outcome="answer", answer_after=2, digits="1")
    return agent


def answering_customer(system: RunningSystem) -> str:
    customer = number()
    # Stays on the line long after the test has seen "connected".
    system.sim.phone(customer, outcome="answer", answer_after=2, hangup_after=300)
    return customer


def test_a_number_becomes_a_call_and_the_panel_shows_it_live(system, browser_context, site, shop):
    agent, customer = answering_agent(system), answering_customer(system)
    visitor = Visitor(browser_context, site, shop(agents=[agent]))
    page = visitor.go("/product/kettle", head=DATA_LAYER, title="Blue Kettle")
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    expect(visitor.launcher).to_have_attribute("aria-expanded", "false")

    visitor.launcher.click()

    expect(visitor.panel).to_be_visible()
    expect(visitor.launcher).to_have_attribute("aria-expanded", "true")
    assert visitor.opened() == [{"source": "button"}]
    expect(visitor.panel.get_by_role("heading")).to_have_text(EN["title"])
    expect(visitor.panel.get_by_role("link", name=EN["privacy"])).to_have_count(0)
    screenshot(page, "widget-open")

    page.get_by_label(EN["phone"]).fill(customer.removeprefix("+372"))  # national form
    visitor.panel.get_by_role("button", name=EN["submit"]).click()

    count = visitor.panel.locator(".n")
    expect(count).to_be_visible()
    assert 15 <= int(count.inner_text()) <= 20
    screenshot(page, "widget-countdown")
    wait_for_status(page, "connected")

    expect(visitor.panel.get_by_role("status")).to_have_text(EN["s_connected"])
    expect(count).to_have_text("\u2713")
    seen = statuses(page)
    assert seen[0] == "queued" and seen[-1] == "connected"
    assert seen == [s for s in FLOW if s in seen], seen  # in flow order, each once
    submitted = events(page, "submitted")
    assert len(submitted) == 1 and posts == [f"{system.web_url}/api/v1/callbacks"]
    assert {e["detail"]["id"] for e in events(page, "status")} == {submitted[0]["detail"]["id"]}
    layer = page.evaluate("window.dataLayer")
    assert {"event": "callback:status", "callback_id": submitted[0]["detail"]["id"],
            "callback_status": "connected"} in layer  # fmt: skip
    agent_leg = system.sim.calls(to=agent)[0]
    customer_leg = system.sim.calls(to=customer)[0]
    assert agent_leg["bridged_with"] == customer_leg["sid"]
    whisper = next(v for v in agent_leg["verbs"] if v["verb"] == "Say")
    assert "Blue Kettle" in whisper["text"]  # the page title went with the number
    screenshot(page, "widget-connected")


def name_agent(system: RunningSystem, phone: str, name: str) -> None:
    with system.app_context(), context.transaction() as session:
        session.scalars(select(Agent).where(Agent.phone == phone)).one().name = name


@pytest.mark.parametrize(
    ("agent_name", "lang", "texts", "expected"),
    [
        pytest.param("Anna Tamm", "en", None, "Anna is on the line, calling you now", id="en"),
        pytest.param(
            "Anna Tamm", "et", None, ET["s_agent_named"].replace("{name}", "Anna"), id="et"
        ),
        pytest.param(
            "Anna Tamm",
            "et",
            {"et": {"s_agent_named": "{name} helistab kohe!"}},
            "Anna helistab kohe!",
            id="admin-text",
        ),
        # No name to tell (a number for a name is never shown): the generic words.
        pytest.param("7001", "en", None, EN["s_agent_connected"], id="no-name"),
    ],
)
def test_the_panel_names_the_agent_who_is_calling(
    request, system, browser_context, site, shop, agent_name, lang, texts, expected
):
    agent, customer = answering_agent(system), number()
    # The visitor's phone rings until the test answers it: time to see who is calling.
    system.sim.phone(customer, outcome="manual")
    key = shop(agents=[agent], texts=texts or {})
    name_agent(system, agent, agent_name)
    visitor = Visitor(browser_context, site, key)
    page = visitor.go("/shop", lang=lang)
    visitor.launcher.click()
    page.locator("callback-widget input[type=tel]").fill(customer)
    visitor.panel.locator(".go").click()

    wait_for_status(page, "agent_connected")
    status = visitor.panel.get_by_role("status")
    expect(status).to_have_text(expected)
    assert "Tamm" not in status.inner_text()
    screenshot(page, f"widget-agent-named-{request.node.callspec.id}")

    (ringing,) = system.sim.calls(to=customer)
    assert system.sim.post(f"/sim/calls/{ringing['sid']}/answer").ok
    wait_for_status(page, "connected")
    expect(status).to_have_text((ET if lang == "et" else EN)["s_connected"])
    assert system.sim.post(f"/sim/calls/{ringing['sid']}/hangup").ok


PREMIUM = e164("EE", PhoneNumberType.PREMIUM_RATE)
FINNISH_MOBILE = e164("FI", PhoneNumberType.MOBILE)


@pytest.mark.parametrize(
    ("code", "typed"),
    [
        ("format", "5555 abc"),
        ("invalid_phone", "+372 000 0000"),
        ("country_not_allowed", FINNISH_MOBILE),
        ("number_type_not_allowed", PREMIUM),
        ("blocked", "+372 5569 9999"),
        ("network", "+372 5569 8888"),
    ],
)
def test_every_refusal_is_shown_inline_in_plain_words(browser_context, site, shop, code, typed):
    key = shop(blocked_prefixes=["+3725569"] if code == "blocked" else [])
    visitor = Visitor(browser_context, site, key)
    page = visitor.go("/shop")
    visitor.launcher.click()
    phone = page.get_by_label(EN["phone"])
    phone.fill(typed)
    if code == "format":  # checked as the visitor types, before any request
        expect(visitor.panel.get_by_role("alert")).to_have_text(EN["e_format"])
        expect(phone).to_have_attribute("aria-invalid", "true")
    if code == "network":
        browser_context.set_offline(True)
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))

    visitor.panel.get_by_role("button", name=EN["submit"]).click()

    expect(visitor.panel.get_by_role("alert")).to_have_text(EN[f"e_{code}"])
    page.wait_for_function("window.__events.some(e => e.name === 'error')")
    assert [e["detail"] for e in events(page, "error")] == [{"code": code}]
    assert events(page, "submitted") == []
    assert len(posts) == (0 if code == "format" else 1)
    expect(phone).to_be_visible()  # the visitor can correct the number and send again
    screenshot(page, f"widget-error-{code.replace('_', '-')}")
    browser_context.set_offline(False)


def _closed_today_open_tomorrow() -> dict[str, list[list[str]]]:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return {days[(datetime.now(UTC).weekday() + 1) % 7]: [["09:00", "17:00"]]}


def test_when_closed_the_visitor_books_a_time_slot(system, browser_context, site, shop):
    key = shop(hours=_closed_today_open_tomorrow(), time_zone="UTC")
    visitor = Visitor(browser_context, site, key)
    page = visitor.go("/shop")
    visitor.launcher.click()

    expect(visitor.panel).to_contain_text(EN["lead_closed"])
    slot = visitor.panel.get_by_label(EN["slot"])
    options = slot.locator("option")
    expect(options).to_have_count(6)
    values = [options.nth(i).get_attribute("value") for i in range(6)]
    first = datetime.fromisoformat(values[0])
    assert first > datetime.now(UTC) and (first.hour, first.minute) == (9, 0)
    screenshot(page, "widget-closed-slots")

    slot.select_option(values[1])
    page.get_by_label(EN["phone"]).fill(number())
    visitor.panel.get_by_role("button", name=EN["submit_later"]).click()

    wait_for_status(page, "scheduled")
    assert statuses(page) == ["scheduled"]
    expect(visitor.panel.get_by_role("status")).to_contain_text(EN["s_scheduled"].split("{")[0])
    expect(visitor.panel.locator(".n")).to_be_hidden()
    callback_id = events(page, "submitted")[0]["detail"]["id"]
    with system.app_context(), context.transaction() as session:
        due = session.scalar(
            select(CallbackRequest.due_at).where(CallbackRequest.id == callback_id)
        )
    assert due == datetime.fromisoformat(values[1])
    screenshot(page, "widget-scheduled")


@pytest.mark.parametrize(
    ("lang", "locale", "title", "country"),
    [
        ("et", "en-US", "Küsimusi? Helistame teile", "EE"),
        ("de-AT", "en-US", "Fragen? Wir rufen Sie an", "EE"),
        (None, "fi-FI", "Kysyttävää? Soitamme sinulle", "FI"),
    ],
    ids=["page-et", "page-de", "browser-fi"],
)
def test_the_widget_speaks_the_page_language_or_the_browsers(
    browser, site, shop, lang, locale, title, country
):
    key = shop(allowed_countries=["EE", "FI"])
    ctx = new_context(browser, locale=locale)
    try:
        visitor = Visitor(ctx, site, key)
        page = visitor.go("/shop", lang=lang)
        visitor.launcher.click()
        expect(visitor.panel.get_by_role("heading")).to_have_text(title)
        assert visitor.panel.locator("select").first.input_value() == country
        wrapper_lang = page.evaluate(
            "document.querySelector('callback-widget').shadowRoot.querySelector('.w').lang"
        )
        assert wrapper_lang == (lang or locale)[:2]
        screenshot(page, f"widget-lang-{(lang or locale)[:2]}")
    finally:
        ctx.close()


def test_the_admins_texts_override_the_built_in_ones(browser_context, site, shop):
    key = shop(texts={"et": {"title": "Helistame kohe!", "privacy_url": "/privaatsus"}})
    visitor = Visitor(browser_context, site, key)
    visitor.go("/shop", lang="et")
    visitor.launcher.click()
    expect(visitor.panel.get_by_role("heading")).to_have_text("Helistame kohe!")
    link = visitor.panel.get_by_role("link", name="Privaatsuspoliitika")
    expect(link).to_have_attribute("href", "/privaatsus")


def test_on_a_phone_the_panel_is_a_bottom_sheet(system, browser, site, shop):
    ctx = new_context(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        visitor = Visitor(ctx, site, shop())
        page = visitor.go("/shop")
        visitor.launcher.tap()
        expect(visitor.panel).to_be_visible()
        page.wait_for_function(
            "() => document.querySelector('callback-widget').shadowRoot"
            ".querySelector('.p').getAnimations().every(a => a.playState === 'finished')"
        )
        box = visitor.panel.bounding_box()
        assert box is not None
        assert (box["x"], box["width"]) == (0, 390)
        assert box["y"] + box["height"] == pytest.approx(844, abs=1)
        screenshot(page, "widget-phone")
    finally:
        ctx.close()


def test_the_whole_flow_works_by_keyboard_alone(system, browser_context, site, shop):
    agent, customer = answering_agent(system), answering_customer(system)
    visitor = Visitor(browser_context, site, shop(agents=[agent]))
    page = visitor.go("/shop", body="<a href='#a'>First</a> <a href='#b'>Second</a>")
    focused = "(() => { const r = document.querySelector('callback-widget').shadowRoot;" \
        " const a = r.activeElement; return a ? a.id || a.className || a.tagName : null })()"  # fmt: skip

    for _ in range(3):  # the page's two links, then the widget's button
        page.keyboard.press("Tab")
    assert page.evaluate(focused) == "fab"
    page.keyboard.press("Enter")
    expect(visitor.panel).to_be_visible()
    assert page.evaluate(focused) == "cb-phone"

    page.keyboard.type(customer)
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "go"
    page.keyboard.press("Tab")  # past the last stop: round to the first, focus stays inside
    assert page.evaluate(focused) == "x"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == "go"
    screenshot(page, "widget-keyboard")
    page.keyboard.press("Enter")

    wait_for_status(page, "connected")
    page.keyboard.press("Escape")
    expect(visitor.panel).to_be_hidden()
    assert page.evaluate(focused) == "fab"  # focus returns to where the visitor was
    assert [e["name"] for e in events(page)][-1] == "close"


def test_calls_queued_before_the_script_loads_are_run(browser_context, site, shop):
    stub = (
        "<script>window.Callback = window.Callback || function () {"
        " (window.Callback.q = window.Callback.q || []).push(arguments) };"
        " Callback('open');</script>"
    )
    visitor = Visitor(browser_context, site, shop())
    page = visitor.go("/shop", head=stub)
    expect(visitor.panel).to_be_visible()
    assert visitor.opened() == [{"source": "api"}]
    page.evaluate("Callback('close')")
    expect(visitor.panel).to_be_hidden()
    assert events(page, "close") == [{"name": "close", "detail": {}}]


def test_a_filled_honeypot_pretends_success_and_sends_nothing(browser_context, site, shop):
    visitor = Visitor(browser_context, site, shop())
    page = visitor.go("/shop")
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    visitor.launcher.click()
    page.get_by_label(EN["phone"]).fill(number())
    visitor.panel.locator("input[name=website]").evaluate("i => { i.value = 'http://spam' }")
    visitor.panel.get_by_role("button", name=EN["submit"]).click()
    expect(visitor.panel.get_by_role("status")).to_have_text(EN["s_queued"])
    assert posts == [] and events(page, "submitted") == []


def test_open_with_a_free_agent_it_offers_the_call_now(browser_context, site, shop):
    visitor = Visitor(browser_context, site, shop(hours=None))
    visitor.go("/shop")
    visitor.launcher.click()
    expect(visitor.panel).to_contain_text(EN["lead"])
    expect(visitor.panel.locator("#cb-slot")).to_have_count(0)


def test_when_no_agent_is_free_slots_are_offered(browser_context, site, shop):
    visitor = Visitor(browser_context, site, shop(agents=[]))
    visitor.go("/shop")
    visitor.launcher.click()
    expect(visitor.panel).to_contain_text(EN["lead_busy"])
    expect(visitor.panel.locator("#cb-slot option")).to_have_count(6)
