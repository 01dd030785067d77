"""Many kiosks and windows at once, with real threads (and processes on PostgreSQL).

Every ticket is called exactly once and every number is unique, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from queue_server.models import Ticket, TicketEvent

from . import workers
from .helpers import close_all_but, wid

KIOSKS, PER_KIOSK, WINDOWS = 4, 40, (1, 2, 3, 4)


def check(database, issued, called):
    ids = [t[0] for t in issued]
    assert len(ids) == KIOSKS * PER_KIOSK
    numbers = [(t[1], t[2]) for t in issued]
    assert len(set(numbers)) == len(numbers), "a number was issued twice"
    for bundle in workers.BUNDLES:
        seqs = sorted(int(n[1:]) for b, n in numbers if b == bundle)
        assert seqs == list(range(1, len(seqs) + 1)), f"{bundle} numbering has gaps or repeats"
    counts = Counter(called)
    assert set(counts) == set(ids), "a ticket was never called"
    assert max(counts.values()) == 1, "a ticket was called twice"
    with database.read() as db:
        events = Counter(db.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "called")))
        statuses = Counter(db.scalars(select(Ticket.status)))
    assert events == counts
    assert statuses["waiting"] == 0


def run_threads(database, now):
    close_all_but(database, set(WINDOWS), now)
    window_ids = [wid(database, n) for n in WINDOWS]
    done = threading.Event()
    with ThreadPoolExecutor(KIOSKS + len(WINDOWS)) as pool:
        kiosks = [pool.submit(workers.kiosk, database.url, k, PER_KIOSK) for k in range(KIOSKS)]
        windows = [pool.submit(workers.window, database.url, w, done) for w in window_ids]
        try:
            issued = [t for f in kiosks for t in f.result(timeout=120)]
        finally:
            done.set()  # a kiosk that failed must not leave the windows waiting for it
        called = [t for f in windows for t in f.result(timeout=120)]
    return issued, called


def test_threads_on_sqlite(sqlite_db, now):
    issued, called = run_threads(sqlite_db, now)
    check(sqlite_db, issued, called)


@pytest.mark.postgres
def test_threads_on_postgres(pg_db, now):
    issued, called = run_threads(pg_db, now)
    check(pg_db, issued, called)


@pytest.mark.postgres
def test_processes_on_postgres(pg_db, now):
    close_all_but(pg_db, set(WINDOWS), now)
    window_ids = [wid(pg_db, n) for n in WINDOWS]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(KIOSKS + len(WINDOWS)) as pool:
        done = manager.Event()
        kiosks = [pool.apply_async(workers.kiosk, (pg_db.url, k, PER_KIOSK)) for k in range(KIOSKS)]
        windows = [pool.apply_async(workers.window, (pg_db.url, w, done)) for w in window_ids]
        issued = [t for r in kiosks for t in r.get(timeout=180)]
        done.set()
        called = [t for r in windows for t in r.get(timeout=180)]
    check(pg_db, issued, called)
