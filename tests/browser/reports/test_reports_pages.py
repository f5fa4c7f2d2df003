"""Real callbacks through the running system, watched and read in the admin with Chromium:
the live board, the history and a timeline, and the statistics with their charts.

Screenshots `admin-board`, `admin-history`, `admin-timeline` and `admin-stats` are saved to
the test artifacts.
"""

from __future__ import annotations

import re
from typing import Any

from admin_shop import ReportsShop, number
from playwright.sync_api import Page, expect
from support.browser import screenshot
from support.system import RunningSystem

# What a callback that an agent accepts and the customer answers leaves in its timeline.
BRIDGED = [
    "requested",
    "queued",
    "dispatched",
    "agent_ringing",
    "agent_answered",
    "agent_accepted",
    "customer_ringing",
    "customer_answered",
    "call_ended",
]
LIVE_TIMEOUT_MS = 30_000


def api(page: Page, system: RunningSystem, path: str, **params: Any) -> Any:
    """The admin API as the logged-in page sees it (its session cookie)."""
    response = page.request.get(f"{system.web_url}{path}", params=params)
    assert response.ok, response.text()
    return response.json()


def request(system: RunningSystem, shop: ReportsShop, customer: str, **phone: Any) -> str:
    system.sim.phone(customer, outcome="answer", **phone)
    return system.request(shop.key, customer, page_title="Blue Kettle")["id"]  # type: ignore[no-any-return]


def test_a_callback_appears_on_the_board_and_connects(
    admin_page: Page, system: RunningSystem, reports_shop: ReportsShop
):
    page = admin_page
    expect(page.get_by_role("heading", name="Live board")).to_be_visible()
    anna = page.locator(f'#board-agents tr[data-agent-id="{reports_shop.agents["Anna"]}"]')
    expect(anna).to_have_attribute("data-state", "available")

    # The customer talks for 6 s of wall time (60 s simulated): long enough to watch.
    callback_id = request(system, reports_shop, number(), answer_after=3, hangup_after=60)

    row = page.locator(f'#board-in-flight tr[data-callback-id="{callback_id}"]')
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(row).to_have_attribute("data-status", "connected", timeout=LIVE_TIMEOUT_MS)
    expect(anna).to_have_attribute("data-state", "on_call")
    expect(row).to_contain_text("Anna")
    expect(row).to_contain_text("Blue Kettle")
    expect(row.locator("td.elapsed")).to_contain_text(re.compile(r"connected in \d+\.\d s"))
    # The number is masked on the board: "+372 55•• ••••".
    expect(row).to_contain_text(re.compile(r"\+372 55•"))
    screenshot(page, "admin-board")

    done = page.locator(f'#board-recent tr[data-callback-id="{callback_id}"]')
    expect(done).to_have_attribute("data-status", "completed", timeout=LIVE_TIMEOUT_MS)
    expect(row).to_have_count(0)
    expect(anna).not_to_have_attribute("data-state", "on_call")


def test_the_history_finds_a_callback_and_shows_its_timeline(
    admin_page: Page, system: RunningSystem, reports_shop: ReportsShop
):
    customer = number()
    system.sim.phone(customer, outcome="answer", answer_after=3, hangup_after=10)
    accepted = system.request(reports_shop.key, customer, page_title="Blue Kettle")
    assert system.wait_for_status(accepted)["status"] == "completed"

    page = admin_page
    page.get_by_role("link", name="History").click()
    page.get_by_label("Number ends with").fill(customer[-6:])
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#history-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-callback-id", accepted["id"])
    expect(rows.first).to_contain_text("completed")
    expect(rows.first).to_contain_text(re.compile(r"\d+\.\d s"))  # time to connect
    assert customer not in page.content()
    screenshot(page, "admin-history")

    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile("Callback"))).to_be_visible()
    detail = api(page, system, f"/api/v1/admin/callbacks/{accepted['id']}")
    timeline = page.locator("#timeline tbody tr")
    expect(timeline).to_have_count(len(detail["timeline"]))
    # The page shows what the API says, every event in order.
    types = [row.get_attribute("data-type") for row in timeline.all()]
    offsets = [row.locator("td").first.inner_text() for row in timeline.all()]
    assert types == [entry["type"] for entry in detail["timeline"]]
    assert offsets == [entry["offset"] for entry in detail["timeline"]]
    # A bridged call's steps, in order (a loaded system may add e.g. a sweeper's event).
    remaining = iter(types)
    assert all(step in remaining for step in BRIDGED), types
    assert offsets[0] == "+0 s" and all(re.fullmatch(r"\+\d+(\.\d+)? s", o) for o in offsets)
    seconds = [float(o[1:-2]) for o in offsets]
    assert seconds == sorted(seconds) and seconds[-1] > 0, offsets
    # Who took it depends on who was still in wrap-up after the previous test.
    agent = detail["agent"]
    assert agent in reports_shop.agents
    expect(page.locator("#timeline")).to_contain_text(f"ringing {agent}")
    expect(page.locator("#timeline")).to_contain_text(f"{agent} pressed 1")
    expect(page.locator("#timeline")).to_contain_text("customer answered")
    screenshot(page, "admin-timeline")


