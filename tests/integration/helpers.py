"""Small helpers the queue tests share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from queue_server.db import Database
from queue_server.models import Window
from queue_server.services import windows

HALL = "demo"


def wid(database: Database, number: int) -> int:
    """The id of the demo hall's window `number`."""
    with database.read() as db:
        return db.scalars(select(Window.id).where(Window.number == number)).one()


def only(database: Database, number: int, bundles: dict[str, int], now: datetime) -> int:
    """Make window `number` serve exactly `bundles` ({code: rank}); returns its id."""
    windows.set_allocation(database, HALL, number, list(bundles.items()), now)
    return wid(database, number)


def close_all_but(database: Database, numbers: set[int], now: datetime) -> None:
    """Close every window of the demo hall except `numbers` (so tests control who calls what)."""
    for w in windows.list_windows(database, HALL):
        if w.number not in numbers and w.open:
            windows.set_open(database, w.id, False, now)
