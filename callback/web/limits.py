"""Abuse limits on the public API: rate limits, the honeypot and the minimum fill time.

Why: `POST /api/v1/callbacks` makes us place phone calls billed to the shop, to numbers a
stranger types in (toll fraud, harassment of a victim's phone, draining a competitor's
budget). The number policy (callback.phone) decides *which* numbers we call; this module
decides *how often* anyone may ask:

- per client IP, every attempt counts (also refused ones: that is what stops probing);
- per phone number, every attempt counts, keyed on the number's last 7 digits so that
  "5123 4567", "+372 5123 4567" and "00372 51234567" share one counter (the national number
  is never shorter than 7 digits; another number sharing the last 7 only makes its limit
  stricter), and stored as a keyed hash so Redis never holds a phone number;
- per widget, only callbacks actually *created* count, so a flood of garbage against a
  widget cannot lock its real visitors out (the daily cap in `services.intake` is the hard
  ceiling on what one widget can cost per day).

The counters live where Flask-Limiter keeps its own (the `limits` library, moving windows):
in Redis at REDIS_URL, shared by every web process, or in memory without Redis. The public
POST **fails closed**: when the storage cannot be reached it answers 503 instead of letting
every request through, because an outage of the limiter is exactly when a bot could make an
unbounded number of paid calls; a visitor's retry a few seconds later costs nothing. The
status GET fails open (reading a status costs nothing).

The honeypot (`website`, a field no human sees) gets a quiet 202 that stores nothing, so a
bot learns nothing; no person can fill it. The fill time (`elapsed_ms`, sent by widget.js:
milliseconds since the panel opened) below MIN_FILL_MS gets 422 `too_fast`: autofill can be
that fast for a real person, who then simply presses the button again. Both only stop bots
that drive the widget itself; a script posting to the API directly meets the rate limits,
the caps and the number policy instead.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlparse

from flask import Flask, Response, current_app, jsonify
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..config import Settings
from .errors import error_response

log = logging.getLogger(__name__)

_EXTENSION = "public_limits"
PHONE_KEY_DIGITS = 7
# How long a visitor waits after a 503 from an unreachable limiter before trying again.
UNAVAILABLE_RETRY_S = 5
# Redis must answer fast or not at all: the POST's budget is 20 ms (design §1).
_REDIS_TIMEOUT_S = 0.5


class LimitsUnavailable(Exception):
    """The counters' storage cannot be reached."""


