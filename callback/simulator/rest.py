"""Twilio's 2010-04-01 REST API for Calls and Messages, as the official client uses it.

Form bodies in, JSON out, Basic auth with the account sid and auth token,
Twilio's error codes. Validation lives here; the call itself lives in the
carrier.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlencode, urlparse

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from .call import Source
from .carrier import Carrier
from .faults import API_ERROR_CODES
from .messages import Message
from .resources import API_VERSION, TwilioError, call_json, message_json, new_sid

bp = Blueprint("twilio_api", __name__, url_prefix=f"/{API_VERSION}/Accounts/<account_sid>")

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
CALL_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
MAX_PAGE_SIZE = 1000
MAX_SMS_LENGTH = 1600
# Twilio has no single code for "this parameter is malformed"; the simulator
# uses 20001 (its "invalid parameter" family) wherever no specific code exists.
INVALID_PARAMETER = 20001

# Twilio's magic test numbers (https://www.twilio.com/docs/iam/test-credentials).
_MAGIC_TO = {
    "+15005550001": (21211, "Invalid 'To' Phone Number: +15005550001"),
    "+15005550002": (21214, "'To' phone number cannot be reached"),
    "+15005550003": (
        21215,
        "Account not authorized to call +15005550003. Perhaps you need "
        "to enable some international permissions",
    ),
}
_MAGIC_FROM = {
    "+15005550001": (21212, "Invalid 'From' Phone Number: +15005550001"),
    "+15005550007": (
        21210,
        "The source phone number provided, +15005550007, is not yet verified for your account.",
    ),
}


def carrier() -> Carrier:
    return current_app.extensions["carrier"]


def bad_request(code: int, message: str) -> TwilioError:
    return TwilioError(400, code, message)


@bp.before_request
def authenticate() -> None:
    auth = request.authorization
    account_sid = (request.view_args or {}).get("account_sid", "")
    if (
        auth is None
        or auth.type != "basic"
        or not _ACCOUNT_SID.match(auth.username or "")
        or auth.username != account_sid
        or auth.password != carrier().auth_token
    ):
        raise TwilioError(401, 20003, "Authenticate")
    _injected_faults()
    if not carrier().allow_api_request():
        raise TwilioError(429, 20429, "Too Many Requests")


def _injected_faults() -> None:
    """Slowness and errors turned on through PUT /sim/config (see faults.py)."""
    dice = carrier().dice
    faults = dice.faults
    if faults.api_delay_s:
        time.sleep(faults.api_delay_s)
    if dice.roll(faults.api_error_rate):
        status = faults.api_error_status
        message = "Too Many Requests" if status == 429 else "Service unavailable (injected fault)"
        raise TwilioError(status, API_ERROR_CODES[status], message)


# -- calls ------------------------------------------------------------------


@bp.post("/Calls.json")
def create_call(account_sid: str) -> tuple[Response, int]:
    form = request.form
    to = _required(form, "To", 21201, "No 'To' number is specified")
    from_ = _required(form, "From", 21213, "No 'From' number is specified")
    _check_to(to)
    _check_from(from_)
    if form.get("ApplicationSid"):
        raise bad_request(
            INVALID_PARAMETER, "ApplicationSid is not supported by the simulator; send Url or Twiml"
        )
    source = _source(form, required=True)
    assert source is not None
    callback = _optional_url(form, "StatusCallback", 21609, "Invalid StatusCallback url")
    events = frozenset(e for value in form.getlist("StatusCallbackEvent") for e in value.split())
    if events - CALL_EVENTS:
        raise bad_request(
            INVALID_PARAMETER,
            f"Invalid StatusCallbackEvent {sorted(events - CALL_EVENTS)}: "
            f"use {', '.join(sorted(CALL_EVENTS))}",
        )
    call = carrier().place_call(
        account_sid=account_sid,
        to=to,
        from_=from_,
        source=source,
        timeout=_seconds(form, "Timeout", default=60, maximum=600),
        status_callback=callback,
        status_callback_method=_method(form, "StatusCallbackMethod"),
        status_callback_events=events or frozenset({"completed"}),
        time_limit=_seconds(form, "TimeLimit", default=14400, maximum=86400),
    )
    return jsonify(call_json(call)), 201


@bp.get("/Calls.json")
def list_calls(account_sid: str) -> Response:
    filters = {"To": "to", "From": "from_", "Status": "status", "ParentCallSid": "parent_sid"}
    calls = [
        call
        for call in carrier().calls()
        if call.account_sid == account_sid
        and all(
            getattr(call, attr) == request.args[arg]
            for arg, attr in filters.items()
            if arg in request.args
        )
    ]
    query = {arg: request.args[arg] for arg in filters if arg in request.args}
    return jsonify(_page(account_sid, "Calls", "calls", [call_json(c) for c in calls], query))


@bp.get("/Calls/<sid>.json")
def fetch_call(account_sid: str, sid: str) -> Response:
    return jsonify(call_json(_call(account_sid, sid)))


@bp.post("/Calls/<sid>.json")
def update_call(account_sid: str, sid: str) -> Response:
    call = _call(account_sid, sid)
    form = request.form
    status = form.get("Status")
    if status is not None and status not in ("canceled", "completed"):
        raise bad_request(
            INVALID_PARAMETER, f"Status {status!r} is not valid: use canceled or completed"
        )
    source = _source(form, required=False)
    callback = _optional_url(form, "StatusCallback", 21609, "Invalid StatusCallback url")
    if not call.is_live:
        raise bad_request(21220, "Call is not in-progress. Cannot redirect.")
    if callback:
        call.status_callback = callback
        call.status_callback_method = _method(form, "StatusCallbackMethod")
    if status == "completed" or (status == "canceled" and call.status in ("queued", "ringing")):
        carrier().hang_up(call)
        # Answer with the final state, as Twilio does; the runner ends at once.
        call.done.wait(2.0)
    elif source is not None:
        carrier().redirect(call, source)
    return jsonify(call_json(call))


@bp.delete("/Calls/<sid>.json")
def delete_call(account_sid: str, sid: str) -> tuple[str, int]:
    call = _call(account_sid, sid)
    if call.is_live:
        raise bad_request(
            21220, "Call is in progress; hang it up (Status=completed) before deleting it"
        )
    carrier().delete_call(sid)
    return "", 204


# -- messages ---------------------------------------------------------------


@bp.post("/Messages.json")
def create_message(account_sid: str) -> tuple[Response, int]:
    form = request.form
    to = _required(form, "To", 21604, "A 'To' phone number is required.")
    _check_to(to)
    service = form.get("MessagingServiceSid") or None
    from_ = form.get("From") or None
    if from_ is None and service is None:
        raise bad_request(21603, "A 'From' phone number is required.")
    if from_ is not None and not _E164.match(from_):
        raise bad_request(21212, f"Invalid From Number (caller ID): {from_}")
    body = form.get("Body", "")
    if not body:
        raise bad_request(21602, "Message body is required.")
    if len(body) > MAX_SMS_LENGTH:
        raise bad_request(21617, "The concatenated message body exceeds the 1600 character limit.")
    message = Message(
        sid=new_sid("SM"),
        account_sid=account_sid,
        to=to,
        from_=from_,
        body=body,
        date_created=carrier().clock.now(),
        messaging_service_sid=service,
        status_callback=_optional_url(form, "StatusCallback", 21609, "Invalid StatusCallback url"),
    )
    carrier().send_message(message)
    return jsonify(message_json(message)), 201


@bp.get("/Messages.json")
def list_messages(account_sid: str) -> Response:
    items = [message_json(m) for m in carrier().messages() if m.account_sid == account_sid]
    return jsonify(_page(account_sid, "Messages", "messages", items, {}))


@bp.get("/Messages/<sid>.json")
def fetch_message(account_sid: str, sid: str) -> Response:
    message = carrier().get_message(sid)
    if message is None or message.account_sid != account_sid:
        raise _not_found()
    return jsonify(message_json(message))


# -- helpers ----------------------------------------------------------------


def _not_found() -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {request.path} was not found")


def _call(account_sid: str, sid: str) -> Any:
    call = carrier().get_call(sid)
    if call is None or call.account_sid != account_sid:
        raise _not_found()
    return call


def _required(form: MultiDict[str, str], name: str, code: int, message: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise bad_request(code, message)
    return value


def _check_to(to: str) -> None:
    if to in _MAGIC_TO:
        raise bad_request(*_MAGIC_TO[to])
    if not (_E164.match(to) or to.startswith(("client:", "sip:"))):
        raise bad_request(21211, f"Invalid 'To' Phone Number: {to}")


def _check_from(from_: str) -> None:
    if from_ in _MAGIC_FROM:
        raise bad_request(*_MAGIC_FROM[from_])
    allowed = carrier().limits.caller_ids
    if not _E164.match(from_) or (allowed is not None and from_ not in allowed):
        raise bad_request(
            21210,
            f"The source phone number provided, {from_}, is not yet verified for your account. "
            "You may only make calls from phone numbers that you've verified or purchased.",
        )


def _is_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _optional_url(form: MultiDict[str, str], name: str, code: int, message: str) -> str | None:
    value = (form.get(name) or "").strip()
    if value and not _is_url(value):
        raise bad_request(code, f"{message}: {value}")
    return value or None


def _method(form: MultiDict[str, str], name: str) -> str:
    method = (form.get(name) or "POST").upper()
    if method not in ("GET", "POST"):
        raise bad_request(INVALID_PARAMETER, f"{name} must be GET or POST, not {method!r}")
    return method


def _source(form: MultiDict[str, str], required: bool) -> Source | None:
    url = (form.get("Url") or "").strip()
    inline = form.get("Twiml")
    if inline:
        return Source(twiml=inline)
    if url:
        if not _is_url(url):
            raise bad_request(21205, f"Url is not a valid URL: {url}")
        return Source(url=url, method=_method(form, "Method"))
    if required:
        raise bad_request(21205, "Url parameter is required (or send Twiml)")
    return None


def _seconds(form: MultiDict[str, str], name: str, default: int, maximum: int) -> float:
    raw = form.get(name)
    if raw is None or raw == "":
        return float(default)
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(
            INVALID_PARAMETER, f"{name} must be a whole number of seconds, not {raw!r}"
        ) from None
    if value < 1:
        raise bad_request(INVALID_PARAMETER, f"{name} must be at least 1 second")
    return float(min(value, maximum))  # Twilio clamps instead of refusing


def _page(
    account_sid: str, resource: str, key: str, items: list[dict[str, Any]], query: dict[str, str]
) -> dict[str, Any]:
    try:
        size = max(1, min(MAX_PAGE_SIZE, int(request.args.get("PageSize", 50))))
        page = max(0, int(request.args.get("Page", 0)))
    except ValueError:
        raise bad_request(INVALID_PARAMETER, "PageSize and Page must be whole numbers") from None
    start = page * size
    chunk = items[start : start + size]
    base = f"/{API_VERSION}/Accounts/{account_sid}/{resource}.json"

    def uri(number: int) -> str:
        return (
            base
            + "?"
            + urlencode(
                {**query, "PageSize": size, "Page": number, "PageToken": f"PA{number * size}"}
            )
        )

    return {
        key: chunk,
        "start": start,
        "end": start + max(0, len(chunk) - 1),
        "page": page,
        "page_size": size,
        "first_page_uri": base + "?" + urlencode({**query, "PageSize": size, "Page": 0}),
        "next_page_uri": uri(page + 1) if start + size < len(items) else None,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "uri": request.full_path.rstrip("?"),
    }
