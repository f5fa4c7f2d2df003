"""The calling policy (callback/phone.py): what we dial and what we refuse.

Numbers come from phonenumbers' own metadata (`example_number_for_type`) rather than being
invented, so every test uses a number the library really classifies the way the test says;
`test_examples_have_the_expected_type` pins that assumption.
"""

from __future__ import annotations

import dataclasses
import pickle

import phonenumbers
import pytest
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from callback.phone import (
    MAX_INPUT_LENGTH,
    NumberPolicy,
    NumberRejected,
    is_mobile,
    mask,
    parse_number,
)

T = PhoneNumberType
ANY = NumberPolicy()
BALTIC_NORDIC = NumberPolicy(allowed_countries=frozenset({"EE", "FI"}))


def example(region: str, kind: int) -> PhoneNumber:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None, f"phonenumbers has no example of type {kind} for {region}"
    return number


def e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def nsn(number: PhoneNumber) -> str:
    return phonenumbers.national_significant_number(number)


def rejected(raw: str, region: str | None = None, policy: NumberPolicy = ANY) -> NumberRejected:
    with pytest.raises(NumberRejected) as info:
        parse_number(raw, region, policy)
    assert info.value.field == "phone"
    assert info.value.message.endswith(".")
    return info.value


REFUSED_TYPES = [
    ("GB", T.PREMIUM_RATE, "premium-rate"),
    ("DE", T.PREMIUM_RATE, "premium-rate"),
    ("US", T.PREMIUM_RATE, "premium-rate"),
    ("EE", T.PREMIUM_RATE, "premium-rate"),
    ("GB", T.TOLL_FREE, "toll-free"),
    ("US", T.TOLL_FREE, "toll-free"),
    ("FI", T.TOLL_FREE, "toll-free"),
    ("DE", T.SHARED_COST, "shared-cost"),
    ("FR", T.SHARED_COST, "shared-cost"),
    ("GB", T.VOIP, "VoIP"),
    ("FR", T.VOIP, "VoIP"),
    ("GB", T.UAN, "UAN"),
    ("FI", T.UAN, "UAN"),
    ("DE", T.UAN, "UAN"),
    ("GB", T.PERSONAL_NUMBER, "personal"),
    ("EE", T.PERSONAL_NUMBER, "personal"),
    ("GB", T.PAGER, "pager"),
    ("DE", T.PAGER, "pager"),
    ("DE", T.VOICEMAIL, "voicemail"),
]

ALLOWED_TYPES = [
    ("EE", T.MOBILE, T.MOBILE),
    ("EE", T.FIXED_LINE, T.FIXED_LINE),
    ("FI", T.MOBILE, T.MOBILE),
    ("FI", T.FIXED_LINE, T.FIXED_LINE),
    ("GB", T.MOBILE, T.MOBILE),
    ("DE", T.FIXED_LINE, T.FIXED_LINE),
    # The NANP cannot tell mobiles from landlines: both examples are FIXED_LINE_OR_MOBILE.
    ("US", T.MOBILE, T.FIXED_LINE_OR_MOBILE),
    ("US", T.FIXED_LINE, T.FIXED_LINE_OR_MOBILE),
]


@pytest.mark.parametrize(
    ("region", "kind", "actual"),
    [(r, k, k) for r, k, _ in REFUSED_TYPES] + ALLOWED_TYPES,
)
def test_examples_have_the_expected_type(region: str, kind: int, actual: int) -> None:
    number = example(region, kind)
    assert phonenumbers.is_valid_number(number)
    assert phonenumbers.region_code_for_number(number) == region
    assert phonenumbers.number_type(number) == actual


# --- accepted numbers and input forms ---------------------------------------------------


@pytest.mark.parametrize(("region", "kind", "actual"), ALLOWED_TYPES)
def test_mobile_and_fixed_line_numbers_are_accepted(region: str, kind: int, actual: int) -> None:
    number = example(region, kind)
    assert parse_number(e164(number), None, ANY) == e164(number)


def test_concrete_examples() -> None:
    # Guards against the whole suite comparing phonenumbers' output with itself.
    assert parse_number("+372 5123 4567", None, ANY) == "+37251234567"
    assert parse_number("+358 41 2345678", None, ANY) == "+358412345678"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("5123 4567", "EE", "+37251234567"),  # EE has no trunk prefix
        ("51234567", "EE", "+37251234567"),
        ("321 2345", "EE", "+3723212345"),
        ("041 2345678", "FI", "+358412345678"),  # FI drops the trunk 0
        ("041-234 5678", "FI", "+358412345678"),
        ("013 1234567", "FI", "+358131234567"),
        ("5123 4567", "ee", "+37251234567"),  # region case does not matter
    ],
)
def test_national_format_with_default_region(raw: str, region: str, expected: str) -> None:
    assert parse_number(raw, region, ANY) == expected