@dataclass(frozen=True)
class PublicLimits:
    strategy: MovingWindowRateLimiter
    per_ip: list[RateLimitItem]
    per_phone: list[RateLimitItem]
    per_widget: list[RateLimitItem]
    status_per_ip: list[RateLimitItem]
    secret: bytes
    min_fill_ms: int

    def _hit(self, items: list[RateLimitItem], *key: str) -> int | None:
        """Count one attempt; the seconds to wait when a limit is exceeded, else None."""
        for item in items:
            if not self.strategy.hit(item, *key):
                return self._wait(item, *key)
        return None

    def _test(self, items: list[RateLimitItem], *key: str) -> int | None:
        for item in items:
            if not self.strategy.test(item, *key):
                return self._wait(item, *key)
        return None

    def _wait(self, item: RateLimitItem, *key: str) -> int:
        reset = self.strategy.get_window_stats(item, *key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def phone_key(self, raw: object) -> str | None:
        digits = "".join(ch for ch in raw if ch.isdigit()) if isinstance(raw, str) else ""
        if len(digits) < PHONE_KEY_DIGITS:
            return None  # not a number we would call; the intake says why
        tail = digits[-PHONE_KEY_DIGITS:].encode()
        return hmac.new(self.secret, tail, hashlib.sha256).hexdigest()[:24]

    def before_create(self, ip: str, payload: Any) -> int | None:
        """Count this attempt; the seconds to wait if the IP, number or widget is over."""
        try:
            wait = self._hit(self.per_ip, "callbacks", "ip", ip)
            phone = self.phone_key(payload.get("phone")) if isinstance(payload, dict) else None
            if wait is None and phone is not None:
                wait = self._hit(self.per_phone, "callbacks", "phone", phone)
            widget = payload.get("widget") if isinstance(payload, dict) else None
            if wait is None and isinstance(widget, str) and len(widget) <= 64:
                wait = self._test(self.per_widget, "callbacks", "widget", widget)
            return wait
        except Exception as error:
            raise LimitsUnavailable(str(error)) from error

    def created(self, widget: str) -> None:
        """A callback was created on `widget`: it counts toward the widget's limit."""
        try:
            self._hit(self.per_widget, "callbacks", "widget", widget)
        except Exception:  # already accepted and committed; the next request fails closed
            log.warning("rate limit storage unavailable after a callback was created")

    def before_status(self, ip: str) -> int | None:
        try:
            return self._hit(self.status_per_ip, "status", "ip", ip)
        except Exception:
            log.warning("rate limit storage unavailable; status read not counted")
            return None


def init_public_limits(app: Flask, settings: Settings) -> None:
    app.extensions[_EXTENSION] = PublicLimits(
        MovingWindowRateLimiter(_storage(settings)),
        parse_many(settings.rate_limit_ip),
        parse_many(settings.rate_limit_phone),
        parse_many(settings.rate_limit_widget),
        parse_many(settings.rate_limit_status),
        hashlib.sha256(b"rate-limit:" + settings.secret_key.encode()).digest(),
        settings.min_fill_ms,
    )


def _storage(settings: Settings) -> Storage:
    if not settings.redis_url:
        return cast(Storage, storage_from_string("memory://"))
    url = settings.redis_url
    if urlparse(url).scheme == "unix":
        url = "redis+" + url  # the `limits` library's name for a Redis unix socket
    return cast(
        Storage,
        storage_from_string(
            url,
            key_prefix=f"{settings.redis_key_prefix}limits",
            socket_connect_timeout=_REDIS_TIMEOUT_S,
            socket_timeout=_REDIS_TIMEOUT_S,
        ),
    )


def public_limits() -> PublicLimits:
    return cast(PublicLimits, current_app.extensions[_EXTENSION])


def guard_create(payload: Any) -> Response | None:
    """The answer to send instead of creating a callback, or None to go ahead."""
    limits = public_limits()
    try:
        wait = limits.before_create(get_remote_address(), payload)
    except LimitsUnavailable:
        log.error("rate limit storage unavailable: refusing callback requests (fail closed)")
        response = error_response(
            503,
            "unavailable",
            "We cannot take callback requests right now; please try again in a few seconds.",
        )
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_S)
        return response
    if wait is not None:
        return rate_limited(wait)
    if not isinstance(payload, dict):
        return None
    if payload.get("website"):
        return _decoy()
    elapsed = payload.get("elapsed_ms")
    if elapsed is None:
        return None
    if isinstance(elapsed, bool) or not isinstance(elapsed, int | float) or elapsed < 0:
        return error_response(
            422,
            "invalid_elapsed_ms",
            "elapsed_ms must be a number of milliseconds.",
            "elapsed_ms",
        )
    if elapsed < limits.min_fill_ms:
        return error_response(
            422,
            "too_fast",
            "That was faster than a person types; please check your number and send it again.",
            "elapsed_ms",
        )
    return None


def rate_limited(wait: int) -> Response:
    response = error_response(
        429,
        "rate_limited",
        f"Too many requests; please try again in {wait} seconds.",
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _decoy() -> Response:
    """What a bot that filled the honeypot sees: an ordinary 202. Nothing is stored."""
    fake, token = secrets.token_urlsafe(16), secrets.token_hex(16)
    response = jsonify(
        {
            "id": fake,
            "status": "queued",
            "token": token,
            "status_url": f"/api/v1/callbacks/{fake}?token={token}",
        }
    )
    response.status_code = 202
    return response
