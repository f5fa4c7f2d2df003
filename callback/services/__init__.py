"""The service layer: owns the transactions, calls the pure core, enqueues after commit.

Web views and Celery tasks are thin shells around these functions; models and
helpers below them never commit (`db.session_scope` is the one place that does).
"""
