"""Lookups and row-to-rule conversions the services share."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from ..events import WindowRef
from ..models import Allocation, AuditLog, Bundle, Hall, Ticket, TicketEvent, Window
from ..queue import calling
from ..queue.errors import NotFound
from ..queue.numbering import service_day

ACTIVE = (calling.Status.CALLED.value, calling.Status.SERVING.value)


def hall_by_code(db: Session, code: str, lock: bool = False) -> Hall:
    query = select(Hall).where(Hall.code == code)
    hall = db.scalar(query.with_for_update(key_share=True) if lock else query)
    if hall is None:
        raise NotFound(f"没有编号为 {code} 的大厅")
    return hall


def lock_hall(db: Session, hall_id: int | Any, missing: str = "大厅不存在") -> Hall:
    """Serialise the hall's calls: a row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.

    FOR NO KEY UPDATE, not FOR UPDATE: inserting a ticket takes a key-share lock on its hall row
    (the foreign key), which FOR UPDATE would block, so every kiosk would wait behind every call.
    `hall_id` may be a scalar subquery (the hall of a window); `missing`: the 404's message.
    """
    hall = db.scalar(select(Hall).where(Hall.id == hall_id).with_for_update(key_share=True))
    if hall is None:
        raise NotFound(missing)
    return hall


Check = Callable[[Window], None] | None  # may the caller act at this window (raises if not)


def lock_window(db: Session, window_id: int, check: Check = None) -> tuple[Hall, Window]:
    """Lock the window's hall (one statement), then load the window as the last change left it and
    `check` that the caller may act there (raises if not): every change to a window starts here."""
    hall = lock_hall(db, select(Window.hall_id).where(Window.id == window_id).scalar_subquery(),
                     missing=f"没有编号为 {window_id} 的窗口")
    window = db.get_one(Window, window_id)
    if check is not None:
        check(window)
    return hall, window


def window_in_hall(db: Session, hall: Hall, number: int) -> Window:
    window = db.scalar(select(Window).where(Window.hall_id == hall.id, Window.number == number))
    if window is None:
        raise NotFound(f"{hall.name}没有{number}号窗口")
    return window


def bundle_by_code(db: Session, code: str) -> Bundle:
    bundle = db.scalar(select(Bundle).where(Bundle.code == code))
    if bundle is None:
        raise NotFound(f"没有编码为 {code} 的事项")
    return bundle


def today(hall: Hall, now: datetime) -> date:
    return service_day(now, hall.timezone)


def window_ref(window: Window) -> WindowRef:
    return WindowRef(id=window.id, number=window.number, name=window.name)


def ranks_of(db: Session, window: Window) -> dict[str, int]:
    rows = db.execute(
        select(Bundle.code, Allocation.rank)
        .join(Allocation, Allocation.bundle_id == Bundle.id)
        .where(Allocation.window_id == window.id)
    )
    return {code: rank for code, rank in rows}


def as_rule(t: Ticket, bundle_code: str) -> calling.Ticket:
    return calling.Ticket(
        id=t.id, number=t.number, bundle=bundle_code, priority=calling.Priority(t.priority),
        queue_at=t.queue_at, for_window=t.for_window_id, due_at=t.due_at,
    )


_WAITING_LINE = (
    select(Ticket.id, Ticket.number, Bundle.code, Ticket.priority, Ticket.queue_at, Ticket.for_window_id,
           Ticket.due_at)
    .join(Bundle, Bundle.id == Ticket.bundle_id)
    .where(Ticket.hall_id == bindparam("hall"), Ticket.service_day == bindparam("day"),
           Ticket.status == calling.Status.WAITING.value)
)


def waiting_tickets(db: Session, hall: Hall, day: date) -> list[calling.Ticket]:
    """Every waiting ticket of the hall's service day, as the rules see them.

    Columns, not ORM objects: every call and every window screen's refresh reads the hall's whole
    line, and building a mapped object per waiting ticket cost more than the query.
    """
    rows = db.connection().execute(_WAITING_LINE, {"hall": hall.id, "day": day})
    return [calling.Ticket(id=i, number=number, bundle=code, priority=calling.Priority(priority),
                           queue_at=queue_at, for_window=for_window, due_at=due_at)
            for i, number, code, priority, queue_at, for_window, due_at in rows]


def lane_sql(now: Any) -> Any:
    """`calling.base_lane` as a SQL expression over the ticket table (`now`: a value or bindparam)."""
    return case(
        (and_(Ticket.priority == calling.Priority.APPOINTMENT.value, Ticket.due_at.is_not(None),
              Ticket.due_at <= now), int(calling.Lane.APPOINTMENT)),
        (Ticket.priority.in_((calling.Priority.ELDERLY.value, calling.Priority.DISABLED.value)),
         int(calling.Lane.PRIORITY)),
        else_=int(calling.Lane.NORMAL),
    )


# Built once with bind parameters (a ticket's tracking page and a replayed number ask them; issuing
# counts from waits.hall_lines): composing the expression anew cost more than the database's answer.
_NEWEST = 2**31 - 1  # the id a ticket not inserted yet counts as: the largest INTEGER
_AT = Ticket.queue_at.type
_SAME_LINE = and_(
    Ticket.hall_id == bindparam("hall"), Ticket.service_day == bindparam("day"),
    Ticket.status == calling.Status.WAITING.value, Ticket.id != bindparam("id"),
)
_EARLIER = or_(Ticket.queue_at < bindparam("at", type_=_AT),
               and_(Ticket.queue_at == bindparam("at", type_=_AT), Ticket.id < bindparam("id")))
_AHEAD_IN_BUNDLE = select(func.count()).select_from(Ticket).where(
    _SAME_LINE, Ticket.bundle_id == bindparam("bundle"), Ticket.for_window_id.is_(None),
    or_(lane_sql(bindparam("now", type_=_AT)) < bindparam("lane"),
        and_(lane_sql(bindparam("now", type_=_AT)) == bindparam("lane"), _EARLIER)))
_AHEAD_AT_WINDOW = select(func.count()).select_from(Ticket).where(
    _SAME_LINE, Ticket.for_window_id == bindparam("window"), _EARLIER)


def people_ahead_of(db: Session | Connection, ticket: Ticket, now: datetime) -> int:
    """`calling.people_ahead` of one waiting ticket, counted by the database.

    The same rule as the pure function (tests/integration/test_people_ahead.py holds them equal),
    without loading the hall's whole line. A ticket not inserted yet is the
    newest: a tie in place puts the others ahead of it.
    """
    if ticket.for_window_id is not None:
        params: dict[str, Any] = {"hall": ticket.hall_id, "day": ticket.service_day,
                                  "id": ticket.id if ticket.id is not None else _NEWEST,
                                  "at": ticket.queue_at, "window": ticket.for_window_id}
        return int(db.scalar(_AHEAD_AT_WINDOW, params) or 0)
    return int(db.scalar(_AHEAD_IN_BUNDLE, _ahead_in_bundle_params(ticket, now)) or 0)


def _ahead_in_bundle_params(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """The parameters of _AHEAD_IN_BUNDLE for a ticket waiting in its bundle's line (no window's)."""
    rule = calling.Ticket(id=0, number=ticket.number, bundle="", queue_at=ticket.queue_at,
                          priority=calling.Priority(ticket.priority), due_at=ticket.due_at)
    return {"hall": ticket.hall_id, "day": ticket.service_day,
            "id": ticket.id if ticket.id is not None else _NEWEST, "at": ticket.queue_at,
            "bundle": ticket.bundle_id, "now": now, "lane": int(calling.base_lane(rule, now))}



# The tickets a window would call, in `calling.choose_next`'s order, chosen by the database: a call
# and a window screen's refresh read a few rows instead of the hall's whole line.
_TRANSFERRED_HERE = Ticket.for_window_id == bindparam("window")
_HERE = Allocation.__table__.alias("here")  # the window's allocation of the ticket's bundle
_HELD_AT = Window.__table__.alias("held_at")  # the window the ticket was transferred to
_NEXT_AT_WINDOW = (
    select(Ticket.id, Ticket.number, Bundle.code, Ticket.priority, Ticket.queue_at, Ticket.for_window_id,
           Ticket.due_at)
    .join(Bundle, Bundle.id == Ticket.bundle_id)
    .outerjoin(_HERE, and_(_HERE.c.bundle_id == Ticket.bundle_id, _HERE.c.window_id == bindparam("window")))
    .outerjoin(_HELD_AT, _HELD_AT.c.id == Ticket.for_window_id)
    .where(Ticket.hall_id == bindparam("hall"), Ticket.service_day == bindparam("day"),
           Ticket.status == calling.Status.WAITING.value,
           # calling.eligible: transferred here, or in a bundle served here and not held open elsewhere
           or_(_TRANSFERRED_HERE,
               and_(_HERE.c.rank.is_not(None),
                    or_(Ticket.for_window_id.is_(None), _HELD_AT.c.open.is_(False)))))
    .order_by(  # calling.choose_next's order: lane, the window's rank of the bundle, place, id
        case((_TRANSFERRED_HERE, int(calling.Lane.TRANSFERRED)), else_=lane_sql(bindparam("now", type_=_AT))),
        case((_TRANSFERRED_HERE, 0), else_=_HERE.c.rank),
        Ticket.queue_at, Ticket.id)
    .limit(bindparam("count"))
)


def next_at_window(db: Session | Connection, hall_id: int, day: date, window_id: int, now: datetime,
                   count: int = 1) -> list[calling.Ticket]:
    """The next `count` tickets `window_id` would call, first first: what calling `choose_next` again
    and again (each time without the one chosen) gives (tests/integration/test_people_ahead.py holds
    them equal), read by the database instead of from the hall's whole line."""
    rows = db.execute(_NEXT_AT_WINDOW, {"hall": hall_id, "day": day, "window": window_id, "now": now,
                                        "count": count})
    return [calling.Ticket(id=i, number=number, bundle=code, priority=calling.Priority(priority),
                           queue_at=queue_at, for_window=for_window, due_at=due_at)
            for i, number, code, priority, queue_at, for_window, due_at in rows]