def test_national_format_follows_each_regions_rules() -> None:
    for region in ("EE", "FI", "DE", "GB"):
        for kind in (T.MOBILE, T.FIXED_LINE):
            number = example(region, kind)
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            assert parse_number(national, region, ANY) == e164(number), national


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("0037251234567", None),
        ("00 372 5123 4567", None),
        ("00372 5123 4567", "FI"),
        ("00372 5123 4567", "US"),  # US dials abroad with 011, but 00 is still understood
        ("011 372 5123 4567", "US"),
    ],
)
def test_international_prefix(raw: str, region: str | None) -> None:
    assert parse_number(raw, region, ANY) == "+37251234567"


@pytest.mark.parametrize(
    "raw",
    [
        "+372 5123 4567",
        "+372-5123-4567",
        "+372.5123.4567",
        "+372 (5123) 4567",
        "(+372) 5123 4567",
        "+372/5123 4567",
        "  +372 5123 4567\n",
        "+372\u00a05123\u00a04567",  # pasted non-breaking spaces
        "+372 5123\u20134567",  # pasted en dash
        "+37251234567",
    ],
)
def test_formatting_characters_are_ignored(raw: str) -> None:
    assert parse_number(raw, None, ANY) == "+37251234567"


def test_a_number_with_the_trunk_zero_in_brackets() -> None:
    number = example("DE", T.FIXED_LINE)
    assert parse_number(f"+49 (0){nsn(number)}", None, ANY) == e164(number)


# --- invalid_phone ------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_empty_input(raw: str) -> None:
    error = rejected(raw, "EE")
    assert error.code == "invalid_phone"
    assert error.message == "Enter your phone number."


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+372 5123 ABCD", None),
        ("1-800-FLOWERS", "US"),  # phonenumbers would happily convert vanity letters
        ("+372 5123 4567 ext 12", None),
        ("+372 5123 4567 x12", None),
        ("tel:+37251234567", None),
        ("five one two three", "EE"),
        ("+372 5123 4567 \u043e", None),  # Cyrillic letter o
    ],
)
def test_letters_are_refused(raw: str, region: str | None) -> None:
    error = rejected(raw, region)
    assert error.code == "invalid_phone"
    assert "digits only" in error.message


@pytest.mark.parametrize(
    "raw",
    [
        "+372 5123 4567#12",  # an extension would silently be dropped from the E.164 form
        "+372 5123 4567;ext=12",
        "*31#+37251234567",
        "++37251234567",
        "372+51234567",
        "+372 5123 4567, +358 41 2345678",
        "\uff15\uff11\uff12\uff13\uff14\uff15\uff16\uff17",  # fullwidth digits
    ],
)
def test_other_symbols_are_refused(raw: str) -> None:
    error = rejected(raw, "EE")
    assert error.code == "invalid_phone"
    assert "digits only" in error.message


def test_input_longer_than_32_characters_is_refused() -> None:
    at_limit = "+372" + " " * (MAX_INPUT_LENGTH - 13) + "5123 4567"
    assert len(at_limit) == MAX_INPUT_LENGTH == 32
    assert parse_number(at_limit, None, ANY) == "+37251234567"

    over = "+372" + " " * (MAX_INPUT_LENGTH - 12) + "5123 4567"
    assert len(over) == 33
    error = rejected(over)
    assert error.code == "invalid_phone"
    assert "too long" in error.message
    assert rejected("1" * 1000, "EE").code == "invalid_phone"


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+372 112", None),  # an emergency short code is not a callable number
        ("112", "EE"),
        ("+372 1234", None),  # too short
        ("+372 5123 4567 8901", None),  # too long
        ("5123 4567 5123 4567", "EE"),  # two numbers run together
        ("+999 1234 5678", None),  # no such country code
        ("+", None),
        ("00", None),
        ("()--..", "EE"),
        ("0", "FI"),
    ],
)
def test_invalid_numbers(raw: str, region: str | None) -> None:
    error = rejected(raw, region)
    assert error.code == "invalid_phone"


def test_national_number_without_default_region_asks_for_country_code() -> None:
    error = rejected("5123 4567", None)
    assert error.code == "invalid_phone"
    assert error.message == "Enter the number with its country code, starting with +."


