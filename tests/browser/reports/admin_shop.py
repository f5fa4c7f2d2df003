"""What the admin report browser tests share: the shop they set up, logins, fresh numbers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

PASSWORD = "a long test password"
_numbers = itertools.count(1)


def number() -> str:
    """A fresh valid Estonian mobile number (a range of its own: +372557…)."""
    return f"+372557{next(_numbers):05d}"


@dataclass(frozen=True)
class ReportsShop:
    key: str
    widget_id: int
    agents: dict[str, int]  # name -> id
    phones: dict[str, str]  # name -> number


@dataclass(frozen=True)
class Login:
    email: str
    password: str
