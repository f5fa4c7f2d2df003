"""What the benchmarks share: the whole system as real processes, pacing, statistics, JSON.

`running_system()` starts Callback the way `callback run` does — the argv of every process comes
from `callback.system.pieces()` — on a fresh temporary INSTANCE_DIR, after `callback db upgrade`
and seeding through the CLI (`callback widget add`, `callback agent add`). With `db="postgres"`
it uses a private schema on BENCH_DATABASE_URL (dropped afterwards) and the Redis database of
BENCH_REDIS_URL (flushed before and after) as the broker; with `db="sqlite"` it uses the
embedded defaults: a SQLite file and the filesystem broker in the instance folder.

The load comes from the benchmark's own process over loopback, never through a proxy.
Run the benchmarks with the venv's interpreter (`.venv/bin/python bench/…`): the system's
processes are started with the same interpreter.
"""

from __future__ import annotations

import json
import math
import os
import platform
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import phonenumbers
import requests
from cpu import CpuMeter
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from callback import processes
from callback.config import Settings
from callback.db import make_engine
from callback.flow import TERMINAL_STATUSES
from callback.jobs import ready_file
from callback.models import Agent, RoutingRule, RuleMember, Widget
from callback.system import Piece, pieces

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Variables of ours that must not leak from the caller's shell into the system under test.
OWN_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "INSTANCE_DIR",
    "PUBLIC_URL",
    "TWILIO_API_BASE",
    "TELEPHONY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_CALLER_ID",
    "SECRET_KEY",
)
# Where a bench callback stops moving: finished, or (its rule has no agents) turned into a
# scheduled callback for later, which is what the service does when nobody can take it.
FINAL_STATUSES = frozenset(status.value for status in TERMINAL_STATUSES) | {"scheduled"}
BENCH_WIDGET = "bench"
WARMUP_WIDGET = "warmup"
VERSIONED_PACKAGES = (
    "flask",
    "werkzeug",
    "gunicorn",
    "celery",
    "kombu",
    "sqlalchemy",
    "psycopg",
    "redis",
    "twilio",
    "phonenumbers",
    "requests",
)

T = TypeVar("T")


# -- phone numbers -------------------------------------------------------------------------


def estonian_mobile(base: int, index: int) -> str:
    """+372 followed by `base + index`: 8-digit numbers starting with 5 are Estonian mobiles."""
    return f"+372{base + index}"


def valid_mobiles(base: int, count: int) -> list[str]:
    """`count` distinct numbers, each checked with phonenumbers to be a valid Estonian mobile."""
    numbers = [estonian_mobile(base, i) for i in range(count)]
    for number in numbers:
        parsed = phonenumbers.parse(number)
        if not (
            phonenumbers.is_valid_number(parsed)
            and phonenumbers.region_code_for_number(parsed) == "EE"
            and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
        ):
            raise ValueError(f"{number} is not a valid Estonian mobile number")
    return numbers


# -- the running system --------------------------------------------------------------------


@dataclass
class System:
    db: str
    env: dict[str, str]
    settings: Settings
    web_url: str
    sim_url: str
    instance_dir: Path
    http: requests.Session
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)
    # Processes that exited while the system should have been running: name -> when, how.
    exits: dict[str, dict[str, Any]] = field(default_factory=dict)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    stopping: threading.Event = field(default_factory=threading.Event)
    # The simulator's --time-scale, and how many Celery worker processes run.
    time_scale: float = 1.0
    workers: int = 1

    def post_callback(
        self, session: requests.Session, widget: str, phone: str
    ) -> requests.Response:
        return session.post(
            f"{self.web_url}/api/v1/callbacks", json={"widget": widget, "phone": phone}, timeout=10
        )

    def phone(self, number: str, **behaviour: Any) -> None:
        """How the simulator's phone at `number` (or "default") behaves."""
        response = self.http.put(f"{self.sim_url}/sim/phones/{number}", json=behaviour, timeout=5)
        response.raise_for_status()

    def sim_calls(self) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.sim_url}/sim/calls", timeout=30)
        response.raise_for_status()
        return response.json()["calls"]

    def watch(self) -> None:
        """Note (on a daemon thread) any process that exits before `stop()`."""

        def run() -> None:
            while not self.stopping.wait(0.1):
                for name, process in list(self.procs):
                    if name not in self.exits and process.poll() is not None:
                        self.exits[name] = {
                            "returncode": process.returncode,
                            "wall_time": time.time(),
                            "last_error": last_error(self.instance_dir / "logs" / f"{name}.log"),
                        }

        threading.Thread(target=run, name="watch", daemon=True).start()

    def engine(self) -> Engine:
        """An engine for reading results; use `read()` so SQLite's write lock is never taken."""
        return make_engine(self.settings.database_url)


