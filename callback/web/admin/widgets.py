"""Admin pages: widgets (settings, look, texts, triggers, hours, page routes, snippet, preview)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...services import admin_rules, admin_widgets, context
from ...services.admin_errors import AdminError
from ...services.admin_validation import DAY_NAMES, time_zone_names
from .auth import MANAGER_ROLES, login_required
from .blueprints import pages
from .forms import errors_of, hours_for_form, hours_from_form, lines, submitted_hours

# The preview page runs the real widget.js, which may need inline styles in its shadow root.
PREVIEW_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
    "object-src 'none'"
)
POSITION_OPTIONS = [("right", "Bottom right"), ("left", "Bottom left")]
EXTRA_ROUTE_ROWS = 2


def snippet(public_key: str) -> str:
    return (
        f'<script async src="{context.public_url("/widget.js")}" '
        f'data-widget="{public_key}"></script>'
    )


def _rule_options() -> list[tuple[Any, str]]:
    return [(r["id"], r["name"]) for r in admin_rules.list_rules()]


@pages.get("/widgets")
@login_required(*MANAGER_ROLES)
def widgets() -> ResponseReturnValue:
    return _list_page()


def _list_page(
    errors: dict[str, str] | None = None, form: dict[str, Any] | None = None, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "admin/widgets.html",
        widgets=admin_widgets.list_widgets(),
        rule_options=_rule_options(),
        rule_names=dict(_rule_options()),
        form=form or {},
        errors=errors or {},
    )
    return page, status


@pages.post("/widgets")
@login_required(*MANAGER_ROLES)
def widget_create() -> ResponseReturnValue:
    form = request.form.to_dict()
    payload = {
        "name": form.get("name", ""),
        "routing_rule_id": form.get("routing_rule_id", ""),
        "default_region": form.get("default_region", "").upper() or "EE",
        "allowed_countries": lines("allowed_countries") or [form.get("default_region") or "EE"],
    }
    try:
        widget = admin_widgets.create_widget(payload)
    except AdminError as error:
        return _list_page(errors_of(error), form, 422)
    flash(f"Widget {widget['name']} created. Copy its snippet below.")
    return redirect(url_for("admin.widget_edit", widget_id=widget["id"]))


def _edit_page(
    widget_id: int,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    widget = admin_widgets.get_widget(widget_id)
    if form is None:
        form = {
            **widget,
            "allowed_origins": "\n".join(widget["allowed_origins"]),
            "allowed_countries": ", ".join(widget["allowed_countries"]),
            "blocked_prefixes": "\n".join(widget["blocked_prefixes"]),
            "holidays": "\n".join(widget["holidays"]),
            "texts": json.dumps(widget["texts"], indent=2, ensure_ascii=False),
            "triggers": json.dumps(widget["triggers"], indent=2, ensure_ascii=False),
            "color_accent": widget["colors"]["accent"],
            "color_text": widget["colors"]["text"],
        }
        hours, fixed = hours_for_form(widget["hours"]), widget["hours"] is not None
    else:
        hours, fixed = submitted_hours(), request.form.get("fixed_hours") == "on"
    routes = widget["routes"] + [{"url_pattern": "", "rule_id": ""}] * EXTRA_ROUTE_ROWS
    page = render_template(
        "admin/widget_edit.html",
        widget=widget,
        form=form,
        errors=errors or {},
        hours=hours,
        fixed=fixed,
        day_names=DAY_NAMES,
        zones=time_zone_names(),
        rule_options=_rule_options(),
        position_options=POSITION_OPTIONS,
        routes=routes,
        snippet=snippet(widget["public_key"]),
        text_keys=admin_widgets.text_keys(),
    )
    return page, status


@pages.get("/widgets/<id:widget_id>")
@login_required(*MANAGER_ROLES)
def widget_edit(widget_id: int) -> ResponseReturnValue:
    try:
        return _edit_page(widget_id)
    except AdminError:
        return render_template("admin/not_found.html", what="widget"), 404


def _json_field(name: str) -> Any:
    raw = request.form.get(name, "").strip() or "{}"
    try:
        return json.loads(raw)
    except ValueError as error:
        raise AdminError(f"invalid_{name}", f"Not valid JSON: {error}.", name) from None


@pages.post("/widgets/<id:widget_id>")
@login_required(*MANAGER_ROLES)
def widget_update(widget_id: int) -> ResponseReturnValue:
    form = request.form.to_dict()
    try:
        payload = {
            "name": form.get("name", ""),
            "allowed_origins": lines("allowed_origins"),
            "default_region": form.get("default_region", ""),
            "allowed_countries": lines("allowed_countries"),
            "language": form.get("language", ""),
            "texts": _json_field("texts"),
            "triggers": _json_field("triggers"),
            "colors": {"accent": form.get("color_accent", ""), "text": form.get("color_text", "")},
            "position": form.get("position", ""),
            "time_zone": form.get("time_zone", ""),
            "hours": hours_from_form(),
            "holidays": lines("holidays"),
            "routing_rule_id": form.get("routing_rule_id", ""),
            "daily_call_cap": form.get("daily_call_cap", ""),
            "blocked_prefixes": lines("blocked_prefixes"),
        }
        admin_widgets.update_widget(widget_id, payload)
    except AdminError as error:
        if error.status == 404:
            return render_template("admin/not_found.html", what="widget"), 404
        return _edit_page(widget_id, errors_of(error), form, 422)
    flash("Widget saved.")
    return redirect(url_for("admin.widget_edit", widget_id=widget_id))


@pages.post("/widgets/<id:widget_id>/routes")
@login_required(*MANAGER_ROLES)
def widget_routes(widget_id: int) -> ResponseReturnValue:
    patterns = request.form.getlist("url_pattern")
    rule_ids = request.form.getlist("rule_id")
    routes = [
        {"url_pattern": pattern.strip(), "rule_id": int(rule) if rule.isdigit() else rule}
        for pattern, rule in zip(patterns, rule_ids, strict=False)
        if pattern.strip()
    ]
    try:
        admin_widgets.set_routes(widget_id, {"routes": routes})
    except AdminError as error:
        if error.status == 404:
            return render_template("admin/not_found.html", what="widget"), 404
        return _edit_page(widget_id, errors_of(error), None, 422)
    flash("Page routes saved.")
    return redirect(url_for("admin.widget_edit", widget_id=widget_id) + "#routes")


@pages.get("/widgets/<id:widget_id>/preview")
@login_required(*MANAGER_ROLES)
def widget_preview(widget_id: int) -> ResponseReturnValue:
    try:
        widget = admin_widgets.get_widget(widget_id)
    except AdminError:
        return render_template("admin/not_found.html", what="widget"), 404
    response = Response(render_template("admin/widget_preview.html", widget=widget))
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response
