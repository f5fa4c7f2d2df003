"""Settings, read from the environment once and validated at start.

Every process (web, worker, beat, simulator, CLI) builds one `Settings` from
`os.environ` through `Settings.from_env()`. A bad value stops the process with
a message that names the variable and says what to fix; unsafe production
settings (the twilio provider with development secrets) refuse to start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

TELEPHONY_CHOICES = ("simulator", "twilio")

# Development defaults. They only work with the simulator: `from_env` refuses
# them when TELEPHONY=twilio, so a real deployment cannot start with them.
DEV_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEV_AUTH_TOKEN = "simulator-auth-token"
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_CALLER_ID = "+3726000000"
SIMULATOR_API_BASE = "http://127.0.0.1:8765"
TWILIO_API_BASE = "https://api.twilio.com"

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Twilio's alphanumeric sender ids: up to 11 characters, at least one letter.
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_EMAIL = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _seconds(name: str, raw: str | None) -> int:
    if raw is None or not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of seconds (1 or more), got {raw!r}")
    return int(raw)


def _rate(name: str, raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 10_000:
        raise ConfigError(f"{name} must be a positive number (per second), got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    # Every key we keep in Redis starts with this, so several installations (or test
    # runs) can share one Redis database without taking each other's tasks.
    redis_key_prefix: str
    telephony: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_caller_id: str
    twilio_api_base: str
    public_url: str
    secret_key: str
    # Seconds a callback may wait in the queue for a free agent before it becomes a
    # scheduled callback at the next slot (QUEUE_MAX_WAIT, default 120).
    queue_max_wait_s: int
    # Local state of a single-machine install: the SQLite file, the embedded broker's
    # queue folder and the beat schedule. INSTANCE_DIR, default ./instance.
    instance_dir: Path
    # Notifications (services.notifications). SMS go out from TWILIO_SMS_FROM (a number or
    # an alphanumeric sender id), default TWILIO_CALLER_ID; the reminder goes this many
    # minutes before a scheduled call (SMS_REMINDER_MINUTES, 0 = none). Missed callbacks
    # are emailed to ALERT_EMAIL (comma-separated) through SMTP_URL; unset = no email.
    sms_from: str | None = None
    sms_reminder_minutes: int = 15
    smtp_url: str | None = None
    alert_emails: tuple[str, ...] = ()
    # Abuse limits on the public API (callback.web.limits), in Flask-Limiter's notation
    # ("60 per minute;600 per hour"): attempts per client IP, attempts per phone number,
    # callbacks created per widget, and status reads per client IP (RATE_LIMIT_PER_IP,
    # RATE_LIMIT_PER_PHONE, RATE_LIMIT_PER_WIDGET, RATE_LIMIT_STATUS).
    rate_limit_ip: str = "60 per minute;600 per hour"
    rate_limit_phone: str = "5 per 10 minutes;20 per day"
    rate_limit_widget: str = "60 per minute"
    rate_limit_status: str = "6000 per minute"
    # A widget form sent sooner than this after the panel opened is refused as too_fast
    # (MIN_FILL_MS; 0 turns the check off). Default 1500 with TELEPHONY=twilio, and off with
    # the simulator, where automated browsers (our own tests, demos) fill forms instantly.
    min_fill_ms: int = 0
    # Finished callbacks (and everything stored with them) are deleted after this many days
    # (RETENTION_DAYS).
    retention_days: int = 90
    # Calls placed per second by all workers together (CALLS_PER_SECOND; unset = no limit):
    # the carrier queues calls above the account's CPS, so we wait for a slot instead.
    calls_per_second: float | None = None
    # gunicorn's processes and threads per process for the web (WEB_CONCURRENCY, WEB_THREADS),
    # used by `callback run` and the Procfile alike. Threads, because a webhook can wait on a
    # row lock and a single-threaded process then serves nobody; more processes cut intake's
    # tail under load (bench/README.md, "gunicorn: processes or threads").
    web_concurrency: int = 2
    web_threads: int = 4

    @property
    def uses_simulator(self) -> bool:
        return self.telephony == "simulator"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        telephony = (get("TELEPHONY", "simulator") or "").lower()
        if telephony not in TELEPHONY_CHOICES:
            raise ConfigError(
                f"TELEPHONY={telephony!r} is not supported; use one of {', '.join(TELEPHONY_CHOICES)}"
            )
        production = telephony == "twilio"

        instance_dir = Path(get("INSTANCE_DIR", "instance") or "instance").resolve()
        settings = cls(
            database_url=get("DATABASE_URL") or f"sqlite:///{instance_dir / 'callback.db'}",
            redis_url=get("REDIS_URL"),
            redis_key_prefix=get("REDIS_KEY_PREFIX", "callback:") or "",
            telephony=telephony,
            twilio_account_sid=get("TWILIO_ACCOUNT_SID", DEV_ACCOUNT_SID) or "",
            twilio_auth_token=get("TWILIO_AUTH_TOKEN", DEV_AUTH_TOKEN) or "",
            twilio_caller_id=get("TWILIO_CALLER_ID", DEV_CALLER_ID) or "",
            twilio_api_base=(
                get("TWILIO_API_BASE", TWILIO_API_BASE if production else SIMULATOR_API_BASE) or ""
            ).rstrip("/"),
            public_url=(get("PUBLIC_URL", "http://127.0.0.1:5000") or "").rstrip("/"),
            secret_key=get("SECRET_KEY", DEV_SECRET_KEY) or "",
            queue_max_wait_s=_seconds("QUEUE_MAX_WAIT", get("QUEUE_MAX_WAIT", "120")),
            instance_dir=instance_dir,
            sms_from=get("TWILIO_SMS_FROM"),
            sms_reminder_minutes=_minutes(
                "SMS_REMINDER_MINUTES", get("SMS_REMINDER_MINUTES", "15")
            ),
            smtp_url=get("SMTP_URL"),
            alert_emails=tuple(
                address.strip()
                for address in (get("ALERT_EMAIL") or "").split(",")
                if address.strip()
            ),
            **_abuse_settings(get, production),
            calls_per_second=_rate("CALLS_PER_SECOND", get("CALLS_PER_SECOND")),
            web_concurrency=_count("WEB_CONCURRENCY", get("WEB_CONCURRENCY", "2"), 64),
            web_threads=_count("WEB_THREADS", get("WEB_THREADS", "4"), 64),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if not _ACCOUNT_SID.match(self.twilio_account_sid):
            raise ConfigError(
                "TWILIO_ACCOUNT_SID must be 'AC' followed by 32 hex digits "
                "(find it on the Twilio console's dashboard)"
            )
        if not _E164.match(self.twilio_caller_id):
            raise ConfigError(
                f"TWILIO_CALLER_ID must be a phone number in E.164 form such as +3725550100, "
                f"got {self.twilio_caller_id!r}"
            )
        for name, url in (
            ("TWILIO_API_BASE", self.twilio_api_base),
            ("PUBLIC_URL", self.public_url),
        ):
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ConfigError(f"{name} must be an absolute http(s) URL, got {url!r}")
        if self.redis_url and urlparse(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(
                f"REDIS_URL must start with redis://, rediss:// or unix://, got {self.redis_url!r}"
            )
        self._validate_notifications()
        _validate_limits(self)
        if self.telephony == "twilio":
            self._refuse_development_secrets()

    def _refuse_development_secrets(self) -> None:
        problems = []
        if self.twilio_account_sid == DEV_ACCOUNT_SID:
            problems.append("set TWILIO_ACCOUNT_SID to your Twilio account sid")
        if self.twilio_auth_token == DEV_AUTH_TOKEN:
            problems.append("set TWILIO_AUTH_TOKEN to your Twilio auth token")
        if self.twilio_caller_id == DEV_CALLER_ID:
            problems.append("set TWILIO_CALLER_ID to a number you own on Twilio")
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("set SECRET_KEY to a random string of at least 32 characters")
        if not self.public_url.startswith("https://"):
            problems.append("set PUBLIC_URL to the https:// address Twilio reaches this service at")
        if problems:
            raise ConfigError("TELEPHONY=twilio refuses to start: " + "; ".join(problems))

    def _validate_notifications(self) -> None:
        if self.sms_from is not None and not (
            _E164.match(self.sms_from) or _SENDER_ID.match(self.sms_from)
        ):
            raise ConfigError(
                "TWILIO_SMS_FROM must be an E.164 number such as +3725550100 or an alphanumeric "
                f"sender id of at most 11 letters, digits and spaces, got {self.sms_from!r}"
            )
        if self.smtp_url is not None:
            parsed = urlparse(self.smtp_url)
            try:
                parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
            except ValueError:
                # Not echoed: the URL may hold the SMTP password.
                raise ConfigError("SMTP_URL has a port that is not a number") from None
            if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
                raise ConfigError(
                    "SMTP_URL must look like smtp://user:password@host:587 "
                    "(or smtps:// for TLS from the start)"
                )
        for address in self.alert_emails:
            if not _EMAIL.match(address):
                raise ConfigError(f"ALERT_EMAIL has an address that is not one: {address!r}")
        if self.alert_emails and self.smtp_url is None:
            raise ConfigError("ALERT_EMAIL is set but SMTP_URL is not: set the SMTP server too")


def _count(name: str, raw: str | None, most: int) -> int:
    if raw is None or not raw.isdigit() or not 1 <= int(raw) <= most:
        raise ConfigError(f"{name} must be a whole number from 1 to {most}, got {raw!r}")
    return int(raw)


def _minutes(name: str, raw: str | None) -> int:
    if raw is None or not raw.isdigit() or int(raw) > 24 * 60:
        raise ConfigError(f"{name} must be a whole number of minutes from 0 to 1440, got {raw!r}")
    return int(raw)


def _abuse_settings(get: Callable[[str, str], str | None], production: bool) -> dict[str, Any]:
    min_fill = get("MIN_FILL_MS", "1500" if production else "0") or ""
    if not min_fill.isdigit() or int(min_fill) > 60_000:
        raise ConfigError(f"MIN_FILL_MS must be milliseconds from 0 to 60000, got {min_fill!r}")
    retention = get("RETENTION_DAYS", "90") or ""
    if not retention.isdigit() or not 1 <= int(retention) <= 3650:
        raise ConfigError(
            f"RETENTION_DAYS must be a number of days from 1 to 3650, got {retention!r}"
        )
    return {
        "rate_limit_ip": get("RATE_LIMIT_PER_IP", Settings.rate_limit_ip),
        "rate_limit_phone": get("RATE_LIMIT_PER_PHONE", Settings.rate_limit_phone),
        "rate_limit_widget": get("RATE_LIMIT_PER_WIDGET", Settings.rate_limit_widget),
        "rate_limit_status": get("RATE_LIMIT_STATUS", Settings.rate_limit_status),
        "min_fill_ms": int(min_fill),
        "retention_days": int(retention),
    }


def _validate_limits(settings: Settings) -> None:
    from limits import parse_many

    for name, value in (
        ("RATE_LIMIT_PER_IP", settings.rate_limit_ip),
        ("RATE_LIMIT_PER_PHONE", settings.rate_limit_phone),
        ("RATE_LIMIT_PER_WIDGET", settings.rate_limit_widget),
        ("RATE_LIMIT_STATUS", settings.rate_limit_status),
    ):
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(
                f"{name} must be limits such as '30 per minute;300 per hour', got {value!r}"
            ) from None
