"""Appointments (预约): half-hour slots per bundle, booking, cancelling, and check-in into a ticket.

Capacity of the half-hour slots of bundle b on a day (documented because managers plan with it):

    r = Σ over open, unpaused windows w serving b of share_w(b) × 30 / service_min(b) × (1 − walk-in share)
    share_w(b) = rank_weight(rank of b at w) / Σ over bundles c of w of rank_weight(rank of c at w)

r is how many citizens of b the hall serves in half an hour with every bundle equally in demand
(eta.py's rank weighting), less the share the hall keeps for walk-ins. Slot k of the day (k = 0, 1, …) holds
floor((k + 1)·r) − floor(k·r) bookings: that is floor(r) when r is whole, and a fractional r (most
bundles of a hall whose 综合受理 windows serve everything) is carried to later slots instead of being
floored away, so a day never holds more than floor(n·r) bookings over its n slots.

A booking turns into at most one ticket: check-in locks the appointment row (FOR UPDATE on
PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers) and issues the ticket in the same
transaction that marks it checked in.

The walk-in share, the grace after the slot start, the per-person limit of open bookings and the
booking horizon are the hall's settings (services/settings.py); bookable days are the hall's
working days (Monday–Friday less its holidays, plus its 调休 working weekend days).
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import Database
from ..events import Event, QueueUpdated
from ..models import Appointment, Bundle, Hall, Ticket
from ..queue import calling, eta
from ..queue.errors import BadRequest, Conflict, Forbidden, NotFound
from ..queue.numbering import format_number
from ..queue.priority import Identity
from .common import TicketView, bundle_by_code, hall_by_code, lock_hall, record
from .settings import HallPolicy, exceptions, is_working, policy
from .tickets import next_seq, served_in, ticket_view
from .waits import hall_load

# The walk-in share, grace, per-person limit and booking horizon are per hall: settings.policy().
EARLY_MIN = 15  # check-in opens this many minutes before the slot start
SLOT_MIN = 30

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed at a kiosk
CODE_LENGTH = 8


class SlotUnavailable(BadRequest):
    code = "slot_unavailable"


class SlotFull(Conflict):
    code = "slot_full"


class BookingLimit(Conflict):
    code = "booking_limit"


class TooEarly(Conflict):
    code = "too_early"


class TooLate(Conflict):
    code = "too_late"


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"


class NotBooked(Conflict):
    code = "not_booked"


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    capacity: int
    booked: int

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "capacity": self.capacity,
                "booked": self.booked, "remaining": max(self.capacity - self.booked, 0)}


@dataclass(frozen=True, slots=True)
class AppointmentView:
    code: str
    hall: str
    bundle: str
    bundle_name: str
    slot_start: datetime
    slot_end: datetime
    status: str  # booked | checked_in | cancelled | missed
    masked_name: str
    late: bool  # checked in after the slot start
    ticket_number: str | None
    track_token: str | None
    grace_min: int  # the hall's grace after the slot start

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "hall": self.hall, "bundle": self.bundle,
                "bundle_name": self.bundle_name, "slot_start": self.slot_start.isoformat(),
                "slot_end": self.slot_end.isoformat(), "status": self.status,
                "masked_name": self.masked_name, "late": self.late,
                "ticket_number": self.ticket_number, "track_token": self.track_token,
                "check_in_from": (self.slot_start - timedelta(minutes=EARLY_MIN)).isoformat(),
                "check_in_until": (self.slot_start + timedelta(minutes=self.grace_min)).isoformat(),
                "grace_min": self.grace_min}


# --- capacity ------------------------------------------------------------------------------------

def half_hour_rate(db: Session, hall: Hall, bundle_code: str, now: datetime) -> float:
    """r of the module docstring: bookable citizens of the bundle per half hour (fractional)."""
    load = hall_load(db, hall, now)
    share = 0.0
    for w in load.windows:
        if bundle_code in w.ranks:
            share += eta.rank_weight(w.ranks[bundle_code]) / sum(eta.rank_weight(r) for r in w.ranks.values())
    service = load.service_min.get(bundle_code)
    if not service:
        return 0.0
    return share * SLOT_MIN / service * (1 - policy(db, hall).walk_in_share)


def slot_capacity(rate: float, index: int) -> int:
    """Bookings slot `index` of a day holds: fractional rates are carried, never rounded up in one slot."""
    # a hair of tolerance so 2.0000000001 × k does not gain a booking from float noise
    return math.floor((index + 1) * rate + 1e-9) - math.floor(index * rate + 1e-9)


def bookable_days(db: Session, hall: Hall, now: datetime) -> list[date]:
    """The hall's working days from today to its horizon that still have a slot starting after `now`."""
    tz = ZoneInfo(hall.timezone)
    today = now.astimezone(tz).date()
    days = [today + timedelta(days=i) for i in range(policy(db, hall).days_ahead + 1)]
    marked = exceptions(db, hall, days[0], days[-1])
    return [d for d in days if is_working(d, marked) and any(s > now for s, _ in _slot_times(hall, d))]


