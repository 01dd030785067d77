"""Taking a number, following it, and putting a returning no-show back in line."""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..events import Event, QueueUpdated, WindowUpdated
from ..groupcommit import ALONE, GroupCommit
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
from .waits import CACHE, HallFacts, HallLine, ServedBundle, _Windows, hall_lines, hall_load


@dataclass(frozen=True, slots=True)
class Issued:
    ticket: TicketView
    created: bool  # False when an Idempotency-Key replay returned the earlier ticket
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class TakeRequest:
    """One request for a number (`now` None: the clock when it is issued, shared by its batch)."""

    hall_code: str
    bundle_code: str
    now: datetime | None = None
    identity: Identity | None = None
    priority: str | None = None
    idempotency_key: str | None = None
    source: str = "kiosk"
    device_id: int | None = None
    check_hall: Callable[[int], None] | None = None


def take_ticket(
    database: Database,
    hall_code: str,
    bundle_code: str,
    now: datetime | None,
    *,
    identity: Identity | None = None,
    priority: str | None = None,
    idempotency_key: str | None = None,
    source: str = "kiosk",
    device_id: int | None = None,
    check_hall: Callable[[int], None] | None = None,
) -> Issued:
    """Issue the next number of `bundle` in `hall` for today; the same key gives the same ticket.

    Numbers requested at the same moment are issued together (groupcommit.py): one transaction of
    four statements for the whole batch. A request the batch cannot answer plainly (refused, an
    Idempotency-Key seen before, a database error) is then taken alone by `_take_alone`, which says
    why or replays the earlier ticket. `check_hall(hall_id)` lets the caller refuse a hall it may not
    issue in, inside the transaction.
    """
    request = TakeRequest(hall_code, bundle_code, now, identity, priority, idempotency_key, source,
                          device_id, check_hall)
    issued = _group(database).submit(request)
    if isinstance(issued, Issued):
        return issued
    return _take_alone(database, request)


_GROUPS: WeakKeyDictionary[Database, GroupCommit[TakeRequest, Issued]] = WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def _group(database: Database) -> GroupCommit[TakeRequest, Issued]:
    group = _GROUPS.get(database)
    if group is None:
        with _GROUPS_LOCK:
            group = _GROUPS.get(database)
            if group is None:
                group = _GROUPS[database] = GroupCommit(lambda batch: _issue_batch(database, batch))
    return group


def _issue_batch(database: Database, batch: Sequence[TakeRequest]) -> list[Issued | object]:
    """Issue what can be issued plainly; ALONE for the rest. A database error: ALONE for all."""
    try:
        with database.write() as db:
            return _issue(db, batch, clock.now(), leave_refused=True)
    except DBAPIError:
        return [ALONE] * len(batch)  # e.g. a key used twice in one batch: each alone says which


def _take_alone(database: Database, request: TakeRequest) -> Issued:
    """One number in its own transaction, with the refusals and Idempotency-Key replays said."""
    key, check_hall = request.idempotency_key, request.check_hall
    try:
        with database.write() as db:
            try:
                return _issue(db, [request], clock.now(), leave_refused=False)[0]  # type: ignore[return-value]
            except QueueError:
                earlier = _by_key(db, request.hall_code, key) if key else None
                if earlier is None or (check_hall is not None and _refused(check_hall, earlier)):
                    raise
                return _replay(db, earlier, request.bundle_code, request.now or clock.now(),
                               request.device_id)
    except IntegrityError:
        # Another request with the same key committed first: answer with its ticket.
        if not key:
            raise
        with database.read() as db:
            earlier = _by_key(db, request.hall_code, key)
            if earlier is None:
                raise
            if check_hall is not None:
                check_hall(earlier.hall_id)
            return _replay(db, earlier, request.bundle_code, request.now or clock.now(),
                           request.device_id)


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


def _reserve_numbers(dialect: str) -> Any:
    """Take `n` sequence numbers of a lane at once: one upsert, so concurrent kiosks never share one."""
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_(TicketCounter).values(hall_id=bindparam("hall"), bundle_id=bindparam("bundle"),
                                         service_day=bindparam("day"), last_seq=bindparam("n"))
    return stmt.on_conflict_do_update(
        index_elements=["hall_id", "bundle_id", "service_day"],
        set_={"last_seq": TicketCounter.last_seq + stmt.excluded.last_seq},
    ).returning(TicketCounter.hall_id, TicketCounter.bundle_id, TicketCounter.service_day,
                TicketCounter.last_seq)


