"""Appointments (预约): capacity, booking limits, check-in window, one ticket per booking, call order."""

from __future__ import annotations

import contextlib
import math
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from queue_server.models import Appointment, Ticket
from queue_server.queue import eta
from queue_server.queue.priority import Identity
from queue_server.services import appointments as svc
from queue_server.services import calling, tickets
from queue_server.services.common import hall_by_code
from queue_server.services.settings import DEFAULT_POLICY
from queue_server.services.waits import hall_load

from ..conftest import NOW
from .helpers import HALL, close_all_but, wid

MIN = timedelta(minutes=1)
SLOT = NOW + 30 * MIN  # 10:30 Shanghai on Monday 2026-11-23
ADULT = "320102199003071239"  # a valid GB 11643 number (the demo's 李华)
BAD_CHECK = "320102199003071238"
GRACE = DEFAULT_POLICY.grace_min  # a hall without settings of its own


def person(i: int) -> Identity:
    return Identity(f"hash-{i}", date(1990, 1, 1), "张*")


def book(database, who=0, start=SLOT, bundle="real-estate", now=NOW):
    return svc.book(database, HALL, bundle, start, person(who), now)


def test_capacity_follows_windows_ranks_and_service_time_on_the_demo_hall(database, now):
    with database.read() as db:
        hall = hall_by_code(db, HALL)
        load = hall_load(db, hall, now)
        rate = svc.half_hour_rate(db, hall, "real-estate", now)
    share = sum(eta.rank_weight(w.ranks["real-estate"]) / sum(eta.rank_weight(r) for r in w.ranks.values())
                for w in load.windows if "real-estate" in w.ranks)
    assert rate == pytest.approx(share * 30 / load.service_min["real-estate"] * (1 - DEFAULT_POLICY.walk_in_share))
    assert rate > 0
    # slots carry the fraction: each day never holds more than floor(n × r) over its n slots
    days, _, slots = svc.list_slots(database, HALL, "real-estate", date(2026, 11, 24), now)
    assert [s.capacity for s in slots] == [svc.slot_capacity(rate, i) for i in range(16)]
    assert sum(s.capacity for s in slots) == math.floor(16 * rate + 1e-9)
    assert all(math.floor(rate) <= s.capacity <= math.ceil(rate) for s in slots)
    # working days only, today to 7 days ahead; today only from the next slot on
    assert days == [date(2026, 11, d) for d in (23, 24, 25, 26, 27, 30)]
    _, _, today = svc.list_slots(database, HALL, "real-estate", None, now)
    assert today[0].start == SLOT and len(today) == 13
    _, _, saturday = svc.list_slots(database, HALL, "real-estate", date(2026, 11, 28), now)
    assert saturday == []


def test_closing_windows_lowers_capacity(database, now):
    with database.read() as db:
        before = svc.half_hour_rate(db, hall_by_code(db, HALL), "real-estate", now)
    close_all_but(database, {1}, now)
    with database.read() as db:
        after = svc.half_hour_rate(db, hall_by_code(db, HALL), "real-estate", now)
    assert 0 < after < before


def _first_slot_with(database, capacity_at_least: int):
    _, _, slots = svc.list_slots(database, HALL, "real-estate", date(2026, 11, 24), NOW)
    return next(s for s in slots if s.capacity >= capacity_at_least)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(st.tuples(st.sampled_from(["book", "cancel"]), st.integers(0, 7)), max_size=25))
def test_never_more_bookings_than_capacity(sqlite_db, ops):
    with sqlite_db.write() as db:
        db.execute(delete(Appointment))
    slot = _first_slot_with(sqlite_db, 1)
    codes: dict[int, list[str]] = {}
    for op, who in ops:
        if op == "book":
            with contextlib.suppress(svc.SlotFull, svc.BookingLimit):
                codes.setdefault(who, []).append(book(sqlite_db, who, slot.start).code)
        elif codes.get(who):
            svc.cancel(sqlite_db, codes[who].pop(), person(who).id_hash, NOW)
        with sqlite_db.read() as db:
            held = db.scalar(select(func.count(Appointment.id)).where(
                Appointment.slot_start == slot.start, Appointment.status != "cancelled"))
        assert held <= slot.capacity
        assert held == sum(len(c) for c in codes.values())


