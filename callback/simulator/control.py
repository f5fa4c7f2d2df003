"""The simulator's own endpoints under /sim: phones, the call log, manual control, reset.

Not part of Twilio's API: these are how tests, the demo and the browser
softphone script the phones and look at what happened on the line.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from .call import Call, Control
from .carrier import Carrier, Limits
from .faults import FAULT_SETTINGS, FaultError, parse_faults
from .phones import DEFAULT_KEY, PhoneConfigError
from .resources import message_json
from .rest import carrier

bp = Blueprint("sim_control", __name__, url_prefix="/sim", template_folder="templates")

_NUMBER = re.compile(r"^(\+[1-9]\d{6,14}|client:[\w.-]+)$")
_DIGITS = re.compile(r"^[0-9*#]{1,32}$")
# How long a manual action waits to report the state it caused.
_SETTLE_SECONDS = 2.0


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> tuple[Response, int]:
        return jsonify({"error": {"code": self.code, "message": self.message}}), self.status


@bp.errorhandler(ControlError)
def _control_error(error: ControlError) -> tuple[Response, int]:
    return error.response()


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ControlError(
            400, "invalid_json", "send a JSON object with Content-Type: application/json"
        )
    return data


# -- phones -------------------------------------------------------------------


@bp.get("/phones")
def list_phones() -> Response:
    return jsonify(carrier().phones.snapshot())


@bp.put("/phones/<path:number>")
def configure_phone(number: str) -> Response:
    if number != DEFAULT_KEY and not _NUMBER.match(number):
        raise ControlError(
            400,
            "invalid_number",
            f"{number!r} is not a number in E.164 form such as +3725550100 (or 'default')",
        )
    try:
        behaviour = carrier().phones.configure(number, _json_body())
    except (PhoneConfigError, TypeError) as exc:
        raise ControlError(400, "invalid_behaviour", str(exc)) from None
    return jsonify({"number": number, **behaviour.to_json()})


@bp.delete("/phones/<path:number>")
def forget_phone(number: str) -> tuple[str, int]:
    if not carrier().phones.forget(number):
        raise ControlError(404, "unknown_phone", f"no behaviour is set for {number}")
    return "", 204


# -- calls ----------------------------------------------------------------------


@bp.get("/calls")
def call_log() -> Response:
    calls = sorted(carrier().calls(), key=lambda c: c.date_created)
    for arg, attr in (("to", "to"), ("from", "from_"), ("status", "status")):
        if arg in request.args:
            calls = [c for c in calls if getattr(c, attr) == request.args[arg]]
    return jsonify({"calls": [c.log_json() for c in calls]})


@bp.get("/calls/<sid>")
def call_detail(sid: str) -> Response:
    return jsonify(_call(sid).log_json())


@bp.post("/calls/<sid>/answer")
def answer(sid: str) -> tuple[Response, int]:
    call = _call(sid, expect=("queued", "ringing"), doing="answer")
    call.send(Control("answer"))
    return _settled(call, lambda: call.status != "ringing")


@bp.post("/calls/<sid>/decline")
def decline(sid: str) -> tuple[Response, int]:
    call = _call(sid, expect=("queued", "ringing"), doing="decline")
    call.send(Control("hangup", "decline"))
    return _settled(call, call.done.is_set)


@bp.post("/calls/<sid>/digits")
def press_digits(sid: str) -> tuple[Response, int]:
    digits = str(_json_body().get("digits", ""))
    if not _DIGITS.match(digits):
        raise ControlError(400, "invalid_digits", "digits must be 1 to 32 of 0-9, * and #")
    call = _call(sid, expect=("in-progress",), doing="press keys on")
    with carrier().lock:
        call.log_verb("Digits", carrier().clock.now(), digits=digits, by="manual")
    call.send(Control("digits", digits))
    return jsonify(call.log_json()), 202


@bp.post("/calls/<sid>/hangup")
def hang_up(sid: str) -> tuple[Response, int]:
    call = _call(sid, expect=("queued", "ringing", "in-progress"), doing="hang up")
    carrier().hang_up(call, by="manual")
    return _settled(call, call.done.is_set)


# -- messages, limits, reset -------------------------------------------------------


@bp.get("/messages")
def message_log() -> Response:
    return jsonify({"messages": [message_json(m) for m in reversed(carrier().messages())]})


@bp.get("/config")
def get_config() -> Response:
    return jsonify(_limits_json(carrier()))


@bp.put("/config")
def set_config() -> Response:
    data = _json_body()
    known = {"calls_per_second", "api_requests_per_second", "caller_ids"} | FAULT_SETTINGS
    if set(data) - known:
        raise ControlError(400, "unknown_setting", f"known settings: {', '.join(sorted(known))}")
    try:
        faults = parse_faults(data)  # like the limits: what is not given is off
    except FaultError as exc:
        raise ControlError(400, "invalid_setting", str(exc)) from None
    limits = Limits()
    for name in ("calls_per_second", "api_requests_per_second"):
        value = data.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
        ):
            raise ControlError(400, "invalid_setting", f"{name} must be a positive number or null")
        setattr(limits, name, value)
    caller_ids = data.get("caller_ids")
    if caller_ids is not None:
        if not isinstance(caller_ids, list) or not all(_NUMBER.match(str(n)) for n in caller_ids):
            raise ControlError(
                400, "invalid_setting", "caller_ids must be a list of E.164 numbers or null"
            )
        limits.caller_ids = frozenset(caller_ids)
    carrier().limits = limits
    carrier().dice.set(faults)  # every PUT restarts the seeded sequence: trials repeat
    return jsonify(_limits_json(carrier()))


@bp.post("/reset")
def reset() -> tuple[Response, int]:
    carrier().reset()
    return jsonify({"reset": True}), 200


@bp.get("/phone")
def softphone() -> str:
    return render_template("softphone.html")


# -- helpers ----------------------------------------------------------------------


def _call(sid: str, expect: tuple[str, ...] = (), doing: str = "") -> Call:
    call = carrier().get_call(sid)
    if call is None:
        raise ControlError(404, "unknown_call", f"no call {sid}")
    if expect and call.status not in expect:
        raise ControlError(409, "wrong_state", f"cannot {doing} a call that is {call.status}")
    return call


def _settled(call: Call, condition: Callable[[], bool]) -> tuple[Response, int]:
    """Wait (bounded) until the runner has acted on the control, then report the call."""
    deadline = time.monotonic() + _SETTLE_SECONDS
    while not condition() and time.monotonic() < deadline:
        call.done.wait(0.01)
    return jsonify(call.log_json()), 200


def _limits_json(c: Carrier) -> dict[str, Any]:
    limits = c.limits
    return {
        "calls_per_second": limits.calls_per_second,
        "api_requests_per_second": limits.api_requests_per_second,
        "caller_ids": sorted(limits.caller_ids) if limits.caller_ids is not None else None,
        "time_scale": c.clock.time_scale,
        **c.dice.faults.to_json(),
    }
