"""`Provider` on the official `twilio` client, for Twilio or any Twilio-compatible API.

`TWILIO_API_BASE` decides where requests go: `client.api.base_url` is the one knob the library
offers for that, and it is how the same code talks to our carrier simulator in development and
tests and to api.twilio.com in production.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callback.config import Settings
from callback.phone import mask

from .provider import (
    CALL_ALREADY_ENDED_CODES,
    CALL_STATUS_EVENTS,
    CallInfo,
    Provider,
    ProviderError,
)

__all__ = ["DEFAULT_HTTP_TIMEOUT_S", "TwilioProvider", "make_provider"]

log = logging.getLogger(__name__)

# Every carrier request sits on the 20-second path; the library's default is no timeout at all,
# which would let one stuck connection hold a worker (and an agent's reservation) indefinitely.
DEFAULT_HTTP_TIMEOUT_S = 10.0

_T = TypeVar("_T")

# Runs of digits long enough to be a phone number ("+372 5550 101"); Twilio echoes the number
# in messages such as "The 'To' number +3725550101 is not a valid phone number".
# Digits inside a word (a CA… or AC… sid) are left alone.
_NUMBER_LIKE = re.compile(r"(?<![\w+])\+?\d[\d ().-]*\d(?!\w)")


class TwilioProvider:
    """The production `Provider`. One instance per process; the client pools connections."""

    def __init__(self, settings: Settings, *, http_timeout_s: float = DEFAULT_HTTP_TIMEOUT_S):
        self._client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=TwilioHttpClient(timeout=http_timeout_s),
        )
        self._client.api.base_url = settings.twilio_api_base
        # The client reads TWILIO_EDGE / TWILIO_REGION from os.environ and would then rewrite
        # the host of every URL (turning 127.0.0.1 into nonsense); TWILIO_API_BASE is our only
        # way to choose the endpoint, so the settings alone decide where requests go.
        self._client.edge = None
        self._client.region = None

    def place_call(
        self, to: str, from_: str, answer_url: str, status_callback: str, timeout_s: int
    ) -> str:
        call = self._call(
            "place a call",
            lambda: self._client.calls.create(
                to=to,
                from_=from_,
                url=answer_url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=list(CALL_STATUS_EVENTS),
                timeout=timeout_s,
            ),
        )
        if not call.sid:
            raise ProviderError(None, None, "the carrier created a call without a sid", False)
        log.info("placed call %s to %s", call.sid, mask(to))
        return str(call.sid)

    def cancel_call(self, sid: str) -> None:
        # Status=completed hangs up a ringing call (it ends as canceled) as well as one in
        # progress; Status=canceled would do nothing to a call that was answered meanwhile.
        try:
            self._call("hang up a call", lambda: self._client.calls(sid).update(status="completed"))
        except ProviderError as error:
            if error.code in CALL_ALREADY_ENDED_CODES:
                log.debug("call %s had already ended (%s)", sid, error.code)
                return
            raise

    def redirect_call(self, sid: str, url: str) -> None:
        self._call(
            "redirect a call", lambda: self._client.calls(sid).update(url=url, method="POST")
        )

    def fetch_call(self, sid: str) -> CallInfo:
        call = self._call("fetch a call", lambda: self._client.calls(sid).fetch())
        return CallInfo(
            sid=str(call.sid or sid),
            status=str(call.status),
            duration_s=_int_or_none(call.duration),
            parent_sid=call.parent_call_sid or None,
        )

    def send_sms(self, to: str, from_: str, body: str, status_callback: str | None = None) -> str:
        message = self._call(
            "send a text message",
            lambda: self._client.messages.create(
                to=to,
                from_=from_,
                body=body,
                status_callback=values.unset if status_callback is None else status_callback,
            ),
        )
        if not message.sid:
            raise ProviderError(None, None, "the carrier accepted a message without a sid", False)
        log.info("sent message %s to %s", message.sid, mask(to))
        return str(message.sid)

    @staticmethod
    def _call(action: str, request: Callable[[], _T]) -> _T:
        """Run one client request, turning every failure into a classified `ProviderError`."""
        try:
            return request()
        except (TwilioRestException, TwilioServiceException) as error:
            raise _from_http_error(action, error) from error
        except requests.RequestException as error:
            raise _from_network_error(action, error) from error


def make_provider(settings: Settings) -> Provider:
    """The provider for these settings (the simulator speaks Twilio's API, so it is one)."""
    return TwilioProvider(settings)


def _from_http_error(
    action: str, error: TwilioRestException | TwilioServiceException
) -> ProviderError:
    status = int(error.status)
    code = _twilio_code(error.code, status)
    text = error.msg if isinstance(error, TwilioRestException) else error.detail or error.title
    retryable = status == 429 or status >= 500
    return ProviderError(code, status, f"could not {action}: {scrub(str(text))}", retryable)


def _from_network_error(action: str, error: requests.RequestException) -> ProviderError:
    # Connection refused/reset, DNS, TLS handshakes, timeouts and truncated bodies are all
    # worth another try; a malformed URL or other request-building error never is.
    retryable = isinstance(
        error,
        requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError,
    )
    kind = "timed out" if isinstance(error, requests.Timeout) else type(error).__name__
    return ProviderError(None, None, f"could not {action}: carrier unreachable ({kind})", retryable)


def _twilio_code(code: Any, status: int) -> int | None:
    """Twilio's own error code, or None: when the body has none (an HTML 502 from a proxy), the
    library substitutes the HTTP status, which is not a Twilio code and must not look like one."""
    try:
        value = int(code)
    except (TypeError, ValueError):
        return None
    return None if value == status or value < 1000 else value


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def scrub(text: str) -> str:
    """Mask anything that looks like a phone number, so carrier messages are safe to log."""

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        if sum(ch.isdigit() for ch in found) < 7:
            return found
        return mask(found) if found.startswith("+") else "•••"

    return _NUMBER_LIKE.sub(replace, text)
