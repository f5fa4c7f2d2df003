"""The module `celery -A worker.app` points at (worker and beat).

The one place where building the app at import is the point: Celery loads this
module to find its app, as in Flask's Celery pattern.
"""

from typing import Any

from celery.signals import worker_ready

from callback import create_app
from callback.gc_tuning import freeze_startup_objects

flask_app = create_app()
celery_app = flask_app.extensions["celery"]


@worker_ready.connect
def _freeze_startup_objects(**_: Any) -> None:
    """The worker is consuming: keep its start-up objects out of later collections
    (callback/gc_tuning.py; the threads pool runs every task in this process)."""
    freeze_startup_objects()
