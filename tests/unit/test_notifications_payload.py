"""Webhook pure parts: what an answer means, how long to wait, what the body says."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from callback.models import CallbackRequest, StatusChange
from callback.services.notifications.webhooks import (
    MAX_ATTEMPTS,
    RETRY_BASE_S,
    RETRY_CAP_S,
    Verdict,
    encode,
    judge,
    payload,
    retry_delay,
)


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (None, Verdict.RETRY),  # no answer: network error or timeout
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (301, Verdict.FAILED),  # redirects are not followed
        (400, Verdict.FAILED),
        (401, Verdict.FAILED),
        (404, Verdict.FAILED),
        (410, Verdict.FAILED),
    ],
)
def test_network_errors_429_and_5xx_are_retried_other_4xx_are_not(
    code: int | None, verdict: Verdict
) -> None:
    assert judge(code) is verdict


def test_the_delay_doubles_with_jitter_between_half_and_all_of_the_step() -> None:
    for attempt in range(1, 8):
        step = RETRY_BASE_S * 2 ** (attempt - 1)
        assert retry_delay(attempt, rng=lambda: 0.0) == max(1, round(step / 2))
        assert retry_delay(attempt, rng=lambda: 0.999999) == round(step)


def test_the_delay_is_capped_far_below_the_brokers_visibility_timeout() -> None:
    assert retry_delay(MAX_ATTEMPTS, rng=lambda: 0.999999) == RETRY_CAP_S
    assert retry_delay(10_000, rng=lambda: 0.999999) == RETRY_CAP_S
    assert RETRY_CAP_S * 2 <= 3600


def test_a_receivers_retry_after_is_honoured_up_to_the_cap() -> None:
    assert retry_delay(1, retry_after_s=30, rng=lambda: 0.0) == 30
    assert retry_delay(1, retry_after_s=86_400, rng=lambda: 0.0) == RETRY_CAP_S
    assert retry_delay(5, retry_after_s=1, rng=lambda: 0.0) == round(RETRY_BASE_S * 2**4 / 2)


def test_the_first_retry_never_comes_at_once() -> None:
    assert retry_delay(1, rng=lambda: 0.0) >= 1


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        retry_delay(0)


def test_the_body_has_the_documented_fields_and_a_masked_number() -> None:
    callback = CallbackRequest(
        id="cb123", phone="+37255512345", page_url="https://shop.example/kettle"
    )
    change = StatusChange(
        status="failed",
        reason="customer_no_answer",
        at=datetime(2026, 11, 23, 15, 1, 2, 345678, tzinfo=UTC),
    )

    body = encode(payload(callback, change, "widget-key"))

    document = json.loads(body)
    assert document == {
        "event": "callback.status",
        "id": "cb123",
        "status": "failed",
        "reason": "customer_no_answer",
        "at": "2026-11-23T15:01:02.345678+00:00",
        "widget": "widget-key",
        "page_url": "https://shop.example/kettle",
        "phone_masked": document["phone_masked"],
    }
    assert document["phone_masked"].startswith("+372 55")
    assert "12345" not in body and "55512345" not in body
    assert " " not in body.replace(document["phone_masked"], "")  # compact: what is signed
