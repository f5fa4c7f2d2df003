"""Executing TwiML on an answered leg: each verb takes simulated time.

`run_document` fetches (or takes inline) one document and runs its verbs in
order. It returns the next document to run (a <Gather> or <Dial> action, a
<Redirect>) or None when the document ran out of verbs. <Hangup> and every
hangup from outside unwind through `CallEnded`.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urljoin

from . import twiml
from .call import Call, CallEnded, Control, Source
from .webhooks import WebhookFailed

if TYPE_CHECKING:
    from .runner import CallRunner

SPEECH_WORDS_PER_SECOND = 2.5
PLAY_SECONDS = 3.0
HTTP_RETRIEVAL_FAILURE = 11200
INVALID_CALLER_ID = 13214
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def speech_seconds(text: str) -> float:
    """Roughly how long text-to-speech takes to say `text` (150 words a minute)."""
    return max(0.5, len(text.split()) / SPEECH_WORDS_PER_SECOND)


class TwimlExecutor:
    def __init__(self, runner: CallRunner) -> None:
        self.runner = runner
        self.call = runner.call
        self.clock = runner.clock
        self.carrier = runner.carrier

    def run_document(self, source: Source) -> Source | None:
        verbs, base_url = self._load(source)
        for verb in verbs:
            following = self._execute(verb, base_url)
            if following is not None:
                return following
        return None

    # -- loading ------------------------------------------------------------

    def _load(self, source: Source) -> tuple[list[twiml.Verb], str | None]:
        if source.twiml is not None:
            text: str | bytes = source.twiml
        else:
            assert source.url is not None
            params = self.runner.call_params() | source.params
            try:
                timer = self.runner.timer("twiml")
                response = self.carrier.webhooks.request(source.url, source.method, params, timer)
                text = response.content
            except WebhookFailed as exc:
                self._application_error(HTTP_RETRIEVAL_FAILURE, str(exc))
        try:
            return twiml.parse(text), source.url
        except twiml.TwimlError as exc:
            self._application_error(exc.code, str(exc))

    def _application_error(self, code: int, message: str) -> NoReturn:
        """Twilio's answer to a document it cannot use: apologise, then hang up."""
        with self.carrier.lock:
            self.call.error_code = code
            self.call.error_message = message
        self._log("Say", text=APPLICATION_ERROR, error_code=code)
        self.call.wait(self.clock, speech_seconds(APPLICATION_ERROR))
        raise CallEnded("application-error")

    # -- verbs --------------------------------------------------------------

    def _execute(self, verb: twiml.Verb, base_url: str | None) -> Source | None:
        if isinstance(verb, twiml.Say | twiml.Play | twiml.Pause):
            self._prompt(verb)
            return None
        if isinstance(verb, twiml.Gather):
            return self._gather(verb, base_url)
        if isinstance(verb, twiml.Dial):
            return self._dial(verb, base_url)
        if isinstance(verb, twiml.Redirect):
            self._log("Redirect", url=verb.url)
            return Source(url=_resolve(base_url, verb.url), method=verb.method)
        self._log(type(verb).__name__)
        raise CallEnded("twiml")

    def _prompt(self, verb: twiml.Prompt, listen: bool = False) -> Control | None:
        """Say, Play or Pause; inside a <Gather> a key press cuts it short (barge-in)."""
        if isinstance(verb, twiml.Say):
            self._log("Say", text=verb.text, loop=verb.loop, language=verb.language)
            seconds = speech_seconds(verb.text) * verb.loop
        elif isinstance(verb, twiml.Play):
            self._log("Play", url=verb.url, loop=verb.loop)
            seconds = PLAY_SECONDS * verb.loop
        else:
            self._log("Pause", length=verb.length)
            seconds = verb.length
        return self.call.wait(self.clock, seconds, accept=("digits",) if listen else ())

    def _gather(self, gather: twiml.Gather, base_url: str | None) -> Source | None:
        self._log(
            "Gather", num_digits=gather.num_digits, timeout=gather.timeout, action=gather.action
        )
        pressed = ""
        for prompt in gather.prompts:
            control = self._prompt(prompt, listen=True)
            if control is not None:
                pressed = control.value
                break
        phone = self.runner.phone
        auto_keys = phone.digits if phone.presses_keys and not pressed else ""
        digits, finished_on = self._collect(gather, pressed, auto_keys, phone.press_after)
        self._log("Gather.result", digits=digits, finished_on_key=finished_on)
        target = _resolve(base_url, gather.action) if gather.action else base_url
        if (digits or gather.action_on_empty_result) and target:
            params = {"Digits": digits, "FinishedOnKey": finished_on}
            return Source(url=target, method=gather.method, params=params)
        return None  # no input: fall through to the next verb, as Twilio does

    def _collect(
        self, gather: twiml.Gather, pressed: str, auto_keys: str, press_after: float
    ) -> tuple[str, str]:
        """Read keys until numDigits, finishOnKey or `timeout` seconds without a key."""
        digits = ""
        pending = pressed
        auto_at = self.clock.seconds() + press_after if auto_keys else None
        listen = self.runner.phone.human_wait(gather.timeout, self.clock.time_scale)
        while True:
            for key in pending:
                if gather.finish_on_key and key == gather.finish_on_key:
                    return digits, key
                digits += key
                if gather.num_digits and len(digits) >= gather.num_digits:
                    return digits, ""
            timeout_at = self.clock.seconds() + listen
            if auto_at is not None and auto_at <= timeout_at:
                control = self.call.wait(
                    self.clock, auto_at - self.clock.seconds(), accept=("digits",)
                )
                if control is None:
                    self._log("Digits", digits=auto_keys, by="phone")
                    control = Control("digits", auto_keys)
                auto_at = None
            else:
                control = self.call.wait(self.clock, listen, accept=("digits",))
                if control is None:
                    return digits, ""
            pending = control.value

    def _dial(self, dial: twiml.Dial, base_url: str | None) -> Source | None:
        caller_id = dial.caller_id or self.call.from_
        self._log(
            "Dial",
            numbers=[n.number for n in dial.numbers],
            caller_id=caller_id,
            timeout=dial.timeout,
        )
        if not _E164.match(caller_id):
            self._application_error(INVALID_CALLER_ID, f"Dial: invalid callerId {caller_id!r}")
        children = [self.carrier.start_child(self.call, n, caller_id, dial) for n in dial.numbers]
        # A number held by a person on the softphone rings in real time (PhoneBehaviour.human_wait).
        ringing = max(
            (
                self.carrier.phones.behaviour(n.number).human_wait(
                    dial.timeout, self.clock.time_scale
                )
                for n in dial.numbers
            ),
            default=dial.timeout,
        )
        outcome = DialOutcome()
        try:
            while not outcome.finished(len(children)):
                control = self.call.wait(self.clock, ringing + 60, accept=("child",))
                if control is not None:
                    self._on_child(outcome, children, *control.value)
                elif not outcome.bridged:
                    break  # children failed to report: never wait forever
        except CallEnded:
            outcome.caller_hung_up(self.clock.seconds())
            for child in children:
                child.send(Control("hangup", "parent"))
            if dial.action:
                self._post_quietly(_resolve(base_url, dial.action), dial.method, outcome.params())
            raise
        for child in children:
            child.send(Control("hangup", "parent"))
        if dial.action:
            return Source(
                url=_resolve(base_url, dial.action), method=dial.method, params=outcome.params()
            )
        return None

    def _on_child(
        self, outcome: DialOutcome, children: list[Call], sid: str, event: str, status: str | None
    ) -> None:
        if event == "ready" and outcome.bridged is None:
            outcome.bridge(sid, self.clock.seconds())
            self.carrier.record_bridge(self.call.sid, sid)
            self._log("Bridged", with_call=sid)
            for child in children:
                if child.sid != sid:
                    child.send(Control("hangup", "parent"))
        elif event == "ended":
            outcome.child_ended(sid, status or "completed", self.clock.seconds())

    def _post_quietly(self, url: str | None, method: str, params: dict[str, str]) -> None:
        if not url:
            return
        # The call is over: Twilio ignores what the action answers too.
        with contextlib.suppress(WebhookFailed):
            params = self.runner.call_params() | params
            self.carrier.webhooks.request(url, method, params, self.runner.timer("action"))

    def _log(self, verb: str, **details: object) -> None:
        with self.carrier.lock:
            self.call.log_verb(verb, self.clock.now(), **details)