def _slot_times(hall: Hall, day: date) -> list[tuple[datetime, datetime]]:
    tz = ZoneInfo(hall.timezone)
    start = datetime.combine(day, hall.opens, tz)
    closes = datetime.combine(day, hall.closes, tz)
    result = []
    while start + timedelta(minutes=SLOT_MIN) <= closes:
        end = start + timedelta(minutes=SLOT_MIN)
        result.append((start.astimezone(UTC), end.astimezone(UTC)))
        start = end
    return result


def _booked_counts(db: Session, hall: Hall, bundle: Bundle, starts: list[datetime]) -> Counter[datetime]:
    if not starts:
        return Counter()
    rows = db.execute(
        select(Appointment.slot_start, func.count(Appointment.id))
        .where(Appointment.hall_id == hall.id, Appointment.bundle_id == bundle.id,
               Appointment.slot_start.in_(starts), Appointment.status != "cancelled")
        .group_by(Appointment.slot_start))
    return Counter({start: count for start, count in rows})


def _day_slots(db: Session, hall: Hall, bundle: Bundle, day: date, now: datetime) -> list[Slot]:
    """Every slot of `day` (past ones included: capacity depends on the slot's place in the day)."""
    if day not in bookable_days(db, hall, now) or not served_in(db, hall, bundle):
        return []
    rate = half_hour_rate(db, hall, bundle.code, now)
    times = _slot_times(hall, day)
    booked = _booked_counts(db, hall, bundle, [s for s, _ in times])
    return [Slot(s, e, slot_capacity(rate, i), booked.get(s, 0)) for i, (s, e) in enumerate(times)]


def list_slots(database: Database, hall_code: str, bundle_code: str, day: date | None,
               now: datetime) -> tuple[list[date], date | None, list[Slot]]:
    """Bookable days, the day shown (the first bookable one by default), and its future slots."""
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        bundle = bundle_by_code(db, bundle_code)
        days = bookable_days(db, hall, now) if served_in(db, hall, bundle) else []
        shown = day if day is not None else (days[0] if days else None)
        if shown is None:
            return days, None, []
        return days, shown, [s for s in _day_slots(db, hall, bundle, shown, now) if s.start > now]


# --- booking and cancelling ----------------------------------------------------------------------

def _new_code(db: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.scalar(select(Appointment.id).where(Appointment.code == code)) is None:
            return code


def book(database: Database, hall_code: str, bundle_code: str, slot_start: datetime,
         identity: Identity, now: datetime, phone: str | None = None) -> AppointmentView:
    """Book one place in a slot; refused when the slot is full or the person holds enough bookings."""
    for attempt in range(3):
        try:
            with database.write() as db:
                return _book(db, hall_code, bundle_code, slot_start, identity, now, phone)
        except IntegrityError:
            # two bookings drew the same code at once (odds 1 in 2^40): draw again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _book(db: Session, hall_code: str, bundle_code: str, slot_start: datetime,
          identity: Identity, now: datetime, phone: str | None) -> AppointmentView:
    hall = lock_hall(db, hall_by_code(db, hall_code).id)  # serialise bookings of the hall
    bundle = bundle_by_code(db, bundle_code)
    rules = policy(db, hall)
    slot_start = slot_start.astimezone(UTC)
    day = slot_start.astimezone(ZoneInfo(hall.timezone)).date()
    slot = next((s for s in _day_slots(db, hall, bundle, day, now) if s.start == slot_start), None)
    if slot is None or slot.start <= now:
        raise SlotUnavailable(f"该时段不可预约，请选择未来{rules.days_ahead}天内工作日办公时间的半点时段")
    if slot.booked >= slot.capacity:
        raise SlotFull("该时段已约满，请选择其他时段")
    _mark_missed(db, now, identity_hash=identity.id_hash)
    held = db.scalar(select(func.count(Appointment.id)).where(
        Appointment.identity_hash == identity.id_hash, Appointment.status == "booked"))
    if (held or 0) >= rules.per_person_limit:
        raise BookingLimit(f"每人最多同时持有{rules.per_person_limit}个未办理的预约，请先办理或取消已有预约")
    appointment = Appointment(
        hall_id=hall.id, bundle_id=bundle.id, code=_new_code(db), slot_start=slot.start,
        slot_end=slot.end, status="booked", identity_hash=identity.id_hash,
        masked_name=identity.masked_name, phone=phone, created_at=now)
    db.add(appointment)
    db.flush()
    return _view(db, appointment)


