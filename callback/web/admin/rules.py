"""Admin pages: routing rules (strategy, timings, whisper, members in order)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...services import admin_agents, admin_rules
from ...services.admin_errors import AdminError
from .auth import MANAGER_ROLES, login_required
from .blueprints import pages
from .forms import errors_of

STRATEGY_OPTIONS = [
    ("ordered", "Ordered: one at a time, in order"),
    ("round_robin", "Round robin: start after the last one rung"),
    ("longest_idle", "Longest idle first"),
    ("simultaneous", "Simultaneous: ring several at once"),
    ("hedged", "Hedged: ring the next too after the hedge delay"),
]
SETTINGS = (
    "strategy",
    "ring_timeout",
    "hedge_after",
    "simultaneous_count",
    "max_rounds",
    "customer_retry_delay",
    "customer_max_attempts",
    "whisper_template",
)


def _list_page(
    errors: dict[str, str] | None = None, form: dict[str, Any] | None = None, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "admin/rules.html",
        rules=admin_rules.list_rules(),
        form=form or {},
        errors=errors or {},
        strategy_options=STRATEGY_OPTIONS,
    )
    return page, status


@pages.get("/rules")
@login_required(*MANAGER_ROLES)
def rules() -> ResponseReturnValue:
    return _list_page()


@pages.post("/rules")
@login_required(*MANAGER_ROLES)
def rule_create() -> ResponseReturnValue:
    form = request.form.to_dict()
    try:
        rule = admin_rules.create_rule(
            {"name": form.get("name", ""), "strategy": form.get("strategy") or "hedged"}
        )
    except AdminError as error:
        return _list_page(errors_of(error), form, 422)
    flash(f"Rule {rule['name']} created; add its members below.")
    return redirect(url_for("admin.rule_edit", rule_id=rule["id"]))


def _edit_page(
    rule_id: int,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    rule = admin_rules.get_rule(rule_id)
    members = {m["agent_id"] for m in rule["members"]}
    candidates = [a for a in admin_agents.list_agents() if a["id"] not in members]
    page = render_template(
        "admin/rule_edit.html",
        rule=rule,
        form=form or rule,
        errors=errors or {},
        strategy_options=STRATEGY_OPTIONS,
        candidates=candidates,
        limits=admin_rules.LIMITS,
    )
    return page, status


@pages.get("/rules/<id:rule_id>")
@login_required(*MANAGER_ROLES)
def rule_edit(rule_id: int) -> ResponseReturnValue:
    try:
        return _edit_page(rule_id)
    except AdminError:
        return render_template("admin/not_found.html", what="rule"), 404


@pages.post("/rules/<id:rule_id>")
@login_required(*MANAGER_ROLES)
def rule_update(rule_id: int) -> ResponseReturnValue:
    form = request.form.to_dict()
    payload: dict[str, Any] = {key: form.get(key, "") for key in SETTINGS}
    payload["name"] = form.get("name", "")
    payload["require_keypress"] = form.get("require_keypress") == "on"
    form["require_keypress"] = payload["require_keypress"]
    try:
        admin_rules.update_rule(rule_id, payload)
    except AdminError as error:
        if error.status == 404:
            return render_template("admin/not_found.html", what="rule"), 404
        return _edit_page(rule_id, errors_of(error), form, 422)
    flash("Rule saved.")
    return redirect(url_for("admin.rule_edit", rule_id=rule_id))


@pages.post("/rules/<id:rule_id>/members")
@login_required(*MANAGER_ROLES)
def rule_members(rule_id: int) -> ResponseReturnValue:
    """Add (`add`) or remove (`remove`) one member; reordering goes through the JSON API."""
    try:
        rule = admin_rules.get_rule(rule_id)
        order = [m["agent_id"] for m in rule["members"]]
        add, remove = request.form.get("add", ""), request.form.get("remove", "")
        if add.isdigit() and int(add) not in order:
            order.append(int(add))
        if remove.isdigit() and int(remove) in order:
            order.remove(int(remove))
        admin_rules.set_members(rule_id, {"agent_ids": order})
    except AdminError as error:
        if error.status == 404:
            return render_template("admin/not_found.html", what="rule"), 404
        return _edit_page(rule_id, errors_of(error), None, 422)
    flash("Members saved.")
    return redirect(url_for("admin.rule_edit", rule_id=rule_id) + "#members")


@pages.post("/rules/<id:rule_id>/delete")
@login_required(*MANAGER_ROLES)
def rule_delete(rule_id: int) -> ResponseReturnValue:
    try:
        admin_rules.delete_rule(rule_id)
    except AdminError as error:
        if error.status == 404:
            return render_template("admin/not_found.html", what="rule"), 404
        return _edit_page(rule_id, errors_of(error), None, 422)
    flash("Rule deleted.")
    return redirect(url_for("admin.rules"))
