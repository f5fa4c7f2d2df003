"""The notification settings: read from the environment, refused with a clear message."""

from __future__ import annotations

import pytest

from callback.config import ConfigError, Settings
from callback.services.notifications.alerts import SmtpServer


def settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_the_defaults_send_no_email_and_remind_15_minutes_ahead() -> None:
    defaults = settings()
    assert defaults.alert_emails == ()
    assert defaults.smtp_url is None
    assert defaults.sms_from is None
    assert defaults.sms_reminder_minutes == 15


def test_the_values_are_read() -> None:
    read = settings(
        SMTP_URL="smtps://u:p@mail.example:465",
        ALERT_EMAIL=" ops@shop.example, boss@shop.example ,",
        TWILIO_SMS_FROM="KettleShop",
        SMS_REMINDER_MINUTES="0",
    )
    assert read.alert_emails == ("ops@shop.example", "boss@shop.example")
    assert read.smtp_url == "smtps://u:p@mail.example:465"
    assert read.sms_from == "KettleShop"
    assert read.sms_reminder_minutes == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMTP_URL": "http://mail.example"}, "SMTP_URL must look like"),
        ({"SMTP_URL": "smtp://"}, "SMTP_URL must look like"),
        ({"SMTP_URL": "smtp://u:hunter2@mail.example:port"}, "port that is not a number"),
        ({"ALERT_EMAIL": "ops@shop.example"}, "SMTP_URL is not"),
        ({"SMTP_URL": "smtp://m.example", "ALERT_EMAIL": "ops"}, "not one: 'ops'"),
        ({"TWILIO_SMS_FROM": "0123"}, "TWILIO_SMS_FROM must be"),
        ({"TWILIO_SMS_FROM": "A sender too long"}, "TWILIO_SMS_FROM must be"),
        ({"SMS_REMINDER_MINUTES": "-5"}, "SMS_REMINDER_MINUTES must be"),
        ({"SMS_REMINDER_MINUTES": "2000"}, "SMS_REMINDER_MINUTES must be"),
    ],
)
def test_bad_values_are_refused_with_the_variables_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        settings(**env)
    assert "hunter2" not in str(refused.value)


def test_the_smtp_url_gives_server_login_and_sender() -> None:
    server = SmtpServer.from_url(
        "smtp://alerts%40shop:p%40ss@mail.example:2525?from=cb@shop.example",
        "https://callback.shop.example",
    )
    assert server == SmtpServer(
        "mail.example", 2525, False, "alerts@shop", "p@ss", "cb@shop.example"
    )


def test_smtps_defaults_to_465_and_the_sender_to_the_public_host() -> None:
    server = SmtpServer.from_url("smtps://mail.example", "https://callback.shop.example")
    assert (server.port, server.tls, server.username) == (465, True, None)
    assert server.sender == "callback@callback.shop.example"
