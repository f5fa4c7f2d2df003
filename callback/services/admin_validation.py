"""Checking the admin's input: one set of rules for the JSON API and the HTML forms.

Every function takes the raw value (from JSON or a form) and returns the clean one, or raises
`AdminError` naming the field, so that a bad value is a 422 with a clear message and never a
500 further down.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from .admin_errors import AdminError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
_SPAN = re.compile(r"^\s*(\d{1,2}:\d\d)\s*[-\u2013]\s*(\d{1,2}:\d\d)\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
# Ids are 32-bit integer columns: a larger number is no id, and PostgreSQL would refuse it.
MAX_ID = 2**31 - 1


def require_object(payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise AdminError("invalid_json", "The body must be a JSON object.")
    return payload


def text(
    payload: Mapping[str, Any], key: str, max_length: int, *, required: bool = False
) -> str | None:
    """A trimmed string, or None when absent (an error when `required`)."""
    value = payload.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise AdminError(f"missing_{key}", f"'{key}' is required.", key)
        return None
    if not isinstance(value, str):
        raise AdminError(f"invalid_{key}", f"'{key}' must be a string.", key)
    value = value.strip()
    if len(value) > max_length or any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise AdminError(
            f"invalid_{key}", f"'{key}' must be at most {max_length} printable characters.", key
        )
    return value


def integer(payload: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    """An integer within [low, high]; form strings like "15" are accepted."""
    value = payload.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AdminError(
            f"invalid_{key}", f"'{key}' must be a whole number from {low} to {high}.", key
        )
    return value


def boolean(payload: Mapping[str, Any], key: str) -> bool | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in ("true", "on", "1", "yes", "false", "0", "no"):
        return value.lower() in ("true", "on", "1", "yes")
    if not isinstance(value, bool):
        raise AdminError(f"invalid_{key}", f"'{key}' must be true or false.", key)
    return value


def choice(payload: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise AdminError(f"invalid_{key}", f"'{key}' must be one of {', '.join(allowed)}.", key)
    return str(value)


def id_list(payload: Mapping[str, Any], key: str) -> list[int] | None:
    """A list of distinct positive integer ids (order kept)."""
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or any(
        isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_ID for v in value
    ):
        raise AdminError(f"invalid_{key}", f"'{key}' must be a list of ids.", key)
    if len(set(value)) != len(value):
        raise AdminError(f"duplicate_{key}", f"'{key}' lists an id twice.", key)
    return list(value)


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone(value: Any, key: str = "time_zone") -> str:
    if not isinstance(value, str) or value not in _zones():
        raise AdminError(
            "invalid_time_zone", "The time zone must be an IANA name like Europe/Tallinn.", key
        )
    return value


def time_zone_names() -> list[str]:
    return sorted(_zones())


def weekly_hours(value: Any, key: str = "hours") -> dict[str, list[list[str]]] | None:
    """Working hours per weekday: None (no fixed hours) or {"mon": [["09:00", "17:00"]], ...}.

    A day may also be given as text, "09:00-12:00, 13:00-17:00" (the forms send that); a
    missing or empty day is a day off. Spans must be in order and must not overlap.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise AdminError("invalid_hours", "Hours must be an object keyed by weekday.", key)
    week: dict[str, list[list[str]]] = {}
    for day, spans in value.items():
        if day not in DAYS:
            raise AdminError("invalid_hours", f"'{day}' is not a weekday (mon … sun).", key)
        parsed = _day_spans(day, spans, key)
        if parsed:
            week[day] = parsed
    return week


def _day_spans(day: str, spans: Any, key: str) -> list[list[str]]:
    if isinstance(spans, str):
        spans = [_split_span(day, part, key) for part in spans.split(",") if part.strip()]
    if not isinstance(spans, list):
        raise AdminError("invalid_hours", f"{DAY_NAMES[day]}: a list of [start, end].", key)
    out: list[list[str]] = []
    for span in spans:
        if (
            not isinstance(span, list | tuple)
            or len(span) != 2
            or not all(isinstance(t, str) and _CLOCK.match(t) for t in span)
        ):
            raise AdminError(
                "invalid_hours", f"{DAY_NAMES[day]}: use times like 09:00-17:00.", f"{key}.{day}"
            )
        start, end = span
        if start >= end or (out and start < out[-1][1]):
            raise AdminError(
                "invalid_hours",
                f"{DAY_NAMES[day]}: each span must end after it starts, in order, not overlapping.",
                f"{key}.{day}",
            )
        out.append([start, end])
    return out


def _split_span(day: str, text_span: str, key: str) -> list[str]:
    match = _SPAN.match(text_span)
    if not match:
        raise AdminError(
            "invalid_hours", f"{DAY_NAMES[day]}: use times like 09:00-17:00.", f"{key}.{day}"
        )
    return [t.zfill(5) for t in match.groups()]


def hours_text(spans: list[list[str]] | None) -> str:
    """[["09:00", "12:00"], ["13:00", "17:00"]] -> "09:00-12:00, 13:00-17:00" for a form."""
    return ", ".join(f"{start}-{end}" for start, end in spans or [])


def iso_dates(value: Any, key: str) -> list[str]:
    """A list of ISO dates ("2026-12-24"), sorted and without repeats."""
    from datetime import date

    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AdminError(f"invalid_{key}", f"'{key}' must be a list of dates like 2026-12-24.", key)
    out = set()
    for item in value:
        try:
            if not _ISO_DATE.match(item.strip()):
                raise ValueError(item)
            out.add(date.fromisoformat(item.strip()).isoformat())
        except ValueError:
            raise AdminError(
                f"invalid_{key}", f"{item!r} is not a date like 2026-12-24.", key
            ) from None
    return sorted(out)
