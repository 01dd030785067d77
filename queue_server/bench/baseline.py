"""The bare stack the bench compares with: Flask-SocketIO, one insert, one emit, nothing else.

    python -m queue_server.bench.baseline --port P --database-url URL --async-mode MODE [--redis-url R]

POST /ticket inserts a ticket-like row in one transaction; POST /call inserts a row and emits the
same `ticket_called` payload govhall sends to room `hall:<code>` of namespace `/hall`, where a
screen joins by emitting `subscribe {hall, screen}`. The same engine settings as govhall's
(queue_server.db: SQLite WAL with BEGIN IMMEDIATE, or a PostgreSQL pool).
"""

from __future__ import annotations

import sys


def _async_mode(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--async-mode" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--async-mode="):
            return arg.split("=", 1)[1]
    return "threading"


if __name__ == "__main__":  # monkey-patching must come before every other import
    _MODE = _async_mode(sys.argv)
    if _MODE == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif _MODE == "eventlet":
        import eventlet

        eventlet.monkey_patch()

import argparse  # noqa: E402
import secrets  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert  # noqa: E402

metadata = MetaData()
bare_ticket = Table(
    "bare_ticket", metadata,
    Column("id", Integer, primary_key=True),
    Column("hall", String(40), nullable=False),
    Column("bundle", String(40), nullable=False),
    Column("number", String(8)),
    Column("status", String(20), nullable=False),
    Column("idempotency_key", String(100)),
    Column("track_token", String(40), nullable=False),
    Column("taken_at", DateTime(timezone=True), nullable=False),
)


def create_schema(url: str) -> None:
    """Make the baseline's one table (the bench calls this before starting the processes)."""
    from ..db import Database

    database = Database(url)
    metadata.create_all(database.engine)
    database.dispose()


def _insert(database: Any, hall: str, bundle: str, status: str, key: str | None) -> int:
    with database.write() as db:
        return int(db.execute(insert(bare_ticket).values(
            hall=hall, bundle=bundle, status=status, idempotency_key=key,
            track_token=secrets.token_urlsafe(16), taken_at=datetime.now(UTC),
        ).returning(bare_ticket.c.id)).scalar_one())


def create_app(url: str, async_mode: str, redis_url: str | None, channel: str) -> tuple[Any, Any]:
    from flask import Flask, request
    from flask_socketio import SocketIO, join_room

    from ..db import Database

    app = Flask(__name__)
    database = Database(url)
    sio = SocketIO(app, async_mode=async_mode, message_queue=redis_url, channel=channel,
                   cors_allowed_origins=[], ping_interval=10, ping_timeout=10)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ticket")
    def ticket() -> tuple[dict[str, Any], int]:
        body = request.get_json(force=True)
        key = request.headers.get("Idempotency-Key")
        row = _insert(database, body["hall"], body["bundle"], "waiting", key)
        return {"id": row, "number": f"A{row:03d}"}, 201

    @app.post("/call")
    def call() -> dict[str, Any]:
        body = request.get_json(force=True)
        row = _insert(database, body["hall"], "call", "called", None)
        number = f"A{row:03d}"
        window = body.get("window", 1)
        payload = {"hall": body["hall"], "ticket": {"number": number, "bundle": "bench", "priority": "none"},
                   "window": {"id": window, "number": window, "name": f"{window}号窗口"},
                   "announcement": f"请{number}号到{window}号窗口办理", "recall": False,
                   "at": datetime.now(UTC).isoformat()}
        sio.emit("ticket_called", payload, to=f"hall:{body['hall']}", namespace="/hall")
        return {"ticket": {"number": number}}

    def subscribe(data: Any) -> dict[str, bool]:
        join_room(f"hall:{data['hall']}")
        return {"ok": True}

    sio.on_event("subscribe", subscribe, namespace="/hall")

    return app, sio


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--async-mode", default="threading", choices=["threading", "eventlet", "gevent"])
    parser.add_argument("--redis-url")
    parser.add_argument("--channel", default="govhall-bench-base")
    args = parser.parse_args(argv)
    app, sio = create_app(args.database_url, args.async_mode, args.redis_url, args.channel)
    if args.async_mode in ("gevent", "eventlet"):
        # the same server and listener (TCP_NODELAY, eventlet's connection limit) as `govhall serve`
        from queue_server.server import serve_cooperative

        serve_cooperative(app, args.async_mode, args.host, args.port)
        return
    sio.run(app, host=args.host, port=args.port, use_reloader=False, log_output=False,
            allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
