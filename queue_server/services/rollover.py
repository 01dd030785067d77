"""The end of a service day: what still waits is expired, what is at a window is closed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from ..db import Database
from ..events import Event, QueueUpdated
from ..models import Ticket
from ..queue import calling
from .common import ACTIVE, hall_by_code, today


def close_past_days(database: Database, hall_code: str,
                    now: datetime) -> tuple[int, tuple[Event, ...]]:
    """Expire tickets of earlier service days still waiting or left open at a window.

    The queue only ever reads today's tickets, so numbering and calling are right without this;
    it keeps reports honest (an expired ticket never counts as served, nor in service times).
    `govhall serve` runs it at start-up and every few minutes after.
    """
    with database.write() as db:
        hall = hall_by_code(db, hall_code)
        day = today(hall, now)
        open_states = (calling.Status.WAITING.value, *ACTIVE)
        expired = db.execute(
            update(Ticket).where(Ticket.hall_id == hall.id, Ticket.service_day < day,
                                 Ticket.status.in_(open_states))
            .values(status=calling.Status.EXPIRED.value, finished_at=now)
        ).rowcount
        return int(expired or 0), ((QueueUpdated(hall.code, ()),) if expired else ())
