"""Managing webhook endpoints and reading their delivery log (the CLI now, the admin later).

Errors are `AdminError`s (code, message, field, HTTP status), so an admin view can turn them
into `{"error": {...}}` bodies the way it does for its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    StatusChange,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    Widget,
)
from ...models.notification import new_webhook_secret
from .. import context
from ..admin_errors import AdminError, NotFound

MAX_URL = 2048
MAX_DESCRIPTION = 200
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Endpoint:
    id: int
    url: str
    widget: str | None  # the widget's public key; None for every widget
    active: bool
    description: str | None
    created_at: datetime
    secret_hint: str  # the first characters, to tell secrets apart


@dataclass(frozen=True)
class AddedEndpoint:
    endpoint: Endpoint
    secret: str  # shown once; only signatures prove it afterwards


def add_endpoint(
    url: str, widget_key: str | None = None, description: str | None = None
) -> AddedEndpoint:
    url = _valid_url(url)
    description = _valid_description(description)
    with context.transaction() as session:
        widget = _widget(session, widget_key) if widget_key is not None else None
        endpoint = WebhookEndpoint(
            url=url,
            widget_id=widget.id if widget else None,
            description=description,
            secret=new_webhook_secret(),
            created_at=context.now(),
        )
        session.add(endpoint)
        session.flush()
        return AddedEndpoint(_view(endpoint, widget_key), endpoint.secret)


def list_endpoints(widget_key: str | None = None) -> list[Endpoint]:
    with context.transaction() as session:
        query = select(WebhookEndpoint, Widget.public_key).outerjoin(
            Widget, Widget.id == WebhookEndpoint.widget_id
        )
        if widget_key is not None:
            query = query.where(WebhookEndpoint.widget_id == _widget(session, widget_key).id)
        rows = session.execute(query.order_by(WebhookEndpoint.id)).all()
        return [_view(endpoint, key) for endpoint, key in rows]


def set_active(endpoint_id: int, active: bool) -> Endpoint:
    """Pause or resume an endpoint; pending deliveries to a paused one end as failed."""
    with context.transaction() as session:
        endpoint = _endpoint(session, endpoint_id)
        endpoint.active = active
        return _view(endpoint, _key_of(session, endpoint))


def rotate_secret(endpoint_id: int) -> str:
    """A new secret, effective for the next attempt; returned once."""
    with context.transaction() as session:
        endpoint = _endpoint(session, endpoint_id)
        endpoint.secret = new_webhook_secret()
        return endpoint.secret


def remove_endpoint(endpoint_id: int) -> None:
    """Delete an endpoint together with its delivery log (`set_active` keeps the log)."""
    with context.transaction() as session:
        session.delete(_endpoint(session, endpoint_id))


def delivery_log(
    endpoint_id: int | None = None, callback_id: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest deliveries, each with its attempts, for the admin's log view."""
    if not 1 <= limit <= 500:
        raise AdminError("invalid_limit", "limit must be between 1 and 500.", "limit")
    with context.transaction() as session:
        query = select(WebhookDelivery, StatusChange).join(
            StatusChange, StatusChange.id == WebhookDelivery.change_id
        )
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        if callback_id is not None:
            query = query.where(WebhookDelivery.callback_id == callback_id)
        rows = session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit)).all()
        attempts: dict[int, list[dict[str, Any]]] = {delivery.id: [] for delivery, _ in rows}
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt)
        ):
            attempts[attempt.delivery_id].append(
                {
                    "attempt": attempt.attempt,
                    "at": attempt.at.isoformat(),
                    "status_code": attempt.status_code,
                    "duration_ms": attempt.duration_ms,
                    "error": attempt.error,
                    "retry_in_s": attempt.retry_in_s,
                }
            )
        return [
            {
                "id": delivery.id,
                "endpoint": delivery.endpoint_id,
                "callback": delivery.callback_id,
                "status_change": change.status,
                "state": delivery.status,
                "attempts": attempts[delivery.id],
                "created_at": delivery.created_at.isoformat(),
                "finished_at": delivery.finished_at.isoformat() if delivery.finished_at else None,
            }
            for delivery, change in rows
        ]


def _valid_url(url: object) -> str:
    if not isinstance(url, str) or not url.strip():
        raise AdminError("missing_url", "Give the URL that receives the webhooks.", "url")
    url = url.strip()
    if len(url) > MAX_URL or _UNSAFE.search(url):
        raise AdminError(
            "invalid_url", f"The URL must be one line of at most {MAX_URL} characters.", "url"
        )
    parsed = urlparse(url)
    try:
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise AdminError("invalid_url", "The URL has a port that is not a number.", "url") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise AdminError(
            "invalid_url", "The URL must be absolute http(s), e.g. https://crm.example/hook.", "url"
        )
    if parsed.fragment:
        raise AdminError("invalid_url", "The URL must not have a #fragment.", "url")
    return url


def _valid_description(description: object) -> str | None:
    if description is None or description == "":
        return None
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise AdminError(
            "invalid_description",
            f"The description must be text of at most {MAX_DESCRIPTION} characters.",
            "description",
        )
    return description.strip() or None


def _widget(session: Session, key: str) -> Widget:
    widget = session.scalars(select(Widget).where(Widget.public_key == key)).one_or_none()
    if widget is None:
        raise AdminError("unknown_widget", f"No widget has the key {key!r}.", "widget")
    return widget


def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint", endpoint_id)
    return endpoint


def _key_of(session: Session, endpoint: WebhookEndpoint) -> str | None:
    if endpoint.widget_id is None:
        return None
    return session.scalar(select(Widget.public_key).where(Widget.id == endpoint.widget_id))


def _view(endpoint: WebhookEndpoint, widget_key: str | None) -> Endpoint:
    return Endpoint(
        id=endpoint.id,
        url=endpoint.url,
        widget=widget_key,
        active=endpoint.active,
        description=endpoint.description,
        created_at=endpoint.created_at,
        secret_hint=endpoint.secret[:10] + "…",
    )