def test_national_form_is_read_in_the_default_region_only() -> None:
    # A Finnish mobile typed nationally means nothing in EE (which has no trunk 0) ...
    assert rejected("041 2345678", "EE").code == "invalid_phone"
    # ... while the same eight digits are an EE mobile in EE and a landline (area 05) in FI.
    assert parse_number("5123 4567", "EE", ANY) == "+37251234567"
    assert parse_number("5123 4567", "FI", ANY) == "+35851234567"
    assert is_mobile("+35851234567") is False


# --- number_type_not_allowed ------------------------------------------------------------


@pytest.mark.parametrize(("region", "kind", "word"), REFUSED_TYPES)
def test_non_personal_number_types_are_refused(region: str, kind: int, word: str) -> None:
    number = example(region, kind)
    error = rejected(e164(number))
    assert error.code == "number_type_not_allowed"
    assert error.message.startswith("Enter a mobile or landline number; ")
    assert word in error.message


@pytest.mark.parametrize(("region", "kind", "word"), REFUSED_TYPES)
def test_refused_types_typed_nationally(region: str, kind: int, word: str) -> None:
    number = example(region, kind)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    assert rejected(national, region).code == "number_type_not_allowed"


def test_premium_rate_message() -> None:
    error = rejected(e164(example("GB", T.PREMIUM_RATE)))
    assert error.message == (
        "Enter a mobile or landline number; premium-rate numbers cannot be called back."
    )


def test_mobile_only_policy() -> None:
    policy = NumberPolicy(allowed_types=frozenset({T.MOBILE}))
    assert parse_number(e164(example("EE", T.MOBILE)), None, policy) == "+37251234567"
    error = rejected(e164(example("EE", T.FIXED_LINE)), None, policy)
    assert error.code == "number_type_not_allowed"
    assert error.message == "Enter a mobile number; landline numbers cannot be called back."


def test_a_policy_may_opt_in_to_more_types() -> None:
    policy = NumberPolicy(allowed_types=frozenset({T.MOBILE, T.TOLL_FREE}))
    toll_free = e164(example("FI", T.TOLL_FREE))
    assert parse_number(toll_free, None, policy) == toll_free


# --- country_not_allowed ----------------------------------------------------------------


def test_allowed_countries_accept_their_own_numbers() -> None:
    for region in ("EE", "FI"):
        for kind in (T.MOBILE, T.FIXED_LINE):
            number = example(region, kind)
            assert parse_number(e164(number), None, BALTIC_NORDIC) == e164(number)


@pytest.mark.parametrize("region", ["LV", "SE", "GB", "US", "DE"])
def test_other_countries_are_refused(region: str) -> None:
    error = rejected(e164(example(region, T.MOBILE)), "EE", BALTIC_NORDIC)
    assert error.code == "country_not_allowed"
    assert error.message == (
        "We can only call numbers from these countries: EE, FI. Enter a number from one of them."
    )


def test_empty_allowed_countries_means_any_country() -> None:
    latvian = example("LV", T.MOBILE)
    assert parse_number(e164(latvian), None, ANY) == e164(latvian)


def test_caribbean_nanp_numbers_are_not_us_numbers() -> None:
    # +1 876 looks domestic to a US shop but is Jamaica: a classic toll-fraud destination.
    jamaica = example("JM", T.MOBILE)
    assert e164(jamaica).startswith("+1")
    assert rejected(e164(jamaica), "US", NumberPolicy(frozenset({"US"}))).code == (
        "country_not_allowed"
    )


def test_aland_landlines_are_region_ax_not_fi() -> None:
    # phonenumbers puts +358 18 (Åland) in its own region; a Finnish shop must list AX too.
    aland = example("AX", T.FIXED_LINE)
    assert rejected(e164(aland), "FI", BALTIC_NORDIC).code == "country_not_allowed"
    with_aland = NumberPolicy(frozenset({"FI", "AX"}))
    assert parse_number(e164(aland), "FI", with_aland) == e164(aland)


@pytest.mark.parametrize("country_code", [870, 881, 882, 883, 800])
def test_non_geographic_numbers_are_never_allowed(country_code: int) -> None:
    number = phonenumbers.example_number_for_non_geo_entity(country_code)
    assert number is not None
    assert phonenumbers.is_valid_number(number)
    error = rejected(e164(number))  # even with "any country"
    assert error.code == "country_not_allowed"
    assert "satellite" in error.message


def test_country_is_checked_before_type() -> None:
    error = rejected(e164(example("GB", T.PREMIUM_RATE)), None, BALTIC_NORDIC)
    assert error.code == "country_not_allowed"


# --- blocked ----------------------------------------------------------------------------


