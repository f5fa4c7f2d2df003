"""Telephony: the `Provider` seam, the Twilio implementation and the TwiML builders (design §7).

Import from here; the submodules are an implementation detail.
"""

from __future__ import annotations

from .provider import (
    CALL_ALREADY_ENDED_CODES,
    CALL_STATUS_EVENTS,
    CallInfo,
    Provider,
    ProviderError,
    backoff_delay,
)
from .twilio_provider import TwilioProvider, make_provider

__all__ = [
    "CALL_ALREADY_ENDED_CODES",
    "CALL_STATUS_EVENTS",
    "CallInfo",
    "Provider",
    "ProviderError",
    "TwilioProvider",
    "backoff_delay",
    "make_provider",
]
