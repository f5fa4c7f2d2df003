"""The `callback` console script.

Each command reads `Settings` from the environment when it runs (never at
import), so a bad setting stops the command with a clear message.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import click

from . import processes
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
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="do not seed the demo widget and agents")
def run(port: int, no_demo: bool) -> None:
    """Start the whole system: web, worker, beat (and the simulator); Ctrl-C stops it."""
    from .system import Piece, pieces

    # Webhooks go to this port unless PUBLIC_URL says where the carrier reaches us.
    os.environ.setdefault("PUBLIC_URL", f"http://127.0.0.1:{port}")
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    settings = load_settings()
    _upgrade(settings)
    # The demo login and the softphones exist only on the simulator, never on a real carrier.
    demo = not no_demo and settings.uses_simulator
    password = None
    if not no_demo:
        with _app_context(settings):
            click.echo(_seed_demo())
            if demo:
                from .services.demo import ensure_demo_login

                password = ensure_demo_login()
    # Ctrl-C, and SIGTERM from honcho, docker or systemd, stop every piece (the finally below),
    # also when started from a shell that ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    from .supervisor import GaveUp, supervise

    def launch(piece: Piece) -> subprocess.Popen[bytes]:
        if piece.health_url:
            process = processes.start(piece.argv, piece.health_url)
        else:
            process = subprocess.Popen(piece.argv)
        if piece.name == "simulator" and demo:  # its phones live in its memory
            from .services.demo import configure_demo_phones

            configure_demo_phones(settings.twilio_api_base)
        return process

    parts = pieces(settings, port)
    started: list[subprocess.Popen[bytes]] = []
    try:
        for piece in parts:
            click.echo(f"starting {piece.name}")
            started.append(launch(piece))
        click.echo(f"Callback runs on http://127.0.0.1:{port} — Ctrl-C stops it.")
        if demo and password:
            click.echo(_demo_banner(port, settings.twilio_api_base, password))
        supervise(parts, started, launch, click.echo)
    except KeyboardInterrupt:
        pass
    except GaveUp as gave_up:
        click.echo(str(gave_up), err=True)
        raise SystemExit(gave_up.code) from None
    finally:
        for process in reversed(started):
            processes.stop(process)


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
@click.option(
    "--hold",
    is_flag=True,
    help="then keep running until stopped, unless DYNO is release.* (see the Procfile)",
)
def db_upgrade(hold: bool) -> None:
    """Apply the migrations."""
    _upgrade(load_settings())
    click.echo("database is up to date")
    # A platform's release phase (Heroku, Dokku: DYNO=release.N) must end. Honcho and foreman
    # run every Procfile line as a process and stop them all when one ends, so there the
    # release line stays until they stop it.
    if hold and not os.environ.get("DYNO", "").startswith("release."):
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            pass


@main.group()
def agent() -> None:
    """Agents who take the callbacks."""


@agent.command("add")
@click.option("--name", required=True)
@click.option("--phone", required=True, help="E.164, e.g. +3725550101")
@click.option("--rule", default=None, help="routing rule (default: 'default')")
@click.option("--position", default=None, type=click.IntRange(min=1))
def agent_add(name: str, phone: str, rule: str | None, position: int | None) -> None:
    """Add an agent; prints its id."""
    from .services.setup import SetupError, add_agent

    with _app_context(load_settings()):
        try:
            added = add_agent(name, phone, rule, position)
        except SetupError as error:
            raise click.ClickException(str(error)) from None
    click.echo(added.id)


@main.group()
def widget() -> None:
    """Widgets on shop pages."""


@widget.command("add")
@click.option("--name", required=True)
@click.option("--key", default=None)
@click.option("--region", default="EE", show_default=True)
@click.option("--countries", default=None, help="comma-separated, default: the region")
@click.option("--origin", "origins", multiple=True)
@click.option("--rule", default=None)
@click.option("--hours", default=None, help='e.g. "mon-fri 09:00-17:00"; default: always open')
@click.option("--tz", default="UTC", show_default=True)
def widget_add(
    name: str,
    key: str | None,
    region: str,
    countries: str | None,
    origins: tuple[str, ...],
    rule: str | None,
    hours: str | None,
    tz: str,
) -> None:
    """Add a widget; prints its public key."""
    from .services.setup import SetupError, add_widget

    with _app_context(load_settings()):
        try:
            public_key = add_widget(
                name,
                key,
                region,
                countries.split(",") if countries else None,
                list(origins),
                rule,
                hours,
                tz,
            )
        except SetupError as error:
            raise click.ClickException(str(error)) from None
    click.echo(public_key)


@widget.command("build")
@click.option("--out", default="dist", show_default=True, type=click.Path(file_okay=False))
def widget_build(out: str) -> None:
    """Write the minified widget.min.js (and .gz) for CDN hosting; prints its size."""
    from pathlib import Path

    from . import widget_build as build

    path = build.write(Path(out))
    built = build.build()
    click.echo(
        f"{path}: {len(built.minified)} bytes, {len(built.gzipped)} gzipped "
        f"(budget {build.BUDGET_BYTES}), version {built.version}"
    )


@main.group()
def admin() -> None:
    """Logins for the web admin."""


@admin.command("create")
@click.option("--email", required=True)
@click.option("--password", default=None, help="prompted for (hidden) when omitted")
@click.option(
    "--role", default="owner", show_default=True, type=click.Choice(["owner", "admin", "agent"])
)
@click.option("--agent-id", default=None, type=int, help="the agent an agent login belongs to")
def admin_create(email: str, password: str | None, role: str, agent_id: int | None) -> None:
    """Create an admin login (migrates the database first)."""
    from .services.accounts import AccountError, create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from . import create_app

    settings = load_settings()
    _upgrade(settings)
    app = create_app(settings)
    try:
        with app.app_context():
            user_id = create_user(email, password, role, agent_id)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    finally:
        # Close the pool's connections now, not whenever the interpreter gets to them.
        app.extensions["db"].kw["bind"].dispose()
    click.echo(f"created {role} login {email.strip().lower()} (id {user_id})")


@main.group()
def webhook() -> None:
    """Webhooks that tell a CRM about every status change (signed, retried, logged)."""


@contextmanager
def _webhook_app() -> Iterator[None]:
    """The app for one command; its pool is closed at the end (the tests run these in-process)."""
    from . import create_app

    app = create_app(load_settings())
    try:
        with app.app_context():
            yield
    finally:
        app.extensions["db"].kw["bind"].dispose()


@webhook.command("add")
@click.option("--url", required=True, help="http(s) URL that receives the JSON POSTs")
@click.option("--widget", "widget_key", default=None, help="only this widget's callbacks")
@click.option("--description", default=None)
def webhook_add(url: str, widget_key: str | None, description: str | None) -> None:
    """Add an endpoint; prints its signing secret, once."""
    from .services.admin_errors import AdminError
    from .services.notifications import add_endpoint

    with _webhook_app():
        try:
            added = add_endpoint(url, widget_key, description)
        except AdminError as error:
            raise click.ClickException(error.message) from None
    scope = f"widget {widget_key}" if widget_key else "every widget"
    click.echo(f"webhook {added.endpoint.id} for {scope}: {added.endpoint.url}")
    click.echo(f"signing secret (shown only now): {added.secret}")


@webhook.command("list")
def webhook_list() -> None:
    """The endpoints (secrets are not shown)."""
    from .services.notifications import list_endpoints

    with _webhook_app():
        endpoints = list_endpoints()
    for endpoint in endpoints:
        state = "active" if endpoint.active else "paused"
        scope = endpoint.widget or "*"
        click.echo(f"{endpoint.id}\t{state}\t{scope}\t{endpoint.url}\t{endpoint.secret_hint}")


@main.group()
def privacy() -> None:
    """Everything stored for one phone number: export it, erase it (GDPR)."""


@privacy.command("export")
@click.option("--phone", required=True, help="international form, e.g. +3725550101")
def privacy_export(phone: str) -> None:
    """Print everything stored for the number, as JSON."""
    import json

    from .services import privacy as service

    with _webhook_app():
        try:
            exported = service.export_number(phone)
        except service.PrivacyError as error:
            raise click.ClickException(error.message) from None
    click.echo(json.dumps(exported, indent=2, ensure_ascii=False))


@privacy.command("erase")
@click.option("--phone", required=True, help="international form, e.g. +3725550101")
def privacy_erase(phone: str) -> None:
    """Delete every callback of the number and everything stored with it."""
    from .services import privacy as service

    with _webhook_app():
        try:
            erased = service.erase_number(phone)
        except service.PrivacyError as error:
            raise click.ClickException(error.message) from None
    click.echo(f"deleted {erased['callbacks_deleted']} callback(s) of {erased['phone']}")
    if erased["agent_ids"]:
        ids = ", ".join(str(i) for i in erased["agent_ids"])
        click.echo(f"the number is also agent {ids}: remove the agent in the admin to erase it")


@main.command()
def demo() -> None:
    """Seed demo data: a widget (key 'demo'), three agents and a hedged rule."""
    settings = load_settings()
    _upgrade(settings)
    with _app_context(settings):
        click.echo(_seed_demo())


def _upgrade(settings: Settings) -> None:
    from .migrate import upgrade

    upgrade(settings.database_url)


@contextmanager
def _app_context(settings: Settings) -> Iterator[None]:
    from . import create_app

    app = create_app(settings)
    with app.app_context():
        yield


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _demo_banner(port: int, simulator_url: str, password: str) -> str:
    from .services.demo import DEMO_LOGIN

    web = f"http://127.0.0.1:{port}"
    return "\n".join(
        [
            "",
            "  The demo:",
            f"    shop        {web}/demo   (press the round button, type any EE number)",
            f"    softphones  {simulator_url}/sim/phone   (the agents' and your phone ring here)",
            f"    admin       {web}/admin   login {DEMO_LOGIN}  password {password}",
            "",
        ]
    )


def _seed_demo() -> str:
    from .services.demo import seed_demo

    return seed_demo()
