"""Settings from the environment: defaults that run anywhere, refusals that name the fix."""

from __future__ import annotations

import pytest

from callback.config import DEV_SECRET_KEY, ConfigError, Settings
from callback.system import pieces

PRODUCTION = {
    "TELEPHONY": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "1234abcd" * 4,
    "TWILIO_AUTH_TOKEN": "a-real-token",
    "TWILIO_CALLER_ID": "+3726123456",
    "PUBLIC_URL": "https://callback.example.com/",
    "SECRET_KEY": "s" * 40,
}


def test_defaults_need_nothing_but_python():
    settings = Settings.from_env({})
    assert settings.uses_simulator
    assert settings.database_url.startswith("sqlite:///") and settings.redis_url is None
    assert settings.twilio_api_base == "http://127.0.0.1:8765"
    assert settings.public_url == "http://127.0.0.1:5000"


def test_production_settings_are_accepted_and_normalised():
    settings = Settings.from_env(PRODUCTION)
    assert settings.twilio_api_base == "https://api.twilio.com"
    assert settings.public_url == "https://callback.example.com"


@pytest.mark.parametrize(
    ("override", "fix"),
    [
        ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"PUBLIC_URL": "http://callback.example.com"}, "PUBLIC_URL"),
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
    ],
)
def test_twilio_refuses_development_secrets(override, fix):
    with pytest.raises(ConfigError, match=fix):
        Settings.from_env({**PRODUCTION, **override})


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"TELEPHONY": "pigeon"}, "TELEPHONY"),
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_CALLER_ID": "5550100"}, "TWILIO_CALLER_ID"),
        ({"TWILIO_API_BASE": "127.0.0.1:8765"}, "TWILIO_API_BASE"),
        ({"PUBLIC_URL": "ftp://x"}, "PUBLIC_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"QUEUE_MAX_WAIT": "2m"}, "QUEUE_MAX_WAIT"),
        ({"QUEUE_MAX_WAIT": "0"}, "QUEUE_MAX_WAIT"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY"),
        ({"WEB_CONCURRENCY": "four"}, "WEB_CONCURRENCY"),
        ({"WEB_THREADS": "65"}, "WEB_THREADS"),
    ],
)
def test_malformed_values_name_the_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


def test_callback_run_starts_gunicorn_with_the_web_settings():
    """2 processes of 4 threads by default (README, Scaling); both are settings."""

    def web_argv(env: dict[str, str]) -> list[str]:
        (web,) = [p for p in pieces(Settings.from_env(env), 5000) if p.name == "web"]
        return web.argv

    default = web_argv({})
    assert default[default.index("--workers") + 1 :][:3] == ["2", "--threads", "4"]
    chosen = web_argv({"WEB_CONCURRENCY": "4", "WEB_THREADS": "1"})
    assert chosen[chosen.index("--workers") + 1 :][:3] == ["4", "--threads", "1"]
