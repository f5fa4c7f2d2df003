"""The two blueprints of the admin: HTML pages under /admin and the JSON API under
/api/v1/admin. Feature modules (agents, rules, widgets, tokens, presence, api_*) add their
routes to these; `callback.web.admin.register` imports them all and registers both.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.routing import IntegerConverter

from ...services.admin_errors import AdminError
from ..errors import error_response


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id. Ids are 32-bit columns; a larger number is no row (404), and
    PostgreSQL would refuse to compare it with one."""

    def __init__(self, map: Any) -> None:
        super().__init__(map, min=1, max=2**31 - 1)


pages = Blueprint("admin", __name__, url_prefix="/admin")
api = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Everything the admin pages load is served by us: no inline script, no third-party origin.
# Frames only from ourselves (the widget preview page is one).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


@pages.before_request
def _csrf_on_forms() -> None:
    if request.method in _UNSAFE:
        current_app.extensions["csrf"].protect()


@pages.after_request
def _page_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Pages show configuration and, once, token secrets: never keep them in a shared cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@api.after_request
def _api_headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@api.errorhandler(AdminError)
def _admin_error(error: AdminError) -> Response:
    return error_response(error.status, error.code, error.message, error.field)
