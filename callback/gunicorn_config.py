"""gunicorn settings for the web process: `gunicorn --config python:callback.gunicorn_config`.

`callback run` and the Procfile load it; the number of processes and threads stay on the
command line (WEB_CONCURRENCY, WEB_THREADS). Settings given in GUNICORN_CMD_ARGS or on the
command line still apply on top of it.
"""

from __future__ import annotations

from typing import Any

from callback.gc_tuning import freeze_startup_objects


def post_worker_init(worker: Any) -> None:
    """Each worker process has loaded the app: its start-up objects leave the collector's
    sight (callback/gc_tuning.py says why)."""
    freeze_startup_objects()
