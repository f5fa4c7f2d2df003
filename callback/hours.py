"""Opening hours: is a shop open, when does it open next, which callback times can be offered.

Pure calendar logic, no I/O. A week is stored as `callback.services.setup.parse_hours` writes
it: `{"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]], ...}` — local wall-clock
times in the shop's IANA time zone, each span `[start, end)`. `None` means always open.
Holidays are ISO dates (`"2026-12-24"`) in the same time zone on which the shop is closed all
day.

Why wall-clock arithmetic goes through UTC: across a daylight-saving change a local day is 23
or 25 hours long and one local hour is skipped or repeated. Every candidate moment is built in
local time, then taken to UTC and back; a time that does not exist (the skipped hour) is
dropped, and one that occurs twice is offered once (its first occurrence).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DAYS", "Week", "is_open", "next_opening", "slots", "split_schedule", "zone"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Week = Mapping[str, Sequence[Sequence[str]]]
# How far ahead `next_opening` and `slots` look: a shop closed for longer offers nothing.
HORIZON_DAYS = 21


def zone(name: str) -> ZoneInfo:
    """The time zone `name`, or UTC when the name is unknown (a bad value must not break the
    public config; the admin validates names when they are saved)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def split_schedule(stored: Mapping[str, Any] | None) -> tuple[Week | None, frozenset[date]]:
    """`Widget.hours` as stored -> (the weekly spans, the holidays).

    The column holds the week, plus an optional `"holidays": ["2026-12-24", ...]` list and
    optional one-off `"exceptions": {"2026-12-31": [["09:00", "13:00"]]}` that replace the
    weekday's spans on that date (an empty list closes it); dates that do not parse are
    ignored. Exceptions travel inside the week under their ISO date.
    """
    if stored is None:
        return None, frozenset()
    week: dict[str, Sequence[Sequence[str]]] = {
        day: spans for day, spans in stored.items() if day in DAYS
    }
    exceptions = stored.get("exceptions")
    for text, spans in exceptions.items() if isinstance(exceptions, Mapping) else ():
        try:
            week[date.fromisoformat(str(text)).isoformat()] = (
                spans if isinstance(spans, list) else []
            )
        except ValueError:
            continue
    holidays = set()
    for text in stored.get("holidays") or ():
        try:
            holidays.add(date.fromisoformat(str(text)))
        except ValueError:
            continue
    return week, frozenset(holidays)


def is_open(week: Week | None, tz: str, at: datetime, holidays: Iterable[date] = ()) -> bool:
    """Whether `at` (an aware datetime) falls inside an opening span."""
    if week is None:
        return True
    local = at.astimezone(zone(tz))
    if local.date() in set(holidays):
        return False
    now_minutes = local.hour * 60 + local.minute + local.second / 60
    return any(start <= now_minutes < end for start, end in _spans(week, local.date()))


def next_opening(
    week: Week | None, tz: str, at: datetime, holidays: Iterable[date] = ()
) -> datetime | None:
    """The next moment after `at` when a span starts (UTC), or None when always open or never
    open within the horizon. When open now, that is the next span's start, not `at`."""
    if week is None:
        return None
    for moment in _span_starts(week, tz, at, frozenset(holidays)):
        if moment > at:
            return moment
    return None


def slots(
    week: Week | None,
    tz: str,
    at: datetime,
    holidays: Iterable[date] = (),
    count: int = 6,
    step_minutes: int = 30,
    lead_minutes: int = 10,
) -> list[datetime]:
    """The next `count` bookable callback times (UTC): every `step_minutes` boundary of local
    time inside opening hours that is at least `lead_minutes` after `at`.

    `week=None` (always open) offers the next boundaries around the clock.
    """
    tzinfo = zone(tz)
    earliest = at + timedelta(minutes=lead_minutes)
    days = frozenset(holidays)
    found: list[datetime] = []
    local_day = at.astimezone(tzinfo).date()
    for offset in range(HORIZON_DAYS + 1):
        day = local_day + timedelta(days=offset)
        if day in days:
            continue
        spans = [(0, 24 * 60)] if week is None else _spans(week, day)
        for start, end in spans:
            first = -(-start // step_minutes) * step_minutes  # the first boundary >= start
            for minutes in range(int(first), int(end), step_minutes):
                moment = _local_moment(day, minutes, tzinfo)
                if moment is None or moment < earliest or (found and moment <= found[-1]):
                    continue
                found.append(moment)
                if len(found) == count:
                    return found
    return found


def _span_starts(
    week: Week, tz: str, at: datetime, holidays: frozenset[date]
) -> Iterator[datetime]:
    tzinfo = zone(tz)
    local_day = at.astimezone(tzinfo).date()
    for offset in range(HORIZON_DAYS + 1):
        day = local_day + timedelta(days=offset)
        if day in holidays:
            continue
        for start, _end in _spans(week, day):
            moment = _local_moment(day, start, tzinfo)
            if moment is None:
                # The span starts inside the skipped hour: it opens when the clocks resume.
                moment = _first_existing_after(day, start, tzinfo)
            yield moment


def _spans(week: Week, day: date) -> list[tuple[float, float]]:
    """The day's spans as minutes since local midnight, sorted; malformed spans are skipped."""
    out = []
    special = week.get(day.isoformat())
    for span in (special if special is not None else week.get(DAYS[day.weekday()])) or ():
        try:
            start, end = (_minutes(text) for text in span)
        except (TypeError, ValueError):
            continue
        if start < end:
            out.append((start, end))
    return sorted(out)


def _minutes(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= 24 * 60:
        raise ValueError(text)
    return value


def _local_moment(day: date, minutes: float, tzinfo: ZoneInfo) -> datetime | None:
    """`minutes` after local midnight of `day` as UTC; None inside a skipped (DST) hour."""
    whole = int(minutes)
    if whole >= 24 * 60:
        day, whole = day + timedelta(days=1), whole - 24 * 60
    local = datetime.combine(day, time(whole // 60, whole % 60), tzinfo=tzinfo)
    moment = local.astimezone(UTC)
    if moment.astimezone(tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return moment


def _first_existing_after(day: date, minutes: float, tzinfo: ZoneInfo) -> datetime:
    """The first wall-clock minute at or after `minutes` that exists (gaps last at most 2 h)."""
    for later in range(int(minutes) + 1, int(minutes) + 181):
        moment = _local_moment(day, later, tzinfo)
        if moment is not None:
            return moment
    raise ValueError(f"no existing local time after {day} +{minutes} min in {tzinfo}")
