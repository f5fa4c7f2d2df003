"""Manual phones: held by a person on the softphone page, not by a script."""

from __future__ import annotations

import time

from support.receiver import wait_until
from support.simulator import TIME_SCALE
from test_call_flow import AGENT, WHISPER, finished, place, verbs


def test_a_manual_phone_rings_until_answered_and_presses_only_what_is_pressed(
    sim, client, receiver
):
    sim.phone(AGENT, outcome="manual", answer_after=0, digits="1", label="Anna, agent")
    receiver.twiml("/answer", WHISPER)
    receiver.twiml("/accepted", '<Response><Pause length="60"/></Response>')
    call = place(client, receiver, timeout=600)
    wait_until(lambda: sim.call(call.sid)["status"] == "ringing", what="ringing")
    # answer_after 0 would have answered a scripted phone at once; a person has not yet.
    assert sim.call(call.sid)["status"] == "ringing"
    assert sim.post(f"/sim/calls/{call.sid}/answer").json()["status"] == "in-progress"
    receiver.wait_for("/answer")
    assert sim.post(f"/sim/calls/{call.sid}/digits", {"digits": "7"}).status_code == 202
    # The key the person pressed, not the "1" a scripted phone would have pressed.
    assert receiver.wait_for("/accepted")[0].form["Digits"] == "7"
    pressed = [v for v in sim.call(call.sid)["verbs"] if v["verb"] == "Digits"]
    assert [(v["digits"], v["by"]) for v in pressed] == [("7", "manual")]
    assert sim.post(f"/sim/calls/{call.sid}/hangup").json()["status"] == "completed"


def test_a_manual_phone_nobody_answers_rings_out_in_real_time(sim, client, receiver):
    """A person does not act 20x faster: the Timeout runs on the wall clock for them."""
    sim.phone(AGENT, outcome="manual")
    started = time.monotonic()
    call = place(client, receiver, timeout=1)
    ended = finished(sim, call.sid)
    assert ended["status"] == "no-answer"
    assert time.monotonic() - started >= 1.0  # a scripted phone would take 0.05 s
    ringing = next(h["t"] for h in ended["history"] if h["status"] == "ringing")
    assert ended["history"][-1]["t"] - ringing >= TIME_SCALE * 1.0 * 0.95
    assert receiver.received("/answer") == []


def test_a_gather_listens_to_a_person_in_real_time(sim, client, receiver):
    sim.phone(AGENT, outcome="manual")
    receiver.twiml(
        "/answer",
        '<Response><Gather numDigits="1" action="/accepted" timeout="1"><Say>Hi</Say></Gather>'
        "<Hangup/></Response>",
    )
    call = place(client, receiver, timeout=60)
    wait_until(lambda: sim.call(call.sid)["status"] == "ringing", what="ringing")
    sim.post(f"/sim/calls/{call.sid}/answer")
    wait_until(lambda: "Gather" in verbs(sim.call(call.sid)), what="the gather")
    listening = time.monotonic()
    finished(sim, call.sid)
    # Say "Hi" is sped up (0.5 s / 20); the 1 s of listening for the person's key is not.
    assert time.monotonic() - listening >= 1.0
    assert receiver.received("/accepted") == []


def test_the_phone_list_carries_the_label(sim):
    sim.phone(AGENT, outcome="manual", label="Anna, agent")
    phones = sim.http.get(f"{sim.base_url}/sim/phones").json()["phones"]
    assert phones[AGENT]["outcome"] == "manual" and phones[AGENT]["label"] == "Anna, agent"
