"""Call progress, TwiML and virtual phones, driven through the official twilio client."""

from __future__ import annotations

import itertools

import pytest
from support.receiver import WebhookReceiver, wait_until
from support.simulator import AUTH_TOKEN, CALLER_ID, Simulator
from twilio.request_validator import RequestValidator
from twilio.rest import Client

AGENT = "+3725550101"
CUSTOMER = "+3725550202"
ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


def place(client: Client, receiver: WebhookReceiver, to: str = AGENT, **kwargs: object):
    kwargs.setdefault("url", receiver.url("/answer"))
    return client.calls.create(
        to=to,
        from_=CALLER_ID,
        status_callback=receiver.url("/status"),
        status_callback_event=ALL_EVENTS,
        **kwargs,
    )


def finished(sim: Simulator, sid: str, timeout: float = 10.0) -> dict:
    return wait_until(
        lambda: (c := sim.call(sid))["status"] not in ("queued", "ringing", "in-progress") and c,
        timeout,
        f"call {sid} to end",
    )


def statuses(receiver: WebhookReceiver, sid: str) -> list[str]:
    return [r.form["CallStatus"] for r in receiver.received("/status") if r.form["CallSid"] == sid]


def verbs(call: dict) -> list[str]:
    return [v["verb"] for v in call["verbs"]]


WHISPER = (
    '<Response><Gather numDigits="1" action="/accepted" timeout="5">'
    "<Say>Web callback from Blue Kettle. Press 1 to connect.</Say>"
    "</Gather><Say>No key pressed. Goodbye.</Say></Response>"
)


def bridge_twiml(receiver: WebhookReceiver) -> str:
    return (
        f'<Response><Dial callerId="{CALLER_ID}" timeout="20" action="{receiver.url("/dialed")}">'
        f'<Number url="{receiver.url("/customer-whisper")}" '
        f'statusCallback="{receiver.url("/customer-status")}" '
        f'statusCallbackEvent="initiated ringing answered completed">{CUSTOMER}</Number>'
        "</Dial></Response>"
    )


def test_whisper_then_keypress_then_bridge(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=2, digits="1", hangup_after=40)
    sim.phone(CUSTOMER, outcome="answer", answer_after=3)
    receiver.twiml("/answer", WHISPER)
    receiver.twiml("/accepted", bridge_twiml(receiver))
    receiver.twiml(
        "/customer-whisper", "<Response><Say>Connecting you to the shop.</Say></Response>"
    )

    call = place(client, receiver)
    accepted = receiver.wait_for("/accepted")[0]
    assert accepted.form["Digits"] == "1"
    assert accepted.form["CallSid"] == call.sid

    customer = wait_until(lambda: sim.calls(to=CUSTOMER), what="the customer leg")[0]
    assert customer["parent_call_sid"] == call.sid
    assert customer["direction"] == "outbound-dial"
    assert customer["from"] == CALLER_ID
    wait_until(lambda: sim.call(call.sid)["bridged_with"] == customer["sid"], what="the bridge")

    # The agent's phone hangs up after 40 s: the bridge ends, the Dial action reports it.
    dialed = receiver.wait_for("/dialed", timeout=15)[0]
    assert dialed.form["DialCallStatus"] == "completed"
    assert dialed.form["DialCallSid"] == customer["sid"]
    assert dialed.form["DialBridged"] == "true"
    assert int(dialed.form["DialCallDuration"]) > 0

    agent_leg = finished(sim, call.sid)
    customer_leg = finished(sim, customer["sid"])
    assert agent_leg["status"] == customer_leg["status"] == "completed"
    assert customer_leg["bridged_with"] == call.sid
    # The agent was rung and answered before the customer's phone was even dialled.
    agent_answered = next(h["t"] for h in agent_leg["history"] if h["status"] == "in-progress")
    customer_initiated = customer_leg["history"][0]["t"]
    assert agent_answered < customer_initiated
    assert verbs(agent_leg)[:4] == ["Gather", "Say", "Digits", "Gather.result"]
    assert "Dial" in verbs(agent_leg) and "Bridged" in verbs(agent_leg)
    assert verbs(customer_leg) == ["Say"]

    # The child leg's own status callbacks carry ParentCallSid and Direction.
    child_callbacks = receiver.wait_for("/customer-status", count=4)
    assert [r.form["CallStatus"] for r in child_callbacks] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert all(r.form["ParentCallSid"] == call.sid for r in child_callbacks)
    assert all(r.form["Direction"] == "outbound-dial" for r in child_callbacks)


