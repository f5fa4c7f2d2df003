"""The public API the widget talks to: a number in, a status out."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from ..services import intake
from .errors import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.post("/callbacks")
def create_callback() -> tuple[Response, int]:
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # "[[[[…" nested deeper than the JSON parser goes
        payload = None
    accepted = intake.request_callback(payload)
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
    if "\x00" in callback_id:
        return error_response(404, "not_found", "No callback with this id and token.")
    view = intake.status_view(callback_id, request.args.get("token", ""))
    if view is None:
        return error_response(404, "not_found", "No callback with this id and token.")
    return jsonify(view)
