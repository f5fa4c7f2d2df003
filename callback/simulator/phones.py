"""Virtual phones: how the phone at a number behaves when the carrier rings it.

A behaviour is set per E.164 number with `PUT /sim/phones/{e164}`; numbers
with none use the default (itself settable as `PUT /sim/phones/default`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

# "manual": a person holds this phone (the browser softphone at /sim/phone). It rings until the
# call's Timeout unless answered or declined there, and never presses keys by itself.
OUTCOMES = ("answer", "no-answer", "busy", "failed", "voicemail", "manual")
DEFAULT_KEY = "default"
_DIGITS = re.compile(r"^[0-9*#]*$")
_MAX_DELAY = 3600.0
_MAX_LABEL = 40


class PhoneConfigError(ValueError):
    """The behaviour sent to `PUT /sim/phones/…` is malformed; the message says how."""


@dataclass(frozen=True)
class PhoneBehaviour:
    outcome: str = "answer"
    # Seconds of ringing before the phone answers (or reports busy).
    answer_after: float = 2.0
    # Keys pressed when a <Gather> asks; "" presses nothing. Voicemail never presses.
    digits: str = "1"
    # Seconds after the prompts of a <Gather> end before the keys are pressed.
    press_after: float = 1.0
    # Seconds after answering before this phone hangs up by itself; None = never.
    hangup_after: float | None = None
    # Who holds the phone, shown on the softphone page ("Anna, agent"); no effect on the call.
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_manual(self) -> bool:
        return self.outcome == "manual"

    def human_wait(self, seconds: float, time_scale: float) -> float:
        """Simulated seconds to wait for whoever holds the phone to act within `seconds`.

        A person on the softphone lives in real time: `--time-scale` speeds up the carrier and
        the scripted phones, not them, so a manual phone's ringing and listening last `seconds`
        of wall time (more simulated seconds). Scripted phones wait `seconds` simulated.
        """
        return seconds * time_scale if self.is_manual else seconds

    @property
    def presses_keys(self) -> bool:
        return self.outcome == "answer" and bool(self.digits)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PhoneBehaviour:
        if not isinstance(data, Mapping):
            raise PhoneConfigError(
                'send a JSON object such as {"outcome": "answer", "answer_after": 3}'
            )
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise PhoneConfigError(f"unknown field(s): {', '.join(sorted(unknown))}")
        behaviour = replace(cls(), **data)
        behaviour._validate()
        return behaviour

    def _validate(self) -> None:
        if self.outcome not in OUTCOMES:
            raise PhoneConfigError(f"outcome must be one of {', '.join(OUTCOMES)}")
        for name in ("answer_after", "press_after", "hangup_after"):
            value = getattr(self, name)
            if value is None and name == "hangup_after":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PhoneConfigError(f"{name} must be a number of seconds")
            if not 0 <= value <= _MAX_DELAY:
                raise PhoneConfigError(f"{name} must be between 0 and {_MAX_DELAY:g} seconds")
        if not isinstance(self.digits, str) or not _DIGITS.match(self.digits):
            raise PhoneConfigError("digits must be a string of 0-9, * and #")
        if not isinstance(self.label, str) or len(self.label) > _MAX_LABEL:
            raise PhoneConfigError(f"label must be a string of at most {_MAX_LABEL} characters")


class PhoneBook:
    """Thread-safe map of number -> behaviour, with a settable default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._default = PhoneBehaviour()
        self._phones: dict[str, PhoneBehaviour] = {}

    def behaviour(self, number: str) -> PhoneBehaviour:
        with self._lock:
            return self._phones.get(number, self._default)

    def configure(self, key: str, data: Mapping[str, Any]) -> PhoneBehaviour:
        with self._lock:
            if key == DEFAULT_KEY:
                self._default = PhoneBehaviour.from_json(data)
                return self._default
            self._phones[key] = PhoneBehaviour.from_json(data)
            return self._phones[key]

    def forget(self, key: str) -> bool:
        with self._lock:
            if key == DEFAULT_KEY:
                self._default = PhoneBehaviour()
                return True
            return self._phones.pop(key, None) is not None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                DEFAULT_KEY: self._default.to_json(),
                "phones": {number: b.to_json() for number, b in self._phones.items()},
            }

    def reset(self) -> None:
        with self._lock:
            self._default = PhoneBehaviour()
            self._phones.clear()
