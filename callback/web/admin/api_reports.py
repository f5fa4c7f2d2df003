"""The admin API for the board, history and statistics (JSON and CSV under /api/v1/admin).

Authenticated by `token_required("read")` (an API token or the admin pages' session). The
board is for owners and admins; history and statistics are open to agents too, limited to
their own callbacks. Bad parameters are 422 with the usual error shape.

`register(app)` registers this blueprint and the three page blueprints (board, history,
statistics); `create_app` calls it.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy.orm import Session

from ...models import MANAGER_ROLES
from ...services import context, reporting
from ...services.reporting import ReportError, Viewer
from ...services.reporting.filters import parse_choice, parse_id
from ...services.reporting.stats import widget_zone
from ..errors import error_response
from .auth import current_user, token_required

bp = Blueprint("admin_reports_api", __name__, url_prefix="/api/v1/admin")

CSV_TABLES = ("callbacks", "agents")
MAX_ID_LENGTH = 64


def register(app: Flask) -> None:
    from . import board, history, stats

    app.register_blueprint(bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(stats.bp)


def viewer() -> Viewer:
    """Whose callbacks the signed-in user or token may see."""
    user = current_user()
    if user is None:  # the guards ran first; this only keeps the type checker honest
        return Viewer.agent(None)
    return Viewer.for_user(user.role, user.agent_id)


@bp.errorhandler(ReportError)
def _report_error(error: ReportError) -> Response:
    return error_response(422, error.code, error.message, error.field)


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@bp.get("/board")
@token_required("read", roles=MANAGER_ROLES)
def board() -> Response:
    """The live board.
    ---
    get:
      summary: Live board
      description: >
        Every active agent's state (available, ringing, on_call, wrap_up, offline) and every
        callback in flight with its elapsed seconds against the 20-second promise, plus the
        callbacks that finished in the last 15 minutes. Numbers are masked. Owners and admins.
      tags: [admin reports]
      security: [{bearerAuth: []}]
      responses:
        200:
          description: The board now.
          content:
            application/json:
              schema: {type: object}
    """
    with context.reading() as session:
        return jsonify(reporting.board(session, context.now(), viewer()).as_dict())


@bp.get("/callbacks")
@token_required("read")
def callbacks() -> Response:
    """Search the callback history.
    ---
    get:
      summary: Search callbacks
      description: >
        Newest first, paged. Agents see only the callbacks they took. Dates are read in `tz`
        (UTC by default); a bare date as `to` includes that whole day.
      tags: [admin reports]
      security: [{bearerAuth: []}]
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [scheduled, queued, calling_agent, agent_connected, connected, completed, failed, canceled]}}
        - {name: widget, in: query, schema: {type: integer}, description: Widget id.}
        - {name: agent, in: query, schema: {type: integer}, description: Agent id.}
        - {name: from, in: query, schema: {type: string}, description: Date or ISO 8601 time.}
        - {name: to, in: query, schema: {type: string}, description: Date (inclusive) or ISO 8601 time.}
        - {name: tz, in: query, schema: {type: string}, description: IANA time zone for dates.}
        - {name: number, in: query, schema: {type: string}, description: The last 2 to 15 digits of the number.}
        - {name: q, in: query, schema: {type: string}, description: "Text in the page title or URL, or a callback id."}
        - {name: page, in: query, schema: {type: integer, minimum: 1, default: 1}}
        - {name: per_page, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 25}}
      responses:
        200:
          description: One page of callbacks (`items`, `page`, `per_page`, `total`, `pages`).
          content:
            application/json:
              schema: {type: object}
        422: {$ref: '#/components/responses/Invalid'}
    """
    query = reporting.parse_history(request.args)
    with context.reading() as session:
        return jsonify(reporting.search(session, query, viewer()).as_dict())


@bp.get("/callbacks/<callback_id>")
@token_required("read")
def callback_detail(callback_id: str) -> Response:
    """One callback with its timeline.
    ---
    get:
      summary: One callback and its timeline
      description: >
        The callback (number masked), its legs, and its timeline: every event with its offset
        in seconds from the first one and a label such as "Anna pressed 1".
      tags: [admin reports]
      security: [{bearerAuth: []}]
      responses:
        200:
          description: The callback.
          content:
            application/json:
              schema: {type: object}
    """
    if len(callback_id) > MAX_ID_LENGTH or "\x00" in callback_id:
        return error_response(404, "not_found", "No callback with this id.")
    with context.reading() as session:
        found = reporting.detail(session, callback_id, viewer())
        if found is None:
            return error_response(404, "not_found", "No callback with this id.")
        return jsonify(found.as_dict())


@bp.get("/stats")
@token_required("read")
def stats() -> Response:
    """Statistics over a period (JSON, or CSV with format=csv).
    ---
    get:
      summary: Statistics
      description: >
        Time to connect (histogram in 2-second bins, p50, p95, share within 20 s), answer
        rate and time per agent, failed callbacks by reason, volume by hour and weekday.
        The period defaults to the last seven days; hours and weekdays are read in `tz`
        (default: the widget's time zone when `widget` is given, else UTC). Agents see their
        own callbacks and legs only. `format=csv` returns the CSV export (see /stats.csv).
      tags: [admin reports]
      security: [{bearerAuth: []}]
      parameters:
        - {name: from, in: query, schema: {type: string}, description: Date or ISO 8601 time.}
        - {name: to, in: query, schema: {type: string}, description: Date (inclusive) or ISO 8601 time.}
        - {name: tz, in: query, schema: {type: string}}
        - {name: widget, in: query, schema: {type: integer}}
        - {name: format, in: query, schema: {type: string, enum: [json, csv]}}
        - {name: table, in: query, schema: {type: string, enum: [callbacks, agents]}}
      responses:
        200:
          description: The statistics.
          content:
            application/json:
              schema: {type: object}
            text/csv:
              schema: {type: string}
        422: {$ref: '#/components/responses/Invalid'}
    """
    if parse_choice(request.args, "format", ("json", "csv")) == "csv":
        return _csv()
    with context.reading() as session:
        period, widget_id = _period(session)
        found = reporting.statistics(session, period, context.now(), viewer(), widget_id)
        return jsonify(found.as_dict())


@bp.get("/stats.csv")
@token_required("read")
def stats_csv() -> Response:
    """CSV export.
    ---
    get:
      summary: CSV export
      description: >
        `table=callbacks` (default): one row per callback of the period, numbers masked.
        `table=agents`: the per-agent table. Cells that a spreadsheet would run as a formula
        are prefixed with an apostrophe.
      tags: [admin reports]
      security: [{bearerAuth: []}]
      parameters:
        - {name: table, in: query, schema: {type: string, enum: [callbacks, agents]}}
        - {name: from, in: query, schema: {type: string}}
        - {name: to, in: query, schema: {type: string}}
        - {name: tz, in: query, schema: {type: string}}
        - {name: widget, in: query, schema: {type: integer}}
      responses:
        200:
          description: The CSV file.
          content:
            text/csv:
              schema: {type: string}
        422: {$ref: '#/components/responses/Invalid'}
    """
    return _csv()


def _csv() -> Response:
    table = parse_choice(request.args, "table", CSV_TABLES)
    with context.reading() as session:
        period, widget_id = _period(session)
        if table == "agents":
            found = reporting.statistics(session, period, context.now(), viewer(), widget_id)
            text = reporting.agents_csv(found.agents)
        else:
            rows = reporting.period_callbacks(session, period, viewer(), widget_id)
            text = reporting.callbacks_csv(rows)
    start = period.start.astimezone(period.tz).date()
    end = period.end.astimezone(period.tz).date()
    name = f"{table}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _period(session: Session) -> tuple[reporting.Period, int | None]:
    widget_id = parse_id(request.args, "widget")
    zone = widget_zone(session, widget_id) if widget_id is not None else "UTC"
    return reporting.parse_period(request.args, context.now(), zone), widget_id
