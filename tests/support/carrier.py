"""A stand-in for the carrier's REST API (`Provider`) in tests of our own HTTP and task layers.

A unit-level fake, acceptable there: those tests are about our code, and the carrier's
webhooks are played by the test itself. It records what it was asked to do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeCarrier:
    """Records the calls placed and canceled; every call gets a fresh, unique sid."""

    placed: list[dict[str, Any]] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)

    def place_call(
        self, to: str, from_: str, answer_url: str, status_callback: str, timeout_s: int
    ) -> str:
        self.placed.append({"to": to, "answer_url": answer_url, "status_url": status_callback})
        return "CA" + secrets.token_hex(16)  # unique: legs.provider_sid is a unique column

    def cancel_call(self, sid: str) -> None:
        self.canceled.append(sid)
