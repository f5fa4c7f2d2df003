"""History pages: search and filter callbacks, and read one callback's timeline.

Filters travel in the query string (a GET form), so a filtered list can be bookmarked and
shared; bad values are shown next to the form with a 422, never a 500. Agents see their own
callbacks only (the same `Viewer` the API uses).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...flow import PUBLIC_STATUSES
from ...services import context, reporting
from ...services.reporting import ReportError
from ...services.reporting.filters import HistoryQuery
from ...services.reporting.history import filter_choices
from .api_reports import MAX_ID_LENGTH, viewer
from .auth import current_user, login_required
from .board import secure_page

bp = Blueprint("admin_history", __name__, url_prefix="/admin")
bp.after_request(secure_page)

FILTER_FIELDS = ("status", "widget", "agent", "from", "to", "tz", "number", "q", "per_page")


def page_url(number: int) -> str:
    """This list with the same filters, on page `number`."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in FILTER_FIELDS and v}
    args["page"] = number
    return url_for("admin_history.history", **args)


@bp.get("/history")
@login_required()
def history() -> ResponseReturnValue:
    error: ReportError | None = None
    try:
        query = reporting.parse_history(request.args)
    except ReportError as bad:
        error, query = bad, HistoryQuery()
    user = current_user()
    with context.reading() as session:
        found = None if error else reporting.search(session, query, viewer())
        widgets, agents = filter_choices(session)
    body = render_template(
        "admin/history.html",
        page=found,
        error=error,
        args=request.args,
        statuses=PUBLIC_STATUSES,
        widgets=widgets,
        agents=agents,
        own_only=user is not None and not user.is_manager,
        page_url=page_url,
    )
    return body, 422 if error else 200


@bp.get("/history/<callback_id>")
@login_required()
def timeline(callback_id: str) -> ResponseReturnValue:
    found = None
    if len(callback_id) <= MAX_ID_LENGTH and "\x00" not in callback_id:
        with context.reading() as session:
            found = reporting.detail(session, callback_id, viewer())
    body = render_template("admin/history_detail.html", callback=found, callback_id=callback_id)
    return body, 200 if found else 404
