"""The README's promises that a file can check: its two commands, pictures, Procfile and settings."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from callback.config import ConfigError, Settings

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text("utf-8")
ENV_EXAMPLE = REPO / ".env.example"


def code_blocks(text: str) -> list[str]:
    return re.findall(r"(?ms)^```[a-z]*\n(.*?)^```", text)


def commands(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def settings_read_by_the_code() -> set[str]:
    source = (REPO / "callback/config.py").read_text("utf-8")
    return set(re.findall(r'get\(\s*"([A-Z_]+)"', source))


def test_the_readme_opens_with_the_two_commands() -> None:
    first = code_blocks(README)[0]
    run, test = commands(first)
    assert README.index(first) < README.index("## Architecture")
    setup = "python3 -m venv .venv && .venv/bin/pip install -q -e"
    assert run == f"{setup} . && .venv/bin/callback run"
    assert test == f"{setup} '.[dev]' && .venv/bin/pytest"


def test_the_test_command_is_what_ci_runs() -> None:
    ci = (REPO / ".ci/run").read_text("utf-8")
    body = re.search(r"test_command\(\) \{\n\s*(.*?)\n\}", ci)
    assert body, "the test_command function of .ci/run"
    _, test = commands(code_blocks(README)[0])
    assert shlex.split(body[1]) == [*shlex.split(test), "$@"]
    makefile = (REPO / "Makefile").read_text("utf-8")
    assert re.search(r"(?m)^test: venv\n\t\$\(BIN\)/pytest$", makefile)


def test_every_picture_in_the_readme_exists() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert "docs/demo-5-connected-phones.png" in pictures
    missing = [p for p in pictures if not (REPO / p).is_file()]
    assert missing == []


def test_the_readme_shows_the_procfile_as_it_is() -> None:
    procfile = (REPO / "Procfile").read_text("utf-8").strip().splitlines()
    assert sorted(line.split(":", 1)[0] for line in procfile) == [
        "beat",
        "release",
        "web",
        "worker",
    ]
    shown = [line.strip() for line in README.splitlines()]
    assert all(line in shown for line in procfile)


@pytest.mark.parametrize("name", sorted(settings_read_by_the_code()))
def test_every_setting_is_documented(name: str) -> None:
    assert re.search(rf"(?m)^#? ?{name}=", ENV_EXAMPLE.read_text("utf-8")), (
        f"{name} in .env.example"
    )
    assert f"`{name}`" in README, f"{name} in the README's configuration table"


def _example_environment() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_the_example_environment_refuses_to_start_until_filled_in() -> None:
    example = _example_environment()
    assert example["TELEPHONY"] == "twilio"
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID"):
        Settings.from_env(example)


def test_the_example_environment_is_otherwise_a_valid_production_setup() -> None:
    example = _example_environment() | {"TWILIO_ACCOUNT_SID": "AC" + "1f" * 16}
    settings = Settings.from_env(example)
    assert settings.telephony == "twilio" and settings.public_url.startswith("https://")
    assert settings.redis_url and settings.database_url.startswith("postgresql+psycopg://")
