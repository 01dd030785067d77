"""SQLite's WAL is checkpointed by a background thread, not inside a request's commit."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from queue_server.db import Database, start_wal_checkpoints


def test_the_background_thread_moves_the_wal_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "hall.db"
    database = Database(f"sqlite:///{path}")
    start_wal_checkpoints(database, every_s=0.05)
    try:
        with database.write() as db:
            assert db.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
            db.execute(text("CREATE TABLE t (x TEXT)"))
        before = path.stat().st_size
        with database.write() as db:
            for i in range(200):
                db.execute(text("INSERT INTO t VALUES (:x)"), {"x": "行" * 200 + str(i)})
        deadline = time.monotonic() + 10
        while path.stat().st_size <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > before, "the rows never left the WAL"
        with database.read() as db:
            assert db.execute(text("SELECT count(*) FROM t")).scalar() == 200
    finally:
        database.dispose()
