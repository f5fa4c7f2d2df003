"""TwiML parsing: XML text -> a list of typed verbs, or a `TwimlError`.

Twilio answers a document it cannot use with "An application error has
occurred" and hangs up, logging error 12100 (document parse failure). The
simulator is stricter than Twilio about unknown verbs and bad attribute values
(Twilio only warns with 12200): a bug in our TwiML should fail loudly in tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

PARSE_FAILURE = 12100


class TwimlError(ValueError):
    def __init__(self, message: str, code: int = PARSE_FAILURE) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Say:
    text: str
    loop: int = 1
    voice: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Play:
    url: str
    loop: int = 1
    digits: str | None = None


@dataclass(frozen=True)
class Pause:
    length: float = 1.0


Prompt = Say | Play | Pause


@dataclass(frozen=True)
class Gather:
    prompts: tuple[Prompt, ...] = ()
    num_digits: int | None = None
    timeout: float = 5.0
    action: str | None = None
    method: str = "POST"
    finish_on_key: str = "#"
    action_on_empty_result: bool = False


@dataclass(frozen=True)
class Number:
    number: str
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset({"completed"})


@dataclass(frozen=True)
class Dial:
    numbers: tuple[Number, ...] = field(default_factory=tuple)
    caller_id: str | None = None
    timeout: float = 30.0
    action: str | None = None
    method: str = "POST"
    time_limit: float = 14400.0


@dataclass(frozen=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Reject:
    reason: str = "rejected"


Verb = Say | Play | Pause | Gather | Dial | Redirect | Hangup | Reject


def parse(document: str | bytes) -> list[Verb]:
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise TwimlError(f"Document parse failure: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"the root element must be <Response>, not <{root.tag}>")
    return [_verb(el) for el in root]


def _verb(el: ET.Element) -> Verb:
    parser = _VERBS.get(el.tag)
    if parser is None:
        raise TwimlError(f"<{el.tag}> is not a TwiML verb the simulator supports")
    return parser(el)


def _text(el: ET.Element) -> str:
    return (el.text or "").strip()


def _int(el: ET.Element, name: str, default: int, minimum: int = 0) -> int:
    raw = el.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TwimlError(f"<{el.tag} {name}={raw!r}> is not a whole number") from None
    if value < minimum:
        raise TwimlError(f"<{el.tag} {name}={raw!r}> must be at least {minimum}")
    return value


def _seconds(el: ET.Element, name: str, default: float) -> float:
    raw = el.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise TwimlError(f"<{el.tag} {name}={raw!r}> is not a number of seconds") from None
    if value < 0:
        raise TwimlError(f"<{el.tag} {name}={raw!r}> must not be negative")
    return value


def _method(el: ET.Element, name: str = "method") -> str:
    method = (el.get(name) or "POST").upper()
    if method not in ("GET", "POST"):
        raise TwimlError(f"<{el.tag} {name}={method!r}> must be GET or POST")
    return method


def _loop(el: ET.Element) -> int:
    # loop="0" repeats forever on Twilio; a bounded stand-in keeps runs finite.
    return _int(el, "loop", 1) or 1000


def _say(el: ET.Element) -> Say:
    return Say(_text(el), _loop(el), el.get("voice"), el.get("language"))


def _play(el: ET.Element) -> Play:
    return Play(_text(el), _loop(el), el.get("digits"))


def _pause(el: ET.Element) -> Pause:
    return Pause(_seconds(el, "length", 1.0))


def _gather(el: ET.Element) -> Gather:
    prompts: list[Prompt] = []
    for child in el:
        parsed = _verb(child)
        if not isinstance(parsed, Say | Play | Pause):
            raise TwimlError(f"<Gather> may only nest <Say>, <Play> and <Pause>, not <{child.tag}>")
        prompts.append(parsed)
    num_digits = _int(el, "numDigits", 0, minimum=1) if el.get("numDigits") else None
    return Gather(
        prompts=tuple(prompts),
        num_digits=num_digits,
        timeout=_seconds(el, "timeout", 5.0),
        action=el.get("action"),
        method=_method(el),
        finish_on_key=el.get("finishOnKey", "#"),
        action_on_empty_result=el.get("actionOnEmptyResult", "false").lower() == "true",
    )


def _number(el: ET.Element) -> Number:
    events = frozenset((el.get("statusCallbackEvent") or "completed").replace(",", " ").split())
    unknown = events - {"initiated", "ringing", "answered", "completed"}
    if unknown:
        raise TwimlError(f"<Number statusCallbackEvent> has unknown event(s) {sorted(unknown)}")
    if not _text(el):
        raise TwimlError("<Number> needs a phone number as its text")
    return Number(
        number=_text(el),
        url=el.get("url"),
        method=_method(el),
        status_callback=el.get("statusCallback"),
        status_callback_method=_method(el, "statusCallbackMethod"),
        status_callback_events=events,
    )


def _dial(el: ET.Element) -> Dial:
    numbers: list[Number] = []
    for child in el:
        if child.tag != "Number":
            raise TwimlError(
                f"<Dial> supports <Number> nouns only in the simulator, not <{child.tag}>"
            )
        numbers.append(_number(child))
    if not numbers and _text(el):
        numbers.append(Number(number=_text(el)))
    if not numbers:
        raise TwimlError("<Dial> needs a number to call")
    return Dial(
        numbers=tuple(numbers),
        caller_id=el.get("callerId"),
        timeout=_seconds(el, "timeout", 30.0),
        action=el.get("action"),
        method=_method(el),
        time_limit=_seconds(el, "timeLimit", 14400.0),
    )


def _redirect(el: ET.Element) -> Redirect:
    if not _text(el):
        raise TwimlError("<Redirect> needs a URL as its text")
    return Redirect(_text(el), _method(el))


def _hangup(el: ET.Element) -> Hangup:
    return Hangup()


def _reject(el: ET.Element) -> Reject:
    return Reject(el.get("reason", "rejected"))


_VERBS: dict[str, Callable[[ET.Element], Verb]] = {
    "Say": _say,
    "Play": _play,
    "Pause": _pause,
    "Gather": _gather,
    "Dial": _dial,
    "Redirect": _redirect,
    "Hangup": _hangup,
    "Reject": _reject,
}
