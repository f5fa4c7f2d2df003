"""When to call back a visitor we could not serve now: the next slot we can honestly promise.

Used when a callback waited in the queue longer than the maximum wait, or when every agent
stayed silent for the rule's rounds: the callback becomes `scheduled` for this time and the
beat's sweep dispatches it when it is due (no ETA task, design §5).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import hours
from ..models import Widget

# A rescheduled callback is promised this far ahead, rounded up to a tidy minute.
RESCHEDULE_AFTER = timedelta(minutes=15)
ROUND_TO_MINUTES = 5


def next_slot(widget: Widget, now: datetime) -> datetime:
    """`now + RESCHEDULE_AFTER` rounded up to 5 minutes, or the next opening if closed then."""
    candidate = _round_up(now + RESCHEDULE_AFTER)
    week, holidays = hours.split_schedule(widget.hours)
    if hours.is_open(week, widget.time_zone, candidate, holidays):
        return candidate
    return hours.next_opening(week, widget.time_zone, candidate, holidays) or candidate


def _round_up(moment: datetime) -> datetime:
    step = ROUND_TO_MINUTES * 60
    seconds = moment.minute * 60 + moment.second + moment.microsecond / 1e6
    extra = -seconds % step
    return (moment + timedelta(seconds=extra)).replace(microsecond=0)
