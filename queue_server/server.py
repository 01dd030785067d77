"""Running the server: `govhall serve` and the demo use this."""

from __future__ import annotations

import gc
import logging
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from . import clock
from .db import Database, start_wal_checkpoints
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
    """Read every hall's windows, service times and waits, and who every staff and device token
    names, once before serving, so the first kiosks and clerks after a restart do not each pay for
    loading their hall or their own row (and for compiling the statements)."""
    from .auth import know_everyone
    from .services import waits, windows

    halls = windows.halls(database)
    with database.read() as db:
        know_everyone(db)
        for start in range(0, len(halls), 20):
            waits.halls_waits(db, halls[start:start + 20], clock.now())
    with database.write() as db:  # the write engine compiles its statements and connects too
        for hall in halls[:1]:
            waits.hall_load(db, hall, clock.now())


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve the API, pages and Socket.IO until interrupted."""
    from . import create_app
    from .migrate import is_current
    from .realtime.hall import listen_to_other_processes

    settings = persistent_secret(settings)
    database = Database(settings.database_url)
    start_wal_checkpoints(database)  # before any connection is made (SQLite only)
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
    sio.start_background_task(freeze_loop, sio.sleep)
    listen_to_other_processes(sio)  # from the start: a token revoked elsewhere must not wait for a screen
    log.info("govhall serving on http://%s:%s (async mode %s)", host, port, sio.async_mode)
    if sio.async_mode in ("gevent", "eventlet"):
        serve_cooperative(app, sio.async_mode, host, port)
    else:
        sio.run(app, host=host, port=port, use_reloader=False, log_output=False,
                **server_options(sio.async_mode))


FREEZE_EVERY_S = 10.0
FULL_COLLECTION_EVERY_S = 3 * 3600.0


def freeze_loop(sleep: Callable[[float], object]) -> None:
    """Keep the collector's full passes short: what survived the young collections is frozen.

    With 2,000 screens connected the server holds over a million objects that live as long as their
    connection; every automatic full collection walked them all and held the (single-threaded)
    server still for 30–180 ms, a few times a minute: the whole tail of call-to-screen latency
    (found by timing the collector's passes under `govhall bench`). Every FREEZE_EVERY_S the young
    generations are collected and what is left moved to the permanent generation, so a full pass
    walks only what arrived since. A cycle that becomes garbage after being frozen is found by the
    full collection run every FULL_COLLECTION_EVERY_S (one pause of that length, a few times a day).
    """
    since_full = 0.0
    while True:
        sleep(FREEZE_EVERY_S)
        since_full += FREEZE_EVERY_S
        if since_full >= FULL_COLLECTION_EVERY_S:
            since_full = 0.0
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()


def nodelay_listener(host: str, port: int) -> socket.socket:
    """The listening socket, with TCP_NODELAY (inherited by accepted sockets on Linux).

    Without it every keep-alive response of the cooperative servers waits ~40 ms: the response goes
    out in two writes, Nagle's algorithm holds the second until the first is acknowledged, and the
    client delays that acknowledgement 40 ms (found by the benchmark: GET /health 44 ms median on
    gevent, 1.6 ms on threading; 0.3 ms with this option).
    """
    listener = socket.create_server((host, port), backlog=2048)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def serve_cooperative(app: object, async_mode: str, host: str, port: int) -> None:
    """What `SocketIO.run` does for gevent and eventlet (their production WSGI servers), on a
    TCP_NODELAY listener. The standard library is already patched (`queue_server.launch`), so the
    socket is the cooperative one."""
    listener = nodelay_listener(host, port)
    if async_mode == "gevent":
        from gevent import pywsgi

        pywsgi.WSGIServer(listener, app, log=None).serve_forever()
    else:
        import eventlet.wsgi

        eventlet.wsgi.server(listener, app, log_output=False, **server_options("eventlet"))  # type: ignore[arg-type]


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
