"""Background jobs: the Celery app (Flask-docs pattern) and `enqueue()`.

The database is the record; the broker is a lossy, at-least-once transport.
Services commit first and enqueue after, and the beat's sweeper re-enqueues
whatever is due and has no live task, so a lost message delays a callback but
never loses it (design §5).

Without REDIS_URL the broker is Kombu's filesystem transport (with atomic
writes, see `broker.py`) under `instance/broker`, so a fresh machine needs no
Redis; production sets REDIS_URL. Tasks live in `worker/tasks.py` and are addressed here by name, so
the application never imports the worker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_ready
from flask import Flask, current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from .config import Settings

DISPATCH = "callback.dispatch"
HEDGE = "callback.hedge"
CANCEL_LEG = "callback.cancel_leg"
RECONCILE_LEG = "callback.reconcile_leg"
SWEEP = "callback.sweep"
# Notifications (services.notifications): fan a status change out, post one webhook
# delivery (retried by Celery with short countdowns), send one SMS or email.
NOTIFY = "callback.notify"
DELIVER_WEBHOOK = "callback.deliver_webhook"
SEND_MESSAGE = "callback.send_message"
# The retention purge (services.privacy): once a day, at a quiet hour (UTC).
PURGE = "callback.purge"

log = logging.getLogger(__name__)

# How often the beat sweeps: expired leases, lost tasks, silent legs.
SWEEP_INTERVAL_S = 2.0


def celery_config(settings: Settings, instance_dir: Path) -> dict[str, Any]:
    config: dict[str, Any] = {
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": "callback",
        "include": ["worker.tasks"],
        "beat_schedule": {
            "sweep": {"task": SWEEP, "schedule": SWEEP_INTERVAL_S},
            "purge": {"task": PURGE, "schedule": crontab(minute=17, hour=3)},
        },
        "beat_schedule_filename": str(instance_dir / "celerybeat-schedule"),
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        # With the broker down, a publish gives up within about a second instead of
        # holding an intake request; the sweeper re-enqueues what was not sent.
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
    }
    if settings.redis_url:
        config["broker_url"] = settings.redis_url
        # Above any countdown we use (hedge delays, retries): no redelivery of live tasks.
        config["broker_transport_options"] = {
            "visibility_timeout": 3600,
            "global_keyprefix": settings.redis_key_prefix,
            # A Redis that stops answering must not hang a web request or a task.
            "socket_timeout": 2.0,
            "socket_connect_timeout": 2.0,
        }
    else:
        folder = instance_dir / "broker"
        config["broker_url"] = "filesystem://"
        config["broker_transport"] = "callback.broker:Transport"
        config["broker_transport_options"] = {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "store_processed": False,
            "control_folder": str(folder / "control"),
            # The filesystem transport polls; 20 ms keeps dispatch well inside budget.
            "polling_interval": 0.02,
        }
    return config


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    """Every task runs inside the Flask app context (extensions, settings, DB)."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    instance_dir = settings.instance_dir
    if not settings.redis_url:
        (instance_dir / "broker").mkdir(parents=True, exist_ok=True)
    celery_app = Celery(app.name, task_cls=FlaskTask)
    _announce_readiness(celery_app, instance_dir)
    celery_app.config_from_object(celery_config(settings, instance_dir))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def ready_file(instance_dir: Path) -> Path:
    """Touched when a worker starts consuming: `callback run` and the tests wait for it."""
    return instance_dir / "worker.ready"


def _announce_readiness(celery_app: Celery, instance_dir: Path) -> None:
    def touch(**_: object) -> None:
        ready_file(instance_dir).touch()

    # weak=False: the closure would otherwise be collected before the worker starts.
    worker_ready.connect(touch, weak=False)


def enqueue(task: str, *args: object, countdown: float | None = None) -> None:
    """Send a task by name. Call only after the transaction that needs it has committed.

    A broker that is down does not fail the caller: the row is committed, and the beat's
    sweeper finds whatever is due without a live task once the broker is back (design §5).
    So the visitor still gets their 202, and a webhook still answers the carrier.
    """
    celery_app: Celery = current_app.extensions["celery"]
    try:
        celery_app.send_task(task, args=list(args), countdown=countdown)
    except (OperationalError, OSError, RedisError) as error:
        # Task names and row ids only: never the arguments' contents beyond ids.
        log.warning("broker unavailable, %s for %s left to the sweeper: %s", task, args, error)
