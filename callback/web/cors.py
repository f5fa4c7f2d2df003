"""CORS for the widget's endpoints, and only those: `/api/v1/widgets/*` and `/api/v1/callbacks*`.

The widget runs on the shop's pages and calls us cross-origin. Policy, per endpoint:

- `GET /api/v1/widgets/{key}`: the widget is known from the URL, so the preflight and the
  response carry `Access-Control-Allow-Origin` only for the widget's `allowed_origins`.
- `POST /api/v1/callbacks` and `GET /api/v1/callbacks/{id}`: a preflight carries no body, so it
  cannot name the widget; it is answered for any origin. The real request can: the POST's body
  names the widget, and a status GET belongs to a callback of one widget. Their responses carry
  the header only for that widget's origins. Because a preflight answered for every origin lets
  any page *send* the POST, a POST whose `Origin` is not allowed is refused with 403
  `origin_not_allowed` before it is stored (intake asks `posted_origin_allowed` when it reads
  the widget, in the same transaction): CORS alone only stops a page from *reading* the
  answer, and a callback placed by a foreign page would still ring a phone.
- A widget whose `allowed_origins` is empty accepts every origin. Such a widget is a development
  or demo widget (`callback widget add` without `--origin`); a shop lists its origins to lock it
  down. The service's own pages (same origin, such as `/demo`) are always allowed.
- No credentials: the widget sends no cookies and `Access-Control-Allow-Credentials` is never
  set, so an allowed origin gains nothing beyond the JSON it is shown.
- Unknown widget keys and callback ids are answered for any origin: the answer is a 404 that
  tells the page's developer what is wrong, and nothing else.

Origins are compared exactly (scheme, host and port), after dropping a trailing slash.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ..services import widget_config

__all__ = ["posted_origin_allowed", "register_cors"]

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Content-Type"
PREFLIGHT_MAX_AGE = "600"


def register_cors(app: Flask) -> None:
    app.after_request(_add_headers)


def _public_endpoint() -> str | None:
    """ "widgets" or "callbacks" for the widget's endpoints, else None."""
    path = request.path
    if path.startswith("/api/v1/widgets/"):
        return "widgets"
    if path == "/api/v1/callbacks" or path.startswith("/api/v1/callbacks/"):
        return "callbacks"
    return None


def _origin() -> str | None:
    origin = request.headers.get("Origin", "").strip()
    return origin.rstrip("/") if origin and origin != "null" else None


def _same_origin(origin: str) -> bool:
    return origin == request.host_url.rstrip("/")


def _allows(origins: list[str] | None, origin: str) -> bool:
    if origins is None or not origins or _same_origin(origin):
        return True
    return origin in {o.strip().rstrip("/") for o in origins}


def _posted_widget_origins() -> list[str] | None:
    """The allowed origins of the widget named in the POST body (looked up once per request,
    unless intake read the widget already)."""
    if "cors_origins" not in g:
        try:
            payload: Any = request.get_json(silent=True)
        except (RecursionError, HTTPException):  # too deep or too big: intake answers it
            payload = None
        key = payload.get("widget") if isinstance(payload, dict) else None
        valid = isinstance(key, str) and 0 < len(key) <= 64 and "\x00" not in key
        g.cors_origins = widget_config.widget_origins(key) if valid and key else None
    origins: list[str] | None = g.cors_origins
    return origins


def posted_origin_allowed(origins: list[str]) -> bool:
    """Whether the page that sent this POST may use the widget whose `origins` these are;
    intake asks it when it reads the widget, and the answer's CORS headers reuse them."""
    g.cors_origins = origins
    origin = _origin()
    return origin is None or _allows(origins, origin)


def _actual_origins(endpoint: str) -> list[str] | None:
    args = request.view_args or {}
    if endpoint == "widgets":
        key = args.get("key")
        return widget_config.widget_origins(key) if isinstance(key, str) else None
    if request.method == "POST":
        return _posted_widget_origins()
    callback_id = args.get("callback_id")
    return widget_config.callback_origins(callback_id) if isinstance(callback_id, str) else None


def _add_headers(response: Response) -> Response:
    endpoint = _public_endpoint()
    if endpoint is None:
        return response
    response.vary.add("Origin")
    origin = _origin()
    if origin is None:
        return response
    preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
    # A preflight for /callbacks has no body yet, so no widget: any origin (see the docstring).
    any_origin = preflight and endpoint == "callbacks"
    if not _allows([] if any_origin else _actual_origins(endpoint), origin):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    if "Retry-After" in response.headers:
        # The widget tells the visitor how long to wait (429, 503); CORS hides every
        # response header but a few from it unless exposed.
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    if preflight:
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response
