"""Callback: a self-hostable smart callback service for web shops.

`create_app()` builds the Flask application from small named registration
steps. Importing this package has no side effects: nothing connects, logs or
reads files until `create_app()` runs.
"""

from __future__ import annotations

from flask import Flask

from .config import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    _configure(app, settings)
    _register_health(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Every public body is a phone number and a few fields: refuse big ones early.
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["settings"] = settings


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        return {"ok": True}
