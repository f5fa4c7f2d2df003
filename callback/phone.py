"""Phone number parsing and the calling policy: which numbers we are willing to dial.

Why this exists: toll fraud. A callback widget is a public form that makes *us* place a phone
call to whatever number a stranger types in, billed to the shop's carrier account. Fraudsters
use such forms to pump traffic to numbers that pay them per minute: premium-rate and shared-cost
ranges, "personal" forwarding numbers, VoIP and satellite ranges, numbers in high-cost
countries. So a number is dialled only if all of this holds:

1. `phonenumbers` finds it valid (right length and a range that is actually allocated);
2. it is not on the shop's block list (E.164 prefixes or whole numbers);
3. it belongs to one of the widget's allowed countries (non-geographic "+800/+870/+88x" numbers
   belong to no country and are never allowed);
4. it is a mobile or fixed-line number (or "fixed line or mobile" where the numbering plan
   cannot tell them apart, as in the US and Canada).

The checks run in that order, and the first failure wins, so the visitor always gets the most
fundamental problem first. Everything here is pure: no I/O, no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

__all__ = [
    "DEFAULT_ALLOWED_TYPES",
    "MAX_INPUT_LENGTH",
    "NumberPolicy",
    "NumberRejected",
    "RejectCode",
    "is_mobile",
    "mask",
    "parse_number",
]

RejectCode = Literal["invalid_phone", "blocked", "country_not_allowed", "number_type_not_allowed"]

# Long enough for any real number with generous formatting ("+358 (0) 41 234 5678" is 20);
# anything longer is two numbers, an extension, or an attempt at abuse.
MAX_INPUT_LENGTH = 32

DEFAULT_ALLOWED_TYPES: frozenset[int] = frozenset(
    {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)

# Separators people type or paste. Everything else (letters, "#", "*", ";", "x") is refused:
# letters would let phonenumbers convert vanity numbers ("1-800-FLOWERS") and extensions would
# be dropped silently from the E.164 form, so we would call a different line than the one given.
_SEPARATORS = frozenset("-./()\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_DIGITS = frozenset("0123456789")
_REGION_CODE = re.compile(r"^[A-Z]{2}$")
_E164_PREFIX = re.compile(r"^\+[1-9]\d{0,14}$")

# The region phonenumbers reports for numbers that belong to no country (+800, +870, +882...).
_NON_GEOGRAPHIC = "001"

_TYPE_NAMES: dict[int, str] = {
    PhoneNumberType.FIXED_LINE: "landline numbers",
    PhoneNumberType.MOBILE: "mobile numbers",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "numbers of this kind",
    PhoneNumberType.TOLL_FREE: "toll-free numbers",
    PhoneNumberType.PREMIUM_RATE: "premium-rate numbers",
    PhoneNumberType.SHARED_COST: "shared-cost numbers",
    PhoneNumberType.VOIP: "internet (VoIP) numbers",
    PhoneNumberType.PERSONAL_NUMBER: "personal (forwarding) numbers",
    PhoneNumberType.PAGER: "pager numbers",
    PhoneNumberType.UAN: "company-wide (UAN) numbers",
    PhoneNumberType.VOICEMAIL: "voicemail access numbers",
}

_MASK = "•"


class NumberRejected(ValueError):
    """The number may not be called; `code` and `message` go straight into the 422 body."""

    field = "phone"

    def __init__(self, code: RejectCode, message: str) -> None:
        # Both go to ValueError so that pickling (e.g. across a Celery boundary) round-trips.
        super().__init__(code, message)
        self.code: RejectCode = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def as_error(self) -> dict[str, str]:
        """The `error` object of the API's 422 response."""
        return {"code": self.code, "message": self.message, "field": self.field}


@dataclass(frozen=True)
class NumberPolicy:
    """Which numbers may be called (for one widget, or for agents).

    allowed_countries: ISO 3166 region codes as phonenumbers uses them ("GB", not "UK");
        empty means any country. Territories sharing a country code are regions of their own:
        Åland landlines (+358 18) are "AX", Jersey mobiles (+44 7797) are "JE", Jamaica (+1 876)
        is "JM".
    blocked: E.164 prefixes or whole numbers that are never called ("+3729", "+37255501234").
    allowed_types: phonenumbers.PhoneNumberType values that may be called.
    """

    allowed_countries: frozenset[str] = frozenset()
    blocked: tuple[str, ...] = ()
    allowed_types: frozenset[int] = field(default=DEFAULT_ALLOWED_TYPES)

    def __post_init__(self) -> None:
        # Normalise and validate at construction: a typo in a widget's settings ("UK", "3729")
        # would otherwise silently allow or block nothing.
        countries = frozenset(c.strip().upper() for c in self.allowed_countries)
        for code in sorted(countries):
            if not _REGION_CODE.match(code) or code not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"{code!r} is not a region code phonenumbers knows (e.g. 'GB')")
        blocked = tuple("".join(p.split()) for p in self.blocked)
        for prefix in blocked:
            if not _E164_PREFIX.match(prefix):
                raise ValueError(
                    f"block-list entry {prefix!r} must be an E.164 prefix like '+3729'"
                )
        object.__setattr__(self, "allowed_countries", countries)
        object.__setattr__(self, "blocked", blocked)
        object.__setattr__(self, "allowed_types", frozenset(self.allowed_types))

    @classmethod
    def create(
        cls,
        allowed_countries: Iterable[str] = (),
        blocked: Iterable[str] = (),
        allowed_types: Iterable[int] = DEFAULT_ALLOWED_TYPES,
    ) -> NumberPolicy:
        """Build a policy from any iterables (lists from config or the database)."""
        return cls(frozenset(allowed_countries), tuple(blocked), frozenset(allowed_types))


