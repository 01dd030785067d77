"""好差评: each finished ticket or application rated once, reasons for 差评, and the follow-up of a 差评."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from queue_server import identity_tokens
from queue_server.models import AuditLog, Hall, Staff
from queue_server.models.service import Evaluation, Followup
from queue_server.queue import errors
from queue_server.queue import identity as idnum
from queue_server.queue.priority import Identity
from queue_server.services import applications, calling, evaluations, tickets
from queue_server.tokens import identity_hash

from ..conftest import TEST_SECRET
from .helpers import HALL, wid

B = "/api/v1"
MIN = timedelta(minutes=1)
ID_NUMBER = "32010219900307124" + idnum.check_char("32010219900307124")


def done_ticket(database, now, bundle="newborn", window=1, staff_id=None):
    """A ticket taken, called, started and finished at `window`: its track token."""
    issued = tickets.take_ticket(database, HALL, bundle, now)
    w = wid(database, window)
    calling.call_next(database, w, now + MIN, staff_id=staff_id)
    calling.start(database, w, now + 2 * MIN)
    calling.finish(database, w, now + 10 * MIN)
    return issued.ticket.track_token


def staff_id(database, username):
    with database.read() as db:
        return db.scalars(select(Staff.id).where(Staff.username == username)).one()


def rate(database, token, now, level=5, reasons=(), comment=None, channel="pad"):
    return evaluations.rate_ticket(database, token, evaluations.Rating(level, tuple(reasons), comment, channel),
                                   now)


def error_code(r):
    return r.get_json()["error"]["code"]


# --- rules -------------------------------------------------------------------------------------

def test_working_days_skip_the_weekend():
    monday = date(2026, 11, 23)
    assert applications.working_days_after(monday, 0) == monday
    assert applications.working_days_after(monday, 5) == date(2026, 11, 30)
    assert applications.working_days_after(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri → Mon
    assert applications.working_days_after(date(2026, 11, 28), 5) == date(2026, 12, 4)  # Sat → Fri
    assert applications.working_days_after(monday, 15) == date(2026, 12, 14)


@pytest.mark.parametrize(("level", "reasons", "comment", "error"), [
    (2, [], None, evaluations.ReasonsRequired),
    (1, [], "很差", evaluations.ReasonsRequired),
    (1, ["other"], None, evaluations.CommentRequired),
    (4, ["long_wait"], None, evaluations.ReasonsNotAllowed),
    (2, ["no-such-reason"], None, errors.BadRequest),
    (6, [], None, errors.BadRequest),
])
def test_bad_ratings_need_reasons_from_the_list(level, reasons, comment, error):
    with pytest.raises(error):
        evaluations.check_rating(level, reasons, comment)


def test_reasons_are_kept_in_list_order_once():
    assert evaluations.check_rating(2, ["attitude", "long_wait", "attitude"], None) == ("long_wait", "attitude")
    assert evaluations.check_rating(3, [], None) == ()


# --- services on SQLite and PostgreSQL ------------------------------------------------------------

def test_a_finished_ticket_is_rated_once_and_links_whose_service(database, now):
    clerk = staff_id(database, "clerk1")
    token = done_ticket(database, now, staff_id=clerk)
    rated = rate(database, token, now + 11 * MIN, level=5)
    assert rated.level == 5 and rated.followup_due_on is None
    with pytest.raises(evaluations.AlreadyRated) as refused:
        rate(database, token, now + 12 * MIN, level=1, reasons=["attitude"])
    assert refused.value.code == "already_rated"
    with database.read() as db:
        ev = db.scalars(select(Evaluation)).one()
        assert ev.window_id == wid(database, 1) and ev.staff_id == clerk and ev.ticket_id is not None
        assert db.scalar(select(Followup)) is None
    # nothing about who rated: no identity, device or token column
    columns = {c.key for c in inspect(Evaluation).columns}
    assert not {c for c in columns if any(w in c for w in ("identity", "hash", "device", "token", "name"))}


def test_only_finished_tickets_can_be_rated(database, now):
    waiting = tickets.take_ticket(database, HALL, "newborn", now).ticket.track_token
    with pytest.raises(evaluations.NotRateable):
        rate(database, waiting, now)
    with pytest.raises(errors.NotFound):
        rate(database, "no-such-token", now)
    with pytest.raises(errors.NotFound):
        rate(database, "nul\x00token", now)


def test_a_bad_rating_opens_a_followup_due_in_five_working_days(database, now):
    token = done_ticket(database, now)
    rated = rate(database, token, now + 11 * MIN, level=2, reasons=["long_wait", "other"], comment="排了很久")
    assert rated.followup_due_on == date(2026, 11, 30)  # Monday + 5 working days
    [case] = evaluations.list_followups(database, HALL, "open", now)
    assert case["due_on"] == "2026-11-30" and case["next_step"] == "verify" and not case["overdue"]
    ev = case["evaluation"]
    assert ev["level"] == 2 and [r["code"] for r in ev["reasons"]] == ["long_wait", "other"]
    assert ev["window"] == 1 and ev["bundle"] == "newborn" and ev["comment"] == "排了很久"
    assert evaluations.list_followups(database, HALL, "closed", now) == []


def test_followup_steps_go_in_order_and_are_audited(database, now):
    rate(database, done_ticket(database, now), now + 11 * MIN, level=1, reasons=["attitude"])
    [case] = evaluations.list_followups(database, HALL, None, now)
    checked = []

    def step(name, at):
        return evaluations.add_step(database, case["id"], name, f"{name} 说明", at, actor="staff:manager",
                                    authorize=checked.append)

    with pytest.raises(evaluations.FollowupOutOfOrder) as refused:
        step("rectify", now + 20 * MIN)
    assert refused.value.code == "followup_out_of_order"
    step("verify", now + 30 * MIN)
    with pytest.raises(evaluations.FollowupOutOfOrder):
        step("verify", now + 31 * MIN)
    step("rectify", now + timedelta(days=1))
    step("callback", now + timedelta(days=2))
    closed = step("close", now + timedelta(days=2, hours=1))
    assert closed["state"] == "closed" and closed["next_step"] is None and not closed["closed_late"]
    assert [s["step"] for s in closed["steps"]] == ["verify", "rectify", "callback", "close"]
    assert all(s["actor"] == "staff:manager" and s["note"] for s in closed["steps"])
    assert closed["steps"][0]["at"] == (now + 30 * MIN).isoformat()
    with pytest.raises(evaluations.FollowupOutOfOrder):
        step("close", now + timedelta(days=3))
    with database.read() as db:
        assert set(checked) == {db.scalars(select(Hall.id).where(Hall.code == HALL)).one()}
        actions = set(db.scalars(select(AuditLog.action).where(AuditLog.action.like("followup.%"))))
    assert actions == {"followup.verify", "followup.rectify", "followup.callback", "followup.close"}


def test_a_case_is_overdue_after_its_deadline(database, now):
    rate(database, done_ticket(database, now), now + 11 * MIN, level=2, reasons=["over_time"])
    due_day = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai on the due day
    next_day = due_day + 2 * MIN  # 00:01 the day after
    assert evaluations.list_followups(database, HALL, "overdue", due_day) == []
    [late] = evaluations.list_followups(database, HALL, "overdue", next_day)
    assert late["overdue"] and late["state"] == "open"
    assert evaluations.list_followups(database, HALL, "open", next_day)[0]["overdue"]


def test_the_hall_sets_the_deadline_up_to_fifteen_working_days(database, now):
    assert evaluations.get_followup_days(database, HALL) == 5
    with pytest.raises(errors.BadRequest):
        evaluations.set_followup_days(database, HALL, 16, now, "staff:manager")
    evaluations.set_followup_days(database, HALL, 10, now, "staff:manager")
    rated = rate(database, done_ticket(database, now), now + 11 * MIN, level=1, reasons=["not_done"])
    assert rated.followup_due_on == date(2026, 12, 7)


def test_an_application_is_rated_once_by_its_applicant(database, now):
    person = Identity(identity_hash(TEST_SECRET, ID_NUMBER), date(1990, 3, 7), "李*红")
    from .test_applications import newborn_form

    app = applications.submit(database, applications.Submission(HALL, "newborn", person, newborn_form()),
                              now, secret=TEST_SECRET, actor="device:1")
    number = app.data["number"]
    rating = evaluations.Rating(1, ("unclear_notice",), None, "kiosk")
    with pytest.raises(errors.NotFound):
        evaluations.rate_application(database, number, "someone-else", rating, now)
    rated = evaluations.rate_application(database, number, person.id_hash, rating, now)
    assert rated.followup_due_on == date(2026, 11, 30)
    with pytest.raises(evaluations.AlreadyRated):
        evaluations.rate_application(database, number, person.id_hash, rating, now)


# --- the API ---------------------------------------------------------------------------------------

def test_levels_and_reasons_are_public(client):
    r = client.get(f"{B}/evaluations/reasons")
    assert r.status_code == 200
    body = r.get_json()
    assert [lv["label"] for lv in body["levels"]] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [lv["level"] for lv in body["levels"] if lv["reasons_required"]] == [2, 1]
    labels = {r["label"] for r in body["reasons"]}
    assert {"等候时间过长", "服务态度不好", "一次告知不清楚/材料反复要求", "办理时间超出承诺", "其他"} <= labels


def test_rating_by_track_token_needs_no_login_and_counts_once(client, sqlite_db, now):
    token = done_ticket(sqlite_db, now)
    bad = client.post(f"{B}/evaluations", json={"ticket": token, "level": 2, "channel": "phone"})
    assert bad.status_code == 400 and error_code(bad) == "reasons_required"
    r = client.post(f"{B}/evaluations", json={"ticket": token, "level": 2, "reasons": ["long_wait"],
                                              "comment": "等了一个小时", "channel": "phone"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["followup_opened"] and r.get_json()["label"] == "不满意"
    again = client.post(f"{B}/evaluations", json={"ticket": token, "level": 5, "channel": "pad"})
    assert again.status_code == 409 and error_code(again) == "already_rated"
    assert client.post(f"{B}/evaluations", json={"ticket": "nope", "level": 5,
                                                 "channel": "pad"}).status_code == 404
    both = client.post(f"{B}/evaluations", json={"ticket": token, "application": "SQ1", "level": 5,
                                                 "channel": "pad"})
    assert 400 <= both.status_code < 500
    no_id = client.post(f"{B}/evaluations", json={"application": "SQ1", "level": 5, "channel": "pad"})
    assert 400 <= no_id.status_code < 500


def test_a_clerk_cannot_list_who_rated(client, sqlite_db, now, login):
    token = done_ticket(sqlite_db, now, staff_id=staff_id(sqlite_db, "clerk1"))
    client.post(f"{B}/evaluations", json={"ticket": token, "level": 1, "reasons": ["attitude"], "channel": "pad"})
    clerk = login("clerk1")
    for path in ("/halls/demo/evaluations", "/halls/demo/followups", "/halls/demo/followup-settings"):
        r = client.get(f"{B}{path}", headers=clerk)
        assert r.status_code == 403 and error_code(r) == "forbidden", path
    assert client.get(f"{B}/halls/demo/evaluations").status_code == 401
    r = client.get(f"{B}/halls/demo/evaluations", headers=login("manager"))
    assert r.status_code == 200
    [ev] = r.get_json()["evaluations"]
    assert ev["staff"]["username"] == "clerk1" and ev["window"] == 1
    text = str(ev)
    assert token not in text and "A001" not in text
    assert not any(k in ev for k in ("ticket", "track_token", "identity", "device", "number"))


def test_the_manager_follows_up_in_order_through_the_api(client, sqlite_db, now, login, monkeypatch):
    clock = [now + 11 * MIN]
    monkeypatch.setattr("queue_server.api.evaluations.now", lambda: clock[0])
    client.post(f"{B}/evaluations", json={"ticket": done_ticket(sqlite_db, now), "level": 1,
                                          "reasons": ["not_done"], "channel": "kiosk"})
    manager = login("manager")
    assert client.get(f"{B}/halls/demo/followups?state=overdue", headers=manager).get_json()["followups"] == []
    clock[0] = datetime(2026, 12, 1, 2, tzinfo=UTC)  # the day after the deadline (Mon 11-30)
    [case] = client.get(f"{B}/halls/demo/followups?state=overdue", headers=manager).get_json()["followups"]
    assert case["overdue"]
    path = f"{B}/followups/{case['id']}/steps"
    skipped = client.post(path, json={"step": "callback", "note": "已回访"}, headers=manager)
    assert skipped.status_code == 409 and error_code(skipped) == "followup_out_of_order"
    assert client.post(path, json={"step": "verify", "note": "x"}, headers=login("clerk1")).status_code == 403
    for step in ("verify", "rectify", "callback", "close"):
        r = client.post(path, json={"step": step, "note": f"{step} 记录"}, headers=manager)
        assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "closed" and r.get_json()["closed_late"]
    assert client.get(f"{B}/halls/demo/followups?state=overdue", headers=manager).get_json()["followups"] == []
    audit = client.get(f"{B}/halls/demo/audit", headers=manager).get_json()["entries"]
    assert {"followup.verify", "followup.close"} <= {e["action"] for e in audit}
    assert client.post(f"{B}/followups/999999/steps", json={"step": "verify", "note": "x"},
                       headers=manager).status_code == 404


def test_the_manager_sets_the_followup_deadline(client, login):
    manager = login("manager")
    assert client.get(f"{B}/halls/demo/followup-settings", headers=manager).get_json() == {"followup_days": 5}
    assert client.put(f"{B}/halls/demo/followup-settings", json={"followup_days": 16},
                      headers=manager).status_code in (400, 422)
    r = client.put(f"{B}/halls/demo/followup-settings", json={"followup_days": 15}, headers=manager)
    assert r.status_code == 200 and r.get_json() == {"followup_days": 15}


def test_an_application_is_rated_with_the_applicants_identity(client, kiosk):
    from .test_applications import newborn_form

    person = Identity(identity_hash(TEST_SECRET, ID_NUMBER), date(1990, 3, 7), "李*红")
    token = identity_tokens.issue(TEST_SECRET, person)
    r = client.post(f"{B}/applications", headers=kiosk, json={
        "hall": "demo", "bundle": "newborn", "identity_token": token, "form": newborn_form()})
    assert r.status_code == 201, r.get_json()
    number = r.get_json()["number"]
    other = identity_tokens.issue(TEST_SECRET, Identity("x" * 64, date(1990, 1, 1), "王*"))
    body = {"application": number, "level": 4, "channel": "kiosk"}
    assert client.post(f"{B}/evaluations", json={**body, "identity_token": other}).status_code == 404
    assert client.post(f"{B}/evaluations", json={**body, "identity_token": token}).status_code == 201
    again = client.post(f"{B}/evaluations", json={**body, "identity_token": token})
    assert again.status_code == 409 and error_code(again) == "already_rated"