def read(engine: Engine, statement: Any) -> list[Any]:
    """Run a read in autocommit mode: on SQLite no `BEGIN IMMEDIATE`, so writers never wait."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return list(connection.execute(statement))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only: never through a proxy
    return session


def _lift_daily_caps(system: System) -> None:
    """A benchmark places more callbacks per widget than a shop's daily cap allows."""
    engine = system.engine()
    try:
        with engine.begin() as connection:
            connection.execute(update(Widget).values(daily_call_cap=10_000_000))
    finally:
        engine.dispose()


@contextmanager
def running_system(
    db: str,
    agents: Sequence[str] = (),
    keep: bool = False,
    *,
    extra_env: dict[str, str] | None = None,
    time_scale: float = 1.0,
    workers: int = 1,
) -> Iterator[System]:
    """The whole system, seeded with the widgets and `agents` (phone numbers) on rule "bench".

    `extra_env` adds settings (CALLS_PER_SECOND …) for every process; `time_scale` is the
    simulator's; `workers` Celery worker processes run (the extra ones with the same argv and
    their own node name). For many agents, start without and use `seed_rule()`.

    Widget "bench" rings rule "bench" (no agents unless given: its callbacks then fail with
    become scheduled callbacks as soon as the worker dispatches them). Widget "warmup" rings rule
    "warmup", which has no agents; `warm_up()` uses it.
    """
    instance_dir = Path(tempfile.mkdtemp(prefix="callback-bench-"))
    web_port, sim_port = free_port(), free_port()
    env = {
        "INSTANCE_DIR": str(instance_dir),
        "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "TWILIO_API_BASE": f"http://127.0.0.1:{sim_port}",
        "NO_PROXY": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",  # the CLI's own logging (alembic's INFO lines)
        # The load comes from one address to one widget: the abuse limits would refuse it.
        "RATE_LIMIT_PER_IP": "1000000 per minute",
        "RATE_LIMIT_PER_WIDGET": "1000000 per minute",
        # gunicorn's processes and threads, as `callback run` reads them (WEB_CONCURRENCY=2
        # WEB_THREADS=4 compares the earlier defaults); the argv lands in the JSON.
        **{
            name: os.environ[name]
            for name in ("WEB_CONCURRENCY", "WEB_THREADS")
            if name in os.environ
        },
        **(extra_env or {}),
    }
    schema = None
    if db == "postgres":
        env["DATABASE_URL"], schema = _private_schema(_postgres_base())
        env["REDIS_URL"] = _redis_url()
        _flush_redis(env["REDIS_URL"])
    elif db != "sqlite":
        raise ValueError(f"db must be sqlite or postgres, not {db!r}")
    settings = Settings.from_env(env)
    child_env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES} | env
    system = System(
        db=db,
        env=env,
        settings=settings,
        web_url=f"http://127.0.0.1:{web_port}",
        sim_url=settings.twilio_api_base,
        instance_dir=instance_dir,
        http=http_session(),
        time_scale=time_scale,
        workers=workers,
    )
    failed = False
    system.load_before = os.getloadavg()
    try:
        _seed(child_env, instance_dir, agents)
        _lift_daily_caps(system)
        _start(system, child_env, web_port)
        system.watch()
        yield system
    except BaseException:
        failed = True
        raise
    finally:
        stop(system)
        if failed:
            _show_logs(instance_dir)
        if schema and not keep:
            _drop_schema(schema)
        elif schema:
            print(f"PostgreSQL schema kept (--keep): {schema}", file=sys.stderr)
        if "REDIS_URL" in env:
            _flush_redis(env["REDIS_URL"])
        if keep or failed:
            print(f"instance folder (logs, database) kept: {instance_dir}", file=sys.stderr)
        else:
            shutil.rmtree(instance_dir, ignore_errors=True)


