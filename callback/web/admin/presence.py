"""Admin page: an agent sets their own presence, from a phone, with three big buttons."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...services import admin_agents
from ...services.admin_errors import AdminError
from .auth import current_user, login_required
from .blueprints import pages

CHOICES = (
    ("online", "Online", "Callbacks ring your phone."),
    ("paused", "Paused", "A short break: nothing rings."),
    ("offline", "Offline", "Done for the day."),
)


@pages.get("/presence")
@login_required()
def presence() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    if user.agent_id is None:
        # Managers without an agent of their own set presence on each agent's page.
        return redirect(url_for("admin.agents"))
    agent = admin_agents.get_agent(user.agent_id)
    return render_template("admin/presence.html", agent=agent, choices=CHOICES)


@pages.post("/presence")
@login_required()
def presence_set() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    if user.agent_id is None:
        return redirect(url_for("admin.agents"))
    try:
        agent = admin_agents.set_presence(user.agent_id, request.form.get("presence"))
    except AdminError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.presence"))
    flash(f"You are {agent['presence']}.")
    return redirect(url_for("admin.presence"))
