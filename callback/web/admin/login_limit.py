"""Rate limit for login attempts, per client IP and per email address.

Flask-Limiter provides the storage (Redis at REDIS_URL, shared by every web process; memory
when there is no Redis) and its moving-window strategy. Only *failed* attempts are counted,
so a user who signs in and out all day is never locked out, while guessing passwords for one
email from many addresses, or many emails from one address, stops at the limit.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import cast

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

# Defaults; the app config keys ADMIN_LOGIN_LIMIT_IP / ADMIN_LOGIN_LIMIT_EMAIL override them.
PER_IP = "20 per 10 minutes"
PER_EMAIL = "5 per 10 minutes"
_EXTENSION = "admin_login_limiter"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginLimiter:
    limiter: Limiter
    per_ip: RateLimitItem
    per_email: RateLimitItem

    def _keys(self, ip: str, email: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [
            (self.per_ip, ("admin-login", "ip", ip)),
            (self.per_email, ("admin-login", "email", email)),
        ]

    def retry_after(self, ip: str, email: str) -> int | None:
        """Seconds until another attempt is allowed, or None when one is allowed now."""
        strategy = self.limiter.limiter
        waits = []
        try:
            for item, key in self._keys(ip, email):
                if not strategy.test(item, *key):
                    reset = strategy.get_window_stats(item, *key).reset_time
                    waits.append(max(1, math.ceil(reset - time.time())))
        except Exception:  # the storage is down: let the attempt through (see init_login_limiter)
            log.warning("login rate limit storage unavailable", exc_info=True)
            return None
        return max(waits) if waits else None

    def failed(self, ip: str, email: str) -> None:
        try:
            for item, key in self._keys(ip, email):
                self.limiter.limiter.hit(item, *key)
        except Exception:
            log.warning("login rate limit storage unavailable", exc_info=True)


def init_login_limiter(app: Flask, redis_url: str | None) -> None:
    limiter = Limiter(
        get_remote_address,
        storage_uri=redis_url or "memory://",
        strategy="moving-window",
        default_limits=[],
        # A Redis outage must not lock every admin out; the attempt is then simply not counted.
        swallow_errors=True,
    )
    limiter.init_app(app)
    app.extensions[_EXTENSION] = LoginLimiter(
        limiter,
        parse(app.config.get("ADMIN_LOGIN_LIMIT_IP", PER_IP)),
        parse(app.config.get("ADMIN_LOGIN_LIMIT_EMAIL", PER_EMAIL)),
    )


def login_limiter() -> LoginLimiter:
    return cast(LoginLimiter, current_app.extensions[_EXTENSION])


def client_ip() -> str:
    return get_remote_address()