def cli(child_env: dict[str, str], cwd: Path, *args: str) -> str:
    """`callback …` with the system's environment; returns its output."""
    result = subprocess.run(
        processes.callback_command(*args),
        env=child_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"callback {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return result.stdout.strip()


def _seed(child_env: dict[str, str], cwd: Path, agents: Sequence[str]) -> None:
    commands = [
        ["db", "upgrade"],
        ["widget", "add", "--name", "Bench shop", "--key", BENCH_WIDGET, "--rule", "bench"],
        ["widget", "add", "--name", "Warm-up", "--key", WARMUP_WIDGET, "--rule", "warmup"],
    ]
    for index, phone in enumerate(agents, start=1):
        commands.append(
            ["agent", "add", "--name", f"Agent {index}", "--phone", phone, "--rule", "bench"]
        )
    if agents:
        print(f"seeding {len(agents)} agents with `callback agent add` …", file=sys.stderr)
    for command in commands:
        cli(child_env, cwd, *command)


def _start(system: System, child_env: dict[str, str], web_port: int) -> None:
    logs = system.instance_dir / "logs"
    logs.mkdir()
    parts = pieces(system.settings, web_port, simulator_time_scale=system.time_scale)
    for piece in _with_workers(parts, system.workers):
        with open(logs / f"{piece.name}.log", "wb") as log:
            # cwd: whatever a process writes to its working directory stays in the instance.
            process = subprocess.Popen(
                piece.argv,
                env=child_env,
                cwd=system.instance_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        system.procs.append((piece.name, process))
        system.commands[piece.name] = " ".join([Path(piece.argv[0]).name, *piece.argv[1:]])
        if piece.health_url:
            processes.wait_until_healthy(piece.health_url, timeout=30, process=process)


def _with_workers(parts: list[Piece], workers: int) -> list[Piece]:
    """`parts` with `workers` worker processes: the extra ones get their own Celery node name."""
    extra = []
    for piece in parts:
        if piece.name == "worker":
            extra = [
                Piece(f"worker{n}", [*piece.argv, "--hostname", f"worker{n}@%h"])
                for n in range(2, workers + 1)
            ]
    return [*parts, *extra]


def stop(system: System) -> None:
    """Stop every process of the system, the last started first."""
    system.stopping.set()
    while system.procs:
        _, process = system.procs.pop()
        processes.stop(process)
    system.http.close()


def last_error(log: Path) -> str | None:
    """The last error a process logged: a CRITICAL line, or the exception ending a traceback."""
    found, in_traceback = None, False
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            found, in_traceback = line.strip(), False
        elif "CRITICAL" in line:
            found = line.strip()
    return found


def cpu_seconds(system: System) -> dict[str, float]:
    """CPU time (user + system) each process of the system used so far, with its children
    (gunicorn's workers), from /proc (bench/cpu.py). Take the difference of two readings to
    see which process a load step kept busy."""
    meter = CpuMeter({name: [process.pid] for name, process in system.procs})
    used: dict[str, float] = {name: 0.0 for name, _ in system.procs}
    for (group, _pid), seconds in meter.take().items():
        if group in used:
            used[group] += seconds
    return used


def process_exits(system: System, since: float) -> dict[str, dict[str, Any]]:
    """Processes that died during the benchmark, with seconds since `since` (a time.time())."""
    return {
        name: {
            "returncode": info["returncode"],
            "seconds_into_load": round(info["wall_time"] - since, 1),
            "last_error": info["last_error"],
        }
        for name, info in system.exits.items()
    }


def _show_logs(instance_dir: Path, lines: int = 30) -> None:
    for log in sorted((instance_dir / "logs").glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {log.name} (last {len(tail)} lines)", *tail, sep="\n", file=sys.stderr)


def _postgres_base() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL)


def _redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)


def _private_schema(base: str) -> tuple[str, str]:
    """A fresh schema on the PostgreSQL server, and the URL whose search_path points at it."""
    schema = f"bench_{secrets.token_hex(4)}"
    engine = make_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def _drop_schema(schema: str) -> None:
    engine = make_engine(_postgres_base())
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


# -- seeding in bulk -----------------------------------------------------------------------


def seed_rule(
    system: System,
    rule: str,
    phones: Sequence[str],
    widget: str | None = None,
    **rule_settings: Any,
) -> int:
    """Rule `rule` (created if needed, with `rule_settings`) gets one agent per phone, appended
    to its member list; with `widget`, a widget of that key rings the rule. Returns the rule id.

    One transaction through the models with multi-row INSERTs: 10,000 agents take seconds,
    where `callback agent add` takes about 0.8 s per agent (a process each, and it renumbers
    the whole member list). Works while the system runs. The widget's daily cap is lifted.
    """
    engine = system.engine()
    try:
        with Session(engine) as session, session.begin():
            found = session.scalars(select(RoutingRule).where(RoutingRule.name == rule))
            routing_rule = found.one_or_none() or RoutingRule(name=rule)
            for name, value in rule_settings.items():
                setattr(routing_rule, name, value)
            session.add(routing_rule)
            session.flush()
            last = session.scalar(
                select(func.coalesce(func.max(RuleMember.position), 0)).where(
                    RuleMember.rule_id == routing_rule.id
                )
            )
            if phones:
                rows = [{"name": f"Agent {i}", "phone": p} for i, p in enumerate(phones, 1)]
                ids = session.scalars(
                    insert(Agent).returning(Agent.id, sort_by_parameter_order=True), rows
                ).all()
                members = [
                    {"rule_id": routing_rule.id, "agent_id": agent_id, "position": last + i}
                    for i, agent_id in enumerate(ids, 1)
                ]
                session.execute(insert(RuleMember), members)
            if widget:
                session.add(
                    Widget(
                        name=f"Bench {widget}",
                        public_key=widget,
                        default_region="EE",
                        allowed_countries=["EE"],
                        routing_rule_id=routing_rule.id,
                        daily_call_cap=10_000_000,
                    )
                )
            return routing_rule.id
    finally:
        engine.dispose()


# -- warming up and pacing -----------------------------------------------------------------


def warm_up(system: System, count: int = 20, timeout: float = 60) -> None:
    """Wait until the worker consumes, then prime the web workers and the worker with `count`
    callbacks, one at a time, each until it settles (their rule has no agents: they become
    scheduled callbacks).

    One at a time, because dispatch lets an older waiting callback go first: callbacks sent
    together before the worker is up would wait for the beat's sweeps one by one.
    """
    deadline = time.monotonic() + timeout
    while not ready_file(system.instance_dir).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not start consuming")
        time.sleep(0.05)
    for phone in valid_mobiles(58880000, count):
        response = system.post_callback(system.http, WARMUP_WIDGET, phone)
        if response.status_code != 202:
            raise RuntimeError(f"warm-up request refused: {response.status_code} {response.text}")
        status_url = system.web_url + response.json()["status_url"]
        while system.http.get(status_url, timeout=5).json()["status"] not in FINAL_STATUSES:
            if time.monotonic() > deadline:
                raise TimeoutError("warm-up callbacks are not being finished")
            time.sleep(0.02)


@dataclass(frozen=True)
class Paced:
    """One paced call: when it was due, when it really started and ended (perf_counter), and
    the wall-clock time it started (time.time(), comparable with other processes' clocks)."""

    index: int
    due: float
    start: float
    end: float
    wall_start: float
    wall_end: float
    value: Any = None
    error: str | None = None


def paced(rate: float, count: int, call: Callable[[int], T], threads: int = 16) -> list[Paced]:
    """Call `call(i)` for i in 0..count-1 at a steady `rate` per second (open loop).

    A pool of threads makes the calls, so a slow response never delays the next request; the
    main thread only keeps time. Results come back in index order.
    """
    results: list[Paced | None] = [None] * count
    start = time.perf_counter() + 0.05

    def run(index: int, due: float) -> None:
        wall_start, began = time.time(), time.perf_counter()
        value, error = None, None
        try:
            value = call(index)
        except Exception as exc:  # a failed request is a result, not a crash
            error = f"{type(exc).__name__}: {exc}"
        ended, wall_end = time.perf_counter(), time.time()
        results[index] = Paced(index, due, began, ended, wall_start, wall_end, value, error)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="load") as pool:
        for index in range(count):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(run, index, due)
    return [result for result in results if result is not None]


def thread_local_sessions() -> Callable[[], requests.Session]:
    """One keep-alive HTTP session per load thread."""
    local = threading.local()

    def get() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = http_session()
        return local.session

    return get


# -- statistics and results ----------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), interpolating linearly between the closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """count, p50, p90, p99, max and mean of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"count": 0}
    stats: dict[str, float | int] = {"count": len(ms)}
    for p in (50, 90, 99):
        stats[f"p{p}_ms"] = round(percentile(ms, p), 2)
    stats["max_ms"] = round(max(ms), 2)
    stats["mean_ms"] = round(sum(ms) / len(ms), 2)
    return stats


def machine(system: System) -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }
    memory = _proc_field("/proc/meminfo", "MemTotal")
    if memory:
        info["memory_gib"] = round(int(memory.split()[0]) / 1024 / 1024, 1)
    # Other work on the machine skews the numbers: the load average before the system started.
    info["load_average_before_start"] = [round(x, 2) for x in system.load_before]
    return info


def _proc_field(path: str, name: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return None


def versions(system: System) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    found["callback"] = _git_revision()
    if system.db == "postgres":
        engine = system.engine()
        found["postgresql"] = read(engine, text("SHOW server_version"))[0][0]
        engine.dispose()
        import redis

        client = redis.Redis.from_url(system.env["REDIS_URL"])
        found["redis_server"] = str(client.info("server")["redis_version"])
        client.close()
    else:
        found["sqlite"] = sqlite3.sqlite_version
    return found


def _git_revision() -> str | None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        revision = git("rev-parse", "--short", "HEAD")
        # The system under test: changes under bench/ (scripts, results) do not count.
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ":!bench"))
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{revision}{' (working tree modified)' if dirty else ''}"


def system_settings(system: System) -> dict[str, Any]:
    """How the system under test was run: stores and the processes' argv."""
    return {
        "db": system.db,
        "database": make_url(system.settings.database_url).get_backend_name(),
        "broker": "redis" if system.settings.redis_url else "filesystem (embedded)",
        "simulator_time_scale": system.time_scale,
        "worker_processes": system.workers,
        "processes": system.commands,
    }


def write_result(
    benchmark: str,
    out: Path,
    system: System,
    settings: dict[str, Any],
    results: dict[str, Any],
) -> Path:
    document = {
        "benchmark": benchmark,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(system),
        "versions": versions(system),
        "settings": {**settings, **system_settings(system)},
        "results": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    return out


def verdict(value: float, target: float) -> str:
    return f"target ≤ {target:g} ms {'met' if value <= target else 'MISSED'}"
