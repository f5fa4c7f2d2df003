"""A real callback's status changes reach a CRM's webhook in order and signed: real web,
worker, beat and simulator (the session's running system), a real HTTP receiver.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import pytest
from support.crm import Crm
from support.receiver import wait_until
from support.system import RunningSystem

from callback.services.notifications import add_endpoint
from callback.services.notifications.signature import verify

HAPPY_PATH = ["queued", "calling_agent", "agent_connected", "connected", "completed"]


@pytest.fixture
def crm_factory() -> Iterator[list[Crm]]:
    made: list[Crm] = []
    yield made
    for crm in made:
        crm.stop()


def number() -> str:
    return f"+3725569{secrets.randbelow(10**4):04d}"


def connected_call(sys: RunningSystem, crm: Crm) -> tuple[str, str]:
    """A shop whose CRM is `crm`, and a callback that connects and completes; (id, secret)."""
    agent, customer = number(), number()
    sys.sim.phone(agent, outcome="answer", answer_after=2, digits="1")
    sys.sim.phone(customer, outcome="answer", answer_after=3, hangup_after=10)
    key = sys.shop("ordered", [agent])
    with sys.app_context():
        secret = add_endpoint(crm.url, key).secret
    accepted = sys.request(key, customer, page_url="https://shop.example/kettle")
    assert sys.wait_for_status(accepted)["status"] == "completed"
    return str(accepted["id"]), secret


def test_status_changes_reach_the_crm_in_order_and_signed(
    sys: RunningSystem, crm_factory: list[Crm]
) -> None:
    crm = Crm()
    crm_factory.append(crm)

    callback_id, secret = connected_call(sys, crm)

    hits = wait_until(
        lambda: len(crm.accepted()) >= len(HAPPY_PATH) and crm.accepted(),
        15,
        "every status change at the CRM",
    )
    assert [hit.status for hit in hits] == HAPPY_PATH
    for hit in hits:
        assert verify(secret, hit.headers.get("X-Callback-Signature"), hit.body, now=time.time())
        document = json.loads(hit.body)
        assert (document["event"], document["id"]) == ("callback.status", callback_id)
        assert document["page_url"] == "https://shop.example/kettle"
    assert len({hit.headers["X-Callback-Delivery"] for hit in hits}) == len(HAPPY_PATH)
    moments = [json.loads(hit.body)["at"] for hit in hits]
    assert moments == sorted(moments)


def test_a_crm_that_fails_first_gets_the_same_delivery_again_and_order_holds(
    sys: RunningSystem, crm_factory: list[Crm]
) -> None:
    crm = Crm(503)  # down for the first request
    crm_factory.append(crm)

    _, secret = connected_call(sys, crm)

    accepted = wait_until(
        lambda: len(crm.accepted()) >= len(HAPPY_PATH) and crm.accepted(),
        20,
        "every status change at the CRM after the retry",
    )
    assert [hit.status for hit in accepted] == HAPPY_PATH
    first, retried = crm.received()[:2]
    assert (first.answered, retried.answered) == (503, 200)
    assert first.body == retried.body
    assert first.headers["X-Callback-Delivery"] == retried.headers["X-Callback-Delivery"]
    # Signed afresh for the retry, and valid.
    assert verify(secret, retried.headers.get("X-Callback-Signature"), retried.body, time.time())