def test_status_callbacks_arrive_in_order_with_rising_sequence_numbers(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.twiml("/answer", "<Response><Say>Hello</Say><Hangup/></Response>")
    call = place(client, receiver)
    callbacks = receiver.wait_for("/status", count=4)
    assert [r.form["CallStatus"] for r in callbacks] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert [int(r.form["SequenceNumber"]) for r in callbacks] == [0, 1, 2, 3]
    last = callbacks[-1].form
    assert last["CallbackSource"] == "call-progress-events"
    assert last["Direction"] == "outbound-api"
    assert last["ApiVersion"] == "2010-04-01"
    assert last["AccountSid"] == call.account_sid
    assert last["To"] == AGENT and last["From"] == CALLER_ID
    assert int(last["CallDuration"]) >= 1
    assert "+0000" in last["Timestamp"]
    assert "ParentCallSid" not in last


def test_every_webhook_is_signed_as_twilio_signs(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1, digits="1")
    receiver.twiml("/answer", WHISPER)
    receiver.twiml("/accepted", "<Response><Hangup/></Response>")
    call = place(client, receiver)
    finished(sim, call.sid)
    receiver.wait_for("/status", count=4)
    requests_seen = receiver.received()
    assert {r.path for r in requests_seen} >= {"/answer", "/accepted", "/status"}
    validator = RequestValidator(AUTH_TOKEN)
    wrong = RequestValidator("not-the-token")
    for request in requests_seen:
        assert request.signature, request.path
        assert validator.validate(request.url, request.form, request.signature), request.path
        assert not wrong.validate(request.url, request.form, request.signature)


def test_get_method_webhooks_are_signed_over_the_query_string(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.twiml("/answer", "<Response><Hangup/></Response>")
    call = place(client, receiver, method="GET")
    fetched = receiver.wait_for("/answer")[0]
    assert fetched.method == "GET" and fetched.args["CallSid"] == call.sid
    assert RequestValidator(AUTH_TOKEN).validate(fetched.url, {}, fetched.signature)


def test_no_answer_after_the_calls_timeout(sim, client, receiver):
    sim.phone(AGENT, outcome="no-answer")
    call = place(client, receiver, timeout=8)
    ended = finished(sim, call.sid)
    assert ended["status"] == "no-answer"
    ringing = next(h["t"] for h in ended["history"] if h["status"] == "ringing")
    gave_up = ended["history"][-1]["t"]
    assert 8 <= gave_up - ringing < 10
    assert receiver.received("/answer") == []
    assert client.calls(call.sid).fetch().duration == "0"
    receiver.wait_for("/status", count=3)
    assert statuses(receiver, call.sid) == ["initiated", "ringing", "no-answer"]


def test_phone_answering_later_than_the_timeout_is_no_answer(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=12)
    call = place(client, receiver, timeout=5)
    assert finished(sim, call.sid)["status"] == "no-answer"


def test_busy(sim, client, receiver):
    sim.phone(AGENT, outcome="busy", answer_after=1)
    call = place(client, receiver)
    assert finished(sim, call.sid)["status"] == "busy"
    receiver.wait_for("/status", count=3)
    assert statuses(receiver, call.sid) == ["initiated", "ringing", "busy"]
    assert receiver.received("/answer") == []


def test_failed(sim, client, receiver):
    sim.phone(AGENT, outcome="failed")
    call = place(client, receiver)
    assert finished(sim, call.sid)["status"] == "failed"
    receiver.wait_for("/status", count=2)
    assert statuses(receiver, call.sid) == ["initiated", "failed"]


def test_voicemail_answers_but_never_presses(sim, client, receiver):
    sim.phone(AGENT, outcome="voicemail", answer_after=1, digits="1")
    receiver.twiml("/answer", WHISPER)
    call = place(client, receiver)
    ended = finished(sim, call.sid)
    assert ended["status"] == "completed"
    assert receiver.received("/accepted") == []
    assert "Digits" not in verbs(ended)
    # No input: the Gather falls through to the next verb, as on Twilio.
    assert ended["verbs"][-1] == {
        **ended["verbs"][-1],
        "verb": "Say",
        "text": "No key pressed. Goodbye.",
    }


def test_cancel_while_ringing(sim, client, receiver):
    sim.phone(AGENT, outcome="no-answer")
    call = place(client, receiver)
    wait_until(lambda: sim.call(call.sid)["status"] == "ringing", what="ringing")
    updated = client.calls(call.sid).update(status="canceled")
    assert updated.status == "canceled"
    receiver.wait_for("/status", count=3)
    assert statuses(receiver, call.sid) == ["initiated", "ringing", "canceled"]


def test_cancel_does_not_touch_a_call_in_progress(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.twiml("/answer", '<Response><Pause length="30"/></Response>')
    call = place(client, receiver)
    wait_until(lambda: sim.call(call.sid)["status"] == "in-progress", what="answer")
    assert client.calls(call.sid).update(status="canceled").status == "in-progress"
    assert client.calls(call.sid).update(status="completed").status == "completed"


def test_complete_while_bridged_ends_both_legs(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1, digits="1")
    sim.phone(CUSTOMER, outcome="answer", answer_after=1)
    receiver.twiml("/answer", WHISPER)
    receiver.twiml("/accepted", bridge_twiml(receiver))
    call = place(client, receiver)
    wait_until(lambda: sim.call(call.sid)["bridged_with"], what="the bridge")
    client.calls(call.sid).update(status="completed")
    customer_sid = sim.call(call.sid)["bridged_with"]
    assert finished(sim, customer_sid)["status"] == "completed"
    assert finished(sim, call.sid)["status"] == "completed"
    dialed = receiver.wait_for("/dialed")[0]
    assert dialed.form["DialCallStatus"] == "completed"
    assert dialed.form["DialBridged"] == "true"


def test_customer_hanging_up_ends_the_bridge_and_the_agent_continues(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1, digits="1")
    sim.phone(CUSTOMER, outcome="answer", answer_after=1, hangup_after=5)
    receiver.twiml("/answer", WHISPER)
    receiver.twiml("/accepted", bridge_twiml(receiver))
    receiver.twiml("/dialed", "<Response><Say>The customer hung up.</Say></Response>")
    call = place(client, receiver)
    ended = finished(sim, call.sid, timeout=15)
    assert ended["verbs"][-1]["text"] == "The customer hung up."
    assert receiver.received("/dialed")[0].form["DialCallStatus"] == "completed"


@pytest.mark.parametrize(
    ("outcome", "dial_status"), [("busy", "busy"), ("no-answer", "no-answer"), ("failed", "failed")]
)
def test_dial_reports_an_unanswered_customer_to_its_action(
    sim, client, receiver, outcome, dial_status
):
    sim.phone(AGENT, outcome="answer", answer_after=1, digits="1")
    sim.phone(CUSTOMER, outcome=outcome, answer_after=1)
    receiver.twiml("/answer", WHISPER)
    receiver.twiml("/accepted", bridge_twiml(receiver))
    receiver.twiml("/dialed", "<Response><Say>Sorry, no answer.</Say></Response>")
    call = place(client, receiver)
    dialed = receiver.wait_for("/dialed", timeout=15)[0]
    assert dialed.form["DialCallStatus"] == dial_status
    assert dialed.form["DialBridged"] == "false"
    assert "DialCallDuration" not in dialed.form
    assert finished(sim, call.sid)["verbs"][-1]["text"] == "Sorry, no answer."


def test_redirect_a_live_call(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.twiml("/answer", '<Response><Pause length="60"/></Response>')
    receiver.twiml("/elsewhere", "<Response><Say>Redirected here.</Say></Response>")
    call = place(client, receiver)
    wait_until(lambda: sim.call(call.sid)["status"] == "in-progress", what="answer")
    client.calls(call.sid).update(url=receiver.url("/elsewhere"))
    assert receiver.wait_for("/elsewhere")[0].form["CallSid"] == call.sid
    ended = finished(sim, call.sid)
    assert ended["verbs"][-1]["text"] == "Redirected here."


def test_redirect_verb_and_twiml_update(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.twiml("/answer", '<Response><Redirect method="POST">/next</Redirect></Response>')
    receiver.twiml("/next", '<Response><Pause length="60"/></Response>')
    call = place(client, receiver)
    receiver.wait_for("/next")
    client.calls(call.sid).update(twiml="<Response><Say>Inline update.</Say></Response>")
    assert finished(sim, call.sid)["verbs"][-1]["text"] == "Inline update."


def test_gather_finish_on_key_and_timeout(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1, digits="42#")
    receiver.twiml(
        "/answer", '<Response><Gather action="/got"><Say>Code?</Say></Gather></Response>'
    )
    place(client, receiver)
    got = receiver.wait_for("/got")[0]
    assert got.form["Digits"] == "42"
    assert got.form["FinishedOnKey"] == "#"


def test_manual_answer_digits_and_hangup(sim, client, receiver):
    sim.phone(AGENT, outcome="no-answer")
    receiver.twiml("/answer", WHISPER)
    receiver.twiml("/accepted", '<Response><Pause length="60"/></Response>')
    call = place(client, receiver)
    wait_until(lambda: sim.call(call.sid)["status"] == "ringing", what="ringing")
    assert sim.post(f"/sim/calls/{call.sid}/digits", {"digits": "1"}).status_code == 409
    assert sim.post(f"/sim/calls/{call.sid}/answer").json()["status"] == "in-progress"
    receiver.wait_for("/answer")
    assert sim.post(f"/sim/calls/{call.sid}/digits", {"digits": "1"}).status_code == 202
    assert receiver.wait_for("/accepted")[0].form["Digits"] == "1"
    assert sim.post(f"/sim/calls/{call.sid}/hangup").json()["status"] == "completed"
    assert sim.post(f"/sim/calls/{call.sid}/hangup").status_code == 409
    assert sim.post("/sim/calls/CA00000000000000000000000000000000/answer").status_code == 404


def test_manual_decline_is_busy(sim, client, receiver):
    sim.phone(AGENT, outcome="no-answer")
    call = place(client, receiver)
    wait_until(lambda: sim.call(call.sid)["status"] == "ringing", what="ringing")
    assert sim.post(f"/sim/calls/{call.sid}/decline").json()["status"] == "busy"


def test_phone_hangs_up_by_itself(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1, hangup_after=4)
    receiver.twiml("/answer", '<Response><Pause length="60"/></Response>')
    call = place(client, receiver)
    ended = finished(sim, call.sid)
    assert ended["status"] == "completed"
    assert ended["duration"] == 4
    assert client.calls(call.sid).fetch().duration == "4"


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("<Response><Say>unclosed</Response>", 12100),
        ("<Reply><Say>wrong root</Say></Reply>", 12100),
        ("<Response><Dance/></Response>", 12100),
        ('<Response><Gather numDigits="one"/></Response>', 12100),
    ],
)
def test_invalid_twiml_ends_the_call_with_an_application_error(
    sim, client, receiver, document, code
):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.twiml("/answer", document)
    call = place(client, receiver)
    ended = finished(sim, call.sid)
    assert ended["status"] == "completed"
    assert ended["error_code"] == code
    assert "application error" in ended["verbs"][-1]["text"]


def test_unreachable_twiml_url_is_http_retrieval_failure(sim, client, receiver):
    sim.phone(AGENT, outcome="answer", answer_after=1)
    receiver.respond("/answer", lambda _: (500, "oops"))
    call = place(client, receiver)
    assert finished(sim, call.sid)["error_code"] == 11200


def test_calls_per_second_limit_queues_calls(sim, client, receiver):
    assert sim.put("/sim/config", {"calls_per_second": 1}).status_code == 200
    sim.phone("default", outcome="busy", answer_after=1)
    calls = [place(client, receiver, to=f"+37255501{n:02d}") for n in range(3)]
    ended = [finished(sim, call.sid) for call in calls]
    queue_times = [c["queue_time"] for c in ended]

    def left_queue(call: dict) -> float:  # simulated seconds, when it stopped being `queued`
        return next(h["t"] for h in call["history"] if h["status"] != "queued")

    # One call per simulated second: each left the queue at least a second after the one
    # before (wall-clock gaps between our three requests only ever shorten the wait).
    starts = sorted(left_queue(call) for call in ended)
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(starts))
    assert queue_times[0] < 500
    assert queue_times[2] > 0
    assert int(client.calls(calls[2].sid).fetch().queue_time) == queue_times[2]
