"""Carrier faults on demand: REST errors and slowness, lost, doubled, late and swapped callbacks.

Real carriers answer 500 and 429 now and then, take seconds to answer, and deliver status
callbacks late, twice, out of order or not at all. `PUT /sim/config` turns each of these on
with a rate, and every draw comes from one random generator seeded with `fault_seed`, so a
failing trial can be run again with the same sequence of faults.

Delays are wall-clock seconds (not simulated ones): they exist to exercise the application's
HTTP timeouts and its own timers, which run in real time.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, fields
from typing import Any

# Statuses an injected REST error may have, with the Twilio error code each carries.
API_ERROR_CODES = {429: 20429, 500: 20500, 502: 20502, 503: 20503}


@dataclass(frozen=True)
class Faults:
    # Share of REST requests answered with `api_error_status` instead of being served.
    api_error_rate: float = 0.0
    api_error_status: int = 500
    # Wall seconds every REST request waits before it is served (or refused).
    api_delay_s: float = 0.0
    # Shares of status callbacks dropped, sent twice, or held back until the next one was sent.
    webhook_drop_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    webhook_reorder_rate: float = 0.0
    # Wall seconds each status callback waits before it is posted.
    webhook_delay_s: float = 0.0
    fault_seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


FAULT_SETTINGS = frozenset(f.name for f in fields(Faults))
_RATES = ("api_error_rate", "webhook_drop_rate", "webhook_duplicate_rate", "webhook_reorder_rate")
_DELAYS = ("api_delay_s", "webhook_delay_s")


class FaultError(ValueError):
    """A fault setting out of range; the message names it."""


def parse_faults(data: dict[str, Any]) -> Faults:
    """The faults these settings describe; a setting left out or null is off (its default)."""
    values = Faults().to_json()
    for name in FAULT_SETTINGS & set(data):
        value = data[name]
        if value is None:
            values[name] = getattr(Faults(), name)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FaultError(f"{name} must be a number or null")
        if name in _RATES and not 0 <= value <= 1:
            raise FaultError(f"{name} must be between 0 and 1")
        if name in _DELAYS and not 0 <= value <= 60:
            raise FaultError(f"{name} must be between 0 and 60 seconds")
        if name == "api_error_status" and value not in API_ERROR_CODES:
            raise FaultError(f"api_error_status must be one of {sorted(API_ERROR_CODES)}")
        if name in ("api_error_status", "fault_seed") and value != int(value):
            raise FaultError(f"{name} must be a whole number")
        values[name] = int(value) if name in ("api_error_status", "fault_seed") else value
    return Faults(**values)


class FaultDice:
    """The current faults and the one seeded generator all their draws come from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = Faults()
        self._rng = random.Random()

    @property
    def faults(self) -> Faults:
        return self._faults

    def set(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            self._rng = random.Random(faults.fault_seed)

    def roll(self, rate: float) -> bool:
        """True with probability `rate` (never draws when the fault is off)."""
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate
