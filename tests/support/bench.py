"""Smoke runs of the benchmarks under bench/: each one's `--smoke` mode, as a user runs it.

They keep the benchmarks working (CI runs no full benchmark: timings on a shared CI machine
mean nothing) and check the shape of the JSON they write, never a timing. On the PostgreSQL
pass (TEST_DATABASE_URL set) they run with `--db postgres` on that server, with their broker
in Redis database 14 of TEST_REDIS_URL's server: a benchmark flushes its Redis database, and
the other tests' running systems live in TEST_REDIS_URL's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from redis.connection import parse_url

BENCH = Path(__file__).resolve().parents[2] / "bench"
BENCH_REDIS_DB = 14


def backend() -> str:
    return "postgres" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


def _bench_env() -> dict[str, str]:
    env = dict(os.environ, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    database = os.environ.get("TEST_DATABASE_URL")
    redis = os.environ.get("TEST_REDIS_URL")
    if database:
        env["BENCH_DATABASE_URL"] = database
    if redis:
        host = parse_url(redis)
        env["BENCH_REDIS_URL"] = (
            f"redis://{host.get('host', '127.0.0.1')}:{host.get('port', 6379)}/{BENCH_REDIS_DB}"
        )
    return env


def run_smoke(script: str, out: Path, *args: str, timeout: float = 240) -> dict[str, Any]:
    """Run `bench/<script> --smoke --db <backend> --out <out> <args>`; its JSON document."""
    command = [sys.executable, str(BENCH / script), "--smoke", "--db", backend(), "--out", str(out)]
    finished = subprocess.run(
        [*command, *args],
        cwd=BENCH,
        env=_bench_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if not out.exists():
        pytest.fail(
            f"{script} --smoke wrote no results (exit {finished.returncode}):\n"
            f"{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
        )
    return dict(json.loads(out.read_text()))
