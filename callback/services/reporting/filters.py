"""What a report is asked for: whose callbacks, which period, which filters — parsed and checked.

Query strings from the admin pages and the admin API land here as plain mappings. Every bad
value raises `ReportError` (code, message, field), which the web layer turns into a 422 with the
usual error shape; nothing past this module sees an unchecked value.

Times: a bare date ("2026-03-02") means midnight in the report's time zone, and as the end of a
period it means the whole day (up to the next midnight). A date-time may carry an offset; one
without is read in the report's time zone. The time zone is an IANA name (`tz`), UTC unless the
caller says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...flow import PUBLIC_STATUSES

# A report reads every row of its period: a year bounds the work one request can cause.
MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 7
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_QUERY_LENGTH = 200
# A number suffix narrows a search without being a way to enumerate whole numbers one by one.
MIN_SUFFIX_DIGITS, MAX_SUFFIX_DIGITS = 2, 15

_ID = re.compile(r"^[1-9]\d{0,9}$")
_NUMBER_JUNK = re.compile(r"[\s\-./()+]")


class ReportError(ValueError):
    """A report parameter that cannot be used; the web layer answers 422 with these fields."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class Viewer:
    """Whose callbacks a report covers: everyone's, or only those of one agent (agent role).

    An agent-role login sees the callbacks whose `agent_id` is theirs; an agent-role login that
    is linked to no agent sees none (`agent_id` None with `own_only`).
    """

    own_only: bool = False
    agent_id: int | None = None

    @classmethod
    def everyone(cls) -> Viewer:
        return cls()

    @classmethod
    def agent(cls, agent_id: int | None) -> Viewer:
        return cls(own_only=True, agent_id=agent_id)

    @classmethod
    def for_user(cls, role: str, agent_id: int | None) -> Viewer:
        return cls.agent(agent_id) if role == "agent" else cls.everyone()


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) in UTC, and the zone hours and weekdays are read in."""

    start: datetime
    end: datetime
    tz: tzinfo

    @property
    def tz_name(self) -> str:
        return str(self.tz)


@dataclass(frozen=True)
class HistoryQuery:
    status: str | None = None
    widget_id: int | None = None
    agent_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    number_suffix: str | None = None
    text: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def parse_tz(raw: str | None, default: str = "UTC") -> ZoneInfo:
    name = (raw or "").strip() or default
    try:
        if len(name) > 64 or "\x00" in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(
            "invalid_tz", "tz must be an IANA time zone name such as Europe/Tallinn.", "tz"
        ) from None


def parse_moment(raw: str, tz: tzinfo, field: str, *, end: bool = False) -> datetime:
    """A date or date-time from a query string, as an aware UTC datetime (see module doc)."""
    text = raw.strip()
    message = f"{field} must be a date (2026-03-02) or an ISO 8601 time (2026-03-02T09:30+02:00)."
    if not text or len(text) > 40 or "\x00" in text:
        raise ReportError(f"invalid_{field}", message, field)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(0), tzinfo=tz)
            if end:
                moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        else:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ReportError(f"invalid_{field}", message, field) from None


def parse_period(args: Mapping[str, str], now: datetime, default_tz: str = "UTC") -> Period:
    """`from`, `to` and `tz`; by default the last seven days, today included."""
    tz = parse_tz(args.get("tz"), default_tz)
    raw_from, raw_to = args.get("from", "").strip(), args.get("to", "").strip()
    end = parse_moment(raw_to, tz, "to", end=True) if raw_to else now
    if raw_from:
        start = parse_moment(raw_from, tz, "from")
    else:
        last_day = (end - timedelta(microseconds=1)).astimezone(tz).date()
        first_day = last_day - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        start = datetime.combine(first_day, time(0), tzinfo=tz).astimezone(UTC)
    _check_span(start, end)
    return Period(start, end, tz)


def parse_history(args: Mapping[str, str], default_tz: str = "UTC") -> HistoryQuery:
    tz = parse_tz(args.get("tz"), default_tz)
    status = _optional(args, "status")
    if status is not None and status not in PUBLIC_STATUSES:
        raise ReportError(
            "invalid_status", f"status must be one of: {', '.join(PUBLIC_STATUSES)}.", "status"
        )
    start = parse_moment(args["from"], tz, "from") if _optional(args, "from") else None
    end = parse_moment(args["to"], tz, "to", end=True) if _optional(args, "to") else None
    if start is not None and end is not None and start >= end:
        raise ReportError("invalid_period", "from must be before to.", "from")
    text = _optional(args, "q")
    if text is not None and (len(text) > MAX_QUERY_LENGTH or "\x00" in text):
        raise ReportError(
            "invalid_q", f"q must be text of at most {MAX_QUERY_LENGTH} characters.", "q"
        )
    return HistoryQuery(
        status=status,
        widget_id=parse_id(args, "widget"),
        agent_id=parse_id(args, "agent"),
        start=start,
        end=end,
        number_suffix=_number_suffix(_optional(args, "number")),
        text=text,
        page=_positive(args, "page", 1, 1_000_000),
        per_page=_positive(args, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    )


def parse_id(args: Mapping[str, str], field: str) -> int | None:
    raw = _optional(args, field)
    if raw is None:
        return None
    if not _ID.match(raw):
        raise ReportError(f"invalid_{field}", f"{field} must be a numeric id.", field)
    return int(raw)


def parse_choice(args: Mapping[str, str], field: str, choices: tuple[str, ...]) -> str:
    """One of `choices`; the first is the default."""
    raw = _optional(args, field) or choices[0]
    if raw not in choices:
        raise ReportError(
            f"invalid_{field}", f"{field} must be one of: {', '.join(choices)}.", field
        )
    return raw


def _check_span(start: datetime, end: datetime) -> None:
    if start >= end:
        raise ReportError("invalid_period", "from must be before to.", "from")
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        raise ReportError(
            "invalid_period", f"A report covers at most {MAX_PERIOD_DAYS} days.", "from"
        )


def _optional(args: Mapping[str, str], field: str) -> str | None:
    value = args.get(field)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _positive(args: Mapping[str, str], field: str, default: int, limit: int) -> int:
    raw = _optional(args, field)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 7 or not 1 <= int(raw) <= limit:
        raise ReportError(
            f"invalid_{field}", f"{field} must be a whole number from 1 to {limit}.", field
        )
    return int(raw)


def _number_suffix(raw: str | None) -> str | None:
    if raw is None:
        return None
    digits = _NUMBER_JUNK.sub("", raw)
    if not (digits.isascii() and digits.isdigit()) or not (
        MIN_SUFFIX_DIGITS <= len(digits) <= MAX_SUFFIX_DIGITS
    ):
        raise ReportError(
            "invalid_number",
            f"number must be the last {MIN_SUFFIX_DIGITS} to {MAX_SUFFIX_DIGITS} digits "
            "of a phone number.",
            "number",
        )
    return digits