def _find(db: Session, code: str, lock: bool = False) -> Appointment:
    query = select(Appointment).where(Appointment.code == code.strip().upper())
    appointment = db.scalar(query.with_for_update() if lock else query)
    if appointment is None:
        raise NotFound("没有找到该预约，请核对预约码")
    return appointment


def _owned(db: Session, code: str, id_hash: str, lock: bool = False) -> Appointment:
    appointment = _find(db, code, lock)
    if not secrets.compare_digest(appointment.identity_hash, id_hash):
        # the same answer as an unknown code: a code alone does not tell whose it is
        raise NotFound("没有找到该预约，请核对预约码和身份证号")
    return appointment


def lookup(database: Database, code: str, id_hash: str, now: datetime) -> AppointmentView:
    """The booking, for its holder only (their identity hash must match)."""
    with database.write() as db:
        appointment = _owned(db, code, id_hash)
        _refresh_missed(db, appointment, now)
        return _view(db, appointment)


def cancel(database: Database, code: str, id_hash: str, now: datetime) -> AppointmentView:
    """Give the place back; only a booking not yet checked in, missed or cancelled."""
    with database.write() as db:
        appointment = _owned(db, code, id_hash, lock=True)
        _refresh_missed(db, appointment, now)
        if appointment.status != "booked":
            raise NotBooked(f"该预约{STATUS_WORDS[appointment.status]}，不能取消")
        appointment.status = "cancelled"
        return _view(db, appointment)


STATUS_WORDS = {"booked": "待签到", "checked_in": "已签到", "cancelled": "已取消", "missed": "已爽约"}


# --- check-in ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CheckedIn:
    ticket: TicketView
    appointment: AppointmentView
    events: tuple[Event, ...]


def check_in(database: Database, code: str, now: datetime, hall_id: int | None = None,
             id_hash: str | None = None) -> CheckedIn:
    """Turn a booking into its one ticket, from EARLY_MIN before the slot start to the hall's grace after.

    `hall_id` (the kiosk's hall) and `id_hash` (a scanned identity) must match when given.
    """
    missed = False
    grace = 0
    with database.write() as db:
        appointment = _owned(db, code, id_hash, lock=True) if id_hash else _find(db, code, lock=True)
        if hall_id is not None and appointment.hall_id != hall_id:
            raise Forbidden("该预约不在本大厅，请到预约的大厅签到")
        if appointment.status == "checked_in":
            raise AlreadyCheckedIn("该预约已签到取号，请留意叫号")
        if appointment.status == "cancelled":
            raise NotBooked("该预约已取消")
        if now < appointment.slot_start - timedelta(minutes=EARLY_MIN):
            opens = appointment.slot_start.astimezone(ZoneInfo(_hall(db, appointment).timezone))
            raise TooEarly(f"签到时间未到：请于{(opens - timedelta(minutes=EARLY_MIN)):%H:%M}后签到")
        grace = policy(db, _hall(db, appointment)).grace_min
        if now > appointment.slot_start + timedelta(minutes=grace):
            appointment.status = "missed"
            missed = True
        else:
            return _issue(db, appointment, now)
    if missed:  # committed above: the miss is counted even though check-in is refused
        raise TooLate(f"已超过预约时段开始后{grace}分钟，预约已失效，请现场取号")
    raise AssertionError("unreachable")


def _hall(db: Session, appointment: Appointment) -> Hall:
    return db.get_one(Hall, appointment.hall_id)


