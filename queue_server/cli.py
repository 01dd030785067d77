"""The `govhall` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import clock
from .db import Database
from .settings import Settings


def _settings(database_url: str | None = None, **extra: object) -> Settings:
    return Settings.from_env(os.environ, database_url=database_url, **extra)


@click.group()
@click.version_option(package_name="govhall")
def main() -> None:
    """govhall: queue management and self-service kiosks for a government service hall."""


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--database-url", help="SQLAlchemy URL (default: GOVHALL_DATABASE_URL or instance/govhall.db)")
def db_upgrade(database_url: str | None) -> None:
    """Apply the schema migrations (Alembic) up to the newest."""
    from .migrate import upgrade

    settings = _settings(database_url)
    upgrade(Database(settings.database_url))
    click.echo(f"database at newest revision: {settings.database_url}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--database-url", help="SQLAlchemy URL (default: GOVHALL_DATABASE_URL or instance/govhall.db)")
@click.option("--redis-url", help="Redis for sharing Socket.IO events between server processes")
@click.option("--async-mode", type=click.Choice(["threading", "eventlet", "gevent"]),
              help="Socket.IO async mode")
def serve(host: str, port: int, database_url: str | None, redis_url: str | None,
          async_mode: str | None) -> None:
    """Serve the API, the pages and the live updates."""
    import logging

    from .server import serve as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run(_settings(database_url, redis_url=redis_url, async_mode=async_mode), host, port)


@main.command()
@click.option("--database-url")
@click.option("--demo", is_flag=True, help="also add the demo hall, its staff and a kiosk token")
@click.option("--catalogue", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="catalogue folder (default: the shipped assets/catalogue)")
def seed(database_url: str | None, demo: bool, catalogue: Path | None) -> None:
    """Load the catalogue of 一件事 bundles (and with --demo the demo hall)."""
    from .catalogue import DEFAULT_ROOT, CatalogueError, load_catalogue, load_demo_hall
    from .migrate import is_current
    from .seed import seed_catalogue, seed_demo

    settings = _settings(database_url)
    database = Database(settings.database_url)
    if not is_current(database):
        raise click.ClickException("the database schema is not current: run `govhall db upgrade` first")
    root = catalogue or DEFAULT_ROOT
    try:
        cat = load_catalogue(root)
        spec = load_demo_hall(cat, root / "demo_hall.yaml") if demo else None
    except CatalogueError as e:
        raise click.ClickException(str(e)) from None
    count = seed_catalogue(database, cat, clock.now())
    click.echo(f"catalogue: {count} bundles loaded from {root}")
    if spec is not None:
        password = settings.demo_password or "govhall-demo"
        try:
            seeded = seed_demo(database, spec, password, clock.now())
        except ValueError as e:
            raise click.ClickException(str(e)) from None
        click.echo(json.dumps({"hall": seeded.hall, "windows": seeded.windows,
                               "logins": ["manager", "admin", *seeded.clerks],
                               "password": password, "kiosk_token": seeded.kiosk_token},
                              ensure_ascii=False, indent=2))


@main.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--reset", is_flag=True, help="start over with a fresh demo database")
@click.option("--console", "console_only", is_flag=True,
              help="run the console walk-through of the queue only")
def demo(port: int, host: str, reset: bool, console_only: bool) -> None:
    """The whole system on this machine: embedded SQLite, simulated hardware, the demo hall."""
    from .demo import run_demo

    sys.exit(run_demo(_settings(), host=host, port=port, reset=reset, console_only=console_only))


@main.command()
@click.option("--server", required=True, help="the govhall server, e.g. http://10.1.2.3:5000")
@click.option("--token", envvar="GOVHALL_KIOSK_TOKEN", required=True,
              help="this terminal's device token (or GOVHALL_KIOSK_TOKEN, which keeps it out of ps)")
@click.option("--qr", default="sim", show_default=True, help="sim, camera:N, wedge:PATH or none")
@click.option("--idcard", default="sim", show_default=True, help="sim, a serial port, or none")
@click.option("--printer", default="sim", show_default=True,
              help="sim, usb:VID:PID, serial:DEV, tcp:HOST:PORT, file:PATH or none")
@click.option("--paper", type=click.Choice(["58", "80"]), default="80", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
def kiosk(server: str, token: str, qr: str, idcard: str, printer: str, paper: str, host: str,
          port: int) -> None:
    """The kiosk agent of a self-service terminal: devices, touch UI, the line to the server."""
    import logging

    from kiosk.agent import AgentConfig, run_agent
    from kiosk.devices import open_devices

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings()
    devices = open_devices(qr, idcard, printer, int(paper))
    run_agent(AgentConfig(server=server, token=token, instance=settings.instance_path,
                          paper=int(paper)), devices, host, port)


from hardware.cli import hw  # noqa: E402 - command groups live beside their code

from .bench_cli import bench  # noqa: E402
from .sfm_cli import sfm  # noqa: E402
from .simulate.cli import simulate_day  # noqa: E402

main.add_command(sfm)
main.add_command(hw)
main.add_command(bench)
main.add_command(simulate_day)

if __name__ == "__main__":
    main()
