"""Requests from the carrier to the application, signed exactly as Twilio signs them.

`X-Twilio-Signature` is base64(HMAC-SHA1(auth token, URL + sorted POST params)),
computed here by the official library's own `RequestValidator`, so whatever it
accepts on the application side is what Twilio would have sent.

Status callbacks of one call are delivered one after another in the order they
happened (a one-thread executor per call), off the call's own thread, so a slow
application never slows the simulated line down — as on Twilio.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from .faults import FaultDice

log = logging.getLogger(__name__)

# Twilio gives up on a webhook after 15 s.
WEBHOOK_TIMEOUT = 15.0

# Told how one request went: its URL, time.monotonic() when it was sent and when it was
# answered (or failed), and the HTTP status (None: no answer). The simulator's own log of how
# long the application took (`Call.log_webhook`); Twilio keeps no such record.
Timer = Callable[[str, float, float, int | None], None]


class WebhookFailed(Exception):
    """The application could not be reached or answered with an HTTP error (Twilio's 11200)."""


class WebhookClient:
    def __init__(self, auth_token: str, dice: FaultDice | None = None) -> None:
        self._validator = RequestValidator(auth_token)
        self._local = threading.local()
        self.dice = dice or FaultDice()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # The simulator talks to an application on this machine or the
            # test's network: never through a proxy from the environment.
            session.trust_env = False
            self._local.session = session
        return session

    def request(
        self, url: str, method: str, params: dict[str, str], timer: Timer | None = None
    ) -> requests.Response:
        sent, status = time.monotonic(), None
        try:
            response = self._request(url, method, params)
            status = response.status_code
        finally:
            if timer is not None:
                timer(url, sent, time.monotonic(), status)
        if response.status_code >= 400:
            raise WebhookFailed(f"{method} {url} answered HTTP {response.status_code}")
        return response

    def _request(self, url: str, method: str, params: dict[str, str]) -> requests.Response:
        if method == "GET":
            separator = "&" if "?" in url else "?"
            url = url + separator + urlencode(params)
            params = {}
        headers = {
            "X-Twilio-Signature": self._validator.compute_signature(url, params),
            "User-Agent": "TwilioProxy/1.1 (callback-simulator)",
        }
        try:
            response = self._session().request(
                method, url, data=params or None, headers=headers, timeout=WEBHOOK_TIMEOUT
            )
        except requests.RequestException as exc:
            raise WebhookFailed(f"{method} {url} failed: {exc}") from exc
        return response


class OrderedDelivery:
    """Fire-and-forget callbacks for one call, delivered strictly in order.

    Unless faults are injected (`faults.py`): then a callback may be dropped, sent twice,
    held back and sent after the next one, or delayed, as carriers do now and then.
    """

    def __init__(self, client: WebhookClient, timer: Timer | None = None) -> None:
        self._client = client
        self._timer = timer
        self._executor: ThreadPoolExecutor | None = None
        self._held: tuple[str, str, dict[str, str]] | None = None

    def post(self, url: str, method: str, params: dict[str, str]) -> None:
        dice = self._client.dice
        faults = dice.faults
        if dice.roll(faults.webhook_drop_rate):
            log.info("fault: dropped a status callback (%s)", params.get("CallStatus"))
            return
        if self._held is None and dice.roll(faults.webhook_reorder_rate):
            self._held = (url, method, params)  # sent right after the next one
            return
        self._submit(url, method, params)
        if dice.roll(faults.webhook_duplicate_rate):
            self._submit(url, method, params)
        self._release_held()

    def close(self) -> None:
        """No more callbacks for this call; the thread ends when the queue is drained."""
        self._release_held()
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    def _release_held(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._submit(*held)

    def _submit(self, url: str, method: str, params: dict[str, str]) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-callback")
        self._executor.submit(self._deliver, url, method, params)

    def _deliver(self, url: str, method: str, params: dict[str, str]) -> None:
        delay = self._client.dice.faults.webhook_delay_s
        if delay:
            time.sleep(delay)  # this call's later callbacks queue up behind it, still in order
        try:
            self._client.request(url, method, params, self._timer)
        except WebhookFailed as exc:
            # Twilio does not retry status callbacks; it logs a debugger warning.
            log.warning("status callback not delivered: %s", exc)