def current_ticket(db: Session, window: Window, day: date, options: tuple[Any, ...] = ()) -> Ticket | None:
    """The ticket called to or being served at `window` today, if any (`options`: loader options)."""
    return db.scalar(
        select(Ticket).where(Ticket.window_id == window.id, Ticket.service_day == day,
                             Ticket.status.in_(ACTIVE))
        .order_by(Ticket.called_at.desc()).limit(1).options(*options)
    )


def record(db: Session, ticket: Ticket, kind: str, at: datetime,
           window_id: int | None = None, **detail: Any) -> None:
    """Append one step to the ticket's history."""
    db.add(TicketEvent(ticket_id=ticket.id, at=at, kind=kind, window_id=window_id,
                       detail=json.dumps(detail, ensure_ascii=False) if detail else None))


def audit(db: Session, at: datetime, actor: str, action: str, hall_id: int | None = None,
          target: str | None = None, **detail: Any) -> None:
    db.add(AuditLog(at=at, actor=actor, action=action, hall_id=hall_id, target=target,
                    detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None))


def range_json(quoted: tuple[int, int] | None) -> dict[str, int] | None:
    """A quoted wait range (services/quotes.py) as the API and the screens carry it."""
    return {"lo": quoted[0], "hi": quoted[1]} if quoted is not None else None


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as the API answers it (DESIGN.md: id, number, bundle, priority, status, people_ahead,
    wait_min, track_token; more fields may be added)."""

    id: int
    number: str
    bundle: str
    bundle_name: str
    priority: str
    status: str
    people_ahead: int | None
    wait_min: int | None
    track_token: str
    taken_at: datetime
    window: WindowRef | None = None
    recall_count: int = 0
    wait_range: tuple[int, int] | None = None  # the quoted range (services/quotes.py)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "number": self.number, "bundle": self.bundle,
            "bundle_name": self.bundle_name, "priority": self.priority, "status": self.status,
            "people_ahead": self.people_ahead, "wait_min": self.wait_min,
            "track_token": self.track_token, "taken_at": self.taken_at.isoformat(),
            "window": self.window.to_json() if self.window else None,
            "recall_count": self.recall_count,
            "wait_range": range_json(self.wait_range),
        }


def view(t: Ticket, people_ahead: int | None = None, wait_min: int | None = None,
         window: Window | None = None) -> TicketView:
    return TicketView(
        id=t.id, number=t.number, bundle=t.bundle.code, bundle_name=t.bundle.name,
        priority=t.priority, status=t.status, people_ahead=people_ahead, wait_min=wait_min,
        track_token=t.track_token, taken_at=t.taken_at,
        window=window_ref(window) if window is not None else None, recall_count=t.recall_count,
    )
