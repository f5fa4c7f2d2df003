"""Bring a database to the newest schema with Alembic, from Python.

The Procfile's release step, the demo launcher and the test fixtures call `upgrade()`.
`alembic.ini` and `migrations/` live at the top of the repository (beside this package),
which is where they are found both in a checkout and in an editable install.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from .db import make_engine

__all__ = ["REPO_ROOT", "alembic_config", "upgrade"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    """The repository's Alembic configuration, with paths made absolute and logging left alone."""
    ini = REPO_ROOT / "alembic.ini"
    scripts = REPO_ROOT / "migrations"
    if not ini.is_file() or not (scripts / "env.py").is_file():
        raise RuntimeError(
            f"Alembic files not found beside the package ({ini}, {scripts}); migrations ship "
            "with the source tree, so install Callback with `pip install -e .` from a checkout"
        )
    config = Config(str(ini))
    # configparser interpolates "%", so escape it in a path we did not choose.
    config.set_main_option("script_location", str(scripts).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str) -> None:
    """Run `alembic upgrade head` against `database_url`; a no-op when already current."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
