"""Admin pages: agents (list, add, edit, deactivate, hours, teams, an agent's login)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...services import accounts, admin_agents, admin_rules
from ...services.admin_errors import AdminError
from ...services.admin_validation import DAY_NAMES, time_zone_names
from .auth import MANAGER_ROLES, login_required
from .blueprints import pages
from .forms import errors_of, hours_for_form, hours_from_form, ids, submitted_hours

PRESENCE_OPTIONS = [("online", "Online"), ("paused", "Paused"), ("offline", "Offline")]


def _list_page(
    errors: dict[str, str] | None = None, form: dict[str, Any] | None = None, status: int = 200
) -> ResponseReturnValue:
    agents = admin_agents.list_agents()
    for agent in agents:
        agent["label"] = admin_agents.agent_state_label(agent)
    page = render_template(
        "admin/agents.html",
        agents=agents,
        teams=admin_agents.list_teams(),
        rule_options=[("", "— none —")] + [(r["id"], r["name"]) for r in admin_rules.list_rules()],
        form=form or {},
        errors=errors or {},
        zones=time_zone_names(),
    )
    return page, status


@pages.get("/agents")
@login_required(*MANAGER_ROLES)
def agents() -> ResponseReturnValue:
    return _list_page()


@pages.post("/agents")
@login_required(*MANAGER_ROLES)
def agent_create() -> ResponseReturnValue:
    form = request.form.to_dict()
    payload: dict[str, Any] = {
        "name": form.get("name", ""),
        "phone": form.get("phone", ""),
        "time_zone": form.get("time_zone") or "UTC",
    }
    if form.get("rule_id"):
        payload["rule_id"] = form["rule_id"]
    try:
        created = admin_agents.create_agent(payload)
    except AdminError as error:
        return _list_page(errors_of(error), form, 422)
    flash(f"Agent {created['name']} added.")
    return redirect(url_for("admin.agents"))


def _edit_page(
    agent_id: int,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    agent = admin_agents.get_agent(agent_id)
    if form is None:
        form = {**agent, "team_ids": [t["id"] for t in agent["teams"]]}
        hours = hours_for_form(agent["hours"])
        fixed = agent["hours"] is not None
    else:
        hours = submitted_hours()
        fixed = request.form.get("fixed_hours") == "on"
    logins = [u for u in accounts.list_users() if u["agent_id"] == agent_id]
    page = render_template(
        "admin/agent_edit.html",
        agent=agent,
        form=form,
        hours=hours,
        fixed=fixed,
        errors=errors or {},
        teams=admin_agents.list_teams(),
        presence_options=PRESENCE_OPTIONS,
        day_names=DAY_NAMES,
        zones=time_zone_names(),
        logins=logins,
    )
    return page, status


@pages.get("/agents/<id:agent_id>")
@login_required(*MANAGER_ROLES)
def agent_edit(agent_id: int) -> ResponseReturnValue:
    try:
        return _edit_page(agent_id)
    except AdminError:
        return render_template("admin/not_found.html", what="agent"), 404


@pages.post("/agents/<id:agent_id>")
@login_required(*MANAGER_ROLES)
def agent_update(agent_id: int) -> ResponseReturnValue:
    form: dict[str, Any] = request.form.to_dict()
    form["team_ids"] = ids("team_ids")
    payload = {
        "name": form.get("name", ""),
        "phone": form.get("phone", ""),
        "presence": form.get("presence"),
        "time_zone": form.get("time_zone") or "UTC",
        "hours": hours_from_form(),
        "team_ids": form["team_ids"],
    }
    try:
        admin_agents.update_agent(agent_id, payload)
    except AdminError as error:
        if error.status == 404:
            return render_template("admin/not_found.html", what="agent"), 404
        return _edit_page(agent_id, errors_of(error), form, 422)
    flash("Agent saved.")
    return redirect(url_for("admin.agent_edit", agent_id=agent_id))


@pages.post("/agents/<id:agent_id>/active")
@login_required(*MANAGER_ROLES)
def agent_set_active(agent_id: int) -> ResponseReturnValue:
    active = request.form.get("active") == "true"
    try:
        agent = admin_agents.update_agent(agent_id, {"active": active})
    except AdminError:
        return render_template("admin/not_found.html", what="agent"), 404
    flash(
        f"{agent['name']} is {'active' if active else 'deactivated: never rung until reactivated'}."
    )
    return redirect(url_for("admin.agent_edit", agent_id=agent_id))


@pages.post("/agents/<id:agent_id>/login")
@login_required(*MANAGER_ROLES)
def agent_login_create(agent_id: int) -> ResponseReturnValue:
    form = request.form.to_dict()
    try:
        accounts.create_user(
            form.get("login_email", ""), form.get("login_password", ""), "agent", agent_id
        )
    except AdminError as error:
        errors = {f"login_{error.field}" if error.field else "_form": error.message}
        return _edit_page(agent_id, errors, None, 422)
    flash("Login created: the agent can now sign in and set their presence.")
    return redirect(url_for("admin.agent_edit", agent_id=agent_id))


@pages.post("/teams")
@login_required(*MANAGER_ROLES)
def team_create() -> ResponseReturnValue:
    try:
        team = admin_agents.create_team({"name": request.form.get("team_name", "")})
    except AdminError as error:
        return _list_page({"team_name": error.message}, request.form.to_dict(), 422)
    flash(f"Team {team['name']} created.")
    return redirect(url_for("admin.agents"))


@pages.post("/teams/<id:team_id>/delete")
@login_required(*MANAGER_ROLES)
def team_delete(team_id: int) -> ResponseReturnValue:
    try:
        admin_agents.delete_team(team_id)
    except AdminError:
        return render_template("admin/not_found.html", what="team"), 404
    flash("Team deleted.")
    return redirect(url_for("admin.agents"))
