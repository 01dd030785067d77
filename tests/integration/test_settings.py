"""Hall policy settings and the holiday calendar: what appointments do with them, and the manager's API."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from queue_server.models import AuditLog
from queue_server.queue.priority import Identity
from queue_server.services import appointments as appt
from queue_server.services import settings as svc
from queue_server.services.common import hall_by_code

from ..conftest import NOW
from .helpers import HALL

B = "/api/v1"
MIN = timedelta(minutes=1)
DAY = timedelta(days=1)
SLOT = NOW + 30 * MIN  # 10:30 Shanghai, Monday 2026-11-23
BUNDLE = "real-estate"
MANAGER = "staff:manager"


def person(i: int) -> Identity:
    return Identity(f"hash-{i}", date(1990, 1, 1), "张*")


def book(database, who=0, start=SLOT):
    return appt.book(database, HALL, BUNDLE, start, person(who), NOW)


def change(database, **values):
    return svc.update_settings(database, HALL, values, None, NOW, MANAGER)


def rate(database):
    with database.read() as db:
        return appt.half_hour_rate(db, hall_by_code(db, HALL), BUNDLE, NOW)


def days(database):
    return appt.list_slots(database, HALL, BUNDLE, None, NOW)[0]


def test_a_hall_without_settings_has_the_old_constants(database):
    assert svc.get_settings(database, HALL)["walk_in_percent"] == 30
    old = svc.HallPolicy(walk_in_percent=30, grace_min=10, per_person_limit=2, days_ahead=7,
                         surge_waiting=20, surge_wait_min=45, closing_guard=1)
    assert old == svc.DEFAULT_POLICY
    assert days(database) == [date(2026, 11, d) for d in (23, 24, 25, 26, 27, 30)]


def test_the_walk_in_share_sets_capacity(database):
    kept_30 = rate(database)
    change(database, walk_in_percent=0)
    none_kept = rate(database)
    assert none_kept == pytest.approx(kept_30 / 0.7)
    change(database, walk_in_percent=90)
    assert rate(database) == pytest.approx(none_kept * 0.1)
    _, _, slots = appt.list_slots(database, HALL, BUNDLE, date(2026, 11, 24), NOW)
    assert sum(s.capacity for s in slots) == math.floor(16 * none_kept * 0.1 + 1e-9)


def test_the_per_person_limit(database):
    change(database, per_person_limit=1)
    book(database, who=1)
    with pytest.raises(appt.BookingLimit, match="最多同时持有1个"):
        book(database, who=1, start=SLOT + DAY)
    change(database, per_person_limit=3)
    book(database, who=1, start=SLOT + DAY)
    book(database, who=1, start=SLOT + 2 * DAY)
    with pytest.raises(appt.BookingLimit):
        book(database, who=1, start=SLOT + 3 * DAY)


@pytest.mark.parametrize(("grace", "late", "ok"), [(20, 20, True), (20, 21, False), (0, 0, True), (0, 1, False)])
def test_the_grace_after_the_slot_start(database, grace, late, ok):
    change(database, grace_min=grace)
    booked = book(database)
    assert booked.to_json()["check_in_until"] == (SLOT + grace * MIN).isoformat()
    if ok:
        assert appt.check_in(database, booked.code, SLOT + late * MIN).appointment.status == "checked_in"
    else:
        with pytest.raises(appt.TooLate, match=f"开始后{grace}分钟"):
            appt.check_in(database, booked.code, SLOT + late * MIN)


def test_the_booking_horizon(database):
    change(database, days_ahead=2)
    assert days(database) == [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
    with pytest.raises(appt.SlotUnavailable, match="未来2天"):
        book(database, start=SLOT + 3 * DAY)
    change(database, days_ahead=14)
    assert days(database)[-1] == date(2026, 12, 7)


def test_holidays_close_booking_and_worked_weekends_open_it(database):
    svc.set_day(database, HALL, date(2026, 11, 24), "closed", "测试假日", NOW, MANAGER)
    svc.set_day(database, HALL, date(2026, 11, 28), "working", "调休上班", NOW, MANAGER)
    assert days(database) == [date(2026, 11, d) for d in (23, 25, 26, 27, 28, 30)]
    with pytest.raises(appt.SlotUnavailable):
        book(database, start=SLOT + DAY)  # the holiday
    _, _, holiday = appt.list_slots(database, HALL, BUNDLE, date(2026, 11, 24), NOW)
    assert holiday == []
    saturday = book(database, start=SLOT + 5 * DAY)
    assert saturday.status == "booked"
    svc.delete_day(database, HALL, date(2026, 11, 24), NOW, MANAGER)
    assert book(database, who=2, start=SLOT + DAY).status == "booked"
    with database.read() as db:
        hall = hall_by_code(db, HALL)
        assert svc.working_days(db, hall, date(2026, 11, 23), date(2026, 11, 29)) == [
            date(2026, 11, d) for d in (23, 24, 25, 26, 27, 28)]


def test_out_of_range_values_are_refused(database):
    with pytest.raises(svc.BadRequest):
        change(database, walk_in_percent=91)
    with pytest.raises(svc.BadRequest):
        svc.update_settings(database, HALL, {}, [{"code": "newborn", "waiting": 0}], NOW, MANAGER)
    assert svc.get_settings(database, HALL)["walk_in_percent"] == 30


# --- the API ---------------------------------------------------------------------------------------

URL = f"{B}/halls/demo/settings"


def audit_rows(sqlite_db, action):
    with sqlite_db.read() as db:
        return [(r.actor, r.target, json.loads(r.detail or "{}"))
                for r in db.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def test_settings_api_for_managers_audit_logged(client, sqlite_db, login):
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=login("clerk1")).status_code == 403
    assert client.put(URL, json={"grace_min": 5}, headers=login("clerk1")).status_code == 403
    manager = login("manager")
    assert client.get(f"{B}/halls/nowhere/settings", headers=manager).status_code == 404
    got = client.get(URL, headers=manager).get_json()
    assert got["limits"]["walk_in_percent"] == {"default": 30, "min": 0, "max": 90}
    assert all(b["waiting"] is None for b in got["bundles"])
    for bad in ({"walk_in_percent": 95}, {"grace_min": -1}, {"days_ahead": "x"},
                {"bundles": [{"code": "newborn", "waiting": 0}]}, {"bundles": [{"code": "Bad Code"}]}):
        r = client.put(URL, json=bad, headers=manager)
        assert r.status_code in (400, 422) and "error" in r.get_json(), bad
    assert client.put(URL, json={"bundles": [{"code": "nosuch", "waiting": 3}]},
                      headers=manager).status_code == 404
    r = client.put(URL, json={"grace_min": 15, "surge_waiting": 8,
                              "bundles": [{"code": "newborn", "waiting": 3, "wait_min": None}]}, headers=manager)
    assert r.status_code == 200
    body = r.get_json()
    assert (body["grace_min"], body["surge_waiting"], body["walk_in_percent"]) == (15, 8, 30)
    newborn = next(b for b in body["bundles"] if b["code"] == "newborn")
    assert (newborn["waiting"], newborn["wait_min"]) == (3, None)  # its wait: still the hall's
    assert audit_rows(sqlite_db, "settings.update") == [
        ("staff:manager", "hall:demo", {"grace_min": [10, 15], "surge_waiting": [20, 8],
                                        "bundles": {"newborn": [3, None]}})]
    # the phone booking page and the slots answer the new values
    slots = client.get(f"{B}/halls/demo/appointments/slots?bundle=real-estate").get_json()
    assert slots["grace_min"] == 15
    cleared = client.put(URL, json={"bundles": []}, headers=manager).get_json()
    assert all(b["waiting"] is None for b in cleared["bundles"]) and cleared["grace_min"] == 15


def test_calendar_api(client, sqlite_db, login):
    cal = f"{B}/halls/demo/calendar"
    assert client.put(f"{cal}/2026-12-25", json={"kind": "closed"}).status_code == 401
    assert client.put(f"{cal}/2026-12-25", json={"kind": "closed"}, headers=login("clerk1")).status_code == 403
    manager = login("manager")
    for bad in ("2026-02-30", "20261225", "1999-01-01", "x"):
        assert client.put(f"{cal}/{bad}", json={"kind": "closed"}, headers=manager).status_code == 400, bad
    assert client.put(f"{cal}/2026-12-25", json={"kind": "holiday"}, headers=manager).status_code in (400, 422)
    r = client.put(f"{cal}/2027-01-01", json={"kind": "closed", "note": "元旦"}, headers=manager)
    assert r.status_code == 200
    assert r.get_json() == {"date": "2027-01-01", "kind": "closed", "label": "休息（不办公）", "note": "元旦",
                            "weekday": 5}
    client.put(f"{cal}/2027-01-04", json={"kind": "working", "note": "调休"}, headers=manager)
    listed = client.get(f"{cal}?start=2026-12-01&end=2027-01-31", headers=manager).get_json()
    assert [(d["date"], d["kind"]) for d in listed["days"]] == [("2027-01-01", "closed"), ("2027-01-04", "working")]
    assert client.get(f"{cal}?start=2027-01-02&end=2026-12-01", headers=manager).status_code == 400
    assert client.delete(f"{cal}/2027-01-04", headers=manager).status_code == 204
    assert client.delete(f"{cal}/2027-01-04", headers=manager).status_code == 404
    assert [a[1] for a in audit_rows(sqlite_db, "calendar.set")] == ["day:2027-01-01", "day:2027-01-04"]
    assert audit_rows(sqlite_db, "calendar.delete") == [("staff:manager", "day:2027-01-04", {"before": "working"})]
