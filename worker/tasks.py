"""Thin Celery tasks: ids in, one service call, idempotent bodies (design §5)."""

from __future__ import annotations

from celery import shared_task

from callback import jobs
from callback.services import dispatch as dispatching
from callback.services import sweeper

# acks_late + idempotent bodies: a task redelivered after a worker crash runs again safely.
_OPTIONS = {"acks_late": True, "ignore_result": True}


@shared_task(name=jobs.DISPATCH, **_OPTIONS)
def dispatch(callback_id: str) -> None:
    dispatching.dispatch(callback_id)


@shared_task(name=jobs.HEDGE, **_OPTIONS)
def hedge(callback_id: str) -> None:
    dispatching.hedge(callback_id)


@shared_task(name=jobs.CANCEL_LEG, **_OPTIONS)
def cancel_leg(leg_id: int) -> None:
    dispatching.cancel_leg(leg_id)


@shared_task(name=jobs.RECONCILE_LEG, **_OPTIONS)
def reconcile_leg(leg_id: int) -> None:
    sweeper.reconcile_leg(leg_id)


@shared_task(name=jobs.SWEEP, **_OPTIONS)
def sweep() -> None:
    sweeper.sweep()
