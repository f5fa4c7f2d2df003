"""A calls-per-second budget shared by every worker: wait for a slot before placing a call.

Twilio queues calls above the account's CPS (they sit in `queued` and ring late), so a burst
of dispatches from several workers would silently eat into the 20-second promise. Each worker
asks the budget for a slot first and sleeps until it comes, so the carrier never sees more than
CALLS_PER_SECOND, however many worker processes there are.

The limiter is GCRA (a token bucket in one number, the "theoretical arrival time"): a burst of up
to `rate` calls goes at once, then one every 1/rate seconds. With REDIS_URL the number lives in
Redis and one Lua script updates it atomically against Redis's own clock, so all workers share
it and their clocks do not matter; without Redis the same arithmetic runs in the process (one
worker process is the only way to run without Redis anyway).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

__all__ = ["CallBudget", "LocalBudget", "RedisBudget", "Unlimited", "make_budget"]

# Reserve a slot and answer how many milliseconds to wait for it. KEYS[1]: the arrival time
# key; ARGV: interval between calls (ms), burst credit (ms).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - burst - now
if wait < 0 then wait = 0 end
local next_tat = tat + interval
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now + 1000)
return wait
"""


class CallBudget(Protocol):
    def reserve(self) -> float:
        """Take the next slot; seconds to wait before placing the call (0 = now)."""
        ...


class Unlimited:
    def reserve(self) -> float:
        return 0.0


class LocalBudget:
    """GCRA within one process (threads of one worker share it)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / rate
        self._burst = max(0.0, (rate - 1) * self._interval)
        self._clock = clock
        self._tat = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            self._tat = tat + self._interval
            return max(0.0, tat - self._burst - now)


class RedisBudget:
    """GCRA in Redis, shared by every worker; falls back to a local budget if Redis fails."""

    def __init__(self, client: Any, key: str, rate: float) -> None:
        self._client = client
        self._key = key
        self._interval_ms = max(1, round(1000 / rate))
        self._burst_ms = max(0, round((rate - 1) * 1000 / rate))
        self._script = client.register_script(_RESERVE)
        self._fallback = LocalBudget(rate)

    def reserve(self) -> float:
        try:
            wait_ms = self._script(keys=[self._key], args=[self._interval_ms, self._burst_ms])
        except Exception as error:  # any Redis failure: keep calling, paced locally
            # Failing closed would stop every call while Redis is away; the carrier still
            # queues excess calls, so pacing this worker alone is the lesser harm.
            log.warning("calls-per-second budget unavailable (%s); pacing locally", error)
            return self._fallback.reserve()
        return int(wait_ms) / 1000


def make_budget(rate: float | None, redis_url: str | None, key_prefix: str) -> CallBudget:
    if not rate:
        return Unlimited()
    if not redis_url:
        return LocalBudget(rate)
    import redis  # only processes that place calls with a Redis budget need the client

    client = redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    return RedisBudget(client, f"{key_prefix}calls-per-second", rate)
