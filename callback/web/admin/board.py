"""The live board page: agents' states and callbacks in flight, refreshed by board.js.

The page is rendered complete on the server (it reads fine without JavaScript, and a test
or a screen reader sees the same content); board.js then polls /api/v1/admin/board every
1.5 s and ticks the elapsed seconds between polls.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from ...models import MANAGER_ROLES
from ...services import context, reporting
from .auth import login_required
from .blueprints import PAGE_CSP

bp = Blueprint("admin_board", __name__, url_prefix="/admin")

POLL_MS = 1500


def secure_page(response: Response) -> Response:
    """The admin pages' headers (part A's policy): our own scripts only, never cached."""
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


bp.after_request(secure_page)


@bp.get("/board")
@login_required(*MANAGER_ROLES)
def board() -> str:
    with context.reading() as session:
        snapshot = reporting.board(session, context.now())
    return render_template("admin/board.html", board=snapshot, poll_ms=POLL_MS)
