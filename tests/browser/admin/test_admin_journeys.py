"""The admin's main journeys in headless Chromium against the running system: log in and out,
add an agent (a bad phone refused inline), set working hours, reorder a rule by drag and drop
and by keyboard, create a widget and copy its snippet, create and revoke an API token, and an
agent flipping presence on a phone-sized screen. Screenshots go to the test artifacts."""

from __future__ import annotations

import secrets

import requests
from admin_browser import Login, sign_in
from playwright.sync_api import Browser, BrowserContext, Page, expect
from support.browser import screenshot
from support.system import RunningSystem

from callback.phone import mask
from callback.services import admin_agents, admin_rules, admin_widgets
from callback.services import context as services
from callback.services.setup import add_agent, ensure_rule


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def phone() -> str:
    return "+3725" + str(secrets.randbelow(10**6)).zfill(6) + "2"


def test_log_in_and_out(page: Page, owner: Login) -> None:
    page.goto("/admin/agents")
    expect(page).to_have_url("/admin/login?next=/admin/agents")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill("not my password")
    screenshot(page, "admin-login")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/admin/agents")  # back where the login started
    expect(page.get_by_role("navigation", name="Admin").get_by_role("link")).to_have_text(
        ["Board", "History", "Statistics", "Agents", "Rules", "Widgets", "Tokens"]
    )
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url("/admin/login")
    page.goto("/admin/rules")
    expect(page).to_have_url("/admin/login?next=/admin/rules")


