"""Admin page: API tokens. A new token's secret is rendered once, in the response to the form
post, and never stored or shown again."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...services import accounts
from ...services.admin_errors import AdminError
from .auth import current_user, login_required
from .blueprints import pages
from .forms import errors_of


def _page(
    secret: str | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    tokens = accounts.list_tokens(None if user.is_manager else user.user_id)
    page = render_template("admin/tokens.html", tokens=tokens, secret=secret, errors=errors or {})
    return page, status


@pages.get("/tokens")
@login_required()
def tokens() -> ResponseReturnValue:
    return _page()


@pages.post("/tokens")
@login_required()
def token_create() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    try:
        secret = accounts.create_token(
            user.user_id, request.form.get("name", ""), request.form.getlist("scopes")
        )
    except AdminError as error:
        return _page(errors=errors_of(error), status=422)
    return _page(secret=secret, status=201)


@pages.post("/tokens/<id:token_id>/revoke")
@login_required()
def token_revoke(token_id: int) -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    if accounts.revoke_token(token_id, None if user.is_manager else user.user_id):
        flash("Token revoked: it stopped working at once.")
    else:
        flash("No such live token.", "error")
    return redirect(url_for("admin.tokens"))
