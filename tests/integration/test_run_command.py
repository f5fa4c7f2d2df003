"""`callback run`, the README's first command, as a real process on free ports.

It must migrate, seed the demo, start the simulator, gunicorn, a worker and the beat, print the
demo's addresses and a working admin login, serve the shop, the admin and the softphones, and
stop every piece on Ctrl-C (SIGINT) and on SIGTERM (honcho, docker, systemd).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from support.app import migrated_database
from support.ports import free_port
from support.receiver import wait_until

from callback import processes
from callback.jobs import ready_file
from callback.services.demo import DEMO_AGENTS, DEMO_LOGIN

BANNER_LOGIN = re.compile(r"login (\S+)\s+password (\S+)")


@dataclass
class Run:
    process: subprocess.Popen[str]
    web: str
    sim: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)


def _read(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)


def _children(pid: int) -> set[int]:
    """Ids of the processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Run]:
    backend = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    with migrated_database(backend, tmp_path, "run.db") as database_url:
        web_port, sim_port = free_port(), free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp_path),
            "TWILIO_API_BASE": f"http://127.0.0.1:{sim_port}",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("PUBLIC_URL", None)
        prefix = f"test-run-{secrets.token_hex(4)}:"
        if os.environ.get("TEST_REDIS_URL"):
            env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
            env["REDIS_KEY_PREFIX"] = prefix
        process = subprocess.Popen(
            processes.callback_command("run", "--port", str(web_port)),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        run = Run(process, f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{sim_port}")
        reader = threading.Thread(target=_read, args=(process, run.lines), daemon=True)
        reader.start()
        try:
            wait_until(
                lambda: "password" in run.output() or process.poll() is not None,
                90,
                "callback run to print the demo banner",
            )
            assert process.poll() is None, run.output()
            yield run
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            reader.join(10)  # the pipe ends with the last process holding it
            assert process.stdout is not None
            process.stdout.close()
            if os.environ.get("TEST_REDIS_URL"):
                _forget_keys(os.environ["TEST_REDIS_URL"], prefix)


def _forget_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()


def _sign_in(http: requests.Session, web: str, email: str, password: str) -> requests.Response:
    form = http.get(f"{web}/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    return http.post(
        f"{web}/admin/login",
        data={"csrf_token": token[1], "email": email, "password": password, "next": ""},
        allow_redirects=False,
    )


def test_run_serves_the_demo_and_stops_on_ctrl_c(started: Run, http: requests.Session) -> None:
    out = started.output()
    assert f"{started.web}/demo" in out
    assert f"{started.sim}/sim/phone" in out
    login = BANNER_LOGIN.search(out)
    assert login and login[1] == DEMO_LOGIN, out

    shop = http.get(f"{started.web}/demo")
    assert shop.status_code == 200 and 'data-widget="demo"' in shop.text
    assert http.get(f"{started.web}/api/v1/widgets/demo").json()["agent_free"] is True
    softphones = http.get(f"{started.sim}/sim/phone")
    assert softphones.status_code == 200 and "Softphones" in softphones.text
    phones = http.get(f"{started.sim}/sim/phones").json()
    for name, number in DEMO_AGENTS:
        assert phones["phones"][number] == phones["phones"][number] | {
            "outcome": "manual",
            "label": f"{name}, agent",
        }
    assert phones["default"]["outcome"] == "manual"  # the visitor's own number rings there too

    assert http.get(f"{started.web}/admin/login").status_code == 200
    assert _sign_in(http, started.web, DEMO_LOGIN, "not the password").status_code != 302
    signed_in = _sign_in(http, started.web, login[1], login[2])
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert http.get(f"{started.web}/admin/board").status_code == 200

    pieces = _children(started.process.pid)
    assert len(pieces) == 4  # simulator, gunicorn, worker, beat
    started.process.send_signal(signal.SIGINT)
    assert started.process.wait(30) == 0, started.output()
    assert wait_until(lambda: not any(_alive(pid) for pid in pieces), 10, "every piece to end")
    web_port = int(started.web.rsplit(":", 1)[1])
    sim_port = int(started.sim.rsplit(":", 1)[1])
    assert wait_until(lambda: _port_closed(web_port) and _port_closed(sim_port), 10, "ports")


def test_sigterm_stops_every_piece_too(started: Run) -> None:
    pieces = _children(started.process.pid)
    assert len(pieces) == 4
    started.process.send_signal(signal.SIGTERM)
    assert started.process.wait(30) == 0, started.output()
    assert wait_until(lambda: not any(_alive(pid) for pid in pieces), 10, "every piece to end")
    web_port = int(started.web.rsplit(":", 1)[1])
    assert wait_until(lambda: _port_closed(web_port), 10, "the web port to close")


def _worker_pid(run: Run) -> int | None:
    """The Celery worker among the run's children (its command line names `worker.app worker`)."""
    for pid in _children(run.process.pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker.app" in argv and b"worker" in argv and _alive(pid):
            return pid
    return None


def test_a_worker_that_dies_is_started_again(started: Run, tmp_path: Path) -> None:
    """The fault suite saw a Celery worker die when Redis went away: `callback run` must not
    be left taking callbacks that nobody dispatches."""
    killed = _worker_pid(started)
    assert killed is not None, started.output()
    ready_file(tmp_path).unlink(missing_ok=True)
    os.kill(killed, signal.SIGKILL)
    assert wait_until(
        lambda: _worker_pid(started) not in (None, killed), 30, "a new worker process"
    )
    # The new worker consumes: it writes its ready file once connected to the broker.
    assert wait_until(ready_file(tmp_path).exists, 60, "the new worker to start consuming")
    assert "worker exited with code -9; starting it again" in started.output()
    assert started.process.poll() is None


REPO = Path(__file__).resolve().parents[2]


def test_the_procfile_is_valid_for_honcho() -> None:
    check = subprocess.run(
        [sys.executable, "-m", "honcho", "-f", str(REPO / "Procfile"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "(web, worker, beat, release)" in check.stderr + check.stdout


def test_the_procfile_runs_as_is_with_honcho_start(tmp_path: Path, http: requests.Session) -> None:
    """Every line starts, `release` migrates a fresh database, Ctrl-C stops them all."""
    backend = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    with migrated_database(backend, tmp_path, "unused.db") as migrated:
        # SQLite: a new file nobody migrated, so the release line has to.
        database_url = migrated if backend == "postgresql" else f"sqlite:///{tmp_path}/fresh.db"
        web_port = free_port()
        no_env_file = tmp_path / "empty.env"
        no_env_file.write_text("")
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp_path),
            "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DYNO", None)
        prefix = f"test-honcho-{secrets.token_hex(4)}:"
        if os.environ.get("TEST_REDIS_URL"):
            env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
            env["REDIS_KEY_PREFIX"] = prefix
        process = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", str(REPO / "Procfile"), "-d", str(REPO),
             "-e", str(no_env_file), "start", "-p", str(web_port), "--no-colour"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        run = Run(process, f"http://127.0.0.1:{web_port}", "")
        reader = threading.Thread(target=_read, args=(process, run.lines), daemon=True)
        reader.start()
        try:
            processes.wait_until_healthy(f"{run.web}/healthz", 60, process)
            wait_until(lambda: "database is up to date" in run.output(), 60, "the release line")
            wait_until(ready_file(tmp_path).exists, 60, "the worker to consume")
            wait_until(lambda: "beat: Starting" in run.output(), 60, "the beat to start")
            unknown = http.get(f"{run.web}/api/v1/widgets/nothing-here")
            assert unknown.status_code == 404  # the tables exist: a clean 404, not a 500
            assert unknown.json()["error"]["code"] == "unknown_widget"
            pieces = _children(process.pid)
            assert len(pieces) == 4, run.output()
            assert process.poll() is None, run.output()  # nothing stopped by itself

            process.send_signal(signal.SIGINT)
            process.wait(30)
            assert wait_until(lambda: not any(_alive(p) for p in pieces), 15, "every line to end")
            assert wait_until(lambda: _port_closed(web_port), 10, "the web port to close")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(10)
            assert process.stdout is not None
            process.stdout.close()
            if os.environ.get("TEST_REDIS_URL"):
                _forget_keys(os.environ["TEST_REDIS_URL"], prefix)
