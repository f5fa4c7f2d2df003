"""The server processes leave their start-up objects out of later garbage collections.

Each check runs in a fresh interpreter: freezing is for the whole process, and this test
process must keep collecting as usual. bench/README.md ("Intake") has the measurement.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callback.config import Settings
from callback.system import pieces

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, tmp_path: Path) -> str:
    env = {"INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'gc.db'}"}
    finished = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return finished.stdout.strip()


@pytest.mark.parametrize(
    ("process", "load", "ready"),
    [
        (
            "a gunicorn worker, once it has loaded the app",
            "from callback import create_app, gunicorn_config\napp = create_app()",
            "gunicorn_config.post_worker_init(worker=None)",
        ),
        (
            "the Celery worker, once it is ready",
            "from celery.signals import worker_ready\nimport worker.app",
            "worker_ready.send(sender=None)",
        ),
    ],
    ids=["gunicorn", "celery"],
)
def test_a_server_process_freezes_what_it_loaded(
    process: str, load: str, ready: str, tmp_path: Path
) -> None:
    out = run_python(
        f"import gc\n{load}\nbefore = gc.get_freeze_count()\n{ready}\n"
        "print(before, gc.get_freeze_count())\n",
        tmp_path,
    )
    before, after = map(int, out.split())
    assert before == 0, process
    # The app, its routes and mappers: out of the collector's sight.
    assert after > 10_000, process


def test_callback_run_and_the_procfile_load_the_gunicorn_config() -> None:
    (web,) = [p for p in pieces(Settings.from_env({}), 5000) if p.name == "web"]
    assert web.argv[web.argv.index("--config") + 1] == "python:callback.gunicorn_config"
    procfile = (REPO / "Procfile").read_text()
    assert "gunicorn --config python:callback.gunicorn_config " in procfile
