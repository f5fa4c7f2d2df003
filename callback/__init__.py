"""Callback: a self-hostable smart callback service for web shops.

`create_app()` builds the Flask application from small named registration
steps. Importing this package has no side effects: nothing connects, logs or
reads files until `create_app()` runs (and the database engine connects lazily).
"""

from __future__ import annotations

from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    _configure(app, settings)
    _register_hardening(app, settings)
    _register_database(app, settings)
    _register_telephony(app, settings)
    _register_jobs(app, settings)
    _register_blueprints(app)
    _register_admin(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Every public body is a phone number and a few fields: refuse big ones early (413).
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["settings"] = settings
    # One proxy hop (the load balancer) sets X-Forwarded-*; signatures use PUBLIC_URL anyway.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def _register_hardening(app: Flask, settings: Settings) -> None:
    """Numbers masked in every log record, public rate limits, security headers."""
    from . import logs
    from .web.limits import init_public_limits
    from .web.security import register_security_headers

    logs.install()
    init_public_limits(app, settings)
    register_security_headers(app, settings)


def _register_database(app: Flask, settings: Settings) -> None:
    from .db import make_engine, make_session_factory

    app.extensions["db"] = make_session_factory(make_engine(settings.database_url))


def _register_telephony(app: Flask, settings: Settings) -> None:
    from .telephony import make_provider

    app.extensions["provider"] = make_provider(settings)
    app.extensions["twilio_validator"] = RequestValidator(settings.twilio_auth_token)


def _register_jobs(app: Flask, settings: Settings) -> None:
    from .jobs import celery_init_app

    celery_init_app(app, settings)


def _register_admin(app: Flask) -> None:
    from .web import admin

    admin.register(app)


def _register_blueprints(app: Flask) -> None:
    from .web import api, twilio_hooks, widget
    from .web.admin.api_reports import register as register_reports
    from .web.cors import register_cors
    from .web.errors import register_error_handlers

    app.register_blueprint(api.bp)
    app.register_blueprint(twilio_hooks.bp)
    app.register_blueprint(widget.bp)
    register_reports(app)  # the admin's board, history and statistics (issue #5, part B)
    register_cors(app)
    register_error_handlers(app)

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        return {"ok": True}