def _issue(db: Session, appointment: Appointment, now: datetime) -> CheckedIn:
    hall = _hall(db, appointment)
    bundle = db.get_one(Bundle, appointment.bundle_id)
    day = now.astimezone(ZoneInfo(hall.timezone)).date()
    seq = next_seq(db.connection(), hall.id, bundle.id, day)
    ticket = Ticket(
        hall_id=hall.id, bundle_id=bundle.id, service_day=day, seq=seq,
        number=format_number(bundle.prefix, seq), priority=calling.Priority.APPOINTMENT.value,
        status=calling.Status.WAITING.value, source="appointment", taken_at=now, queue_at=now,
        due_at=appointment.slot_start, track_token=secrets.token_urlsafe(16),
        identity_hash=appointment.identity_hash,
    )
    ticket.bundle = bundle
    db.add(ticket)
    db.flush()
    appointment.status = "checked_in"
    appointment.checked_in_at = now
    appointment.ticket_id = ticket.id
    shown = ticket_view(db, hall, ticket, now)
    ticket.quoted_wait_min = shown.wait_min
    ticket.quoted_people_ahead = shown.people_ahead
    record(db, ticket, "issued", now, priority=ticket.priority, source="appointment",
           appointment=appointment.code)
    return CheckedIn(ticket=shown, appointment=_view(db, appointment),
                     events=(QueueUpdated(hall.code, (bundle.code,)),))


# --- missed bookings and the manager's list ------------------------------------------------------

def _refresh_missed(db: Session, appointment: Appointment, now: datetime) -> None:
    grace = policy(db, _hall(db, appointment)).grace_min
    if appointment.status == "booked" and now > appointment.slot_start + timedelta(minutes=grace):
        appointment.status = "missed"


def _mark_missed(db: Session, now: datetime, hall_id: int | None = None,
                 identity_hash: str | None = None) -> int:
    """Mark bookings past their hall's start + grace as missed (of one hall, or one person's)."""
    halls = [db.get_one(Hall, hall_id)] if hall_id is not None else list(db.scalars(select(Hall)))
    count = 0
    for hall in halls:
        query = update(Appointment).where(
            Appointment.hall_id == hall.id, Appointment.status == "booked",
            Appointment.slot_start < now - timedelta(minutes=policy(db, hall).grace_min))
        if identity_hash is not None:
            query = query.where(Appointment.identity_hash == identity_hash)
        result: Any = db.execute(query.values(status="missed"))  # a CursorResult: it has rowcount
        count += int(result.rowcount or 0)
    return count


def hall_policy(database: Database, hall_code: str) -> HallPolicy:
    """The hall's appointment settings (walk-in share, grace, per-person limit, horizon)."""
    with database.read() as db:
        return policy(db, hall_by_code(db, hall_code))


def mark_missed(database: Database, hall_code: str, now: datetime) -> int:
    """Mark the hall's bookings past start + grace without check-in as missed (rollover calls this)."""
    with database.write() as db:
        return _mark_missed(db, now, hall_id=hall_by_code(db, hall_code).id)


def day_report(database: Database, hall_code: str, day: date,
               now: datetime) -> tuple[dict[str, int], list[AppointmentView]]:
    """The day's bookings of a hall and their counts: booked, checked_in, late, missed, cancelled."""
    with database.write() as db:
        hall = hall_by_code(db, hall_code)
        _mark_missed(db, now, hall_id=hall.id)
        tz = ZoneInfo(hall.timezone)
        start = datetime.combine(day, time(0), tz).astimezone(UTC)
        rows = db.scalars(select(Appointment).where(
            Appointment.hall_id == hall.id, Appointment.slot_start >= start,
            Appointment.slot_start < start + timedelta(days=1))
            .order_by(Appointment.slot_start, Appointment.id)).all()
        views = [_view(db, a) for a in rows]
    counts = Counter(v.status for v in views)
    result = {k: counts.get(k, 0) for k in ("booked", "checked_in", "missed", "cancelled")}
    result["late"] = sum(1 for v in views if v.late)
    result["total"] = len(views)
    return result, views


def _view(db: Session, a: Appointment) -> AppointmentView:
    bundle = db.get_one(Bundle, a.bundle_id)
    ticket = db.get(Ticket, a.ticket_id) if a.ticket_id else None
    return AppointmentView(
        code=a.code, hall=_hall(db, a).code, bundle=bundle.code, bundle_name=bundle.name,
        slot_start=a.slot_start, slot_end=a.slot_end, status=a.status, masked_name=a.masked_name,
        late=a.checked_in_at is not None and a.checked_in_at > a.slot_start,
        ticket_number=ticket.number if ticket else None,
        track_token=ticket.track_token if ticket else None,
        grace_min=policy(db, _hall(db, a)).grace_min)
