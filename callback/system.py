"""The processes that make up a running Callback, for `callback run`, the tests and benchmarks.

The Procfile runs the same pieces in production (release, web, worker, beat).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from urllib.parse import urlparse

from .config import Settings
from .processes import callback_command


@dataclass(frozen=True)
class Piece:
    name: str
    argv: list[str]
    health_url: str | None = None


def pieces(settings: Settings, port: int, simulator_time_scale: float = 1.0) -> list[Piece]:
    bin_dir = [sys.executable, "-m"]
    parts: list[Piece] = []
    if settings.uses_simulator:
        sim_port = urlparse(settings.twilio_api_base).port or 8765
        parts.append(
            Piece(
                "simulator",
                callback_command(
                    "simulator", "--port", str(sim_port), "--time-scale", str(simulator_time_scale)
                ),
                f"{settings.twilio_api_base}/healthz",
            )
        )
    parts += [
        Piece(
            "web",
            [
                *bin_dir,
                "gunicorn",
                "--config",
                "python:callback.gunicorn_config",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(settings.web_concurrency),
                "--threads",
                str(settings.web_threads),
                "--access-logfile",
                "-",
                "--log-level",
                "warning",
                "callback:create_app()",
            ],
            f"http://127.0.0.1:{port}/healthz",
        ),
        Piece(
            "worker",
            [
                *bin_dir,
                "celery",
                "-A",
                "worker.app",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "8",
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        ),
        Piece("beat", [*bin_dir, "celery", "-A", "worker.app", "beat", "--loglevel", "warning"]),
    ]
    return parts
