"""Simulated SMS: accepted as `queued`, then `sent` and `delivered` (or `undelivered`).

A phone whose behaviour is `failed` cannot be reached, so its messages end
`undelivered` with Twilio's 30003 (unreachable destination handset).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .resources import API_VERSION
from .webhooks import OrderedDelivery

if TYPE_CHECKING:
    from .carrier import Carrier

# Simulated seconds from accepted to sent, and from sent to delivered.
SEND_DELAY = 0.2
DELIVERY_DELAY = 0.5
UNREACHABLE_HANDSET = 30003
_GSM_SEGMENT = 153  # characters per part of a concatenated GSM-7 message


@dataclass
class Message:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    date_created: datetime
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    status: str = "queued"
    date_updated: datetime | None = None
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None

    def __post_init__(self) -> None:
        self.date_updated = self.date_created

    def num_segments(self) -> int:
        return 1 if len(self.body) <= 160 else -(-len(self.body) // _GSM_SEGMENT)


class MessageRunner:
    def __init__(self, carrier: Carrier, message: Message) -> None:
        self.carrier = carrier
        self.message = message
        self.delivery = OrderedDelivery(carrier.webhooks)

    def start(self) -> None:
        threading.Thread(target=self.run, name=f"sim-{self.message.sid[:10]}", daemon=True).start()

    def run(self) -> None:
        clock = self.carrier.clock
        time.sleep(clock.to_wall(SEND_DELAY))
        self._set("sent")
        time.sleep(clock.to_wall(DELIVERY_DELAY))
        if self.carrier.phones.behaviour(self.message.to).outcome == "failed":
            self._set("undelivered", UNREACHABLE_HANDSET, "Unreachable destination handset")
        else:
            self._set("delivered")
        self.delivery.close()

    def _set(self, status: str, error_code: int | None = None, error: str | None = None) -> None:
        message = self.message
        with self.carrier.lock:
            message.status = status
            message.date_updated = self.carrier.clock.now()
            if status == "sent":
                message.date_sent = message.date_updated
            message.error_code, message.error_message = error_code, error
        if not message.status_callback:
            return
        params = {
            "AccountSid": message.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_ or "",
            "MessageSid": message.sid,
            "MessageStatus": status,
            "SmsSid": message.sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if error_code:
            params["ErrorCode"] = str(error_code)
        self.delivery.post(message.status_callback, "POST", params)
