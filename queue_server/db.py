"""Engines and transactions: one write transaction per state change, the database settles races.

SQLite (the embedded default) runs in WAL mode; write transactions start with BEGIN IMMEDIATE so
that two writers never deadlock on a lock upgrade, and readers use plain deferred transactions.
PostgreSQL uses row locks (SELECT … FOR UPDATE) taken by the services.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_MS = 30_000


def _sqlite_engine(url: str, begin: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


class Database:
    """The write and read sessions of one database URL."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, "BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(url, "BEGIN")
        else:
            options = {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True, **engine_options}
            self.engine = create_engine(url, **options)
            self.read_engine = self.engine
        self.writer = sessionmaker(self.engine, expire_on_commit=False)
        self.reader = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self.writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.reader.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
