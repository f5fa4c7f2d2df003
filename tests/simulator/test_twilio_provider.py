"""TwilioProvider against the real simulator process, through the official twilio client."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from support.ports import free_port
from support.receiver import WebhookReceiver, wait_until
from support.simulator import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, Simulator

from callback.config import Settings
from callback.telephony import (
    CallInfo,
    Provider,
    ProviderError,
    TwilioProvider,
    make_provider,
    twiml,
)

AGENT = "+3725550101"
CUSTOMER = "+3725550202"


def settings_for(api_base: str) -> Settings:
    return Settings.from_env(
        {
            "TWILIO_API_BASE": api_base,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_CALLER_ID": CALLER_ID,
        }
    )


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def provider(sim: Simulator, no_proxy: None) -> TwilioProvider:
    return TwilioProvider(settings_for(sim.base_url))


def place(provider: Provider, receiver: WebhookReceiver, to: str = AGENT, timeout_s: int = 20):
    return provider.place_call(
        to, CALLER_ID, receiver.url("/answer"), receiver.url("/status"), timeout_s
    )


def statuses(receiver: WebhookReceiver, sid: str, path: str = "/status") -> list[str]:
    return [r.form["CallStatus"] for r in receiver.received(path) if r.form["CallSid"] == sid]


def ended(sim: Simulator, sid: str) -> dict:
    return wait_until(
        lambda: (c := sim.call(sid))["status"] not in ("queued", "ringing", "in-progress") and c,
        what=f"call {sid} to end",
    )


def test_make_provider_gives_a_provider(sim, no_proxy):
    provider = make_provider(settings_for(sim.base_url))
    assert isinstance(provider, TwilioProvider)
    assert isinstance(provider, Provider)


def test_place_call_rings_the_agent_and_fetches_our_answer_url(sim, provider, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=2)
    receiver.twiml("/answer", twiml.hang_up())

    sid = place(provider, receiver)

    assert sid.startswith("CA") and len(sid) == 34
    answered = receiver.wait_for("/answer")[0]
    assert answered.method == "POST"
    assert answered.form["CallSid"] == sid and answered.form["To"] == AGENT
    assert answered.signature  # the simulator signs with our auth token, as Twilio does
    call = ended(sim, sid)
    assert call["to"] == AGENT and call["from"] == CALLER_ID
    assert [h["status"] for h in call["history"]][:2] == ["initiated", "ringing"]
    assert call["status"] == "completed"
    wait_until(lambda: "completed" in statuses(receiver, sid), what="the completed callback")
    assert statuses(receiver, sid) == ["initiated", "ringing", "in-progress", "completed"]
    assert {r.method for r in receiver.received("/status")} == {"POST"}


def test_place_call_passes_the_ring_timeout(sim, provider, receiver):
    sim.phone(AGENT, outcome="no-answer")
    sid = place(provider, receiver, timeout_s=7)
    assert sim.call(sid)["timeout"] == 7
    assert ended(sim, sid)["status"] == "no-answer"
    assert receiver.received("/answer") == []


def test_cancel_while_ringing_ends_as_canceled_and_is_idempotent(sim, provider, receiver):
    sim.phone(AGENT, outcome="no-answer")
    sid = place(provider, receiver, timeout_s=60)
    wait_until(lambda: sim.call(sid)["status"] == "ringing", what="the agent's phone to ring")

    provider.cancel_call(sid)

    assert ended(sim, sid)["status"] == "canceled"
    assert provider.fetch_call(sid).status == "canceled"
    provider.cancel_call(sid)  # already ended: 21220, which is success here
    provider.cancel_call(sid)
    assert receiver.received("/answer") == []


def test_cancel_hangs_up_a_call_in_progress(sim, provider, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.twiml("/answer", '<Response><Pause length="600"/></Response>')
    sid = place(provider, receiver)
    receiver.wait_for("/answer")

    provider.cancel_call(sid)

    assert ended(sim, sid)["status"] == "completed"
    provider.cancel_call(sid)


def test_cancel_an_unknown_call_is_not_an_error(sim, provider):
    provider.cancel_call("CA" + "0" * 32)  # 20404


def test_redirect_call_runs_new_twiml(sim, provider, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.twiml("/answer", '<Response><Pause length="600"/></Response>')
    next_url = receiver.twiml("/next", twiml.taken_by_colleague())
    sid = place(provider, receiver)
    receiver.wait_for("/answer")

    provider.redirect_call(sid, next_url)

    redirected = receiver.wait_for("/next")[0]
    assert redirected.method == "POST" and redirected.form["CallSid"] == sid
    assert ended(sim, sid)["status"] == "completed"


def test_redirect_an_ended_call_is_a_permanent_error(sim, provider, receiver):
    sim.phone(AGENT, outcome="busy")
    sid = place(provider, receiver)
    ended(sim, sid)
    with pytest.raises(ProviderError) as error:
        provider.redirect_call(sid, receiver.url("/next"))
    assert (error.value.code, error.value.status, error.value.retryable) == (21220, 400, False)


def test_fetch_call_reports_status_duration_and_parent(sim, provider, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1, digits="1", press_after=1, hangup_after=20)
    sim.phone(CUSTOMER, outcome="answer", answer_after=1)
    receiver.twiml(
        "/answer", twiml.agent_whisper("Web callback from Blue Kettle.", receiver.url("/accept"))
    )
    receiver.twiml(
        "/accept",
        twiml.connect_customer(
            CUSTOMER, CALLER_ID, 20, receiver.url("/dialed"), receiver.url("/customer")
        ),
    )
    receiver.twiml("/dialed", twiml.call_ended())
    agent_sid = place(provider, receiver)

    live = provider.fetch_call(agent_sid)
    assert live.sid == agent_sid and live.parent_sid is None
    assert live.status in ("queued", "initiated", "ringing", "in-progress", "completed")

    customer = wait_until(lambda: sim.calls(to=CUSTOMER), what="the customer leg")[0]
    ended(sim, customer["sid"])
    ended(sim, agent_sid)
    leg = provider.fetch_call(customer["sid"])
    assert leg == CallInfo(
        sid=customer["sid"], status="completed", duration_s=leg.duration_s, parent_sid=agent_sid
    )
    assert isinstance(leg.duration_s, int) and leg.duration_s >= 1
    agent = provider.fetch_call(agent_sid)
    assert agent.status == "completed" and agent.duration_s is not None
    assert agent.duration_s >= leg.duration_s
    assert receiver.wait_for("/dialed")[0].form["DialCallStatus"] == "completed"
    wait_until(
        lambda: "completed" in statuses(receiver, customer["sid"], "/customer"),
        what="the customer leg's completed callback",
    )
    assert statuses(receiver, customer["sid"], "/customer")[0] == "initiated"


def test_fetch_an_unknown_call_is_a_permanent_20404(sim, provider):
    with pytest.raises(ProviderError) as error:
        provider.fetch_call("CA" + "0" * 32)
    assert (error.value.code, error.value.status, error.value.retryable) == (20404, 404, False)


def test_send_sms(sim, provider, receiver):
    sid = provider.send_sms(CUSTOMER, CALLER_ID, "We call you at 9:30.", receiver.url("/sms"))
    assert sid.startswith("SM") and len(sid) == 34
    reports = receiver.wait_for("/sms", count=2)
    assert [r.form["MessageStatus"] for r in reports] == ["sent", "delivered"]
    sent = sim.http.get(f"{sim.base_url}/sim/messages").json()["messages"]
    assert [(m["to"], m["body"]) for m in sent] == [(CUSTOMER, "We call you at 9:30.")]


def test_send_sms_without_a_status_callback(sim, provider):
    assert provider.send_sms(CUSTOMER, CALLER_ID, "Hello").startswith("SM")


def test_an_invalid_to_is_a_permanent_21211_without_the_number(sim, provider, receiver):
    with pytest.raises(ProviderError) as error:
        place(provider, receiver, to="+15005550001")  # Twilio's magic "invalid number"
    assert error.value.code == 21211
    assert error.value.status == 400
    assert error.value.retryable is False
    assert "5005550001" not in str(error.value)  # safe to log
    assert "could not place a call" in str(error.value)


def test_a_from_we_do_not_own_is_a_permanent_21210(sim, provider, receiver):
    assert sim.put("/sim/config", {"caller_ids": ["+3726000001"]}).status_code == 200
    with pytest.raises(ProviderError) as error:
        place(provider, receiver)
    assert (error.value.code, error.value.retryable) == (21210, False)


def test_too_many_requests_is_retryable(sim, provider, receiver):
    sim.phone("default", outcome="busy")
    assert sim.put("/sim/config", {"api_requests_per_second": 1}).status_code == 200
    with pytest.raises(ProviderError) as error:
        for _ in range(10):
            place(provider, receiver)
    assert error.value.status == 429
    assert error.value.code == 20429
    assert error.value.retryable is True


def test_a_refused_connection_is_retryable(no_proxy):
    provider = TwilioProvider(settings_for(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ProviderError) as error:
        provider.fetch_call("CA" + "0" * 32)
    assert error.value.retryable is True
    assert (error.value.code, error.value.status) == (None, None)


def test_a_carrier_that_never_answers_times_out_retryably(no_proxy):
    with socket.socket() as silent:  # accepts connections (in its backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        provider = TwilioProvider(settings_for(f"http://127.0.0.1:{port}"), http_timeout_s=0.3)
        with pytest.raises(ProviderError) as error:
            provider.cancel_call("CA" + "0" * 32)
    assert error.value.retryable is True
    assert "timed out" in error.value.message


@pytest.fixture
def fake_carrier(receiver: WebhookReceiver, no_proxy: None) -> Iterator[WebhookReceiver]:
    """The test's webhook receiver posing as the carrier's API, to script odd answers."""
    yield receiver


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable"),
    [
        (503, "<html>Service Unavailable</html>", None, True),
        (500, '{"code": 20500, "message": "Internal Server Error", "status": 500}', 20500, True),
        (400, "<html>Bad Request</html>", None, False),
        (401, '{"code": 20003, "message": "Authenticate", "status": 401}', 20003, False),
    ],
)
def test_http_errors_are_classified_by_status(fake_carrier, status, body, code, retryable):
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    fake_carrier.respond(path, lambda _: (status, body))
    provider = TwilioProvider(settings_for(fake_carrier.base_url))
    with pytest.raises(ProviderError) as error:
        provider.send_sms(CUSTOMER, CALLER_ID, "Hello")
    assert (error.value.status, error.value.code, error.value.retryable) == (
        status,
        code,
        retryable,
    )


def test_twilio_region_and_edge_in_the_environment_do_not_move_the_api_base(
    sim, receiver, monkeypatch
):
    # Left alone, the client would rewrite 127.0.0.1 into "127.ie1.0.1" for every request.
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    sim.phone(AGENT, outcome="busy")
    provider = TwilioProvider(settings_for(sim.base_url))
    assert place(provider, receiver).startswith("CA")
