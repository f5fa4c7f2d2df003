"""The `callback` console script.

Each command reads `Settings` from the environment when it runs (never at
import), so a bad setting stops the command with a clear message.
"""

from __future__ import annotations

import logging
import os
import sys
from urllib.parse import urlparse

import click

from .config import ConfigError, Settings


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    envvar="LOG_LEVEL",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def main(log_level: str) -> None:
    """Callback: a smart callback service for web shops."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The twilio client logs every request and its headers at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port", default=None, type=int, help="default: the port of TWILIO_API_BASE, else 8765"
)
@click.option("--auth-token", default=None, help="default: TWILIO_AUTH_TOKEN")
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01, max=1000),
    help="run every simulated delay this many times faster",
)
@click.option(
    "--cps",
    default=None,
    type=click.FloatRange(min=0.01),
    help="calls per second before calls wait in queued (off by default)",
)
def simulator(
    host: str, port: int | None, auth_token: str | None, time_scale: float, cps: float | None
) -> None:
    """Run the Twilio-compatible carrier simulator."""
    from .simulator.app import serve
    from .simulator.carrier import Limits

    settings = load_settings()
    # One line per request drowns the call log; problems are still logged.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if port is None:
        port = urlparse(settings.twilio_api_base).port or 8765
    token = auth_token or settings.twilio_auth_token
    click.echo(
        f"Carrier simulator on http://{host}:{port}  (account {settings.twilio_account_sid}, "
        f"time scale {time_scale:g}); softphones at http://{host}:{port}/sim/phone"
    )
    serve(host, port, token, time_scale, Limits(calls_per_second=cps))


@main.command()
@click.option(
    "--port",
    default=5000,
    show_default=True,
    type=int,
    help="port of the web app (reserved: the web app arrives with the callback core)",
)
def run(port: int) -> None:
    """Start the system locally.

    For now this starts the carrier simulator and places one example call
    through the official twilio library; the web, worker and beat join it
    with the callback core.
    """
    from .simulator.demo import run_simulator_demo

    settings = load_settings()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    sys.exit(run_simulator_demo(settings))
