"""The public API the widget talks to: a number in, a status out."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for
from flask_limiter.util import get_remote_address

from ..services import intake, status
from .cors import posted_origin_allowed
from .errors import error_response
from .limits import guard_create, public_limits, rate_limited

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.post("/callbacks")
def create_callback() -> tuple[Response, int]:
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # "[[[[…" nested deeper than the JSON parser goes
        payload = None
    refused = guard_create(payload)  # rate limits, honeypot, fill time (web/limits.py)
    if refused is not None:
        return refused, refused.status_code
    try:
        accepted = intake.request_callback(payload, origin_allowed=posted_origin_allowed)
    except intake.DailyCapReached as reached:
        return rate_limited_cap(reached), 429
    if accepted.created and isinstance(payload, dict):
        public_limits().created(payload["widget"])
    status_url = url_for("api.callback_status", callback_id=accepted.id, token=accepted.token)
    body = {
        "id": accepted.id,
        "status": accepted.status,
        "token": accepted.token,
        "status_url": status_url,
    }
    if accepted.due_at is not None:
        body["scheduled_for"] = accepted.due_at.isoformat()
    return jsonify(body), 202


@bp.get("/callbacks/<callback_id>")
def callback_status(callback_id: str) -> Response:
    wait = public_limits().before_status(get_remote_address())
    if wait is not None:
        return rate_limited(wait)
    if "\x00" in callback_id:
        return error_response(404, "not_found", "No callback with this id and token.")
    view = status.status_view(callback_id, request.args.get("token", ""))
    if view is None:
        return error_response(404, "not_found", "No callback with this id and token.")
    return jsonify(view)


def rate_limited_cap(reached: intake.DailyCapReached) -> Response:
    response = error_response(429, reached.code, reached.message, reached.field)
    response.headers["Retry-After"] = str(reached.retry_after)
    return response
