"""Injected carrier faults (PUT /sim/config): REST errors and delays, webhook drop/dup/reorder/delay."""

from __future__ import annotations

import time

import pytest
from support.receiver import WebhookReceiver, wait_until
from support.simulator import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, Simulator
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from callback.config import Settings
from callback.telephony import ProviderError
from callback.telephony.twilio_provider import TwilioProvider

AGENT = "+3725550111"
EVENTS = ["initiated", "ringing", "answered", "completed"]
UNKNOWN_SID = "CA" + "0" * 32


def configure(sim: Simulator, **settings: object) -> dict:
    response = sim.put("/sim/config", settings)
    assert response.status_code == 200, response.text
    return response.json()


def place(client: Client, receiver: WebhookReceiver):
    receiver.twiml("/answer", "<Response><Say>Hello</Say><Hangup/></Response>")
    return client.calls.create(
        to=AGENT,
        from_=CALLER_ID,
        url=receiver.url("/answer"),
        status_callback=receiver.url("/status"),
        status_callback_event=EVENTS,
    )


def ended(sim: Simulator, sid: str) -> dict:
    return wait_until(
        lambda: (c := sim.call(sid))["status"] == "completed" and c, 10, f"call {sid} to end"
    )


def sequence(receiver: WebhookReceiver, count: int) -> list[int]:
    return [int(r.form["SequenceNumber"]) for r in receiver.wait_for("/status", count=count)]


@pytest.mark.parametrize(
    "settings",
    [
        {"api_error_rate": 1.5},
        {"api_error_rate": "half"},
        {"api_error_status": 404},
        {"api_delay_s": -1},
        {"webhook_delay_s": 61},
        {"webhook_drop_rate": True},
        {"fault_seed": 1.5},
        {"webhook_reorder": 1},
    ],
)
def test_bad_fault_settings_are_refused_with_a_reason(sim: Simulator, settings):
    response = sim.put("/sim/config", settings)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_setting", "unknown_setting")
    assert sim.http.get(f"{sim.base_url}/sim/config").json()["api_error_rate"] == 0


def test_faults_are_reported_and_cleared_by_reset(sim: Simulator):
    shown = configure(sim, api_error_rate=0.25, api_error_status=429, fault_seed=7)
    assert (shown["api_error_rate"], shown["api_error_status"], shown["fault_seed"]) == (
        0.25,
        429,
        7,
    )
    assert sim.post("/sim/reset").status_code == 200
    after = sim.http.get(f"{sim.base_url}/sim/config").json()
    assert after["api_error_rate"] == 0 and after["fault_seed"] is None


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503), (429, 20429)])
def test_rest_errors_carry_twilio_codes(sim: Simulator, client: Client, status, code):
    configure(sim, api_error_rate=1, api_error_status=status)
    with pytest.raises(TwilioRestException) as raised:
        client.calls(UNKNOWN_SID).fetch()
    assert (raised.value.status, raised.value.code) == (status, code)


def test_the_provider_classifies_injected_errors_as_retryable(sim: Simulator, client: Client):
    configure(sim, api_error_rate=1, api_error_status=503)
    provider = TwilioProvider(_settings(sim))
    with pytest.raises(ProviderError) as raised:
        provider.fetch_call(UNKNOWN_SID)
    assert raised.value.retryable and raised.value.status == 503


def test_the_same_seed_gives_the_same_faults(sim: Simulator, client: Client):
    def outcomes() -> list[bool]:
        configure(sim, api_error_rate=0.5, fault_seed=42)
        seen = []
        for _ in range(24):
            with pytest.raises(TwilioRestException) as raised:
                client.calls(UNKNOWN_SID).fetch()  # served: 404; injected fault: 500
            seen.append(raised.value.status == 404)
        return seen

    first, second = outcomes(), outcomes()
    assert first == second
    assert 0 < sum(first) < len(first)  # some of each: the rate is applied, not all or nothing


def test_slow_answers_make_the_provider_time_out(sim: Simulator, client: Client):
    configure(sim, api_delay_s=1.0)
    started = time.monotonic()
    client.calls.list(limit=1)
    assert time.monotonic() - started >= 1.0
    provider = TwilioProvider(_settings(sim), http_timeout_s=0.3)
    with pytest.raises(ProviderError) as raised:
        provider.fetch_call(UNKNOWN_SID)
    assert raised.value.retryable and "timed out" in str(raised.value)


def test_dropped_status_callbacks_never_arrive(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    configure(sim, webhook_drop_rate=1)
    call = place(client, receiver)
    ended(sim, call.sid)
    receiver.wait_for("/answer")  # the call itself ran: only its callbacks were lost
    # Drops are decided on the call's own thread before it ends, so none can still be on the way.
    assert receiver.received("/status") == []


def test_duplicated_status_callbacks_arrive_twice(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    configure(sim, webhook_duplicate_rate=1)
    place(client, receiver)
    assert sequence(receiver, 8) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_reordered_status_callbacks_swap_with_the_next_one(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    configure(sim, webhook_reorder_rate=1)
    place(client, receiver)
    assert sequence(receiver, 4) == [1, 0, 3, 2]


def test_delayed_status_callbacks_come_late_but_in_order(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    configure(sim, webhook_delay_s=0.5)
    placed_at = time.monotonic()
    place(client, receiver)
    assert sequence(receiver, 4) == [0, 1, 2, 3]
    first = receiver.received("/status")[0]
    assert first.at - placed_at >= 0.5


def _settings(sim: Simulator) -> Settings:
    return Settings.from_env(
        {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE": sim.base_url,
        }
    )
