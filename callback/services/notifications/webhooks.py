"""Outbound webhooks for CRMs: one signed JSON POST per status change and endpoint.

A delivery is created in the status change's own transaction (see `outbox`), so the
deliveries of one callback to one endpoint are numbered in the order of its changes; they are
also sent in that order: a delivery waits while an earlier one of the same callback and
endpoint is still pending, and the one that finishes starts the next. Other callbacks are not
held up. Each attempt claims the delivery with a compare-and-set on its attempt counter, so a
redelivered task cannot post the same attempt twice, and is logged in `webhook_attempts`.

Network errors, 429 and 5xx are retried (the task's Celery retry, with the countdown this
module computes: capped exponential backoff with jitter, each countdown far below the
broker's visibility timeout); any other answer ends the delivery at once.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import requests
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, aliased

from ... import jobs
from ...models import (
    CallbackRequest,
    DeliveryStatus,
    StatusChange,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from ...phone import mask
from .. import context
from .signature import HEADER, signature_header

log = logging.getLogger(__name__)

EVENT = "callback.status"
USER_AGENT = "Callback-Webhooks/1"
MAX_ATTEMPTS = 12
RETRY_BASE_S = 2
# Far below the Redis visibility timeout (3600 s): a countdown task is never redelivered early.
RETRY_CAP_S = 600
CONNECT_TIMEOUT_S = 3.05
READ_TIMEOUT_S = 10
# While an attempt runs, `next_attempt_at` is pushed this far ahead: a lease, not a schedule.
LEASE_S = 30
# The Celery countdown starts after `next_attempt_at` is written, so it fires after it; this
# only absorbs clock differences between worker hosts. Keep it under the shortest delay (1 s).
EARLY_S = 0.5


class Verdict(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no HTTP answer at all
    duration_ms: int
    error: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class _Claim:
    attempt: int
    endpoint_id: int
    url: str
    secret: str
    body: str


# -- pure parts -------------------------------------------------------------------------------


def payload(callback: CallbackRequest, change: StatusChange, widget_key: str) -> dict[str, object]:
    return {
        "event": EVENT,
        "id": callback.id,
        "status": change.status,
        "reason": change.reason,
        "at": change.at.isoformat(),
        "widget": widget_key,
        "page_url": callback.page_url,
        "phone_masked": mask(callback.phone),
    }


def encode(document: dict[str, object]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def judge(status_code: int | None) -> Verdict:
    """What an answer means: 2xx delivered; no answer, 429 and 5xx worth another try."""
    if status_code is None or status_code == 429 or status_code >= 500:
        return Verdict.RETRY
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    return Verdict.FAILED  # 3xx (we do not follow redirects) and 4xx: a retry will not help


def retry_delay(
    attempt: int, retry_after_s: float | None = None, rng: Callable[[], float] = random.random
) -> int:
    """Whole seconds to wait after failed attempt number `attempt` (1 for the first).

    Exponential from RETRY_BASE_S, capped at RETRY_CAP_S, with "equal jitter" (between half
    and all of the step) so a burst of deliveries to a CRM that came back does not return in
    lockstep, yet never retries at once. A receiver's Retry-After is honoured up to the cap.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    step = min(RETRY_CAP_S, RETRY_BASE_S * 2.0 ** min(attempt - 1, 32))
    delay = step / 2 + rng() * step / 2
    if retry_after_s is not None:
        delay = max(delay, min(RETRY_CAP_S, retry_after_s))
    return max(1, round(delay))


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None  # the HTTP-date form is rare from APIs; the backoff covers it


# -- creating deliveries (inside the status change's transaction) -----------------------------


def endpoints_for(session: Session, widget_id: int) -> list[int]:
    return list(
        session.scalars(
            select(WebhookEndpoint.id)
            .where(
                WebhookEndpoint.active.is_(True),
                (WebhookEndpoint.widget_id.is_(None)) | (WebhookEndpoint.widget_id == widget_id),
            )
            .order_by(WebhookEndpoint.id)
        )
    )


def add_deliveries(
    session: Session,
    callback: CallbackRequest,
    change: StatusChange,
    endpoint_ids: list[int],
    now: datetime,
) -> None:
    body = encode(payload(callback, change, callback.widget.public_key))
    for endpoint_id in endpoint_ids:
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                change=change,
                callback_id=callback.id,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        )


def pending_of_change(session: Session, change_id: int) -> list[int]:
    return list(
        session.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.change_id == change_id,
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
            )
        )
    )


# -- one attempt ------------------------------------------------------------------------------


