"""Engines and transactions: one write transaction per state change, the database settles races.

SQLite (the embedded default) runs in WAL mode; write transactions start with BEGIN IMMEDIATE so
that two writers never deadlock on a lock upgrade, and readers use plain deferred transactions.
PostgreSQL uses row locks (SELECT … FOR UPDATE) taken by the services.
"""

from __future__ import annotations

import _thread
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_MS = 30_000


def native_thread(target: Callable[[], None]) -> None:
    """Run `target` in a real OS thread even where gevent or eventlet patched the thread modules.

    The sqlite3 module releases the GIL during a call, so a checkpoint's disk flushes there do not
    hold the cooperative server's one thread still.
    """
    start = _thread.start_new_thread
    try:
        from gevent import monkey

        if monkey.is_module_patched("threading"):
            start = monkey.get_original("_thread", "start_new_thread")
    except ImportError:
        pass
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("thread"):
            start = patcher.original("_thread").start_new_thread
    start(target, ())


def _sleeper() -> Callable[[float], None]:
    try:
        from gevent import monkey

        if monkey.is_module_patched("time"):
            return monkey.get_original("time", "sleep")  # type: ignore[no-any-return]
    except ImportError:
        pass
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("time"):
            return patcher.original("time").sleep  # type: ignore[no-any-return]
    return time.sleep


def start_wal_checkpoints(database: Database, every_s: float = 1.0) -> None:
    """Checkpoint the WAL from a background OS thread instead of inside a commit.

    SQLite runs an automatic checkpoint (copying the WAL into the database file and flushing it to
    disk) in whichever commit passes 1,000 pages; under gevent that commit holds every request.
    The server turns automatic checkpoints off on its connections and checkpoints here (PASSIVE:
    never waits for, nor blocks, readers and writers).
    """
    path = make_url(database.url).database
    if not database.is_sqlite or not path or path == ":memory:":
        return
    database.background_checkpoints = True
    sleep = _sleeper()

    def loop() -> None:
        conn = sqlite3.connect(path, timeout=SQLITE_BUSY_MS / 1000, check_same_thread=False)
        while True:
            sleep(every_s)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:  # busy or locked: the next round tries again
                continue

    native_thread(loop)


def _sqlite_engine(url: str, begin: str, database: Database | None = None) -> Engine:
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
        if database is not None and database.background_checkpoints:
            cur.execute("PRAGMA wal_autocheckpoint=0")  # start_wal_checkpoints does them
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use only when it sat idle PING_AFTER_IDLE_S or longer.

    SQLAlchemy's pool_pre_ping tests every checkout: one more round trip per request, 5 % of the
    server's time when taking numbers on PostgreSQL. A connection returned moments ago is alive;
    one idle for a while may have been cut (PostgreSQL restarted, a firewall's idle timeout) and is
    replaced here before a request meets the error.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
            dbapi_conn.rollback()
        except Exception as e:
            raise exc.DisconnectionError() from e  # the pool replaces it and tries again
        if not alive:
            raise exc.DisconnectionError()


class Database:
    """The write and read sessions of one database URL."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.background_checkpoints = False  # set by start_wal_checkpoints (the server)
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, "BEGIN IMMEDIATE", self)
            self.read_engine = _sqlite_engine(url, "BEGIN", self)
        else:
            options = {"pool_size": 10, "max_overflow": 20, **engine_options}
            self.engine = create_engine(url, **options)
            _ping_when_idle(self.engine)
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
