"""TwiML documents for the callback flow, built with the official `VoiceResponse`.

Pure functions from arguments to an XML string: no Flask, no database, no clock, so the webhooks
that return them stay within their 10 ms budget and the documents are tested by parsing the XML.
Every word spoken here costs the customer waiting time (§1), so the texts are short.
"""

from __future__ import annotations

import re
import unicodedata

from twilio.twiml.voice_response import Dial, VoiceResponse

from .provider import CALL_STATUS_EVENTS

__all__ = [
    "DEFAULT_WHISPER_TEMPLATE",
    "MAX_TITLE_LENGTH",
    "agent_whisper",
    "call_ended",
    "connect_customer",
    "customer_unreachable",
    "hang_up",
    "taken_by_colleague",
    "whisper_text",
]

DEFAULT_WHISPER_TEMPLATE = "Web callback from {page_title}. Press 1 to connect."

# Long enough for "Blue Kettle 1.7 l, stainless steel" and the like; about 4 s of speech at most.
MAX_TITLE_LENGTH = 60

_FALLBACK_TITLE = "our website"
_PLACEHOLDER = re.compile(r"\{(page_title|phone)\}")
_WHITESPACE = re.compile(r"\s+")


def agent_whisper(
    whisper_text: str, accept_url: str, gather_timeout_s: int = 6, language: str = "en-US"
) -> str:
    """The agent leg's answer document: say who is waiting, wait for one key.

    The Say sits inside the Gather so the agent can press 1 before the whisper ends (barge-in).
    No key means the call ends; its "completed" status callback then moves on to the next agent.
    """
    if gather_timeout_s < 1:
        raise ValueError(f"gather_timeout_s must be at least 1, got {gather_timeout_s}")
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1, action=accept_url, method="POST", timeout=gather_timeout_s
    )
    gather.say(_clean(whisper_text), language=language)
    response.say("No key pressed. Goodbye.")
    response.hangup()
    return str(response)


def whisper_text(template: str, page_title: str | None, masked_phone: str) -> str:
    """Fill `{page_title}` and `{phone}` in an admin-written whisper template.

    Not `str.format`: the template and the title are untrusted text, and a stray or unknown
    brace must never turn a customer's callback into an exception on the critical path. Unknown
    placeholders are left as written; the title is substituted once and never re-expanded.
    Control characters are removed everywhere: ElementTree writes them into the XML as they
    are, and the carrier would then reject the whole document (an "application error").
    """
    title = _clean(page_title or "")
    title = _truncate(title, MAX_TITLE_LENGTH) or _FALLBACK_TITLE
    fills = {"page_title": title, "phone": _clean(masked_phone)}
    return _clean(_PLACEHOLDER.sub(lambda m: fills[m.group(1)], _clean(template)))


def connect_customer(
    customer: str, caller_id: str, timeout_s: int, dial_action_url: str, customer_status_url: str
) -> str:
    """The agent pressed 1: dial the customer from the shop's number and bridge them.

    No greeting before the Dial: every second spoken here is a second the customer's phone is
    not yet ringing. The Dial action reports how the customer leg ended (DialCallStatus), and
    the Number's own status callbacks drive the customer leg in the state machine.
    """
    if timeout_s < 1:
        raise ValueError(f"timeout_s must be at least 1, got {timeout_s}")
    dial = Dial(caller_id=caller_id, timeout=timeout_s, action=dial_action_url, method="POST")
    dial.number(
        customer,
        status_callback=customer_status_url,
        status_callback_event=" ".join(CALL_STATUS_EVENTS),
        status_callback_method="POST",
    )
    response = VoiceResponse()
    response.append(dial)
    return str(response)


def customer_unreachable() -> str:
    """Told to the agent when the customer did not pick up; the app schedules a retry."""
    return _say_and_hang_up("The customer did not answer. We will try again shortly.")


def taken_by_colleague() -> str:
    """Told to an agent who pressed 1 after another agent had already won the callback."""
    return _say_and_hang_up("A colleague has already taken this call.")


def hang_up() -> str:
    """End the call without a word (e.g. a leg that should no longer exist)."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


def call_ended() -> str:
    """The answer to the Dial action after a bridged call: nothing left to do but hang up."""
    return hang_up()


def _say_and_hang_up(text: str) -> str:
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)


def _clean(text: str) -> str:
    """Make text safe to speak and to serialise: control characters and line breaks become
    spaces; format, surrogate, private-use and unassigned code points (soft hyphens, lone
    surrogates that would not even encode, U+FFFF that XML forbids) are dropped; whitespace runs
    collapse to one space."""
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc" or category[0] == "Z":
            out.append(" ")
        elif category[0] != "C":
            out.append(ch)
    return _WHITESPACE.sub(" ", "".join(out)).strip()


def _truncate(text: str, limit: int) -> str:
    """Cut at a word boundary when one is near (a single long word is cut hard)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if text[limit] != " " and space >= limit * 2 // 3:  # the cut falls inside a word
        cut = cut[:space]
    return cut.rstrip(" ,;:/|-\u2013\u2014")
