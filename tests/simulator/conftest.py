"""One real simulator process for the session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support.ports import free_port
from support.receiver import WebhookReceiver
from support.simulator import ACCOUNT_SID, AUTH_TOKEN, TIME_SCALE, Simulator
from twilio.rest import Client

from callback import processes


@pytest.fixture(scope="session")
def simulator_process() -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = processes.start(
        processes.callback_command(
            "simulator",
            "--port",
            str(port),
            "--auth-token",
            AUTH_TOKEN,
            "--time-scale",
            str(TIME_SCALE),
        ),
        health_url=f"{base_url}/healthz",
    )
    yield base_url
    processes.stop(process)


@pytest.fixture
def sim(simulator_process: str) -> Iterator[Simulator]:
    http = requests.Session()
    http.trust_env = False
    simulator = Simulator(simulator_process, http)
    assert simulator.post("/sim/reset").status_code == 200
    yield simulator
    http.close()


@pytest.fixture
def client(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    twilio = Client(ACCOUNT_SID, AUTH_TOKEN)
    twilio.api.base_url = sim.base_url
    return twilio


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()
