"""No process of ours writes a phone number to its log.

A system of its own (gunicorn web, Celery worker and beat, the simulator) with each process's
stdout and stderr captured to a file, and with the worker, beat and web logging at INFO (more
than production's WARNING: the more lines, the more chances to leak). A whole callback runs
through it — the agent is rung, presses 1, the customer is bridged — plus a refused request.
Then every log file of the web, worker and beat
is searched for the customer's and the agent's numbers in every form they could be written
(E.164, digits only, national, grouped).

The simulator's log is not searched: it stands in for Twilio, whose records of the numbers it
dialled are the carrier's, not ours.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.app import migrated_database
from support.ports import free_port
from support.receiver import wait_until
from support.simulator import Simulator
from support.system import RunningSystem

from callback import processes
from callback.config import Settings
from callback.jobs import ready_file
from callback.system import pieces

TIME_SCALE = 10
_numbers = iter(range(10**5))


def number() -> str:
    return f"+372557{next(_numbers):05d}"


def _louder(name: str, argv: list[str]) -> list[str]:
    """The piece's command with INFO logging (and gunicorn's access log kept)."""
    argv = list(argv)
    for flag in ("--loglevel", "--log-level"):
        if flag in argv and name in ("web", "worker", "beat"):
            argv[argv.index(flag) + 1] = "info"
    return argv


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSystem, Path]]:
    tmp = tmp_path_factory.mktemp("logged-system")
    logs = tmp / "logs"
    logs.mkdir()
    backend = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    with migrated_database(backend, tmp, "callback.db") as database_url:
        web_port, sim_port = free_port(), free_port()
        env = {
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp),
            "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
            "TWILIO_API_BASE": f"http://127.0.0.1:{sim_port}",
            "NO_PROXY": "127.0.0.1,localhost",
            "LOG_LEVEL": "INFO",
        }
        redis_url = os.environ.get("TEST_REDIS_URL")
        if redis_url:
            env["REDIS_URL"] = redis_url
            env["REDIS_KEY_PREFIX"] = f"test-logs-{secrets.token_hex(4)}:"
        settings = Settings.from_env(env)
        http = requests.Session()
        http.trust_env = False
        system = RunningSystem(
            env, settings, f"http://127.0.0.1:{web_port}", Simulator(settings.twilio_api_base, http)
        )
        child_env = {**os.environ, **env}
        files = []
        try:
            for piece in pieces(settings, web_port, simulator_time_scale=TIME_SCALE):
                out = (logs / f"{piece.name}.log").open("wb")
                files.append(out)
                process = subprocess.Popen(
                    _louder(piece.name, piece.argv), env=child_env, stdout=out, stderr=out
                )
                system.procs.append(process)
                if piece.health_url:
                    processes.wait_until_healthy(piece.health_url, 15, process)
            wait_until(ready_file(tmp).exists, 30, "the worker to start consuming")
            yield system, logs
        finally:
            system.stop()
            http.close()
            for out in files:
                out.close()
            if redis_url:
                _forget(redis_url, env["REDIS_KEY_PREFIX"])


def _forget(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)
    client.close()


def forms(e164: str) -> list[str]:
    """Every way a log line could spell the number (+37255700001)."""
    digits = e164.lstrip("+")
    national = digits.removeprefix("372")
    return [e164, digits, national, f"{national[:4]} {national[4:]}", f"+372 {national}"]


def test_a_whole_callback_leaves_no_number_in_any_log(
    logged: tuple[RunningSystem, Path],
) -> None:
    system, logs = logged
    agent, customer = number(), number()
    system.sim.phone("default", outcome="no-answer")
    system.sim.phone(agent, outcome="answer", answer_after=1, digits="1")
    system.sim.phone(customer, outcome="answer", answer_after=1, hangup_after=3)
    key = system.shop("ordered", [agent])

    done = system.wait_for_status(system.request(key, customer, page_title="Kettle"))
    assert done["status"] == "completed"
    assert system.sim.calls(to=customer), "the customer was really called"
    refused = system.post(key, customer.replace("+372", "+372 0"))  # not a valid number
    assert refused.status_code == 422

    system.stop()  # every process has flushed and closed its output
    texts = {path.name: path.read_text(errors="replace") for path in logs.glob("*.log")}
    ours = {name: text for name, text in texts.items() if name != "simulator.log"}
    assert set(ours) == {"web.log", "worker.log", "beat.log"}
    # The logs are not empty: the web's access log recorded the requests, so a number in any
    # of them would have been seen.
    assert "POST /api/v1/callbacks" in ours["web.log"]
    assert "/twilio/" in ours["web.log"]
    for name, text in ours.items():
        for phone in (agent, customer):
            for form in forms(phone):
                assert form not in text, f"{name} contains {form!r}: " + _context(text, form)


def _context(text: str, needle: str) -> str:
    at = text.find(needle)
    return re.sub(r"\s+", " ", text[max(0, at - 200) : at + 200])
