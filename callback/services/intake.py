"""Intake: a visitor's number becomes a stored callback request, then a dispatch task.

Validate, store and commit, then enqueue (design §5): the database is the
record, so a broker that loses the message only delays the callback until the
sweeper finds it due.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .. import flow, hours
from ..models import CallbackRequest, Widget, WidgetDailyCount
from ..models.callback import LIVE_STATUSES, new_callback_id
from ..phone import NumberPolicy, NumberRejected, parse_number
from . import context, machine, timeline

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_URL = 2048
MAX_TITLE = 300


class IntakeError(Exception):
    """A request we refuse: becomes `status` (422 unless a subclass says otherwise) with
    {"error": {"code", "message", "field"}}."""

    status = 422

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
        self.details = details or {}


class DailyCapReached(IntakeError):
    """The widget created its `daily_call_cap` callbacks today: 429 until local midnight."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "daily_cap_reached",
            "We cannot take more callback requests today; please try again tomorrow.",
        )
        self.retry_after = retry_after


class InvalidJson(IntakeError):
    """The body is not a JSON object: 400, the request itself is malformed."""

    status = 400

    def __init__(self) -> None:
        super().__init__("invalid_json", "Send a JSON object with the widget key and the phone.")


class OriginNotAllowed(IntakeError):
    """A page on a site the widget does not list sent the request: 403, nothing stored."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            "origin_not_allowed",
            "This widget may not be used on this website; add the site to the widget's origins.",
        )


def any_origin(allowed_origins: list[str]) -> bool:
    """The origin check of a request that came from no browser page (CLI, tests)."""
    return True


@dataclass(frozen=True)
class Accepted:
    id: str
    status: str
    token: str
    created: bool
    due_at: datetime | None = None  # when a scheduled callback will be made


def status_token(callback_id: str) -> str:
    """The visitor's read-only status token, derived from the id and SECRET_KEY.

    Derived rather than random so that a repeated request (a double click, a second tab)
    gets the same token back without the token ever being stored; only its hash is.
    """
    key = context.settings().secret_key.encode()
    return hmac.new(key, f"status:{callback_id}".encode(), hashlib.sha256).hexdigest()[:32]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_callback(
    payload: Any, origin_allowed: Callable[[list[str]], bool] = any_origin
) -> Accepted:
    """Store the visitor's request and enqueue its dispatch; or refuse it with IntakeError.

    `origin_allowed` is asked, with the widget's `allowed_origins`, whether the page that sent
    the request may use this widget (web/cors.py): asked here, where the widget is read anyway,
    so that a POST costs one transaction."""
    fields = _fields(payload)
    now = context.now()
    with context.transaction() as session:
        widget = session.scalars(
            select(Widget).where(Widget.public_key == fields["widget"])
        ).one_or_none()
        if widget is None:
            raise IntakeError(
                "unknown_widget", "No widget has this key; check data-widget.", "widget"
            )
        if not origin_allowed(list(widget.allowed_origins or ())):
            raise OriginNotAllowed()
        phone = _phone(widget, fields["phone"])
        due_at = _within_hours(widget, _due_at(fields.get("scheduled_for"), now), now)
        existing = _live_callback(session, widget.id, phone)
        if existing is not None:
            return _accepted(existing, created=False)
        # The id is made here, not by the INSERT, so the token's hash goes in with the row.
        callback_id = new_callback_id()
        callback = CallbackRequest(
            id=callback_id,
            widget_id=widget.id,
            phone=phone,
            page_url=fields.get("page_url"),
            page_title=fields.get("page_title"),
            status=(flow.Status.SCHEDULED if due_at > now else flow.Status.QUEUED).value,
            token_hash=token_hash(status_token(callback_id)),
            # Set as the first event leaves them, so applying it updates nothing.
            reason=None,
            accepted_leg_id=None,
            customer_attempts=0,
            created_at=now,
            due_at=due_at,
            updated_at=now,
        )
        session.add(callback)
        session.flush()
        set_committed_value(callback, "legs", [])  # a new request has none: no SELECT for them
        requested = flow.Event(flow.EventType.REQUESTED, data=_context(fields))
        # A new callback has no legs and no attempts yet: its rule is not needed to start it.
        _, effects = machine.apply(
            session, callback, requested, now, state=machine.new_state(callback)
        )
        timeline.record(session, callback.id, callback.status, now)
        _count_toward_daily_cap(session, widget, now)
        accepted = _accepted(callback, created=True)
    effects.run_after_commit(accepted.id)  # committed: now the broker may see it
    return accepted


def _count_toward_daily_cap(session: Session, widget: Widget, now: datetime) -> None:
    """At most `daily_call_cap` callbacks per widget per day (the widget's calendar day):
    whatever a bot finds, one widget can never cost more than that many calls a day.

    One upsert on the widget's counter for today that only counts while under the cap, the
    last statement before the commit: its row lock makes a widget's concurrent requests count
    one after the other for as short a time as the transaction allows, and a refused request
    changes nothing. (Counting on a connection of its own, committed at once, was measured:
    no more requests per second on PostgreSQL, and a pool checkout more per request.)
    """
    zone = ZoneInfo(widget.time_zone)
    local = now.astimezone(zone)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time.min, zone)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    upsert = (
        insert(WidgetDailyCount)
        .values(widget_id=widget.id, day=local.date(), accepted=1)
        .on_conflict_do_update(
            index_elements=["widget_id", "day"],
            set_={"accepted": WidgetDailyCount.accepted + 1},
            where=WidgetDailyCount.accepted < widget.daily_call_cap,
        )
        .returning(WidgetDailyCount.accepted)
    )
    counted = session.execute(upsert).first() if widget.daily_call_cap > 0 else None
    if counted is None:  # today's row is at the cap: the conflict's update did not apply
        raise DailyCapReached(max(1, int((tomorrow - local).total_seconds())))


def _accepted(callback: CallbackRequest, created: bool) -> Accepted:
    scheduled = callback.status == flow.Status.SCHEDULED
    due_at = callback.due_at if scheduled else None
    return Accepted(callback.id, callback.status, status_token(callback.id), created, due_at)


def _context(fields: dict[str, Any]) -> dict[str, object]:
    """What the visitor told us besides the number, kept on the `requested` event."""
    return {
        "language": fields.get("language"),
        "sms_consent": fields.get("sms_consent", False),
        "scheduled_for": fields.get("scheduled_for"),
    }


def _within_hours(widget: Widget, due_at: datetime, now: datetime) -> datetime:
    """A callback is made inside the widget's hours: an ASAP request while closed waits for
    the next opening; a chosen time outside hours is refused with the next opening."""
    week, holidays = hours.split_schedule(widget.hours)
    if hours.is_open(week, widget.time_zone, due_at, holidays):
        return due_at
    opening = hours.next_opening(week, widget.time_zone, due_at, holidays)
    if due_at == now and opening is not None:
        return opening
    when = f" The next opening is {opening.isoformat()}." if opening else ""
    raise IntakeError(
        "closed",
        f"We are closed at that time.{when} Choose a time within our opening hours.",
        "scheduled_for" if due_at != now else None,
        {"next_opening": opening.isoformat() if opening else None},
    )


def _fields(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidJson()
    fields: dict[str, Any] = {}
    for name, limit, required in (
        ("widget", 64, True),
        ("phone", 64, True),
        ("page_url", MAX_URL, False),
        ("page_title", MAX_TITLE, False),
        ("scheduled_for", 64, False),
        ("language", 16, False),
    ):
        value = payload.get(name)
        if value is None or value == "":
            if required:
                raise IntakeError(f"missing_{name}", f"The field '{name}' is required.", name)
            continue
        if not isinstance(value, str):
            raise IntakeError(f"invalid_{name}", f"The field '{name}' must be a string.", name)
        if "\x00" in value:
            if name == "widget":
                raise IntakeError(
                    "unknown_widget", "No widget has this key; check data-widget.", name
                )
            raise IntakeError(f"invalid_{name}", f"The field '{name}' has a NUL character.", name)
        if len(value) > limit:
            raise IntakeError(
                f"invalid_{name}", f"The field '{name}' is longer than {limit} characters.", name
            )
        fields[name] = value.strip()
    language = fields.get("language")
    if language is not None and not _LANGUAGE.match(language):
        raise IntakeError(
            "invalid_language",
            "language must be a language tag such as 'et' or 'en-GB'.",
            "language",
        )
    consent = payload.get("sms_consent", False)
    if not isinstance(consent, bool):
        raise IntakeError(
            "invalid_sms_consent", "sms_consent must be true or false.", "sms_consent"
        )
    fields["sms_consent"] = consent
    return fields


def _phone(widget: Widget, raw: str) -> str:
    policy = NumberPolicy.create(
        allowed_countries=widget.allowed_countries, blocked=widget.blocked_prefixes
    )
    try:
        return parse_number(raw, widget.default_region, policy)
    except NumberRejected as rejected:
        raise IntakeError(rejected.code, rejected.message, "phone") from None


def _due_at(raw: str | None, now: datetime) -> datetime:
    if raw is None:
        return now
    try:
        moment = datetime.fromisoformat(raw)
        moment.astimezone(UTC)  # year 1 or 9999 with an offset overflows here
    except (ValueError, OverflowError):
        raise IntakeError(
            "invalid_scheduled_for",
            "scheduled_for must be an ISO 8601 time such as 2026-11-23T09:30:00+02:00.",
            "scheduled_for",
        ) from None
    if moment.tzinfo is None:
        raise IntakeError(
            "invalid_scheduled_for",
            "scheduled_for needs a time zone offset, such as +02:00 or Z.",
            "scheduled_for",
        )
    return max(now, moment.astimezone(UTC))


def _live_callback(session: Session, widget_id: int, phone: str) -> CallbackRequest | None:
    return session.scalars(
        select(CallbackRequest)
        .where(
            CallbackRequest.widget_id == widget_id,
            CallbackRequest.phone == phone,
            CallbackRequest.status.in_([s.value for s in LIVE_STATUSES]),
        )
        .order_by(CallbackRequest.created_at.desc())
        .limit(1)
    ).one_or_none()
