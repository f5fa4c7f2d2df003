"""The simulator's WSGI app and its server process (`callback simulator`)."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from . import control, rest
from .carrier import Carrier, Limits
from .resources import API_VERSION, TwilioError

log = logging.getLogger(__name__)


def create_simulator_app(carrier: Carrier) -> Flask:
    app = Flask(__name__)
    app.extensions["carrier"] = carrier
    app.register_blueprint(rest.bp)
    app.register_blueprint(control.bp)
    app.register_error_handler(TwilioError, _twilio_error)
    app.register_error_handler(HTTPException, _http_error)
    app.add_url_rule("/healthz", "healthz", lambda: {"ok": True, "simulator": True})
    return app


def _twilio_error(error: TwilioError) -> tuple[Response, int]:
    response = jsonify(error.body())
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response, error.status


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    if request.path.startswith(f"/{API_VERSION}/"):
        # Twilio answers unknown resources and methods with its own body.
        message = (
            f"The requested resource {request.path} was not found"
            if status == 404
            else error.description or "Bad request"
        )
        return _twilio_error(TwilioError(status, 20404 if status == 404 else 20001, message))
    return jsonify(
        {"error": {"code": error.name.lower().replace(" ", "_"), "message": error.description}}
    ), status


def serve(
    host: str, port: int, auth_token: str, time_scale: float = 1.0, limits: Limits | None = None
) -> None:
    """Run the simulator until interrupted; every request on its own thread."""
    carrier = Carrier(auth_token=auth_token, time_scale=time_scale, limits=limits)
    server = make_server(host, port, create_simulator_app(carrier), threaded=True)
    log.info("carrier simulator on http://%s:%s (time scale %s)", host, port, time_scale)
    try:
        server.serve_forever()
    finally:
        server.server_close()
