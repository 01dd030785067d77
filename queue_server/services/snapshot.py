"""The state a screen shows: what `snapshot` carries and what the public pages read.

Screens `hall` and `window:<id>` get public data only: numbers, windows, waits, never a name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ..models import Bundle, Hall, Ticket, TicketEvent, Window
from ..queue import calling
from . import quotes
from .common import ACTIVE, current_ticket, next_at_window, today
from .waits import BundleWait, hall_waits
from .windows import allocated, window_view

RECENT_CALLS = 10
NEXT_FEW = 5


def hall_info(hall: Hall) -> dict[str, Any]:
    return {"code": hall.code, "name": hall.name, "notice": hall.notice,
            "opens": hall.opens.strftime("%H:%M"), "closes": hall.closes.strftime("%H:%M"),
            "timezone": hall.timezone, "recall_limit": hall.recall_limit}


def _current_by_window(db: Session, hall: Hall, now: datetime) -> dict[int, Ticket]:
    rows = db.scalars(select(Ticket).where(Ticket.hall_id == hall.id,
                                           Ticket.service_day == today(hall, now),
                                           Ticket.status.in_(ACTIVE)))
    return {t.window_id: t for t in rows if t.window_id is not None}


def public_ticket(t: Ticket) -> dict[str, Any]:
    return {"number": t.number, "bundle": t.bundle.code, "bundle_name": t.bundle.name,
            "priority": t.priority, "status": t.status, "recall_count": t.recall_count}


def window_state(window: Window, current: Ticket | None,
                 bundles: dict[int, tuple[tuple[str, str, int], ...]] | None = None) -> dict[str, Any]:
    """The window with its current ticket; `bundles`: `allocated` of its hall, when read already."""
    data = window_view(window, None if bundles is None else bundles.get(window.id, ())).to_json()
    data["current"] = public_ticket(current) if current is not None else None
    return data


def recent_calls(db: Session, hall: Hall, now: datetime, limit: int = RECENT_CALLS) -> list[dict[str, Any]]:
    """Today's last calls, newest first (recalls included, marked)."""
    rows = db.execute(
        select(TicketEvent, Ticket, Window)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Window, Window.id == TicketEvent.window_id)
        .where(Ticket.hall_id == hall.id, Ticket.service_day == today(hall, now),
               TicketEvent.kind.in_(("called", "recalled")))
        .order_by(TicketEvent.id.desc()).limit(limit)
    )
    return [{"ticket": {"number": t.number, "bundle": t.bundle.code, "priority": t.priority},
             "window": {"id": w.id, "number": w.number, "name": w.name},
             "recall": e.kind == "recalled", "at": e.at.isoformat()} for e, t, w in rows]


def next_for_window(db: Session, hall: Hall, window: Window, now: datetime,
                    count: int = NEXT_FEW) -> list[dict[str, Any]]:
    """The tickets this window would call next, in order, if nobody else called first."""
    return next_json(next_at_window(db, hall.id, today(hall, now), window.id, now, count), window.id)


def next_json(line: list[calling.Ticket], window_id: int) -> list[dict[str, Any]]:
    return [{"number": t.number, "bundle": t.bundle, "priority": t.priority.value,
             "transferred": t.for_window == window_id} for t in line]


_READ = object()  # window_update's `current` when not given: read it


def window_update(db: Session, hall: Hall, window: Window, now: datetime, current: Any = _READ,
                  line: list[calling.Ticket] | None = None, count: int = NEXT_FEW) -> dict[str, Any]:
    """What `window_updated` carries of a window: its state with the current ticket, and its next
    tickets. `current` (a Ticket or None) and `line` (its next NEXT_FEW) when the caller has them."""
    if current is _READ:
        current = current_ticket(db, window, today(hall, now), options=(joinedload(Ticket.bundle),))
    return {
        "window": window_state(window, current, allocated(db, hall.id, window.id)),
        "next": next_for_window(db, hall, window, now, count) if line is None else next_json(line, window.id),
    }


def hall_snapshot(db: Session, hall: Hall, now: datetime,
                  waits: list[BundleWait] | None = None) -> dict[str, Any]:
    current = _current_by_window(db, hall, now)
    windows = db.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number))
    bundles = allocated(db, hall.id)
    return {
        "hall": hall_info(hall),
        "bundles": [b.to_json() for b in (waits if waits is not None else hall_waits(db, hall, now))],
        "windows": [window_state(w, current.get(w.id), bundles) for w in windows],
        "recent_calls": recent_calls(db, hall, now),
        "calibration": quotes.calibration(db, hall.id, now).to_json(),
        "at": now.isoformat(),
    }


def window_snapshot(db: Session, hall: Hall, window: Window, now: datetime,
                    count: int = NEXT_FEW) -> dict[str, Any]:
    return {"hall": hall_info(hall), **window_update(db, hall, window, now, count=count),
            "at": now.isoformat()}


def manager_snapshot(db: Session, hall: Hall, now: datetime) -> dict[str, Any]:
    """The hall live for the manager: adds the longest wait per bundle and each window's waiting line."""
    waits = hall_waits(db, hall, now)
    data = hall_snapshot(db, hall, now, waits)
    longest = {b.code: int((now - b.oldest_taken_at).total_seconds() // 60)
               for b in waits if b.oldest_taken_at is not None}
    for b in data["bundles"]:
        b["longest_wait_min"] = longest.get(b["code"], 0)
    data["waiting_total"] = sum(b["waiting"] for b in data["bundles"])
    data["served_today"] = db.scalar(select(func.count(Ticket.id)).where(
        Ticket.hall_id == hall.id, Ticket.service_day == today(hall, now),
        Ticket.status == calling.Status.DONE.value))
    return data


def bundle_names(db: Session) -> dict[str, str]:
    return {code: name for code, name in db.execute(select(Bundle.code, Bundle.name))}
