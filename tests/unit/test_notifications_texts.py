"""SMS texts: every language says every message, the promised time reads right in each."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from callback.services.notifications.texts import (
    LANGUAGES,
    Text,
    pick_language,
    render,
    say_when,
)

REQUIRED = ("en", "et", "fi", "pl", "ru", "de", "lv", "lt")
TALLINN = ZoneInfo("Europe/Tallinn")
# Monday 23 November 2026, 16:00 in Tallinn.
NOW = datetime(2026, 11, 23, 16, 0, tzinfo=TALLINN)


@pytest.mark.parametrize("code", REQUIRED)
@pytest.mark.parametrize("text", list(Text))
def test_every_language_has_every_text_with_the_shop_and_time(code: str, text: Text) -> None:
    when = say_when(code, datetime(2026, 11, 26, 9, 30, tzinfo=TALLINN), NOW)
    body = render(text, code, "Kettle Shop", when)

    assert body.startswith("Kettle Shop: ")
    assert "{" not in body and "}" not in body
    if text in (Text.CONFIRMATION, Text.REMINDER):
        assert when in body
        assert "26" in when and "11" in when and "30" in when


def test_the_languages_are_the_widgets_eight() -> None:
    assert set(REQUIRED) <= set(LANGUAGES)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 23, 17, 30, tzinfo=TALLINN), "today at 17:30"),
        (datetime(2026, 11, 24, 9, 0, tzinfo=TALLINN), "tomorrow at 09:00"),
        (datetime(2026, 11, 26, 9, 30, tzinfo=TALLINN), "on Thursday 26/11 at 09:30"),
    ],
)
def test_english_says_today_tomorrow_or_the_day(moment: datetime, expected: str) -> None:
    assert say_when("en", moment, NOW) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("et", "homme kell 09:00"),
        ("fi", "huomenna klo 09.00"),
        ("pl", "jutro o 09:00"),
        ("ru", "завтра в 09:00"),
        ("de", "morgen um 09:00 Uhr"),
        ("lv", "rīt plkst. 09:00"),
        ("lt", "rytoj 09:00"),
    ],
)
def test_tomorrow_in_each_language(code: str, expected: str) -> None:
    assert say_when(code, datetime(2026, 11, 24, 9, 0, tzinfo=TALLINN), NOW) == expected


def test_a_later_day_uses_the_languages_weekday_form() -> None:
    thursday = datetime(2026, 11, 26, 9, 30, tzinfo=TALLINN)
    assert say_when("et", thursday, NOW) == "neljapäeval 26.11 kell 09:30"
    assert say_when("de", thursday, NOW) == "am Donnerstag, 26.11., um 09:30 Uhr"
    assert say_when("lt", thursday, NOW) == "ketvirtadienį 11-26 09:30"


def test_the_local_time_follows_daylight_saving() -> None:
    """The same UTC hour is 10:00 in Tallinn in winter and 11:00 in summer."""
    winter = datetime(2026, 3, 28, 8, 0, tzinfo=UTC).astimezone(TALLINN)  # before 29 March
    summer = datetime(2026, 3, 30, 8, 0, tzinfo=UTC).astimezone(TALLINN)
    now = datetime(2026, 3, 27, 12, 0, tzinfo=TALLINN)
    assert say_when("en", winter, now) == "tomorrow at 10:00"
    assert say_when("en", summer, now) == "on Monday 30/03 at 11:00"


@pytest.mark.parametrize(
    ("preferred", "expected"),
    [
        (("et-EE", "en"), "et"),
        (("ET",), "et"),
        (("pt-BR", "de"), "de"),
        (("pt", None), "en"),
        ((None, None), "en"),
        (("sv_FI", "fi"), "fi"),
    ],
)
def test_the_visitors_language_then_the_widgets_then_english(
    preferred: tuple[str | None, ...], expected: str
) -> None:
    assert pick_language(*preferred) == expected


def test_a_shop_name_with_braces_is_text_not_a_template() -> None:
    assert render(Text.REMINDER, "en", "{when} Shop", "today at 10:00") == (
        "{when} Shop: a reminder that we will call you today at 10:00."
    )
