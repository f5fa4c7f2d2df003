"""The web admin (HTML under /admin) and the admin API (JSON under /api/v1/admin).

`register(app)` sets up what they need — session cookie flags, CSRF (Flask-WTF), the login
rate limit (Flask-Limiter), `/api/openapi.json` — and registers both blueprints. Part B's
board, history and statistics blueprints are registered on their own in `create_app`.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from ...config import Settings
from ..errors import error_response

# Shown once per session; 12 h covers a working day without signing in again.
SESSION_HOURS = 12


def register(app: Flask) -> None:
    settings: Settings = app.extensions["settings"]
    _configure_session(app, settings)
    _configure_csrf(app)
    from .login_limit import init_login_limiter

    init_login_limiter(app, settings.redis_url)
    from .auth import current_user

    # base.html shows the navigation for the signed-in user (part B's pages extend it too).
    app.jinja_env.globals["admin_user"] = current_user
    _register_blueprints(app)


def _configure_session(app: Flask, settings: Settings) -> None:
    from datetime import timedelta

    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )


def _configure_csrf(app: Flask) -> None:
    # Checked only where we ask (admin pages, cookie-authenticated admin API calls): the public
    # API and the carrier webhooks are not browser-session endpoints and must not need it.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # Valid for the whole session: an admin page left open over lunch still saves.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    CSRFProtect(app)

    @app.errorhandler(CSRFError)
    def _csrf_failed(error: CSRFError) -> tuple[str, int] | Response:
        message = "The CSRF token is missing or invalid; reload the page and try again."
        if request.path.startswith("/api/"):
            return error_response(403, "csrf_failed", message)
        return render_template("admin/csrf.html", message=message), 400


def _register_blueprints(app: Flask) -> None:
    from .. import openapi
    from . import (  # noqa: F401  (each module adds its routes to the blueprints)
        agents,
        api_agents,
        api_privacy,
        api_rules,
        api_tokens,
        api_widgets,
        presence,
        rules,
        session,
        tokens,
        widgets,
    )
    from .blueprints import IdConverter, api, pages

    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_blueprint(openapi.bp)
