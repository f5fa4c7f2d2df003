"""The calls-per-second budget's arithmetic (GCRA), in one process and shared through Redis."""

from __future__ import annotations

import os
import secrets

import pytest
from support.proxy import TcpProxy

from callback.telephony.budget import LocalBudget, RedisBudget, Unlimited, make_budget


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_the_rate_goes_at_once_then_one_per_interval():
    clock = FakeClock()
    budget = LocalBudget(2.0, clock=clock)
    waits = [budget.reserve() for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0.5, 1.0, 1.5, 2.0])


def test_unused_time_refills_the_burst_but_no_more():
    clock = FakeClock()
    budget = LocalBudget(2.0, clock=clock)
    budget.reserve()
    clock.now += 60  # a quiet minute: the bucket is full again, not 120 calls deep
    assert [budget.reserve() for _ in range(3)] == pytest.approx([0, 0, 0.5])


def test_below_one_call_per_second_the_calls_are_spaced():
    clock = FakeClock()
    budget = LocalBudget(0.5, clock=clock)
    assert [budget.reserve() for _ in range(3)] == pytest.approx([0, 2.0, 4.0])


def test_no_rate_means_no_limit():
    assert isinstance(make_budget(None, None, "x:"), Unlimited)
    assert isinstance(make_budget(3, None, "x:"), LocalBudget)


redis_url = os.environ.get("TEST_REDIS_URL")


@pytest.mark.skipif(not redis_url, reason="needs TEST_REDIS_URL")
def test_two_workers_share_one_budget_in_redis():
    import redis

    key = f"test-budget-{secrets.token_hex(4)}"
    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    try:
        first, second = (RedisBudget(c, key, 2.0) for c in clients)
        waits = [budget.reserve() for _ in range(3) for budget in (first, second)]
        # Six calls from two workers: two at once, then 0.5 s apart, whoever asks.
        assert sorted(waits) == pytest.approx([0, 0, 0.5, 1.0, 1.5, 2.0], abs=0.05)
    finally:
        clients[0].delete(key)
        for client in clients:
            client.close()


@pytest.mark.skipif(not redis_url, reason="needs TEST_REDIS_URL")
def test_a_lost_redis_falls_back_to_pacing_locally(caplog):
    import redis

    proxy, url = TcpProxy.for_url(redis_url, 6379)
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        budget = RedisBudget(client, f"test-budget-{secrets.token_hex(4)}", 1.0)
        proxy.down()
        assert [budget.reserve() for _ in range(2)] == pytest.approx([0, 1.0], abs=0.05)
        assert "pacing locally" in caplog.text
    finally:
        client.close()
        proxy.close()