def test_a_full_slot_refuses_and_a_cancel_frees_a_place(database, now):
    slot = _first_slot_with(database, 1)
    made = [book(database, i, slot.start) for i in range(slot.capacity)]
    with pytest.raises(svc.SlotFull):
        book(database, 99, slot.start)
    cancelled = svc.cancel(database, made[0].code, person(0).id_hash, now)
    assert cancelled.status == "cancelled"
    assert book(database, 99, slot.start).status == "booked"
    with pytest.raises(svc.NotBooked):
        svc.cancel(database, made[0].code, person(0).id_hash, now)


def test_per_person_limit_of_open_bookings(database, now):
    _, _, slots = svc.list_slots(database, HALL, "real-estate", date(2026, 11, 25), now)
    open_slots = [s for s in slots if s.capacity > 0]
    first = book(database, 1, open_slots[0].start)
    book(database, 1, open_slots[1].start)
    with pytest.raises(svc.BookingLimit):
        book(database, 1, open_slots[2].start)
    svc.cancel(database, first.code, person(1).id_hash, now)
    assert book(database, 1, open_slots[2].start).status == "booked"


def test_only_real_future_slots_can_be_booked(database, now):
    with pytest.raises(svc.SlotUnavailable):
        book(database, start=NOW)  # 10:00 has begun
    with pytest.raises(svc.SlotUnavailable):
        book(database, start=SLOT + 10 * MIN)  # not a slot boundary
    with pytest.raises(svc.SlotUnavailable):
        book(database, start=SLOT + timedelta(days=5))  # Saturday
    with pytest.raises(svc.SlotUnavailable):
        book(database, start=SLOT + timedelta(days=14))  # too far ahead


@pytest.mark.parametrize(("offset", "outcome"), [
    (-16, "too_early"), (-15, "ok"), (0, "ok"), (GRACE, "ok"), (GRACE + 1, "too_late")])
def test_check_in_window(database, offset, outcome):
    booked = book(database, start=SLOT)
    at = SLOT + offset * MIN
    if outcome == "ok":
        done = svc.check_in(database, booked.code, at)
        assert done.ticket.priority == "appointment" and done.ticket.status == "waiting"
        assert done.appointment.status == "checked_in" and done.appointment.late == (offset > 0)
        return
    error = svc.TooEarly if outcome == "too_early" else svc.TooLate
    with pytest.raises(error):
        svc.check_in(database, booked.code, at)
    status = svc.lookup(database, booked.code, person(0).id_hash, at).status
    assert status == ("booked" if outcome == "too_early" else "missed")


def test_check_in_twice_gives_one_ticket(database):
    booked = book(database)
    svc.check_in(database, booked.code, SLOT)
    with pytest.raises(svc.AlreadyCheckedIn):
        svc.check_in(database, booked.code, SLOT + MIN)
    with database.read() as db:
        assert db.scalar(select(func.count(Ticket.id)).where(Ticket.source == "appointment")) == 1


def test_concurrent_check_ins_give_one_ticket(database):
    booked = book(database)
    barrier = threading.Barrier(4)
    results: list[str] = []

    def go() -> None:
        barrier.wait()
        try:
            svc.check_in(database, booked.code, SLOT)
            results.append("ticket")
        except svc.AlreadyCheckedIn:
            results.append("refused")

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["refused", "refused", "refused", "ticket"]
    with database.read() as db:
        assert db.scalar(select(func.count(Ticket.id)).where(Ticket.source == "appointment")) == 1
        a = db.scalars(select(Appointment).where(Appointment.code == booked.code)).one()
        assert a.status == "checked_in" and a.ticket_id is not None


def test_a_due_appointment_is_called_before_an_earlier_walk_in(database):
    walk_in = tickets.take_ticket(database, HALL, "real-estate", NOW).ticket
    booked = book(database)
    checked = svc.check_in(database, booked.code, SLOT - 10 * MIN).ticket
    # not yet due: the walk-in goes first
    first = calling.call_next(database, wid(database, 1), SLOT - 5 * MIN)
    assert first.ticket.number == walk_in.number
    walk_in2 = tickets.take_ticket(database, HALL, "real-estate", SLOT - 4 * MIN).ticket
    second = calling.call_next(database, wid(database, 1), SLOT + MIN)
    assert second.ticket.number == checked.number
    assert second.ticket.number != walk_in2.number


