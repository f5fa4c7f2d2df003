"""The simulated carrier: every call and message, the phones, and the limits.

The REST layer (`rest.py`) and the control endpoints (`control.py`) are thin
HTTP shells around this object; tests of the engine can use it directly.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from . import twiml
from .call import Call, Control, Source
from .clock import SimClock
from .faults import FaultDice, Faults
from .messages import Message, MessageRunner
from .phones import PhoneBook
from .resources import new_sid
from .runner import CallRunner
from .webhooks import WebhookClient


@dataclass
class Limits:
    # Calls started per second, as Twilio's account CPS; above it calls wait queued.
    calls_per_second: float | None = None
    # REST requests per second before answering 429 / 20429.
    api_requests_per_second: float | None = None
    # Numbers allowed as From; None allows any valid E.164 number.
    caller_ids: frozenset[str] | None = None


class Carrier:
    def __init__(
        self, auth_token: str, time_scale: float = 1.0, limits: Limits | None = None
    ) -> None:
        self.auth_token = auth_token
        self.clock = SimClock(time_scale)
        self.lock = threading.RLock()
        self.phones = PhoneBook()
        # Injected faults (PUT /sim/config); the webhook client draws from the same dice.
        self.dice = FaultDice()
        self.webhooks = WebhookClient(auth_token, self.dice)
        self.limits = limits or Limits()
        self._calls: dict[str, Call] = {}
        self._messages: dict[str, Message] = {}
        self._next_dispatch = 0.0
        self._api_tokens = 0.0
        self._api_refilled = time.monotonic()
        self._api_bucket_rate: float | None = None

    # -- calls --------------------------------------------------------------

    def place_call(
        self,
        account_sid: str,
        to: str,
        from_: str,
        source: Source,
        timeout: float = 60.0,
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        status_callback_events: frozenset[str] = frozenset({"completed"}),
        time_limit: float = 14400.0,
    ) -> Call:
        call = Call(
            sid=new_sid("CA"),
            account_sid=account_sid,
            to=to,
            from_=from_,
            direction="outbound-api",
            source=source,
            date_created=self.clock.now(),
            timeout=timeout,
            status_callback=status_callback,
            status_callback_method=status_callback_method,
            status_callback_events=status_callback_events,
            time_limit=time_limit,
        )
        self._start(call, parent=None)
        return call

    def start_child(
        self, parent: Call, number: twiml.Number, caller_id: str, dial: twiml.Dial
    ) -> Call:
        """A leg created by <Dial><Number>: rings `number`, whispers, then bridges."""
        call = Call(
            sid=new_sid("CA"),
            account_sid=parent.account_sid,
            to=number.number,
            from_=caller_id,
            direction="outbound-dial",
            source=Source(url=number.url, method=number.method) if number.url else None,
            date_created=self.clock.now(),
            timeout=dial.timeout,
            parent_sid=parent.sid,
            status_callback=number.status_callback,
            status_callback_method=number.status_callback_method,
            status_callback_events=number.status_callback_events,
            time_limit=dial.time_limit,
        )
        self._start(call, parent=parent)
        return call

    def _start(self, call: Call, parent: Call | None) -> None:
        with self.lock:
            self._calls[call.sid] = call
        CallRunner(self, call, parent).start()

    def dispatch_slot(self) -> float:
        """The simulated second at which the next call may leave `queued` (CPS limit)."""
        with self.lock:
            now = self.clock.seconds()
            cps = self.limits.calls_per_second
            if not cps:
                return now
            slot = max(now, self._next_dispatch)
            self._next_dispatch = slot + 1.0 / cps
            return slot

    def record_bridge(self, parent_sid: str, child_sid: str) -> None:
        with self.lock:
            self._calls[parent_sid].bridged_with = child_sid
            self._calls[child_sid].bridged_with = parent_sid

    def get_call(self, sid: str) -> Call | None:
        with self.lock:
            return self._calls.get(sid)

    def calls(self) -> list[Call]:
        """Every call, newest first, as Twilio lists them."""
        with self.lock:
            return sorted(self._calls.values(), key=lambda c: c.date_created, reverse=True)

    def delete_call(self, sid: str) -> bool:
        with self.lock:
            return self._calls.pop(sid, None) is not None

    def redirect(self, call: Call, source: Source) -> None:
        """A new Url/Twiml: runs now on a live call, or on answer for one still ringing."""
        with self.lock:
            if call.status == "in-progress":
                call.send(Control("redirect", source))
            else:
                call.source = source

    def hang_up(self, call: Call, by: str = "api") -> None:
        call.send(Control("hangup", by))

    # -- messages -----------------------------------------------------------

    def send_message(self, message: Message) -> Message:
        with self.lock:
            self._messages[message.sid] = message
        MessageRunner(self, message).start()
        return message

    def get_message(self, sid: str) -> Message | None:
        with self.lock:
            return self._messages.get(sid)

    def messages(self) -> list[Message]:
        with self.lock:
            return sorted(self._messages.values(), key=lambda m: m.date_created, reverse=True)

    # -- limits and reset ---------------------------------------------------

    def allow_api_request(self) -> bool:
        """A token bucket of `api_requests_per_second`, one second deep."""
        rate = self.limits.api_requests_per_second
        if not rate:
            return True
        with self.lock:
            now = time.monotonic()
            if rate != self._api_bucket_rate:  # a new limit starts with a full bucket
                self._api_bucket_rate, self._api_tokens = rate, rate
            self._api_tokens = min(rate, self._api_tokens + (now - self._api_refilled) * rate)
            self._api_refilled = now
            if self._api_tokens < 1:
                return False
            self._api_tokens -= 1
            return True

    def reset(self, wait_seconds: float = 5.0) -> None:
        """Hang up every live call, then forget calls, messages, phones, limits and faults."""
        live = [call for call in self.calls() if not call.done.is_set()]
        for call in live:
            call.send(Control("hangup", "reset"))
        deadline = time.monotonic() + wait_seconds
        for call in live:
            call.done.wait(max(0.0, deadline - time.monotonic()))
        with self.lock:
            self._calls.clear()
            self._messages.clear()
            self._next_dispatch = 0.0
            self.limits = Limits()
        self.dice.set(Faults())
        self.phones.reset()
