"""The admin's input rules that the API and the forms share: hours, dates, numbers, zones."""

from __future__ import annotations

import pytest

from callback.services.admin_errors import AdminError
from callback.services.admin_validation import (
    boolean,
    hours_text,
    id_list,
    integer,
    iso_dates,
    text,
    time_zone,
    weekly_hours,
)


def test_weekly_hours_from_json_and_from_form_text() -> None:
    assert weekly_hours(None) is None
    assert weekly_hours({}) == {}
    assert weekly_hours(
        {"mon": [["09:00", "17:00"]], "tue": "9:00-12:00, 13:00 \u2013 17:30", "wed": ""}
    ) == {
        "mon": [["09:00", "17:00"]],
        "tue": [["09:00", "12:00"], ["13:00", "17:30"]],
    }
    assert weekly_hours({"fri": [["20:00", "24:00"]]}) == {"fri": [["20:00", "24:00"]]}


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"mon": [["17:00", "09:00"]]}, "hours.mon"),
        ({"mon": [["09:00", "09:00"]]}, "hours.mon"),
        ({"mon": [["09:00", "12:00"], ["11:00", "14:00"]]}, "hours.mon"),
        ({"mon": [["13:00", "14:00"], ["09:00", "12:00"]]}, "hours.mon"),
        ({"mon": [["9am", "5pm"]]}, "hours.mon"),
        ({"mon": [["25:00", "26:00"]]}, "hours.mon"),
        ({"mon": [["09:00"]]}, "hours.mon"),
        ({"mon": "nine to five"}, "hours.mon"),
        ({"mon": 9}, "hours"),
        ({"monday": []}, "hours"),
        (["mon"], "hours"),
    ],
)
def test_bad_hours_name_the_day(hours: object, field: str) -> None:
    with pytest.raises(AdminError) as raised:
        weekly_hours(hours)
    assert (raised.value.code, raised.value.field) == ("invalid_hours", field)


def test_hours_text_round_trips() -> None:
    spans = [["09:00", "12:00"], ["13:00", "17:00"]]
    assert hours_text(spans) == "09:00-12:00, 13:00-17:00"
    assert weekly_hours({"mon": hours_text(spans)}) == {"mon": spans}
    assert hours_text(None) == ""


def test_dates_zones_and_scalars() -> None:
    assert iso_dates(["2026-12-25", " 2026-12-24", "2026-12-25"], "holidays") == [
        "2026-12-24",
        "2026-12-25",
    ]
    for bad in (["2026-13-01"], ["24.12.2026"], "2026-12-24", [20261224]):
        with pytest.raises(AdminError):
            iso_dates(bad, "holidays")
    assert time_zone("Europe/Tallinn") == "Europe/Tallinn"
    for bad in ("Europe/Atlantis", "", None, "../etc/passwd"):
        with pytest.raises(AdminError):
            time_zone(bad)
    assert integer({"n": "15"}, "n", 1, 20) == 15 and integer({}, "n", 1, 2) is None
    for bad in (0, 21, True, 1.5, "x", "1e3"):
        with pytest.raises(AdminError):
            integer({"n": bad}, "n", 1, 20)
    assert boolean({"b": "on"}, "b") is True and boolean({"b": False}, "b") is False
    assert text({"t": "  hi "}, "t", 5) == "hi"
    with pytest.raises(AdminError):
        text({"t": "bell\x07"}, "t", 10)
    assert id_list({"ids": [3, 1]}, "ids") == [3, 1]
    with pytest.raises(AdminError):
        id_list({"ids": [0]}, "ids")