def test_add_an_agent_and_see_a_bad_phone_refused(
    page: Page, owner: Login, system: RunningSystem
) -> None:
    sign_in(page, owner)
    page.goto("/admin/agents")
    name = unique("Kadri")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Phone").fill("+44 909 879 0000")  # premium rate
    page.get_by_role("button", name="Add agent").click()
    error = page.locator("#phone-error")
    expect(error).to_contain_text("premium-rate numbers cannot be called")
    expect(page.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value(name)  # the form keeps what was typed

    number = phone()
    page.get_by_label("Phone").fill(number[:4] + " " + number[4:8] + " " + number[8:])
    page.get_by_role("button", name="Add agent").click()
    expect(page.locator(".flashes")).to_contain_text(f"Agent {name} added.")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("online")
    expect(row).to_contain_text(mask(number))  # the country code and first digits only
    expect(row).not_to_contain_text(number[6:])
    screenshot(page, "admin-agents")
    with system.app_context():
        stored = [a for a in admin_agents.list_agents() if a["name"] == name]
    assert [a["phone"] for a in stored] == [number]


def test_set_working_hours(page: Page, owner: Login, system: RunningSystem) -> None:
    with system.app_context():
        agent_id = add_agent(unique("Liis"), phone()).id
    sign_in(page, owner)
    page.goto(f"/admin/agents/{agent_id}")
    page.get_by_label("Fixed hours").check()
    page.get_by_label("Monday").fill("09:00-17:00")
    page.get_by_label("Tuesday").fill("9:00-12:00, 13:00-17:00")
    page.get_by_label("Saturday").fill("18:00-10:00")
    page.get_by_label("Time zone").fill("Europe/Tallinn")
    page.get_by_role("button", name="Save agent").click()
    expect(page.locator("#hours\\.sat-error")).to_contain_text("Saturday")
    expect(page.get_by_label("Saturday")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Saturday").fill("")
    page.get_by_role("button", name="Save agent").click()
    expect(page.locator(".flashes")).to_have_text("Agent saved.")
    page.reload()
    expect(page.get_by_label("Monday")).to_have_value("09:00-17:00")
    expect(page.get_by_label("Tuesday")).to_have_value("09:00-12:00, 13:00-17:00")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Tallinn")
    with system.app_context():
        agent = admin_agents.get_agent(agent_id)
    assert agent["hours"] == {
        "mon": [["09:00", "17:00"]],
        "tue": [["09:00", "12:00"], ["13:00", "17:00"]],
    }
    assert agent["time_zone"] == "Europe/Tallinn"


def member_names(page: Page) -> list[str]:
    return page.locator("#members li").evaluate_all("items => items.map(i => i.dataset.name)")


def test_reorder_a_rule_by_drag_and_drop_and_by_keyboard(
    page: Page, owner: Login, system: RunningSystem
) -> None:
    rule = unique("rule")
    names = [unique(n) for n in ("Anna", "Mart", "Liis")]
    with system.app_context():
        with services.transaction() as session:
            rule_id = ensure_rule(session, rule, strategy="ordered").id
        for name in names:
            add_agent(name, phone(), rule=rule)
    anna, mart, liis = names
    sign_in(page, owner)
    page.goto(f"/admin/rules/{rule_id}")
    members = page.locator("#members")
    status = page.locator("#members-status")
    assert member_names(page) == [anna, mart, liis]

    # Drag Liis onto Anna: Liis first.
    page.locator(f"#members li[data-name='{liis}']").drag_to(
        page.locator(f"#members li[data-name='{anna}']")
    )
    expect(status).to_contain_text(f"{liis} is now at position 1 of 3. Order saved.")
    page.reload()
    assert member_names(page) == [liis, anna, mart]

    # Keyboard: focus Mart and press Alt+Up twice.
    item = page.locator(f"#members li[data-name='{mart}']")
    item.focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(status).to_contain_text(f"{mart} is now at position 2 of 3. Order saved.")
    page.keyboard.press("Alt+ArrowUp")
    expect(status).to_contain_text(f"{mart} is now at position 1 of 3. Order saved.")
    expect(item).to_be_focused()
    # And the buttons: Liis down, to the end.
    page.get_by_role("button", name=f"Move {liis} down").click()
    expect(status).to_contain_text(f"{liis} is now at position 3 of 3. Order saved.")
    expect(members).to_have_attribute("data-saved", ",".join(str(i) for i in _ids(system, rule_id)))
    page.reload()
    assert member_names(page) == [mart, anna, liis]
    screenshot(page, "admin-rule")
    with system.app_context():
        stored = admin_rules.get_rule(rule_id)["members"]
    assert [m["name"] for m in stored] == [mart, anna, liis]


def _ids(system: RunningSystem, rule_id: int) -> list[int]:
    with system.app_context():
        return [m["agent_id"] for m in admin_rules.get_rule(rule_id)["members"]]


def test_create_a_widget_copy_its_snippet_and_preview_it(
    browser: Browser, owner: Login, system: RunningSystem
) -> None:
    context = browser.new_context(base_url=system.web_url, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=system.web_url)
    try:
        page = context.new_page()
        rule = unique("widget-rule")
        with system.app_context(), services.transaction() as session:
            ensure_rule(session, rule)
        sign_in(page, owner)
        page.goto("/admin/widgets")
        name = unique("Kitchen shop")
        page.get_by_label("Name").fill(name)
        page.get_by_label("Rule").select_option(label=rule)
        page.get_by_label("Countries called").fill("EE, FI")
        page.get_by_role("button", name="Create widget").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Widget {name}")
        key = page.locator("#public-key").inner_text()
        snippet = f'<script async src="{system.web_url}/widget.js" data-widget="{key}"></script>'
        expect(page.locator("#snippet")).to_have_text(snippet)

        page.get_by_role("button", name="Copy", exact=True).click()
        expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
        assert page.evaluate("navigator.clipboard.readText()") == snippet

        # The preview runs the real widget.js with this key: it asks for its config.
        with page.expect_request(lambda r: f"/api/v1/widgets/{key}" in r.url):
            page.get_by_role("button", name="Reload preview").click()
        frame = page.frame_locator("#preview")
        expect(frame.locator(f"script[data-widget='{key}']")).to_have_count(1)

        # Bad triggers JSON is refused inline; good settings are saved.
        page.get_by_label("Triggers (JSON)").fill('{"rules": [{"type": "telepathy"}]}')
        page.get_by_role("button", name="Save widget").click()
        expect(page.locator("#triggers-error")).to_contain_text("'type' must be one of")
        page.get_by_label("Triggers (JSON)").fill(
            '{"threshold": 1, "rules": [{"type": "exit_intent"}]}'
        )
        page.get_by_label("Position").select_option("left")
        page.get_by_label("Closed on these dates").fill("2026-12-24\n2026-12-25")
        page.get_by_role("button", name="Save widget").click()
        expect(page.locator(".flashes")).to_have_text("Widget saved.")
        screenshot(page, "admin-widget")
        with system.app_context():
            widget = next(w for w in admin_widgets.list_widgets() if w["public_key"] == key)
        assert widget["triggers"] == {"threshold": 1, "rules": [{"type": "exit_intent"}]}
        assert (widget["position"], widget["holidays"]) == ("left", ["2026-12-24", "2026-12-25"])
        assert widget["allowed_countries"] == ["EE", "FI"]
    finally:
        context.close()


def test_create_and_revoke_an_api_token(page: Page, owner: Login, system: RunningSystem) -> None:
    sign_in(page, owner)
    page.goto("/admin/tokens")
    name = unique("CRM sync")
    page.get_by_label("Name").fill(name)
    page.get_by_label("write").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-secret").inner_text()
    assert secret.startswith("cbk_")
    expect(page.locator("#new-token")).to_contain_text("shown only once")
    screenshot(page, "admin-tokens")
    http = requests.Session()
    http.trust_env = False
    me = http.get(
        f"{system.web_url}/api/v1/admin/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert me.status_code == 200 and me.json()["email"] == owner.email

    page.goto("/admin/tokens")
    expect(page.locator("body")).not_to_contain_text(secret)  # never shown again
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(secret[:10])
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".flashes")).to_contain_text("Token revoked")
    expect(row).to_contain_text("revoked")
    again = http.get(
        f"{system.web_url}/api/v1/admin/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_token"


def test_an_agent_flips_presence_on_a_phone(
    browser: Browser, agent_login: Login, system: RunningSystem
) -> None:
    context: BrowserContext = browser.new_context(
        base_url=system.web_url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        sign_in(page, agent_login)
        expect(page).to_have_url("/admin/presence")
        expect(page.locator("#current-presence")).to_have_text("online")
        page.get_by_role("button", name="Paused").tap()
        expect(page.locator("#current-presence")).to_have_text("paused")
        expect(page.get_by_role("button", name="Paused")).to_have_attribute("aria-pressed", "true")
        # Fits the phone: no sideways scrolling, buttons big enough to hit with a thumb.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        box = page.get_by_role("button", name="Online").bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 300
        screenshot(page, "admin-presence-phone")
        with system.app_context():
            assert admin_agents.get_agent(agent_login.agent_id or 0)["presence"] == "paused"
        page.get_by_role("button", name="Online").tap()
        expect(page.locator("#current-presence")).to_have_text("online")
        # An agent cannot open the configuration.
        response = page.goto("/admin/rules")
        assert response is not None and response.status == 403
    finally:
        context.close()
