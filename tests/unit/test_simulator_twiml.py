"""The simulator's TwiML parser: typed verbs out, TwimlError for what Twilio would refuse."""

from __future__ import annotations

import pytest
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from callback.simulator import twiml
from callback.simulator.verbs import speech_seconds


def test_parses_what_the_official_builder_writes():
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=4, action="/accepted", finish_on_key="*")
    gather.say("Web callback. Press 1.")
    response.append(gather)
    dial = Dial(caller_id="+3726000000", timeout=20, action="/dialed")
    dial.number(
        "+3725550202",
        url="/whisper",
        status_callback="/status",
        status_callback_event="ringing answered completed",
    )
    response.append(dial)
    response.hangup()

    verbs = twiml.parse(str(response))

    assert verbs[0] == twiml.Gather(
        prompts=(twiml.Say("Web callback. Press 1."),),
        num_digits=1,
        timeout=4.0,
        action="/accepted",
        finish_on_key="*",
    )
    assert verbs[1] == twiml.Dial(
        numbers=(
            twiml.Number(
                "+3725550202",
                url="/whisper",
                status_callback="/status",
                status_callback_events=frozenset({"ringing", "answered", "completed"}),
            ),
        ),
        caller_id="+3726000000",
        timeout=20.0,
        action="/dialed",
    )
    assert verbs[2] == twiml.Hangup()


def test_dial_with_a_bare_number_and_defaults():
    (dial,) = twiml.parse("<Response><Dial>+3725550202</Dial></Response>")
    assert isinstance(dial, twiml.Dial)
    assert dial.numbers == (twiml.Number("+3725550202"),)
    assert dial.timeout == 30.0 and dial.action is None


def test_loop_zero_is_bounded():
    (say,) = twiml.parse('<Response><Say loop="0">hi</Say></Response>')
    assert isinstance(say, twiml.Say) and say.loop == 1000


@pytest.mark.parametrize(
    "document",
    [
        "<Response><Say>open",
        "<Reply/>",
        "<Response><Conference/></Response>",
        '<Response><Pause length="-1"/></Response>',
        '<Response><Gather numDigits="0"/></Response>',
        '<Response><Gather method="PUT"/></Response>',
        "<Response><Gather><Dial>+3725550202</Dial></Gather></Response>",
        "<Response><Dial/></Response>",
        "<Response><Dial><Client>anna</Client></Dial></Response>",
        '<Response><Dial><Number statusCallbackEvent="hungup">+3725550202</Number></Dial></Response>',
        "<Response><Redirect/></Response>",
    ],
)
def test_documents_twilio_would_refuse(document):
    with pytest.raises(twiml.TwimlError) as error:
        twiml.parse(document)
    assert error.value.code == twiml.PARSE_FAILURE


def test_speech_takes_time_in_proportion_to_its_text():
    short, long = speech_seconds("Press 1."), speech_seconds("word " * 25)
    assert short == 0.8
    assert long == 10.0
    assert speech_seconds("") == 0.5
