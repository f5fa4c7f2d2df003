"""One error shape for every JSON endpoint: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from ..services.intake import IntakeError

log = logging.getLogger(__name__)


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    details: dict[str, object] | None = None,
) -> Response:
    """`details` are extra, code-specific keys (e.g. `next_opening` for `closed`)."""
    body: dict[str, object] = {**(details or {}), "code": code, "message": message}
    if field:
        body["field"] = field
    response = jsonify({"error": body})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(IntakeError)
    def _intake(error: IntakeError) -> Response:
        return error_response(error.status, error.code, error.message, error.field, error.details)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(error.code or 500, code, error.description or code)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unreachable(error: Exception) -> Response:
        # The database is down or restarting: nothing was stored, so the client should retry
        # (503 + Retry-After), not read it as our bug (500). The log keeps the driver's words.
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        response = error_response(
            503, "unavailable", "The service is briefly unavailable; please try again shortly."
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")
