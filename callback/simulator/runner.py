"""The life of one call leg, run on its own thread.

queued → initiated → ringing → in-progress → completed, or busy, no-answer,
failed, canceled. On answer the leg fetches TwiML from its Url and executes it
(`verbs.py`); a child leg created by <Dial> runs its <Number url> whisper, tells
its parent it is ready, and stays bridged until either side hangs up.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from .call import Call, CallEnded, Control, Redirected, Source
from .resources import API_VERSION, rfc2822
from .verbs import TwimlExecutor
from .webhooks import OrderedDelivery, Timer

if TYPE_CHECKING:
    from .carrier import Carrier

log = logging.getLogger(__name__)

# Simulated seconds between `initiated` and `ringing` (network call setup).
SETUP_DELAY = 0.1
# Longest a bridged leg waits in one go; it is woken by any control anyway.
_IDLE_WAIT = 3600.0

_EVENT_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}


class CallRunner:
    def __init__(self, carrier: Carrier, call: Call, parent: Call | None = None) -> None:
        self.carrier = carrier
        self.clock = carrier.clock
        self.call = call
        self.parent = parent
        self.phone = carrier.phones.behaviour(call.to)
        self.delivery = OrderedDelivery(carrier.webhooks, self.timer("status"))
        self.answered = False

    def start(self) -> None:
        threading.Thread(target=self.run, name=f"sim-{self.call.sid[:10]}", daemon=True).start()

    def run(self) -> None:
        status = "completed"
        try:
            self._wait_for_dispatch()
            self._progress("initiated")
            self.call.wait(self.clock, SETUP_DELAY)
            if self.phone.outcome == "failed":
                status = "failed"
                return
            self._progress("ringing")
            unanswered = self._ring()
            if unanswered:
                status = unanswered
                return
            self._answer()
            self._converse()
        except CallEnded as ended:
            status = self._status_after(ended)
        except Exception:  # a simulator bug must not leave a call live forever
            log.exception("call %s crashed", self.call.sid)
            status = "failed"
        finally:
            self._finish(status)

    # -- phases -------------------------------------------------------------

    def _wait_for_dispatch(self) -> None:
        """Calls above the calls-per-second limit wait in `queued`, as on Twilio."""
        start_at = self.carrier.dispatch_slot()
        self.call.wait(self.clock, start_at - self.clock.seconds())
        waited = self.clock.now() - self.call.date_created
        self.call.queue_time_ms = max(0, round(waited.total_seconds() * 1000))

    def _ring(self) -> str | None:
        """Ring until the phone answers (None) or the call ends unanswered (its status)."""
        outcome, after, timeout = self.phone.outcome, self.phone.answer_after, self.call.timeout
        # A manual phone waits for the softphone's Answer or Decline, like a no-answer phone.
        if outcome in ("no-answer", "manual") or after > timeout:
            ring_for = self.phone.human_wait(timeout, self.clock.time_scale)
            manual = self.call.wait(self.clock, ring_for, accept=("answer",))
            return None if manual else "no-answer"
        manual = self.call.wait(self.clock, after, accept=("answer",))
        if manual is not None or outcome in ("answer", "voicemail"):
            return None
        return "busy"

    def _answer(self) -> None:
        now = self.clock.seconds()
        with self.carrier.lock:
            self.answered = True
            self.call.status = "in-progress"
            self.call.start_time = self.clock.now()
            limits = [now + self.call.time_limit]
            if self.phone.hangup_after is not None:
                limits.append(now + self.phone.hangup_after)
            self.call.hangup_at = min(limits)
        self._progress("answered")

    def _converse(self) -> None:
        executor = TwimlExecutor(self)
        source: Source | None = self.call.source
        if self.parent is not None:
            self._notify_parent("answered")
        while source is not None:
            try:
                source = executor.run_document(source)
            except Redirected as redirect:
                source = redirect.source
        if self.parent is not None:
            # The whisper is over: the parent bridges us; we stay until a hangup.
            self._notify_parent("ready")
            while True:
                self.call.wait(self.clock, _IDLE_WAIT)

    def _status_after(self, ended: CallEnded) -> str:
        if ended.status:
            return ended.status
        if ended.by == "decline":
            return "busy"
        return "completed" if self.answered else "canceled"

    def _finish(self, status: str) -> None:
        with self.carrier.lock:
            self.call.status = status
            self.call.end_time = self.clock.now()
            self.call.date_updated = self.call.end_time
            self.call.hangup_at = None
        self._progress("completed", status)
        self.delivery.close()
        if self.parent is not None:
            self._notify_parent("ended", status)
        self.call.done.set()

    # -- reporting ----------------------------------------------------------

    def timer(self, kind: str) -> Timer:
        """Logs each request of this `kind` to the application on the call (`Call.webhooks`)."""

        def record(url: str, sent: float, answered: float, status: int | None) -> None:
            with self.carrier.lock:
                at = self.clock.at_monotonic(sent)
                self.call.log_webhook(kind, url, at, answered - sent, status)

        return record

    def call_params(self, status: str | None = None) -> dict[str, str]:
        """The parameters Twilio sends with every request about a call."""
        call = self.call
        params = {
            "AccountSid": call.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": status or call.status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": call.direction,
            "From": call.from_,
            "To": call.to,
        }
        if call.parent_sid:
            params["ParentCallSid"] = call.parent_sid
        return params

    def _progress(self, event: str, final_status: str | None = None) -> None:
        status = final_status or _EVENT_STATUS[event]
        now = self.clock.now()
        with self.carrier.lock:
            self.call.log_status(status, now, self.clock.seconds())
            if status == "ringing":
                self.call.status = "ringing"
            self.call.date_updated = now
            wanted = self.call.status_callback and event in self.call.status_callback_events
            if wanted:
                sequence = self.call.callbacks_sent
                self.call.callbacks_sent += 1
        if not wanted or self.call.status_callback is None:
            return
        params = self.call_params(status)
        params.update(
            Timestamp=rfc2822(now) or "",
            SequenceNumber=str(sequence),
            CallbackSource="call-progress-events",
        )
        if final_status is not None:
            params["CallDuration"] = str(self.call.duration_seconds())
        self.delivery.post(self.call.status_callback, self.call.status_callback_method, params)

    def _notify_parent(self, event: str, status: str | None = None) -> None:
        assert self.parent is not None
        self.parent.send(Control("child", (self.call.sid, event, status)))
