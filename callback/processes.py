"""Starting the system's processes and waiting until they answer.

Used by `callback run`, the integration tests and the benchmarks, so all three
start processes the same way and never sleep a fixed time waiting for them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

import requests


def callback_command(*args: str) -> list[str]:
    """`callback …` run with this interpreter, so it works inside any venv."""
    return [sys.executable, "-m", "callback", *args]


def wait_until_healthy(
    url: str, timeout: float = 15.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll `url` until it answers 200; fail early if `process` exits first."""
    session = requests.Session()
    session.trust_env = False  # loopback: never through a proxy
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            if session.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException as exc:
            last_error = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout:g}s ({last_error})")


def start(
    args: Sequence[str],
    health_url: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> subprocess.Popen[bytes]:
    """Start a process and return once `health_url` answers (a loaded machine may take a while
    to import and fork: returning as soon as it answers, the timeout only bounds a hang)."""
    full_env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", **(env or {})}
    process = subprocess.Popen(list(args), env=full_env)
    try:
        wait_until_healthy(health_url, timeout, process)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
