"""Carrier webhooks under /twilio: signed, deduplicated, answered in milliseconds.

Order, as in design §5: verify the signature, drop duplicates, apply the
transition, commit, enqueue follow-ups, answer. The signature is checked
against PUBLIC_URL (the address the carrier was given), not the Host header,
so it holds behind a proxy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator

from ..services import carrier_events, context

bp = Blueprint("twilio", __name__, url_prefix="/twilio")


def signed(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        validator: RequestValidator = current_app.extensions["twilio_validator"]
        query = request.query_string.decode()
        url = context.public_url(request.path) + (f"?{query}" if query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, request.form, signature):
            abort(403, "The X-Twilio-Signature does not match this request.")
        return view(*args, **kwargs)

    return checked


def _leg(name: str = "leg") -> int:
    value = request.args.get(name, "")
    # ASCII digits that fit a 32-bit id: "²" or 5000 digits are not leg ids.
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        abort(400, f"The webhook URL needs a numeric '{name}' parameter.")
    return int(value)


def _twiml(document: str) -> Response:
    return Response(document, mimetype="text/xml")


@bp.post("/agent/answer")
@signed
def agent_answer() -> Response:
    return _twiml(carrier_events.agent_answered(_leg()))


@bp.post("/agent/accept")
@signed
def agent_accept() -> Response:
    return _twiml(carrier_events.agent_pressed(_leg(), request.form.get("Digits", "")))


@bp.post("/status")
@signed
def agent_status() -> tuple[str, int]:
    carrier_events.agent_status(_leg(), request.form)
    return "", 204


@bp.post("/customer/status")
@signed
def customer_status() -> tuple[str, int]:
    carrier_events.customer_status(_leg(), _leg("agent_leg"), request.form)
    return "", 204


@bp.post("/customer/dialed")
@signed
def customer_dialed() -> Response:
    return _twiml(carrier_events.customer_dialed(_leg(), request.form))
