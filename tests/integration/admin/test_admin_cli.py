"""`callback admin create`: makes a login that can sign in, prompts for a hidden password when
none is given, and never prints the password."""

from __future__ import annotations

from pathlib import Path

import pytest
from admin_support import PASSWORD, log_in, unique_email
from click.testing import CliRunner
from flask import Flask

from callback.cli import main


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path)}


def test_create_with_a_password_option(app: Flask, env: dict[str, str]) -> None:
    email = unique_email("Boss")
    result = CliRunner().invoke(
        main, ["admin", "create", "--email", email, "--password", PASSWORD], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"created owner login {email.lower()}" in result.output
    assert PASSWORD not in result.output
    assert log_in(app.test_client(), email).status_code == 302


def test_create_prompts_for_a_hidden_password(app: Flask, env: dict[str, str]) -> None:
    email = unique_email("admin")
    secret = "typed at the prompt 42"
    result = CliRunner().invoke(
        main,
        ["admin", "create", "--email", email, "--role", "admin"],
        input=f"{secret}\n{secret}\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and secret not in result.output
    assert log_in(app.test_client(), email, secret).status_code == 302
    me = app.test_client()
    log_in(me, email, secret)
    assert me.get("/api/v1/admin/me").get_json()["role"] == "admin"


def test_bad_input_is_a_clear_error(app: Flask, env: dict[str, str]) -> None:
    runner = CliRunner()
    cases = [
        (["--email", "not-an-email", "--password", PASSWORD], "email address"),
        (["--email", unique_email(), "--password", "short"], "at least 10"),
        (["--email", unique_email(), "--password", PASSWORD, "--role", "agent"], "agent"),
    ]
    for arguments, message in cases:
        result = runner.invoke(main, ["admin", "create", *arguments], env=env)
        assert result.exit_code == 1 and message in result.output, result.output
        assert PASSWORD not in result.output
    email = unique_email()
    assert (
        runner.invoke(
            main, ["admin", "create", "--email", email, "--password", PASSWORD], env=env
        ).exit_code
        == 0
    )
    again = runner.invoke(
        main, ["admin", "create", "--email", email, "--password", PASSWORD], env=env
    )
    assert again.exit_code == 1 and "exists already" in again.output
