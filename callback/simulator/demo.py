"""`callback run` until the callback core lands: the simulator and one example call."""

from __future__ import annotations

import time
from urllib.parse import urlparse

from twilio.rest import Client

from .. import processes
from ..config import Settings

EXAMPLE_TWIML = (
    "<Response><Say>Hello from the Callback carrier simulator.</Say>"
    '<Pause length="1"/><Hangup/></Response>'
)
EXAMPLE_TO = "+3725550100"


def twilio_client(settings: Settings) -> Client:
    """The official client, pointed at TWILIO_API_BASE (the simulator by default)."""
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    client.api.base_url = settings.twilio_api_base
    return client


def run_simulator_demo(settings: Settings) -> int:
    port = str(urlparse(settings.twilio_api_base).port or 8765)
    simulator = processes.start(
        processes.callback_command("simulator", "--port", port),
        health_url=f"{settings.twilio_api_base}/healthz",
    )
    try:
        client = twilio_client(settings)
        call = client.calls.create(
            to=EXAMPLE_TO, from_=settings.twilio_caller_id, twiml=EXAMPLE_TWIML
        )
        print(f"Placed example call {call.sid} to {EXAMPLE_TO}: {call.status}")
        deadline = time.monotonic() + 30
        while call.status in ("queued", "ringing", "in-progress") and time.monotonic() < deadline:
            time.sleep(0.5)
            call = call.fetch()
            print(f"  {call.sid}: {call.status}")
        print(f"Softphones: {settings.twilio_api_base}/sim/phone — Ctrl-C stops the simulator.")
        simulator.wait()
    except KeyboardInterrupt:
        pass
    finally:
        processes.stop(simulator)
    return 0
