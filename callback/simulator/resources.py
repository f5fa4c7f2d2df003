"""Twilio's wire formats: sids, dates, error bodies and resource JSON.

Kept apart from the call engine so the REST layer and the tests can check the
shapes against Twilio's OpenAPI document without running any call.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .call import Call
    from .messages import Message

API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    """`CA…`, `SM…`: two letters and 32 lowercase hex digits, as Twilio's."""
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio writes dates as 'Tue, 31 Aug 2010 20:36:28 +0000'."""
    return format_datetime(moment) if moment else None


class TwilioError(Exception):
    """An error answered with Twilio's body: {code, message, more_info, status}."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def call_uri(account_sid: str, sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Calls/{sid}.json"


def call_json(call: Call) -> dict[str, Any]:
    base = f"/{API_VERSION}/Accounts/{call.account_sid}/Calls/{call.sid}"
    ended = call.end_time is not None
    return {
        "sid": call.sid,
        "date_created": rfc2822(call.date_created),
        "date_updated": rfc2822(call.date_updated),
        "parent_call_sid": call.parent_sid,
        "account_sid": call.account_sid,
        "to": call.to,
        "to_formatted": call.to,
        "from": call.from_,
        "from_formatted": call.from_,
        "phone_number_sid": None,
        "status": call.status,
        "start_time": rfc2822(call.start_time),
        "end_time": rfc2822(call.end_time),
        "duration": str(call.duration_seconds()) if ended else None,
        "price": None,
        "price_unit": "USD",
        "direction": call.direction,
        "answered_by": None,
        "api_version": API_VERSION,
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": str(call.queue_time_ms),
        "trunk_sid": None,
        "uri": base + ".json",
        "subresource_uris": {
            "notifications": base + "/Notifications.json",
            "recordings": base + "/Recordings.json",
            "events": base + "/Events.json",
            "siprec": base + "/Siprec.json",
            "streams": base + "/Streams.json",
            "transcriptions": base + "/Transcriptions.json",
            "user_defined_message_subscriptions": base + "/UserDefinedMessageSubscriptions.json",
            "user_defined_messages": base + "/UserDefinedMessages.json",
            "payments": base + "/Payments.json",
        },
    }


def message_json(message: Message) -> dict[str, Any]:
    base = f"/{API_VERSION}/Accounts/{message.account_sid}/Messages/{message.sid}"
    return {
        "body": message.body,
        "num_segments": str(message.num_segments()),
        "direction": "outbound-api",
        "from": message.from_,
        "to": message.to,
        "date_updated": rfc2822(message.date_updated),
        "price": None,
        "error_message": message.error_message,
        "uri": base + ".json",
        "account_sid": message.account_sid,
        "num_media": "0",
        "status": message.status,
        "messaging_service_sid": message.messaging_service_sid,
        "sid": message.sid,
        "date_sent": rfc2822(message.date_sent),
        "date_created": rfc2822(message.date_created),
        "error_code": message.error_code,
        "price_unit": "USD",
        "api_version": API_VERSION,
        "subresource_uris": {
            "media": base + "/Media.json",
            "feedback": base + "/Feedback.json",
        },
    }
