"""The PostgreSQL pool: a connection cut while idle in the pool is replaced before a request meets it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from queue_server import db as dbmod
from queue_server.services import tickets

pytestmark = pytest.mark.postgres


def _backend_pid(database: dbmod.Database) -> int:
    with database.read() as session:
        return int(session.scalar(text("select pg_backend_pid()")))


def test_a_connection_cut_while_idle_is_replaced(pg_db, now, monkeypatch):
    first = _backend_pid(pg_db)  # the pool keeps this connection
    other = create_engine(pg_db.url, poolclass=NullPool)
    with other.connect() as conn:  # as PostgreSQL's restart or a firewall would
        conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": first})
        conn.commit()
    other.dispose()
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)  # it has been idle long enough
    issued = tickets.take_ticket(pg_db, "demo", "newborn", now)
    assert issued.created and issued.ticket.number == "A001"
    assert _backend_pid(pg_db) != first


def test_a_connection_used_moments_ago_is_not_pinged(pg_db, monkeypatch):
    _backend_pid(pg_db)
    pings: list[object] = []
    monkeypatch.setattr(pg_db.engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    for _ in range(3):
        _backend_pid(pg_db)
    assert pings == []  # returned a moment ago each time: no extra round trip
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)
    _backend_pid(pg_db)
    assert len(pings) == 1