def deliver(delivery_id: int) -> int | None:
    """Make the next attempt of a delivery if it is due and first in line.

    Returns the seconds to wait before the next attempt, or None when there is nothing more
    for this task to do (delivered, failed for good, not due, or waiting behind another).
    """
    claim = _claim(delivery_id, context.now())
    if claim is None:
        return None
    answer = _post(delivery_id, claim)
    return _record(delivery_id, claim, answer)


def _claim(delivery_id: int, now: datetime) -> _Claim | None:
    with context.transaction() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return None
        if delivery.next_attempt_at > now + timedelta(seconds=EARLY_S):
            return None  # not due yet, or another task's attempt holds the lease
        if _earlier_pending(session, delivery):
            return None  # the earlier one starts this one when it finishes
        seen = delivery.attempts
        claimed = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.attempts == seen,
            )
            .values(attempts=seen + 1, next_attempt_at=now + timedelta(seconds=LEASE_S))
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        url = endpoint.url if endpoint is not None and endpoint.active else ""
        secret = endpoint.secret if endpoint is not None else ""
        return _Claim(seen + 1, delivery.endpoint_id, url, secret, delivery.body)


def _earlier_pending(session: Session, delivery: WebhookDelivery) -> bool:
    earlier = session.scalar(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.endpoint_id == delivery.endpoint_id,
            WebhookDelivery.callback_id == delivery.callback_id,
            WebhookDelivery.change_id < delivery.change_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .limit(1)
    )
    return earlier is not None


def _post(delivery_id: int, claim: _Claim) -> Answer:
    if not claim.url:
        return Answer(None, 0, "the endpoint was removed or deactivated")
    body = claim.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        HEADER: signature_header(claim.secret, int(time.time()), body),
        # The same on every attempt: receivers drop duplicates by it.
        "X-Callback-Delivery": str(delivery_id),
    }
    started = time.perf_counter()
    try:
        # stream=True and no read: we need the status, not whatever body the CRM sends back.
        with requests.post(
            claim.url,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
            allow_redirects=False,
            stream=True,
        ) as response:
            code = response.status_code
            retry_after = _retry_after(response.headers.get("Retry-After"))
    except requests.RequestException as failure:
        elapsed = round((time.perf_counter() - started) * 1000)
        return Answer(None, elapsed, f"{type(failure).__name__}: {failure}"[:300])
    elapsed = round((time.perf_counter() - started) * 1000)
    return Answer(code, elapsed, None if 200 <= code < 300 else f"HTTP {code}", retry_after)


def _record(delivery_id: int, claim: _Claim, answer: Answer) -> int | None:
    now = context.now()
    verdict = judge(answer.status_code) if claim.url else Verdict.FAILED
    retry_in = None
    if verdict is Verdict.RETRY and claim.attempt < MAX_ATTEMPTS:
        retry_in = retry_delay(claim.attempt, answer.retry_after_s)
    following: int | None = None
    with context.transaction() as session:
        session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                attempt=claim.attempt,
                at=now,
                status_code=answer.status_code,
                duration_ms=answer.duration_ms,
                error=answer.error,
                retry_in_s=retry_in,
            )
        )
        delivery = session.get_one(WebhookDelivery, delivery_id)
        if retry_in is not None:
            delivery.next_attempt_at = now + timedelta(seconds=retry_in)
        else:
            delivery.status = (
                DeliveryStatus.DELIVERED if verdict is Verdict.DELIVERED else DeliveryStatus.FAILED
            ).value
            delivery.finished_at = now
            following = _next_in_line(session, delivery)
    log.info(
        "webhook delivery %s to endpoint %s, attempt %s: %s%s",
        delivery_id,
        claim.endpoint_id,
        claim.attempt,
        answer.status_code or answer.error,
        f", retry in {retry_in} s" if retry_in is not None else "",
    )
    if following is not None:
        jobs.enqueue(jobs.DELIVER_WEBHOOK, following)
    return retry_in


def _next_in_line(session: Session, delivery: WebhookDelivery) -> int | None:
    return session.scalar(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.endpoint_id == delivery.endpoint_id,
            WebhookDelivery.callback_id == delivery.callback_id,
            WebhookDelivery.change_id > delivery.change_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .order_by(WebhookDelivery.change_id)
        .limit(1)
    )


def overdue(session: Session, now: datetime, slack_s: float, limit: int) -> list[int]:
    """Pending deliveries, first in their line, whose next attempt is `slack_s` late: their
    task (a Celery retry, or the kick from the delivery before) must have been lost."""
    earlier = aliased(WebhookDelivery)
    waiting = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.callback_id == WebhookDelivery.callback_id,
        earlier.change_id < WebhookDelivery.change_id,
        earlier.status == DeliveryStatus.PENDING.value,
    )
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at < now - timedelta(seconds=slack_s),
                ~waiting,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )
