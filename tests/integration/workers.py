"""Kiosk and window loops run in threads or in separate processes by the concurrency tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from queue_server.db import Database
from queue_server.queue import errors
from queue_server.services import calling, tickets

HALL = "demo"
BUNDLES = ("newborn", "retirement", "real-estate")


def now() -> datetime:
    # The fixed test day, moving forward with the wall clock so service times are real.
    return datetime(2026, 11, 23, 2, 0, tzinfo=UTC).replace(microsecond=0) + (
        datetime.now(UTC) - START)


START = datetime.now(UTC)


def kiosk(url: str, kiosk_no: int, count: int) -> list[tuple[int, str, str]]:
    """Take `count` tickets; return (id, bundle, number) of each."""
    database = Database(url)
    issued = []
    try:
        for i in range(count):
            bundle = BUNDLES[(kiosk_no + i) % len(BUNDLES)]
            t = tickets.take_ticket(database, HALL, bundle, now()).ticket
            issued.append((t.id, t.bundle, t.number))
    finally:
        database.dispose()
    return issued


def window(url: str, window_id: int, kiosks_done: Any) -> list[int]:
    """Call next until the queue is empty after every kiosk finished; return the called ids.

    `kiosks_done` is a threading or multiprocessing Event: however slow the machine, a window stops
    only once no kiosk can add a ticket any more and it found the queue empty after that.
    """
    database = Database(url)
    called = []
    try:
        while True:
            finished = kiosks_done.is_set()
            try:
                called.append(calling.call_next(database, window_id, now()).ticket.id)
            except errors.QueueEmpty:
                if finished:
                    return called
                time.sleep(0.01)
    finally:
        database.dispose()