_RESERVE = {name: _reserve_numbers(name) for name in ("postgresql", "sqlite")}


def _reserve(conn: Connection, lanes: list[dict[str, Any]]) -> dict[tuple[int, int, date], int]:
    """Reserve `n` numbers of each lane (hall, bundle, day): the last number of each, now taken."""
    stmt = _RESERVE["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    return {(h, b, d): seq for h, b, d, seq in conn.execute(stmt, lanes)}


def next_seq(conn: Connection, hall_id: int, bundle_id: int, day: date) -> int:
    """The next sequence number of one lane (an appointment's check-in)."""
    lane = (hall_id, bundle_id, day)
    return _reserve(conn, [{"hall": hall_id, "bundle": bundle_id, "day": day, "n": 1}])[lane]


_GIVE_BACK = (update(TicketCounter)
              .where(TicketCounter.hall_id == bindparam("hall"),
                     TicketCounter.bundle_id == bindparam("bundle"),
                     TicketCounter.service_day == bindparam("day"))
              .values(last_seq=TicketCounter.last_seq - bindparam("n")))


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


@dataclass(slots=True)
class _Planned:
    index: int
    request: TakeRequest
    static: _Windows
    bundle: ServedBundle
    day: date
    grant: calling.Priority
    now: datetime


def _plan(db: Session, index: int, request: TakeRequest, now: datetime) -> _Planned:
    # The hall, its served bundles and its windows come from the per-process load cache (kept up to a
    # minute, dropped at once by a window change): nothing slow-changing is read per number.
    static = CACHE.by_code(db, request.hall_code, now)
    hall = static.hall
    if request.check_hall is not None:
        request.check_hall(hall.id)
    bundle = _served_bundle(db, hall, static.bundles, request.bundle_code)
    day = service_day(now, hall.timezone)
    return _Planned(index, request, static, bundle, day,
                    entitled(request.priority, request.identity, day, hall.elderly_age), now)


def _issue(db: Session, batch: Sequence[TakeRequest], issued_at: datetime, *, leave_refused: bool
           ) -> list[Issued | object]:
    """Issue the batch's numbers in order, as if one after the other, in four statements (on
    PostgreSQL in three round trips with BEGIN and COMMIT: services/pipelined.py).

    Each number is counted against its hall's line as the database holds it after the lanes' numbers
    were reserved (their row locks order concurrent batches), plus the numbers issued before it in
    the batch. With `leave_refused`, a refused request is ALONE (its caller takes it alone, to say
    why); without, the refusal is raised. Core statements on the session's connection: the ORM's
    unit of work cost more than the database on this hottest path.
    """
    outcomes: list[Issued | object] = [ALONE] * len(batch)
    planned: list[_Planned] = []
    for index, request in enumerate(batch):
        try:
            planned.append(_plan(db, index, request, request.now or issued_at))
        except QueueError:
            if not leave_refused:
                raise
    if not planned:
        return outcomes
    conn = db.connection()
    pipelined = conn.dialect.name == "postgresql"
    if pipelined:
        from . import pipelined as pipeline  # psycopg comes with the `postgres` extra only
    wanted = Counter((p.static.hall.id, p.bundle.id, p.day) for p in planned)
    # Sorted, so that two processes' batches lock the lanes in the same order (no deadlock).
    lanes = [(h, b, d, n) for (h, b, d), n in sorted(wanted.items())]
    reads = [(now, {p.static.hall.id: p.day for p in planned if p.now == now})
             for now in sorted({p.now for p in planned})]
    if pipelined:
        reserved, read = pipeline.reserve_and_read(conn, lanes, reads)
    else:
        reserved = _reserve(conn, [{"hall": h, "bundle": b, "day": d, "n": n} for h, b, d, n in lanes])
        read = [hall_lines(conn, days, now, oldest=False) for now, days in reads]
    following = {lane: reserved[lane] - n + 1 for lane, n in wanted.items()}
    lines: dict[tuple[datetime, int], HallLine] = {
        (now, hall_id): line for (now, _), halls in zip(reads, read, strict=True)
        for hall_id, line in halls.items()}
    issued: list[tuple[_Planned, dict[str, Any], tuple[int, int] | None]] = []
    for p in planned:
        hall, bundle, now = p.static.hall, p.bundle, p.now
        line = lines[now, hall.id]
        lane = int(calling.base_lane(calling.Ticket(id=0, number="", bundle=bundle.code, queue_at=now,
                                                    priority=p.grant), now))
        ahead = line.ahead_of_newest(bundle.code, lane)
        load = line.load(p.static)
        wait = load.wait_for(bundle.code, ahead)
        closes = hall.closes_at(now)
        if not eta.served_before_closing(now, closes, wait, load.service_min[bundle.code]):
            if not leave_refused:
                raise ClosingSoon(f"“{bundle.name}”今日已停止取号：现在取号，"
                                  f"预计在{closes:%H:%M}下班前办不完。"
                                  "您可以预约其他时间办理，或到24小时自助服务区办理可自助的事项。")
            continue
        for (at, hall_id), other in lines.items():  # seen by the numbers after it, at their own moment
            if hall_id == hall.id:
                other.add_newest(bundle.code, lane, now, queued=now <= at)
        key = (hall.id, bundle.id, p.day)
        seq, following[key] = following[key], following[key] + 1
        quoted = quotes.calibration(db, hall.id, now).range_for(wait)
        request = p.request
        issued.append((p, {
            "hall_id": hall.id, "bundle_id": bundle.id, "service_day": p.day, "seq": seq,
            "number": format_number(bundle.prefix, seq), "priority": p.grant.value,
            "status": calling.Status.WAITING.value, "source": request.source, "taken_at": now,
            "queue_at": now, "idempotency_key": request.idempotency_key,
            "track_token": secrets.token_urlsafe(16),
            "identity_hash": request.identity.id_hash if request.identity else None,
            "device_id": request.device_id, "quoted_people_ahead": ahead, "quoted_wait_min": wait,
            "quoted_range_lo": quoted[0] if quoted else None,
            "quoted_range_hi": quoted[1] if quoted else None,
            "recall_count": 0, "requeue_count": 0, "transfer_count": 0,
        }, quoted))
    # Numbers reserved for requests refused at closing time are given back (the lanes are still
    # locked by this transaction, so nobody took one since).
    unused = wanted - Counter((row["hall_id"], row["bundle_id"], row["service_day"]) for _, row, _ in issued)
    if unused:
        conn.execute(_GIVE_BACK, [{"hall": h, "bundle": b, "day": d, "n": n}
                                  for (h, b, d), n in unused.items()])
    if not issued:
        return outcomes
    rows = [row for _, row, _ in issued]
    details = [json.dumps({"priority": row["priority"], "source": row["source"]}, ensure_ascii=False)
               for row in rows]
    if pipelined:
        ids = pipeline.insert_and_commit(conn, rows, details)
    else:
        ids = {token: id_ for token, id_ in conn.execute(_INSERT_TICKET, rows)}
        conn.execute(_INSERT_EVENT, [
            {"ticket_id": ids[row["track_token"]], "at": row["taken_at"], "kind": "issued",
             "window_id": None, "detail": detail} for row, detail in zip(rows, details, strict=True)])
    for p, row, quoted in issued:
        shown = TicketView(id=ids[row["track_token"]], number=row["number"], bundle=p.bundle.code,
                           bundle_name=p.bundle.name, priority=row["priority"], status=row["status"],
                           people_ahead=row["quoted_people_ahead"], wait_min=row["quoted_wait_min"],
                           track_token=row["track_token"], taken_at=p.now, wait_range=quoted)
        outcomes[p.index] = Issued(ticket=shown, created=True,
                                   events=(QueueUpdated(p.static.hall.code, (p.bundle.code,)),))
    return outcomes


_INSERT_TICKET = insert(Ticket.__table__).returning(Ticket.__table__.c.track_token, Ticket.__table__.c.id)
_INSERT_EVENT = insert(TicketEvent.__table__)


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
