"""Taking a number, following it, and putting a returning no-show back in line."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import Database
from ..events import Event, QueueUpdated, WindowUpdated
from ..models import Allocation, Bundle, Hall, Ticket, TicketCounter, TicketEvent, Window
from ..queue import calling, eta
from ..queue.errors import (
    BundleNotServed,
    ClosingSoon,
    IdempotencyMismatch,
    InvalidTransition,
    NotFound,
    QueueError,
)
from ..queue.numbering import format_number, service_day
from ..queue.priority import Identity, entitled
from . import quotes
from .common import (
    TicketView,
    as_rule,
    audit,
    bundle_by_code,
    lock_hall,
    people_ahead_of,
    record,
    today,
    view,
    waiting_tickets,
)
from .waits import CACHE, HallFacts, ServedBundle, hall_load, load_and_ahead


@dataclass(frozen=True, slots=True)
class Issued:
    ticket: TicketView
    created: bool  # False when an Idempotency-Key replay returned the earlier ticket
    events: tuple[Event, ...]


def take_ticket(
    database: Database,
    hall_code: str,
    bundle_code: str,
    now: datetime,
    *,
    identity: Identity | None = None,
    priority: str | None = None,
    idempotency_key: str | None = None,
    source: str = "kiosk",
    device_id: int | None = None,
    check_hall: Callable[[int], None] | None = None,
) -> Issued:
    """Issue the next number of `bundle` in `hall` for today; the same key gives the same ticket.

    The common case is one transaction of few statements (taking a number is the hottest path of a
    hall): the Idempotency-Key is looked up only when the insert collides with an earlier ticket or
    the request is refused, so a retry still gets its ticket. `check_hall(hall_id)` lets the caller
    refuse a hall it may not issue in, inside the same transaction.
    """
    try:
        with database.write() as db:
            try:
                return _issue(db, hall_code, bundle_code, now, identity, priority,
                              idempotency_key, source, device_id, check_hall)
            except QueueError:
                earlier = _by_key(db, hall_code, idempotency_key) if idempotency_key else None
                if earlier is None or (check_hall is not None and _refused(check_hall, earlier)):
                    raise
                return _replay(db, earlier, bundle_code, now, device_id)
    except IntegrityError:
        # Another request with the same key committed first: answer with its ticket.
        if not idempotency_key:
            raise
        with database.read() as db:
            earlier = _by_key(db, hall_code, idempotency_key)
            if earlier is None:
                raise
            if check_hall is not None:
                check_hall(earlier.hall_id)
            return _replay(db, earlier, bundle_code, now, device_id)


def _refused(check_hall: Callable[[int], None], ticket: Ticket) -> bool:
    try:
        check_hall(ticket.hall_id)
    except QueueError:
        return True
    return False


def _by_key(db: Session, hall_code: str, key: str) -> Ticket | None:
    return db.scalar(select(Ticket).join(Hall, Hall.id == Ticket.hall_id)
                     .where(Hall.code == hall_code, Ticket.idempotency_key == key))


def _replay(db: Session, earlier: Ticket, bundle_code: str, now: datetime,
            device_id: int | None) -> Issued:
    # A key answers only the device that used it: another kiosk replaying it (by a bug or on purpose)
    # must not receive a stranger's ticket and tracking link.
    if earlier.device_id != device_id:
        raise IdempotencyMismatch("该请求编号已被其他终端使用，请重新取号")
    if earlier.bundle.code != bundle_code:
        raise IdempotencyMismatch("同一请求编号已用于另一事项的取号")
    hall = db.get_one(Hall, earlier.hall_id)
    return Issued(ticket=ticket_view(db, hall, earlier, now), created=False, events=())


def _upsert_counter(dialect: str) -> Any:
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_(TicketCounter).values(hall_id=bindparam("hall"), bundle_id=bindparam("bundle"),
                                         service_day=bindparam("day"), last_seq=1)
    return stmt.on_conflict_do_update(
        index_elements=["hall_id", "bundle_id", "service_day"],
        set_={"last_seq": TicketCounter.last_seq + 1},
    ).returning(TicketCounter.last_seq)


_NEXT_SEQ = {name: _upsert_counter(name) for name in ("postgresql", "sqlite")}


def _next_seq(conn: Connection, hall_id: int, bundle_id: int, day: object) -> int:
    """Atomically take the next sequence number: one upsert, so concurrent kiosks never share one."""
    stmt = _NEXT_SEQ["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    return int(conn.execute(stmt, {"hall": hall_id, "bundle": bundle_id, "day": day}).scalar_one())


def served_in(db: Session, hall: Hall, bundle: Bundle) -> bool:
    return db.scalar(select(Allocation.window_id).join(Window, Window.id == Allocation.window_id)
                     .where(Window.hall_id == hall.id, Allocation.bundle_id == bundle.id)
                     .limit(1)) is not None


def _served_bundle(db: Session, hall: HallFacts, static_bundles: dict[str, ServedBundle],
                   bundle_code: str) -> ServedBundle:
    """The bundle if a window of the hall serves it; otherwise say whether it is unknown or unserved."""
    served = static_bundles.get(bundle_code)
    if served is not None:
        return served
    bundle = bundle_by_code(db, bundle_code)
    raise BundleNotServed(f"{hall.name}暂未开设“{bundle.name}”窗口")


def _issue(db: Session, hall_code: str, bundle_code: str, now: datetime,
           identity: Identity | None, priority: str | None, key: str | None,
           source: str, device_id: int | None,
           check_hall: Callable[[int], None] | None = None) -> Issued:
    # The hall, its served bundles and its windows come from the per-process load cache (kept a few
    # seconds, dropped at once by a window change made here): the statements below are the only
    # ones a number costs, all Core statements on the session's connection.
    static = CACHE.by_code(db, hall_code, now)
    hall = static.hall
    if check_hall is not None:
        check_hall(hall.id)
    bundle = _served_bundle(db, hall, static.bundles, bundle_code)
    day = service_day(now, hall.timezone)
    grant = entitled(priority, identity, day, hall.elderly_age)
    conn = db.connection()
    seq = _next_seq(conn, hall.id, bundle.id, day)
    ticket = Ticket(
        hall_id=hall.id, bundle_id=bundle.id, service_day=day, seq=seq,
        number=format_number(bundle.prefix, seq), priority=grant.value,
        status=calling.Status.WAITING.value, source=source, taken_at=now, queue_at=now,
        idempotency_key=key, track_token=secrets.token_urlsafe(16),
        identity_hash=identity.id_hash if identity else None, device_id=device_id,
    )
    # Counted before the insert (the new ticket is the newest in its lane), so the quote is written
    # with the row instead of by a second statement.
    load, ahead = load_and_ahead(conn, static, ticket, now)
    wait = load.wait_for(bundle.code, ahead)
    closes = hall.closes_at(now)
    if not eta.served_before_closing(now, closes, wait, load.service_min[bundle.code]):
        raise ClosingSoon(f"“{bundle.name}”今日已停止取号：现在取号，预计在{closes:%H:%M}下班前办不完。"
                          "您可以预约其他时间办理，或到24小时自助服务区办理可自助的事项。")
    # Two plain INSERTs (the ORM's unit of work cost more than the database on this hottest path);
    # the ticket object above was only the rule's view of the row and never joins the session.
    quoted = quotes.calibration(db, hall.id, now).range_for(wait)
    row = {c: getattr(ticket, c) for c in _ISSUED_COLUMNS}
    ticket_id = conn.execute(_INSERT_TICKET, {**row, "quoted_people_ahead": ahead, "quoted_wait_min": wait,
                                              "quoted_range_lo": quoted[0] if quoted else None,
                                              "quoted_range_hi": quoted[1] if quoted else None,
                                              "recall_count": 0, "requeue_count": 0,
                                              "transfer_count": 0}).scalar_one()
    conn.execute(_INSERT_EVENT, {"ticket_id": ticket_id, "at": now, "kind": "issued", "window_id": None,
                                 "detail": json.dumps({"priority": grant.value, "source": source},
                                                      ensure_ascii=False)})
    shown = TicketView(id=ticket_id, number=ticket.number, bundle=bundle.code, bundle_name=bundle.name,
                       priority=grant.value, status=ticket.status, people_ahead=ahead, wait_min=wait,
                       track_token=ticket.track_token, taken_at=now, wait_range=quoted)
    return Issued(ticket=shown, created=True, events=(QueueUpdated(hall.code, (bundle.code,)),))


_INSERT_TICKET = insert(Ticket.__table__).returning(Ticket.__table__.c.id)
_INSERT_EVENT = insert(TicketEvent.__table__)
_ISSUED_COLUMNS = ("hall_id", "bundle_id", "service_day", "seq", "number", "priority", "status", "source",
                   "taken_at", "queue_at", "idempotency_key", "track_token", "identity_hash", "device_id")


def ticket_view(db: Session, hall: Hall, ticket: Ticket, now: datetime) -> TicketView:
    """The ticket with its people ahead and wait estimate when still waiting."""
    window = db.get(Window, ticket.window_id) if ticket.window_id else None
    if ticket.status != calling.Status.WAITING.value:
        return view(ticket, people_ahead=0 if ticket.status != "done" else None, window=window)
    ahead = people_ahead_of(db, ticket, now)
    wait = hall_load(db, hall, now).wait_for(ticket.bundle.code, ahead)
    shown = view(ticket, people_ahead=ahead, wait_min=wait)
    return replace(shown, wait_range=quotes.calibration(db, hall.id, now).range_for(wait))


def track(database: Database, track_token: str, now: datetime) -> tuple[str, TicketView]:
    """The public status of one ticket (for the phone page): its hall code and view."""
    with database.read() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.track_token == track_token))
        if ticket is None:
            raise NotFound("没有找到这张号票，可能已过期")
        hall = db.get_one(Hall, ticket.hall_id)
        return hall.code, ticket_view(db, hall, ticket, now)


def requeue(database: Database, ticket_id: int, now: datetime,
            audited_as: str | None = None) -> tuple[TicketView, tuple[Event, ...]]:
    """Put a no-show back in line the hall's configured number of places behind the head (过号重排)."""
    with database.write() as db:
        ticket = db.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound("号票不存在")
        hall = lock_hall(db, ticket.hall_id)  # two requeues of one ticket must not both pass
        db.refresh(ticket)
        if ticket.status != calling.Status.NO_SHOW.value or ticket.service_day != today(hall, now):
            raise InvalidTransition(f"{ticket.number}号不是今天的过号票，不能重新排队")
        waiting = waiting_tickets(db, hall, ticket.service_day)
        ticket.queue_at = calling.requeue_at(as_rule(ticket, ticket.bundle.code), waiting,
                                             hall.requeue_places, now)
        ticket.status = calling.Status.WAITING.value
        old_window = ticket.window_id
        ticket.window_id = None
        ticket.recall_count = 0
        ticket.requeue_count += 1
        record(db, ticket, "requeued", now, places=hall.requeue_places)
        if audited_as is not None:
            audit(db, now, audited_as, "ticket.requeue", hall.id, target=f"ticket:{ticket.number}")
        db.flush()
        shown = ticket_view(db, hall, ticket, now)
        events: tuple[Event, ...] = (QueueUpdated(hall.code, (ticket.bundle.code,)),)
        if old_window:
            events += (WindowUpdated(hall.code, old_window),)
        return shown, events
