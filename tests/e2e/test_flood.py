"""A flood against the running system: thousands of callback requests from many addresses
(X-Forwarded-For, read through ProxyFix as behind the load balancer) and many numbers.

Widget "flooded" has a daily cap of CAP. The flood mixes what an attacker would send: many
fresh valid numbers from many addresses, one address sending fast, one number sent again and
again from everywhere, and numbers the policy refuses. Afterwards:

- exactly CAP callbacks exist for the widget, and the carrier dialled no customer but
  those CAP (agents answer and press 1, customers answer and hang up);
- everything else got 429 (rate_limited or daily_cap_reached) or 422, with Retry-After on
  every 429, and nothing got a 5xx;
- a visitor of another widget, from an address of their own, is still called back.

Bounded: REQUESTS requests from THREADS threads, every wait with a deadline.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from sqlalchemy import func, select, update
from support.receiver import wait_until
from support.system import RunningSystem

from callback.models import CallbackRequest, Widget
from callback.services import context

CAP = 6
REQUESTS = 2400
THREADS = 12
_numbers = iter(range(10**5))


def number() -> str:
    return f"+372558{next(_numbers):05d}"


def flood_plan() -> list[tuple[str, str]]:
    """(address, phone) pairs, interleaved so every kind arrives throughout the flood."""
    fresh = [(f"10.44.{i % 250}.{(i // 250) % 250}", number()) for i in range(2000)]
    fast = [("10.45.0.1", number()) for _ in range(200)]  # one address, over its limit
    again = number()
    repeated = [(f"10.46.{i}.1", again) for i in range(100)]  # one number, over its limit
    refused = [(f"10.47.{i}.1", "+372 0000 000") for i in range(100)]  # not a valid number
    plan: list[tuple[str, str]] = []
    kinds = [fresh, fast, repeated, refused]
    while any(kinds):
        for kind in kinds:
            if kind:
                plan.append(kind.pop())
    return plan


def test_a_flood_places_no_more_calls_than_the_cap(sys: RunningSystem) -> None:
    agents = [number(), number(), number()]
    for agent in agents:
        sys.sim.phone(agent, outcome="answer", answer_after=1, digits="1")
    sys.sim.phone("default", outcome="answer", answer_after=1, hangup_after=2)
    flooded = sys.shop("ordered", agents[:2])
    other = sys.shop("ordered", agents[2:])
    with sys.app_context(), context.transaction() as session:
        session.execute(
            update(Widget).where(Widget.public_key == flooded).values(daily_call_cap=CAP)
        )

    plan = flood_plan()
    assert len(plan) == REQUESTS
    local = threading.local()

    def send(item: tuple[str, str]) -> tuple[int, str, dict[str, Any], str | None]:
        address, phone = item
        if not hasattr(local, "http"):
            local.http = requests.Session()
            local.http.trust_env = False
        response = local.http.post(
            f"{sys.web_url}/api/v1/callbacks",
            json={"widget": flooded, "phone": phone},
            headers={"X-Forwarded-For": address},
            timeout=30,
        )
        return response.status_code, phone, response.json(), response.headers.get("Retry-After")

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(send, plan))

    statuses = Counter(status for status, *_ in answers)
    assert set(statuses) <= {202, 422, 429}, statuses
    codes = Counter(body["error"]["code"] for status, _, body, _ in answers if status != 202)
    assert set(codes) <= {"rate_limited", "daily_cap_reached", "invalid_phone"}, codes
    assert codes["rate_limited"] > 0 and codes["daily_cap_reached"] > 0, codes
    assert all(wait and int(wait) >= 1 for status, _, _, wait in answers if status == 429)
    accepted = {body["id"]: phone for status, phone, body, _ in answers if status == 202}
    assert len(accepted) == CAP, statuses

    with sys.app_context(), context.transaction() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(CallbackRequest)
            .join(Widget, Widget.id == CallbackRequest.widget_id)
            .where(Widget.public_key == flooded)
        )
    assert stored == CAP

    # The legitimate visitor of another shop, from an address of their own, gets through.
    visitor = number()
    legit = sys.post(other, visitor)
    assert legit.status_code == 202, legit.text

    for callback_id in accepted:
        status_url = f"/api/v1/callbacks/{callback_id}?token="
        body = next(b for s, _, b, _ in answers if s == 202 and b["id"] == callback_id)
        assert body["status_url"].startswith(status_url)
        sys.wait_for_status(body, timeout=90)  # completed, or failed after its attempts

    def dialled_customers() -> Counter[str]:
        return Counter(call["to"] for call in sys.sim.calls() if call["to"] not in agents)

    flood_numbers = {phone for _, phone in plan}
    dialled = {n for n in dialled_customers() if n in flood_numbers}
    # Only the accepted numbers were ever dialled: every other request cost nothing.
    assert dialled <= set(accepted.values()), dialled - set(accepted.values())
    assert len(dialled) >= CAP - 1, dialled  # and they really were called back
    wait_until(lambda: visitor in dialled_customers(), 60, "the other shop's visitor to ring")
