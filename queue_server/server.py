"""Running the server: `govhall serve` and the demo use this."""

from __future__ import annotations

import gc
import logging
import secrets
from pathlib import Path

from . import clock
from .db import Database
from .settings import Settings

log = logging.getLogger(__name__)
ROLLOVER_EVERY_S = 300


def persistent_secret(settings: Settings) -> Settings:
    """Without GOVHALL_SECRET_KEY, keep one in instance/secret_key so logins survive a restart."""
    if settings.secret_key_from_env:
        return settings
    path = Path(settings.instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return settings.with_(secret_key=path.read_text().strip())


def close_past_days_everywhere(database: Database) -> int:
    """Expire yesterday's open tickets and mark bookings past their grace as missed, in every hall."""
    from .services import appointments, rollover, windows

    expired = 0
    for hall in windows.halls(database):
        expired += rollover.close_past_days(database, hall.code, clock.now())[0]
        appointments.mark_missed(database, hall.code, clock.now())
    return expired


def warm_up(database: Database) -> None:
    """Read every hall's windows, service times and waits once before serving, so the first kiosks
    after a restart do not each pay for loading their hall (and for compiling the statements)."""
    from .services import waits, windows

    halls = windows.halls(database)
    with database.read() as db:
        for start in range(0, len(halls), 20):
            waits.halls_waits(db, halls[start:start + 20], clock.now())
    with database.write() as db:  # the write engine compiles its statements and connects too
        for hall in halls[:1]:
            waits.hall_load(db, hall, clock.now())


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve the API, pages and Socket.IO until interrupted."""
    from . import create_app
    from .migrate import is_current

    settings = persistent_secret(settings)
    database = Database(settings.database_url)
    if not is_current(database):
        raise SystemExit("the database schema is not current: run `govhall db upgrade` first")
    close_past_days_everywhere(database)
    app = create_app(settings, database)
    warm_up(database)
    # What start-up built lives as long as the process: keep it out of the collector's full passes,
    # which otherwise walk it all and hold a cooperative server still for a noticeable time.
    gc.collect()
    gc.freeze()
    sio = app.extensions["socketio"]

    def rollover_loop() -> None:
        while True:
            sio.sleep(ROLLOVER_EVERY_S)
            try:
                close_past_days_everywhere(database)
            except Exception:  # keep serving; the next round tries again
                log.exception("service-day rollover failed")

    sio.start_background_task(rollover_loop)
    log.info("govhall serving on http://%s:%s (async mode %s)", host, port, sio.async_mode)
    sio.run(app, host=host, port=port, use_reloader=False, log_output=False,
            **server_options(sio.async_mode))


# eventlet's WSGI server silently stops accepting past 1,024 connections unless told otherwise
EVENTLET_MAX_CONNECTIONS = 20_000


def server_options(async_mode: str) -> dict[str, object]:
    """What the WSGI server of each async mode needs: gevent and eventlet run their production servers
    (the standard library must already be patched: `queue_server.launch` does it); threading runs
    werkzeug's development server, for the demo and tests only."""
    if async_mode == "eventlet":
        return {"max_size": EVENTLET_MAX_CONNECTIONS}
    if async_mode == "threading":
        log.warning("threading mode runs werkzeug's development server; use gevent in production")
        return {"allow_unsafe_werkzeug": True}
    return {}
