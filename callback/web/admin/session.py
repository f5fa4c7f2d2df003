"""Signing in and out of the admin, and where the admin starts."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...services.accounts import authenticate, normalize_email
from .auth import current_user, log_in, log_out, login_required, safe_next
from .blueprints import pages
from .login_limit import client_ip, login_limiter

_WRONG = "Wrong email or password."


@pages.get("/")
@login_required()
def index() -> ResponseReturnValue:
    user = current_user()
    # Agents start on their phone-friendly presence page; managers on the live board.
    if user is not None and not user.is_manager:
        return redirect(url_for("admin.presence"))
    return redirect("/admin/board")


@pages.get("/login")
def login() -> ResponseReturnValue:
    if current_user() is not None:
        return redirect(safe_next(request.args.get("next")))
    return render_template("admin/login.html", next=request.args.get("next", ""), email="")


@pages.post("/login")
def login_post() -> ResponseReturnValue:
    email = normalize_email(request.form.get("email", ""))[:254]
    password = request.form.get("password", "")[:1024]
    target = request.form.get("next", "")
    limiter, ip = login_limiter(), client_ip()
    wait = limiter.retry_after(ip, email)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        body = render_template(
            "admin/login.html",
            next=target,
            email=email,
            error=f"Too many failed attempts. Try again in about {minutes} minute(s).",
        )
        return body, 429, {"Retry-After": str(wait)}
    principal = authenticate(email, password) if email and password else None
    if principal is None:
        limiter.failed(ip, email)
        body = render_template("admin/login.html", next=target, email=email, error=_WRONG)
        return body, 401
    log_in(principal)
    return redirect(safe_next(target))


@pages.post("/logout")
def logout() -> ResponseReturnValue:
    log_out()
    return redirect(url_for("admin.login"))