def parse_number(raw: str, default_region: str | None, policy: NumberPolicy) -> str:
    """Return `raw` as an E.164 string if `policy` allows calling it, else raise NumberRejected.

    Accepts international form ("+372 5123 4567", "00372 5123 4567") and, given a
    `default_region`, national form ("5123 4567" in EE, "041 234 5678" in FI), with spaces,
    dashes, dots, slashes and parentheses. Refuses letters and other symbols.
    """
    number = _parse(raw, default_region)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)

    if any(e164.startswith(prefix) for prefix in policy.blocked):
        # Deliberately vague: the block list is not something to reveal or help probe.
        raise NumberRejected("blocked", "This number cannot be called back; enter another number.")

    region = phonenumbers.region_code_for_number(number)
    if region == _NON_GEOGRAPHIC:
        # Satellite and global-service numbers (+870, +881, +882, +883, +800...) are classic
        # toll-fraud destinations and no shop's customer needs one; no setting allows them.
        raise NumberRejected(
            "country_not_allowed",
            f"Enter {_wanted(policy)}; satellite and international service numbers "
            "cannot be called back.",
        )
    if policy.allowed_countries and region not in policy.allowed_countries:
        countries = ", ".join(sorted(policy.allowed_countries))
        raise NumberRejected(
            "country_not_allowed",
            f"We can only call numbers from these countries: {countries}. "
            "Enter a number from one of them.",
        )

    kind = phonenumbers.number_type(number)
    if kind not in policy.allowed_types:
        what = _TYPE_NAMES.get(kind, "numbers of this kind")
        raise NumberRejected(
            "number_type_not_allowed", f"Enter {_wanted(policy)}; {what} cannot be called back."
        )
    return e164


def mask(e164: str) -> str:
    """Mask a number for logs and public views: "+37251234567" -> "+372 51•• ••••".

    Format: the country code, then the number in international grouping with only its first
    two national digits kept and every later digit replaced by "•" (so the length shows, the
    digits do not). At most 2 digits beyond the country code are ever revealed. Input that does
    not parse reveals no digits at all.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return _MASK * 3
    number.extension = None
    country = f"+{number.country_code}"
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if not formatted.startswith(country):
        return country + " " + _MASK * 3
    out = [country]
    shown = 0
    for ch in formatted[len(country) :]:
        if ch.isdigit():
            out.append(ch if shown < 2 else _MASK)
            shown += 1
        else:
            out.append(ch)
    return "".join(out)


def is_mobile(e164: str) -> bool:
    """True only when phonenumbers knows the number is a mobile (so an SMS can reach it).

    US/Canadian (NANP) numbers are FIXED_LINE_OR_MOBILE and therefore False: the numbering plan
    cannot tell, so deciding on SMS there needs another source (e.g. a carrier lookup).
    Unparseable input is False rather than an error.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) == PhoneNumberType.MOBILE


def _parse(raw: str, default_region: str | None) -> phonenumbers.PhoneNumber:
    """Syntax and validity: everything that ends in `invalid_phone`."""
    text = raw.strip()
    if not text:
        raise NumberRejected("invalid_phone", "Enter your phone number.")
    if len(text) > MAX_INPUT_LENGTH:
        raise NumberRejected(
            "invalid_phone", "That is too long for a phone number; enter a single number."
        )
    if not _plain_characters(text):
        raise NumberRejected(
            "invalid_phone",
            "Enter the phone number with digits only; spaces, dashes, dots, brackets and a "
            "leading + are fine.",
        )
    if text.startswith("00"):
        # "00" is the international prefix almost everywhere; treat it as "+" even when the
        # default region dials abroad with something else (the US uses 011) or is unknown.
        text = "+" + text[2:]
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and "+" not in text:
            raise NumberRejected(
                "invalid_phone", "Enter the number with its country code, starting with +."
            ) from None
        raise NumberRejected("invalid_phone", _NOT_VALID) from None
    if not phonenumbers.is_valid_number(number):
        raise NumberRejected("invalid_phone", _NOT_VALID)
    return number


_NOT_VALID = "This is not a valid phone number; check the digits and the country code."


def _plain_characters(text: str) -> bool:
    """Digits, whitespace and separators, with at most one "+" before the first digit."""
    seen_digit = False
    pluses = 0
    for ch in text:
        if ch in _DIGITS:
            seen_digit = True
        elif ch == "+":
            pluses += 1
            if seen_digit or pluses > 1:
                return False
        elif not (ch.isspace() or ch in _SEPARATORS):
            return False
    return True


def _wanted(policy: NumberPolicy) -> str:
    """What to ask the visitor for, in words that match the policy."""
    types = policy.allowed_types
    mobile = PhoneNumberType.MOBILE in types
    fixed = PhoneNumberType.FIXED_LINE in types
    if mobile and fixed:
        return "a mobile or landline number"
    if mobile:
        return "a mobile number"
    if fixed:
        return "a landline number"
    return "a different number"
