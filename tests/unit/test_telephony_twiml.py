"""TwiML builders (parsed back as XML), whisper text filling and the retry backoff: all pure."""

from __future__ import annotations

import pickle
import xml.etree.ElementTree as ET

import pytest

from callback.telephony import ProviderError, backoff_delay, twiml
from callback.telephony.twilio_provider import scrub

ACCEPT = "https://shop.example/twilio/accept?leg=LG1&callback=CB9"
CUSTOMER = "+3725550202"
CALLER_ID = "+3726000000"


def parse(document: str) -> ET.Element:
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(document)
    assert root.tag == "Response"
    return root


def tags(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


# -- agent whisper ----------------------------------------------------------------------------


def test_agent_whisper_gathers_one_key_around_the_whisper_then_hangs_up():
    root = parse(twiml.agent_whisper("Web callback from Blue Kettle. Press 1.", ACCEPT))
    assert tags(root) == ["Gather", "Say", "Hangup"]
    gather, goodbye, _ = root
    assert gather.attrib == {
        "numDigits": "1",
        "action": ACCEPT,  # the query string survives escaping
        "method": "POST",
        "timeout": "6",
    }
    assert tags(gather) == ["Say"]
    assert gather[0].text == "Web callback from Blue Kettle. Press 1."
    assert gather[0].attrib == {"language": "en-US"}
    assert goodbye.text == "No key pressed. Goodbye."


def test_agent_whisper_timeout_and_language():
    root = parse(twiml.agent_whisper("Tere", ACCEPT, gather_timeout_s=4, language="et-EE"))
    assert root[0].get("timeout") == "4"
    assert root[0][0].get("language") == "et-EE"


def test_agent_whisper_escapes_markup_and_drops_control_characters():
    root = parse(twiml.agent_whisper('Kettle <b>"&"</b>\x00\x07\n now', ACCEPT))
    assert root[0][0].text == 'Kettle <b>"&"</b> now'


def test_agent_whisper_refuses_a_zero_timeout():
    with pytest.raises(ValueError):
        twiml.agent_whisper("x", ACCEPT, gather_timeout_s=0)


# -- whisper text -----------------------------------------------------------------------------


def test_whisper_text_fills_title_and_phone():
    text = twiml.whisper_text("Callback from {page_title} for {phone}.", "Blue Kettle", "+372 51••")
    assert text == "Callback from Blue Kettle for +372 51••."


def test_the_default_template_mentions_the_page():
    text = twiml.whisper_text(twiml.DEFAULT_WHISPER_TEMPLATE, "Blue Kettle", "+372 51••")
    assert text == "Web callback from Blue Kettle. Press 1 to connect."


@pytest.mark.parametrize("title", [None, "", "   ", "\n\t\x00"])
def test_a_missing_title_is_our_website(title):
    assert twiml.whisper_text("From {page_title}.", title, "x") == "From our website."


def test_control_characters_and_line_breaks_in_the_title_become_single_spaces():
    title = "Blue\x00Kettle\r\n\x1b 1.7\u2028l\u00ad!"
    assert twiml.whisper_text("{page_title}", title, "x") == "Blue Kettle 1.7 l!"


def test_a_long_title_is_cut_at_a_word_near_the_limit():
    title = "Stainless steel electric kettle with temperature control and keep warm function"
    text = twiml.whisper_text("{page_title}", title, "x")
    assert len(text) <= twiml.MAX_TITLE_LENGTH
    assert text == "Stainless steel electric kettle with temperature control and"
    assert title.startswith(text)


def test_a_cut_inside_a_word_drops_the_partial_word():
    title = "Stainless steel electric kettle with temperature controllability"
    text = twiml.whisper_text("{page_title}", title, "x")
    assert text == "Stainless steel electric kettle with temperature"


def test_a_cut_after_a_whole_word_keeps_it_without_trailing_punctuation():
    title = "Stainless steel electric kettle with temperature controller, 1.7 l"
    text = twiml.whisper_text("{page_title}", title, "x")
    assert text == "Stainless steel electric kettle with temperature controller"


def test_a_long_title_without_spaces_is_cut_hard():
    text = twiml.whisper_text("{page_title}", "x" * 500, "x")
    assert text == "x" * twiml.MAX_TITLE_LENGTH


def test_unknown_placeholders_and_stray_braces_never_raise():
    template = "{greeting} {0} {} {{ } { from {page_title} {phone.real} {phone}"
    text = twiml.whisper_text(template, "Kettle", "+372 51••")
    assert text == "{greeting} {0} {} {{ } { from Kettle {phone.real} +372 51••"


def test_braces_in_the_title_are_not_expanded():
    text = twiml.whisper_text("{page_title} / {phone}", "{phone} {page_title} {__class__}", "M")
    assert text == "{phone} {page_title} {__class__} / M"


def test_whisper_text_survives_the_trip_through_twiml():
    text = twiml.whisper_text("From {page_title}", "Kettles & <Pots>\x0b", "M")
    assert parse(twiml.agent_whisper(text, ACCEPT))[0][0].text == "From Kettles & <Pots>"


# -- customer leg -----------------------------------------------------------------------------


def test_connect_customer_dials_the_customer_from_the_shop_number():
    root = parse(
        twiml.connect_customer(
            CUSTOMER,
            CALLER_ID,
            20,
            "https://shop.example/twilio/dialed?leg=LG1",
            "https://shop.example/twilio/status?leg=customer",
        )
    )
    assert tags(root) == ["Dial"]  # no greeting: the customer's phone rings at once
    dial = root[0]
    assert dial.attrib == {
        "callerId": CALLER_ID,
        "timeout": "20",
        "action": "https://shop.example/twilio/dialed?leg=LG1",
        "method": "POST",
    }
    assert "answerOnBridge" not in dial.attrib
    assert tags(dial) == ["Number"]
    number = dial[0]
    assert number.text == CUSTOMER
    assert number.attrib == {
        "statusCallback": "https://shop.example/twilio/status?leg=customer",
        "statusCallbackEvent": "initiated ringing answered completed",
        "statusCallbackMethod": "POST",
    }


def test_connect_customer_refuses_a_zero_timeout():
    with pytest.raises(ValueError):
        twiml.connect_customer(CUSTOMER, CALLER_ID, 0, "https://a/d", "https://a/s")


@pytest.mark.parametrize(
    ("build", "text"),
    [
        (
            twiml.customer_unreachable,
            "The customer did not answer. We will try again shortly.",
        ),
        (twiml.taken_by_colleague, "A colleague has already taken this call."),
    ],
)
def test_short_notices_say_one_thing_and_hang_up(build, text):
    root = parse(build())
    assert tags(root) == ["Say", "Hangup"]
    assert root[0].text == text


@pytest.mark.parametrize("build", [twiml.hang_up, twiml.call_ended])
def test_hang_up_documents_are_a_bare_hangup(build):
    root = parse(build())
    assert tags(root) == ["Hangup"]
    assert root[0].attrib == {} and len(root[0]) == 0


# -- backoff ----------------------------------------------------------------------------------


def test_backoff_ceiling_doubles_from_base_up_to_the_cap():
    ceilings = [backoff_delay(n, base=0.2, cap=5.0, rng=lambda: 0.999999) for n in range(10)]
    assert ceilings[0] == pytest.approx(0.2, rel=1e-5)
    assert ceilings[1] == pytest.approx(0.4, rel=1e-5)
    assert ceilings[4] == pytest.approx(3.2, rel=1e-5)
    assert ceilings == sorted(ceilings)
    assert all(c <= 5.0 for c in ceilings)
    assert ceilings[-1] == pytest.approx(5.0, rel=1e-5)


def test_backoff_is_full_jitter_scaled_by_rng():
    assert backoff_delay(3, rng=lambda: 0.0) == 0.0
    assert backoff_delay(3, rng=lambda: 0.5) == pytest.approx(0.8)
    assert backoff_delay(3, rng=lambda: 0.25) == pytest.approx(0.4)


def test_backoff_never_exceeds_the_cap_even_with_a_misbehaving_rng():
    assert backoff_delay(50, cap=5.0, rng=lambda: 1.5) == 5.0
    assert backoff_delay(10_000, cap=5.0, rng=lambda: 0.999) <= 5.0  # no float overflow
    assert backoff_delay(2, rng=lambda: -1.0) == 0.0


def test_backoff_uses_random_by_default_within_bounds():
    delays = [backoff_delay(n) for n in range(12) for _ in range(20)]
    assert all(0.0 <= d <= 5.0 for d in delays)
    assert len(set(delays)) > 1


@pytest.mark.parametrize(
    "kwargs", [{"attempt": -1}, {"attempt": 0, "base": -1.0}, {"attempt": 0, "cap": -1.0}]
)
def test_backoff_refuses_negative_arguments(kwargs):
    with pytest.raises(ValueError):
        backoff_delay(**kwargs)


# -- errors -----------------------------------------------------------------------------------


def test_provider_error_keeps_its_fields_through_pickling():
    error = ProviderError(21211, 400, "could not place a call: invalid To", False)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.status, copy.message, copy.retryable) == (
        21211,
        400,
        error.message,
        False,
    )
    assert str(copy) == "could not place a call: invalid To (code 21211, HTTP 400)"
    assert str(ProviderError(None, None, "unreachable", True)) == "unreachable"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The 'To' number +3725550101 is not a valid phone number.",
            "The 'To' number +372 55•• ••• is not a valid phone number.",
        ),
        ("From 372 5550 101 failed", "From ••• failed"),
        ("Error 21211 at /Calls/CA0123456789abcdef0123456789abcdef.json", None),
        ("Timeout 60 is too long", None),
    ],
)
def test_carrier_messages_are_scrubbed_of_phone_numbers(text, expected):
    assert scrub(text) == (text if expected is None else expected)
