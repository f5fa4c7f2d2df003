"""The module `celery -A worker.app` points at (worker and beat).

The one place where building the app at import is the point: Celery loads this
module to find its app, as in Flask's Celery pattern.
"""

from callback import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
