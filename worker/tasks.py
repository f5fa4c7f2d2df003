"""Thin Celery tasks: ids in, one service call, idempotent bodies (design §5)."""

from __future__ import annotations

from celery import Task, shared_task

from callback import jobs
from callback.services import dispatch as dispatching
from callback.services import notifications, privacy, sweeper

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


@shared_task(name=jobs.NOTIFY, **_OPTIONS)
def notify(callback_id: str, status: str, change_id: int) -> None:
    notifications.notify(callback_id, status, change_id)


# The database counts the attempts and says when to stop; max_retries is only a backstop.
@shared_task(
    name=jobs.DELIVER_WEBHOOK,
    bind=True,
    max_retries=notifications.webhooks.MAX_ATTEMPTS,
    **_OPTIONS,
)
def deliver_webhook(self: Task, delivery_id: int) -> None:
    retry_in = notifications.deliver_webhook(delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name=jobs.SEND_MESSAGE, **_OPTIONS)
def send_message(message_id: int) -> None:
    notifications.send_message(message_id)


@shared_task(name=jobs.PURGE, **_OPTIONS)
def purge() -> None:
    privacy.purge_expired()