def test_missed_and_late_are_counted(database, now):
    _, _, slots = svc.list_slots(database, HALL, "real-estate", None, now)
    open_slots = [s.start for s in slots if s.capacity > 0]
    missed = book(database, 1, open_slots[0])
    late = book(database, 2, open_slots[0])
    on_time = book(database, 3, open_slots[1])
    gone = book(database, 4, open_slots[1])
    svc.cancel(database, gone.code, person(4).id_hash, now)
    svc.check_in(database, late.code, open_slots[0] + 5 * MIN)
    svc.check_in(database, on_time.code, open_slots[1] - 5 * MIN)
    later = open_slots[1] + timedelta(hours=1)
    counts, views = svc.day_report(database, HALL, date(2026, 11, 23), later)
    assert counts == {"booked": 0, "checked_in": 2, "missed": 1, "cancelled": 1, "late": 1, "total": 4}
    assert {v.code: v.status for v in views}[missed.code] == "missed"
    assert svc.mark_missed(database, HALL, later) == 0


# --- over HTTP -----------------------------------------------------------------------------------

def _slot_iso(client) -> str:
    r = client.get("/api/v1/halls/demo/appointments/slots?bundle=real-estate&date=2026-11-24")
    assert r.status_code == 200, r.get_json()
    return next(s["start"] for s in r.get_json()["slots"] if s["remaining"] > 0)


@pytest.fixture
def frozen(monkeypatch):
    from queue_server import clock

    monkeypatch.setattr(clock, "now", lambda: NOW)


def test_http_book_lookup_check_in_and_cancel(client, kiosk, login, frozen, monkeypatch):
    r = client.get("/api/v1/halls/demo/appointments/slots?bundle=real-estate")
    body = r.get_json()
    assert r.status_code == 200 and body["date"] == "2026-11-23" and body["slots"][0]["remaining"] >= 0
    start = _slot_iso(client)
    r = client.post("/api/v1/halls/demo/appointments",
                    json={"bundle": "real-estate", "slot_start": start, "name": "李华", "id_number": ADULT,
                          "phone": "13800000000"})
    assert r.status_code == 201, r.get_json()
    booked = r.get_json()
    code = booked["code"]
    assert len(code) == 8 and not set(code) & set("01OI") and booked["masked_name"] == "李*"
    assert client.get(f"/book/demo/qr/{code}.png").mimetype == "image/png"
    assert client.get(f"/api/v1/appointments/{code}").status_code == 400
    wrong = client.get(f"/api/v1/appointments/{code}", headers={"X-Id-Number": "11010519491231002X"})
    assert wrong.status_code == 404
    mine = client.get(f"/api/v1/appointments/{code.lower()}", headers={"X-Id-Number": ADULT})
    assert mine.status_code == 200 and mine.get_json()["status"] == "booked"
    assert client.post(f"/api/v1/appointments/{code}/check-in", json={}).status_code == 401
    r = client.post(f"/api/v1/appointments/{code}/check-in", json={}, headers=kiosk)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "too_early"
    from queue_server import clock

    monkeypatch.setattr(clock, "now", lambda: datetime.fromisoformat(start).astimezone(UTC))
    r = client.post(f"/api/v1/appointments/{code}/check-in", json={}, headers=kiosk)
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()
    assert ticket["priority"] == "appointment" and ticket["number"].startswith("P")
    r = client.post(f"/api/v1/appointments/{code}/check-in", json={}, headers=kiosk)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_checked_in"
    r = client.post(f"/api/v1/appointments/{code}/cancel", json={"id_number": ADULT})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_booked"
    r = client.get("/api/v1/halls/demo/appointments?date=2026-11-24", headers=login("manager"))
    assert r.status_code == 200 and r.get_json()["counts"]["checked_in"] == 1
    assert client.get("/api/v1/halls/demo/appointments", headers=login("clerk1")).status_code == 403


def test_http_invalid_id_check_digit_is_refused(client, frozen):
    r = client.post("/api/v1/halls/demo/appointments",
                    json={"bundle": "real-estate", "slot_start": _slot_iso(client), "name": "李华",
                          "id_number": BAD_CHECK})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_id_number"


def test_http_cancel_by_the_holder(client, frozen):
    r = client.post("/api/v1/halls/demo/appointments",
                    json={"bundle": "real-estate", "slot_start": _slot_iso(client), "name": "李华",
                          "id_number": ADULT})
    code = r.get_json()["code"]
    assert client.post(f"/api/v1/appointments/{code}/cancel",
                       json={"id_number": "11010519491231002X"}).status_code == 404
    r = client.post(f"/api/v1/appointments/{code}/cancel", json={"id_number": ADULT})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"


def test_booking_page_renders(client):
    r = client.get("/book/demo")
    assert r.status_code == 200 and "预约" in r.get_data(as_text=True)
    assert client.get("/book/nowhere").status_code == 404