class DialOutcome:
    """What a <Dial> reports to its action URL: DialCallStatus, DialCallSid, …"""

    _UNBRIDGED_ORDER = ("completed", "no-answer", "busy", "failed", "canceled")

    def __init__(self) -> None:
        self.bridged: str | None = None
        self.bridged_at = 0.0
        self.bridge_seconds = 0.0
        self.ended: dict[str, str] = {}
        self.last_sid: str | None = None

    def bridge(self, sid: str, at: float) -> None:
        self.bridged, self.bridged_at = sid, at

    def child_ended(self, sid: str, status: str, at: float) -> None:
        self.ended[sid] = status
        self.last_sid = sid
        if sid == self.bridged:
            self.bridge_seconds = at - self.bridged_at

    def caller_hung_up(self, at: float) -> None:
        if self.bridged is not None and self.bridged not in self.ended:
            self.bridge_seconds = at - self.bridged_at

    def finished(self, child_count: int) -> bool:
        if self.bridged is not None:
            return self.bridged in self.ended
        return len(self.ended) >= child_count

    def status(self) -> str:
        if self.bridged is not None:
            return "completed"
        statuses = set(self.ended.values())
        return next((s for s in self._UNBRIDGED_ORDER if s in statuses), "canceled")

    def params(self) -> dict[str, str]:
        params = {
            "DialCallStatus": self.status(),
            "DialBridged": str(self.bridged is not None).lower(),
        }
        sid = self.bridged or self.last_sid
        if sid:
            params["DialCallSid"] = sid
        if self.bridged is not None:
            params["DialCallDuration"] = str(round(self.bridge_seconds))
        return params


def _resolve(base_url: str | None, url: str) -> str:
    return urljoin(base_url, url) if base_url else url
