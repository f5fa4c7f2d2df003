"""The whole system as real processes: simulator, gunicorn web, Celery worker and beat.

Started once per test session on a fresh instance folder, against SQLite and the
embedded broker by default, or the PostgreSQL and Redis named by
TEST_DATABASE_URL / TEST_REDIS_URL (a private schema and Redis key prefix, so
parallel runs and earlier runs cannot interfere).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from callback import create_app, processes
from callback.config import Settings
from callback.jobs import ready_file
from callback.services import context
from callback.services.setup import add_agent, add_widget, ensure_rule
from callback.system import Piece, pieces

from .app import migrated_database
from .ports import free_port
from .proxy import TcpProxy
from .receiver import wait_until
from .simulator import Simulator

FINAL = ("completed", "failed", "canceled")


@dataclass
class RunningSystem:
    env: dict[str, str]
    settings: Settings
    web_url: str
    sim: Simulator
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _app: Flask | None = None
    # For the fault-injection tests: each process's piece (same order as procs), the
    # children's environment, and the TCP proxies in front of Redis/PostgreSQL when asked.
    pieces: list[Piece] = field(default_factory=list)
    child_env: dict[str, str] = field(default_factory=dict)
    proxies: dict[str, TcpProxy] = field(default_factory=dict)

    @contextmanager
    def app_context(self) -> Iterator[None]:
        """The test's own app (same settings) for setting shops up; one engine for the session."""
        if self._app is None:
            self._app = create_app(self.settings)
        with self._app.app_context():
            yield

    def shop(self, strategy: str, agents: list[str], **rule: Any) -> str:
        """A fresh rule with these agent numbers (in order) and a widget on it; its key."""
        name = f"rule-{secrets.token_hex(4)}"
        with self.app_context():
            with context.transaction() as session:
                routing_rule = ensure_rule(session, name, strategy=strategy)
                for attribute, value in rule.items():
                    setattr(routing_rule, attribute, value)
            for index, phone in enumerate(agents, start=1):
                add_agent(f"Agent {index}", phone, rule=name)
            return add_widget(f"Shop {name}", region="EE", countries=["EE"], rule=name)

    def post(self, widget: str, phone: str, **fields: str) -> requests.Response:
        return self.sim.http.post(
            f"{self.web_url}/api/v1/callbacks", json={"widget": widget, "phone": phone, **fields}
        )

    def request(self, widget: str, phone: str, **fields: str) -> dict[str, Any]:
        response = self.post(widget, phone, **fields)
        assert response.status_code == 202, response.text
        return response.json()  # type: ignore[no-any-return]

    def status(self, accepted: dict[str, Any]) -> dict[str, Any]:
        response = self.sim.http.get(self.web_url + accepted["status_url"])
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait_for_status(
        self, accepted: dict[str, Any], wanted: tuple[str, ...] = FINAL, timeout: float = 30
    ) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def reached() -> dict[str, Any] | None:
            seen.update(self.status(accepted))
            return dict(seen) if seen["status"] in wanted else None

        try:
            return wait_until(reached, timeout, f"callback {accepted['id']} to reach {wanted}")  # type: ignore[no-any-return]
        except AssertionError as error:
            trail = [(e["type"]) for e in seen.get("events", [])]
            raise AssertionError(f"{error}; last seen {seen.get('status')}: {trail}") from None

    def process(self, name: str) -> subprocess.Popen[bytes]:
        return self.procs[[piece.name for piece in self.pieces].index(name)]

    def kill(self, name: str) -> None:
        """SIGKILL one piece (no cleanup, no acks): what an OOM kill or a lost host does."""
        process = self.process(name)
        process.kill()
        process.wait()

    def restart(self, name: str) -> None:
        """Start the piece again (killing it first if it still runs); waits until it serves."""
        index = [piece.name for piece in self.pieces].index(name)
        piece, old = self.pieces[index], self.procs[index]
        if old.poll() is None:
            processes.stop(old)
        ready = ready_file(self.settings.instance_dir)
        if name == "worker":
            ready.unlink(missing_ok=True)
        self.procs[index] = _start_piece(piece, self.child_env)
        if name == "worker":
            wait_until(ready.exists, 30, "the restarted worker to start consuming")

    def stop(self) -> None:
        for process in reversed(self.procs):
            processes.stop(process)
        if self._app is not None:
            self._app.extensions["db"].kw["bind"].dispose()


@contextmanager
def running_system(
    tmp: Path, time_scale: float, proxied: bool = False, extra_env: dict[str, str] | None = None
) -> Iterator[RunningSystem]:
    """The whole system. `proxied`: its processes reach Redis and PostgreSQL (when used)
    through `system.proxies["redis"|"postgres"]`, which tests can cut; `extra_env` adds
    settings for the processes only."""
    backend = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    with migrated_database(backend, tmp, "callback.db") as database_url:
        yield from _started(tmp, time_scale, database_url, proxied, extra_env or {})


def _start_piece(piece: Piece, env: dict[str, str]) -> subprocess.Popen[bytes]:
    if piece.health_url:
        # Generous: on a loaded machine gunicorn can take well over 15 s to import the app.
        return processes.start(piece.argv, piece.health_url, env=env, timeout=60)
    return subprocess.Popen(piece.argv, env=env)


def _proxy_env(env: dict[str, str], proxies: dict[str, TcpProxy]) -> dict[str, str]:
    """The processes' environment with Redis and PostgreSQL reached through proxies."""
    routed = dict(env)
    if env.get("REDIS_URL"):
        proxies["redis"], routed["REDIS_URL"] = TcpProxy.for_url(env["REDIS_URL"], 6379)
    if env["DATABASE_URL"].startswith("postgresql"):
        proxies["postgres"], routed["DATABASE_URL"] = TcpProxy.for_url(env["DATABASE_URL"], 5432)
    return routed


def _started(
    tmp: Path,
    time_scale: float,
    database_url: str,
    proxied: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[RunningSystem]:
    web_port, sim_port = free_port(), free_port()
    env = {
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(tmp),
        "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "TWILIO_API_BASE": f"http://127.0.0.1:{sim_port}",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    redis_url = os.environ.get("TEST_REDIS_URL")
    if redis_url:
        # Each running system (a session may start several) has its own key prefix in
        # the shared test database, so no worker takes another system's tasks.
        env["REDIS_URL"] = redis_url
        env["REDIS_KEY_PREFIX"] = f"test-{secrets.token_hex(4)}:"
    os.environ.update({k: v for k, v in env.items() if k == "NO_PROXY"})
    settings = Settings.from_env(env)
    http = requests.Session()
    http.trust_env = False
    system = RunningSystem(
        env, settings, f"http://127.0.0.1:{web_port}", Simulator(settings.twilio_api_base, http)
    )
    routed = _proxy_env(env, system.proxies) if proxied else env
    child_env = {**os.environ, **routed, **(extra_env or {})}
    system.child_env = child_env
    try:
        for piece in pieces(settings, web_port, simulator_time_scale=time_scale):
            system.pieces.append(piece)
            system.procs.append(_start_piece(piece, child_env))
        wait_until(ready_file(settings.instance_dir).exists, 30, "the worker to start consuming")
        yield system
    finally:
        system.stop()
        for proxy in system.proxies.values():
            proxy.close()
        http.close()
        if redis_url:
            _forget_keys(redis_url, env["REDIS_KEY_PREFIX"])


def _forget_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()
