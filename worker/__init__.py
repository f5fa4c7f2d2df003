"""The Celery worker: a thin shell of tasks that call the service layer in `callback/`.

It joins with the callback core (issue #3): `celery -A worker worker` will
point at the Celery app built by `worker.celery_app.make_celery()`.
"""