def test_block_list_prefix() -> None:
    policy = NumberPolicy(blocked=("+37251",))
    error = rejected("+372 5123 4567", None, policy)
    assert error.code == "blocked"
    assert error.message == "This number cannot be called back; enter another number."
    # A different EE mobile range is not affected.
    assert parse_number("+372 5812 3456", None, policy) == "+37258123456"


def test_block_list_whole_number_in_any_input_form() -> None:
    policy = NumberPolicy(allowed_countries=frozenset({"EE"}), blocked=("+37251234567",))
    for raw, region in [("+372 5123 4567", None), ("5123-4567", "EE"), ("0037251234567", None)]:
        assert rejected(raw, region, policy).code == "blocked"
    assert parse_number("+372 5123 4568", None, policy) == "+37251234568"


def test_block_list_is_checked_before_country_and_type() -> None:
    premium = e164(example("EE", T.PREMIUM_RATE))
    assert premium.startswith("+3729")
    policy = NumberPolicy(allowed_countries=frozenset({"FI"}), blocked=("+3729",))
    assert rejected(premium, None, policy).code == "blocked"


def test_invalid_is_checked_before_block_list() -> None:
    policy = NumberPolicy(blocked=("+3729",))
    assert rejected("+3729", None, policy).code == "invalid_phone"


# --- the policy object and the error ----------------------------------------------------


def test_policy_normalises_its_input() -> None:
    policy = NumberPolicy.create(allowed_countries=["ee", " fi"], blocked=["+372 9"])
    assert policy.allowed_countries == frozenset({"EE", "FI"})
    assert policy.blocked == ("+3729",)
    assert policy.allowed_types == frozenset({T.MOBILE, T.FIXED_LINE, T.FIXED_LINE_OR_MOBILE})


@pytest.mark.parametrize("countries", [["UK"], ["XX"], ["EST"], ["001"]])
def test_policy_refuses_unknown_regions(countries: list[str]) -> None:
    with pytest.raises(ValueError, match="region code"):
        NumberPolicy.create(allowed_countries=countries)


@pytest.mark.parametrize("prefix", ["3729", "+", "+0372", "+372a", "+1234567890123456"])
def test_policy_refuses_malformed_block_list(prefix: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164 prefix"):
        NumberPolicy.create(blocked=[prefix])


def test_policy_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        BALTIC_NORDIC.blocked = ("+1",)  # type: ignore[misc]


def test_rejection_is_a_value_error_with_an_api_body() -> None:
    error = rejected(e164(example("GB", T.PREMIUM_RATE)))
    assert isinstance(error, ValueError)
    assert str(error) == error.message
    assert error.as_error() == {
        "code": "number_type_not_allowed",
        "message": error.message,
        "field": "phone",
    }
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.message, copy.field) == (error.code, error.message, "phone")


# --- mask and is_mobile -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+37251234567", "+372 51•• ••••"),
        ("+358412345678", "+358 41 •••••••"),
        ("+447400123456", "+44 74•• ••••••"),
        ("+12015550123", "+1 20•-•••-••••"),
        ("+390212345678", "+39 02 •••• ••••"),  # Italy keeps the leading 0
    ],
)
def test_mask_format(number: str, masked: str) -> None:
    assert mask(number) == masked


def test_mask_never_reveals_more_than_two_national_digits() -> None:
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (T.MOBILE, T.FIXED_LINE, T.PREMIUM_RATE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            national = nsn(number)
            masked = mask(e164(number))
            code = f"+{number.country_code}"
            assert masked.startswith(code)
            shown = "".join(ch for ch in masked[len(code) :] if ch.isdigit())
            assert shown == national[:2], masked
            assert masked.count("•") == len(national) - 2, masked
            assert e164(number) not in masked and national not in masked
            checked += 1
    assert checked > 400


@pytest.mark.parametrize("garbage", ["", "not a number", "51234567", "+"])
def test_mask_of_garbage_reveals_nothing(garbage: str) -> None:
    masked = mask(garbage)
    assert not any(ch.isdigit() for ch in masked)


def test_mask_drops_extensions() -> None:
    assert mask("+372 5123 4567 ext. 89") == "+372 51•• ••••"


def test_is_mobile() -> None:
    assert is_mobile(e164(example("EE", T.MOBILE))) is True
    assert is_mobile(e164(example("FI", T.MOBILE))) is True
    assert is_mobile(e164(example("EE", T.FIXED_LINE))) is False
    assert is_mobile(e164(example("GB", T.PAGER))) is False
    # NANP numbers may or may not be mobiles; is_mobile only says yes when it knows.
    assert is_mobile(e164(example("US", T.MOBILE))) is False
    assert is_mobile("garbage") is False
    assert is_mobile("") is False
