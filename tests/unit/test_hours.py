"""Opening hours: open now, next opening, bookable slots; across weekends, holidays and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from callback.hours import is_open, next_opening, slots, split_schedule
from callback.services.setup import parse_hours

TALLINN = "Europe/Tallinn"
WEEKDAYS = parse_hours("mon-fri 09:00-17:00")


def tallinn(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(TALLINN))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (tallinn(2026, 11, 23, 8, 59), False),  # Monday, a minute early
        (tallinn(2026, 11, 23, 9, 0), True),
        (tallinn(2026, 11, 23, 16, 59), True),
        (tallinn(2026, 11, 23, 17, 0), False),  # the end is not inside
        (tallinn(2026, 11, 28, 12, 0), False),  # Saturday
        (datetime(2026, 11, 23, 7, 30, tzinfo=UTC), True),  # 09:30 in Tallinn (UTC+2)
    ],
)
def test_is_open_reads_local_wall_clock_time(at, expected):
    assert is_open(WEEKDAYS, TALLINN, at) is expected


def test_none_means_always_open_and_never_a_next_opening():
    at = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    assert is_open(None, TALLINN, at)
    assert next_opening(None, TALLINN, at) is None


def test_several_spans_a_day():
    week = parse_hours("sat 10:00-12:00, sat 13:00-15:00")
    assert is_open(week, TALLINN, tallinn(2026, 11, 28, 11, 0))
    assert not is_open(week, TALLINN, tallinn(2026, 11, 28, 12, 30))
    assert next_opening(week, TALLINN, tallinn(2026, 11, 28, 12, 30)) == tallinn(
        2026, 11, 28, 13, 0
    )


def test_next_opening_skips_the_weekend_and_holidays():
    friday_evening = tallinn(2026, 11, 27, 18, 0)
    assert next_opening(WEEKDAYS, TALLINN, friday_evening) == tallinn(2026, 11, 30, 9, 0)
    holidays = [date(2026, 11, 30)]
    assert next_opening(WEEKDAYS, TALLINN, friday_evening, holidays) == tallinn(2026, 12, 1, 9, 0)
    assert not is_open(WEEKDAYS, TALLINN, tallinn(2026, 11, 30, 10, 0), holidays)


def test_a_week_with_no_hours_has_no_next_opening():
    assert next_opening({}, TALLINN, tallinn(2026, 11, 27, 18, 0)) is None
    assert slots({}, TALLINN, tallinn(2026, 11, 27, 18, 0)) == []


def test_slots_are_half_hour_starts_inside_hours_after_a_lead_time():
    at = tallinn(2026, 11, 27, 16, 5)  # Friday, 55 minutes before closing
    assert slots(WEEKDAYS, TALLINN, at) == [
        tallinn(2026, 11, 27, 16, 30),
        tallinn(2026, 11, 30, 9, 0),
        tallinn(2026, 11, 30, 9, 30),
        tallinn(2026, 11, 30, 10, 0),
        tallinn(2026, 11, 30, 10, 30),
        tallinn(2026, 11, 30, 11, 0),
    ]
    # 16:25 is within the 10-minute lead of 16:30: the first slot is on Monday.
    assert slots(WEEKDAYS, TALLINN, tallinn(2026, 11, 27, 16, 25), count=1) == [
        tallinn(2026, 11, 30, 9, 0)
    ]


def test_always_open_offers_the_next_boundaries_around_the_clock():
    at = datetime(2026, 11, 28, 23, 50, tzinfo=UTC)
    assert slots(None, "UTC", at, count=3) == [
        datetime(2026, 11, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 11, 29, 1, 0, tzinfo=UTC),
    ]


def test_spring_forward_a_span_in_the_skipped_hour_opens_when_clocks_resume():
    # Tallinn, Sunday 29 March 2026: 03:00 local becomes 04:00 (UTC+2 -> UTC+3).
    week = parse_hours("sun 03:30-05:00")
    saturday = tallinn(2026, 3, 28, 12, 0)
    opening = next_opening(week, TALLINN, saturday)
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 04:00 local, UTC+3
    found = slots(week, TALLINN, saturday, count=3)
    # 03:30 does not exist that night; 04:00 and 04:30 do, and next Sunday's 03:30 (UTC+3).
    assert found == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 4, 5, 0, 30, tzinfo=UTC),
    ]
    assert is_open(week, TALLINN, datetime(2026, 3, 29, 1, 15, tzinfo=UTC))  # 04:15 local


def test_fall_back_the_repeated_hour_is_offered_once_and_days_stay_in_local_time():
    # Tallinn, Sunday 25 October 2026: 04:00 local becomes 03:00 again (UTC+3 -> UTC+2).
    week = parse_hours("sun 03:00-04:00")
    found = slots(week, TALLINN, tallinn(2026, 10, 24, 12, 0), count=2)
    assert found == [
        datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    ]
    # Both passes through 03:30 local are inside the span.
    assert is_open(week, TALLINN, datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    assert is_open(week, TALLINN, datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    # Monday 09:00 after the change is 07:00 UTC, not 06:00.
    after = next_opening(WEEKDAYS, TALLINN, datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert after == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_split_schedule_separates_the_week_from_holidays_and_ignores_bad_dates():
    stored = {**WEEKDAYS, "holidays": ["2026-12-24", "not a date", "2026-12-25"]}
    week, holidays = split_schedule(stored)
    assert week == WEEKDAYS
    assert holidays == {date(2026, 12, 24), date(2026, 12, 25)}
    assert split_schedule(None) == (None, frozenset())


def test_malformed_spans_and_unknown_zones_do_not_raise():
    week = {"mon": [["9", "x"], ["25:00", "26:00"], ["10:00", "11:00"]]}
    at = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    assert is_open(week, "Not/AZone", at)  # unknown zone -> UTC
    assert not is_open(week, "UTC", datetime(2026, 11, 23, 9, 30, tzinfo=UTC))


@freeze_time("2026-12-24 10:00:00+02:00")
def test_a_holiday_closes_a_working_day_now():
    now = datetime.now(UTC)
    week, holidays = split_schedule({**WEEKDAYS, "holidays": ["2026-12-24"]})
    assert not is_open(week, TALLINN, now, holidays)
    assert next_opening(week, TALLINN, now, holidays) == tallinn(2026, 12, 25, 9, 0)


def test_a_one_off_exception_replaces_that_days_hours() -> None:
    stored = {
        "mon": [["09:00", "17:00"]],
        "exceptions": {"2026-11-23": [["12:00", "14:00"]], "2026-11-30": [], "bad": []},
    }
    week, _ = split_schedule(stored)
    monday_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert not is_open(week, "UTC", monday_10)  # the exception opens at 12:00 only
    assert is_open(week, "UTC", datetime(2026, 11, 23, 13, 0, tzinfo=UTC))
    assert not is_open(week, "UTC", datetime(2026, 11, 30, 10, 0, tzinfo=UTC))  # closed that day
    assert is_open(week, "UTC", datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # an ordinary Monday
    assert next_opening(week, "UTC", monday_10) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_new_york_hours_across_both_changeovers() -> None:
    week = {"sun": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]}
    # 2026-03-08 (spring forward) and 2026-11-01 (fall back) are Sundays in New York.
    assert next_opening(
        week, "America/New_York", datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    ) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert next_opening(
        week, "America/New_York", datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    ) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert is_open(week, "America/New_York", datetime(2026, 11, 1, 21, 30, tzinfo=UTC))  # 16:30 EST
    assert not is_open(
        week, "America/New_York", datetime(2026, 3, 8, 21, 30, tzinfo=UTC)
    )  # 17:30 EDT
