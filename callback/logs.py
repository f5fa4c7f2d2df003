"""Phone numbers never reach a log: every log record is masked when it is made.

Belt and braces on top of `callback.phone.mask()`, which the code calls wherever it names a
number on purpose. This catches the accidents: a number inside an exception message, a
library's debug line, a SQL error that echoes its parameters, an access log line. Whatever
looks like a phone number — "+" and 7 to 15 digits (spaces or dashes allowed between them),
or a bare run of 8 to 15 digits — is replaced by its mask.

It is installed as the logging module's record factory (`install()`, idempotent) rather
than as a handler filter, because gunicorn, Celery and the CLI each set up their own
handlers at different times, and a record factory sees every record of every logger
before any handler does. Exceptions are formatted and masked up front too (`exc_text`),
since their text is otherwise rendered later by whichever handler prints it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from .phone import mask

_PLUS_NUMBER = re.compile(r"\+\d(?:[ \-]?\d){6,14}(?!\d)")
_DIGIT_RUN = re.compile(r"(?<![\w.:/-])\d{8,15}(?![\w.:/-])")
_MASK_ALL = "•••"
_INSTALLED = "_callback_masking"


def mask_numbers(text: str) -> str:
    """`text` with every phone-number-like run masked."""
    if not any(ch.isdigit() for ch in text):
        return text
    text = _PLUS_NUMBER.sub(lambda m: mask(re.sub(r"[ \-]", "", m.group())), text)
    return _DIGIT_RUN.sub(_MASK_ALL, text)


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: let the handler report it as usual
        return
    masked = mask_numbers(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_numbers(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask_numbers(record.exc_text)


def install() -> None:
    """Mask every log record of this process from now on (safe to call more than once)."""
    current = logging.getLogRecordFactory()
    if getattr(current, _INSTALLED, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _mask_record(record)
        return record

    setattr(factory, _INSTALLED, True)
    logging.setLogRecordFactory(factory)
