"""Keep start-up objects out of the garbage collector's way in long-running server processes.

After start-up a web or worker process holds about 150,000 objects (Flask and its routes,
SQLAlchemy's mappers and compiled-statement cache, Celery, the twilio client, phonenumbers'
metadata) that live until the process exits. CPython's full collection (its oldest
generation) walks every one of them each time: measured at 57-61 ms per collection in each
gunicorn worker, about every 16 s per process at 50 intake requests/s. Those pauses were the
one request in a hundred that took 20-140 ms instead of 9 (bench/README.md, "Intake").

`gc.freeze()` once start-up is over moves them to a permanent generation the collector skips:
a full collection then walks ~10,000 objects, about 2 ms. Reference cycles made afterwards are
still collected as before; only what existed at the freeze is never examined again.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect start-up garbage once, then leave everything still alive out of later
    collections. Call once per process, when it is ready to serve."""
    gc.collect()
    gc.freeze()