def test_statistics_are_drawn_from_the_real_callbacks(
    admin_page: Page, system: RunningSystem, reports_shop: ReportsShop
):
    busy = number()
    system.sim.phone(busy, outcome="busy", answer_after=1)
    slow = number()
    for customer, behaviour in (
        (number(), {"answer_after": 2, "hangup_after": 6}),
        (slow, {"answer_after": 12, "hangup_after": 6}),
    ):
        system.sim.phone(customer, outcome="answer", **behaviour)
        system.wait_for_status(system.request(reports_shop.key, customer), timeout=45)
    failed = system.wait_for_status(system.request(reports_shop.key, busy), timeout=45)
    assert (failed["status"], failed["reason"]) == ("failed", "customer_busy")

    page = admin_page
    page.get_by_role("link", name="Statistics").click()
    page.get_by_label("Widget").select_option(str(reports_shop.widget_id))
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"widget={reports_shop.widget_id}"))
    stats = api(page, system, "/api/v1/admin/stats", widget=str(reports_shop.widget_id))
    assert stats["connected"] >= 2 and stats["tz"] == "Europe/Tallinn"

    histogram = page.locator("#chart-time-to-connect rect.bar")
    expect(histogram).to_have_count(16)
    drawn = [int(bar.get_attribute("data-value") or 0) for bar in histogram.all()]
    assert drawn == [bucket["count"] for bucket in stats["time_to_connect"]]
    assert sum(drawn) == stats["connected"]
    heights = [float(bar.get_attribute("height") or 0) for bar in histogram.all()]
    assert [h > 0 for h in heights] == [n > 0 for n in drawn]  # a bar for every non-empty band
    expect(page.locator("#chart-time-to-connect title").first).to_have_text("Time to connect")

    hours = page.locator("#chart-by-hour rect.bar")
    expect(hours).to_have_count(24)
    assert sum(int(b.get_attribute("data-value") or 0) for b in hours.all()) == stats["total"]
    weekdays = page.locator("#chart-by-weekday rect.bar")
    assert [int(b.get_attribute("data-value") or 0) for b in weekdays.all()] == stats["by_weekday"]

    expect(page.locator('[data-stat="total"]')).to_have_text(str(stats["total"]))
    expect(page.locator('[data-stat="p50_s"]')).to_have_text(f"{stats['p50_s']:.1f} s")
    expect(page.locator('[data-stat="p95_s"]')).to_have_text(f"{stats['p95_s']:.1f} s")
    anna = page.locator(f'#stats-agents tr[data-agent-id="{reports_shop.agents["Anna"]}"]')
    expect(anna).to_be_visible()
    expect(page.locator('#stats-failures tr[data-reason="customer_busy"]')).to_contain_text("1")
    screenshot(page, "admin-stats")

    csv_link = page.locator("#csv-callbacks").get_attribute("href")
    assert csv_link is not None
    exported = page.request.get(system.web_url + csv_link)
    assert exported.ok and exported.headers["content-type"].startswith("text/csv")
    assert exported.text().count("\n") == stats["total"] + 1
    assert busy not in exported.text() and slow not in exported.text()
