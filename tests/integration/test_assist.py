"""帮办代办 services: the state machine, who may act, the phone kept out of sight, the day's figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from queue_server.models import AssistRequest, AuditLog, Hall, Staff
from queue_server.passwords import hash_password
from queue_server.queue.errors import Forbidden, NotFound
from queue_server.services import assist as svc
from queue_server.services.reports import percentile

SECRET = "assist-test-secret"
HALL = "demo"


def handler(database, username: str) -> svc.Handler:
    with database.read() as db:
        s = db.scalars(select(Staff).where(Staff.username == username)).one()
        return svc.Handler(staff_id=s.id, actor=f"staff:{s.username}", role=s.role, hall_id=s.hall_id)


def second_assistant(database, now) -> svc.Handler:
    with database.write() as db:
        hall = db.scalars(select(Hall).where(Hall.code == HALL)).one()
        db.add(Staff(username="assistant2", name="帮办员二", password_hash=hash_password("x" * 10),
                     role="assistant", hall_id=hall.id, created_at=now))
    return handler(database, "assistant2")


def file(database, now, phone: str | None = "13812345678", kind: str = "help", **more) -> svc.Done:
    filing = svc.Filing(kind=kind, location="24小时自助区 3号终端", phone=phone, **more)
    return svc.file_request(database, HALL, filing, SECRET, now, source="phone")


def test_a_request_goes_open_claimed_in_progress_done_with_each_step_timed_and_signed(database, now):
    filed = file(database, now, bundle="retirement", reason="elderly", name="王芳", note="不会用自助机")
    assert filed.view["status"] == "open" and filed.view["ahead"] == 0
    assert filed.event.hall == HALL and filed.event.request_id == filed.view["id"]
    me = handler(database, "assistant1")
    rid = filed.view["id"]
    claimed = svc.claim(database, rid, me, now + timedelta(minutes=4), SECRET)
    assert claimed.view["status"] == "claimed" and claimed.view["helper"]["name"] == "帮办员王静"
    started = svc.progress(database, rid, me, now + timedelta(minutes=6), SECRET, note="已到3号终端")
    assert started.view["status"] == "in_progress"
    svc.progress(database, rid, me, now + timedelta(minutes=9), SECRET, note="材料已齐")
    done = svc.close(database, rid, me, now + timedelta(minutes=20), SECRET, outcome="done", note="办结")
    view = done.view
    assert view["status"] == "done" and view["wait_min"] == 4.0 and view["handle_min"] == 16.0
    assert [s["action"] for s in view["steps"]] == ["open", "claim", "progress", "progress", "done"]
    assert [s["at"] for s in view["steps"]] == [
        (now + timedelta(minutes=m)).isoformat() for m in (0, 4, 6, 9, 20)]
    assert [s["staff"] and s["staff"]["id"] for s in view["steps"]][1:] == [me.staff_id] * 4
    assert view["steps"][0]["staff"] is None  # filed by the citizen
    assert view["masked_name"] == "王*" and view["bundle"]["code"] == "retirement"


def test_state_conflicts_are_refused_with_409_codes(database, now):
    me = handler(database, "assistant1")
    rid = file(database, now).view["id"]
    with pytest.raises(svc.AssistNotHandled):
        svc.progress(database, rid, me, now, SECRET, note="x")  # nobody claimed it yet
    with pytest.raises(svc.AssistNotHandled):
        svc.close(database, rid, me, now, SECRET, outcome="done")
    svc.claim(database, rid, me, now, SECRET)
    with pytest.raises(svc.AssistNotOpen) as claimed_twice:
        svc.claim(database, rid, me, now, SECRET)
    assert claimed_twice.value.code == "assist_not_open"
    svc.close(database, rid, me, now, SECRET, outcome="done")
    for outcome in ("done", "cancelled"):
        with pytest.raises((svc.AssistNotHandled, svc.AssistClosed)):
            svc.close(database, rid, me, now, SECRET, outcome=outcome)
    with pytest.raises(svc.AssistNotOpen):
        svc.cancel_by_citizen(database, _token(database, rid), now, SECRET)  # only while open


def _token(database, rid: int) -> str:
    with database.read() as db:
        return db.get_one(AssistRequest, rid).follow_token


def test_only_the_handler_or_a_manager_moves_a_claimed_request(database, now):
    first, other = handler(database, "assistant1"), second_assistant(database, now)
    rid = file(database, now).view["id"]
    svc.claim(database, rid, first, now, SECRET)
    for act in (lambda: svc.progress(database, rid, other, now, SECRET, note="x"),
                lambda: svc.release(database, rid, other, now, SECRET),
                lambda: svc.close(database, rid, other, now, SECRET, outcome="done"),
                lambda: svc.close(database, rid, other, now, SECRET, outcome="cancelled")):
        with pytest.raises(Forbidden):
            act()
    manager = handler(database, "manager")
    released = svc.release(database, rid, manager, now + timedelta(minutes=1), SECRET, note="改派")
    assert released.view["status"] == "open" and released.view["helper"] is None
    again = svc.claim(database, rid, other, now + timedelta(minutes=2), SECRET)
    assert again.view["helper"]["id"] == other.staff_id
    assert again.view["claimed_at"] == now.isoformat()  # the citizen's wait ended at the first claim
    with database.read() as db:
        audited = db.scalars(select(AuditLog.action).where(AuditLog.target == f"assist:{rid}")).all()
    assert audited == ["assist.release"]  # the manager's action; assistants' work is in the steps


def test_staff_of_another_hall_are_refused(database, now):
    rid = file(database, now).view["id"]
    stranger = svc.Handler(staff_id=handler(database, "assistant1").staff_id, actor="staff:x",
                           role="assistant", hall_id=999_999)
    with pytest.raises(Forbidden):
        svc.claim(database, rid, stranger, now, SECRET)
    with pytest.raises(Forbidden):
        svc.get_request(database, rid, stranger, SECRET)
    with pytest.raises(NotFound):
        svc.claim(database, 999_999, handler(database, "assistant1"), now, SECRET)


def test_one_open_request_per_phone_and_hall(database, now):
    me = handler(database, "assistant1")
    rid = file(database, now).view["id"]
    with pytest.raises(svc.AssistAlreadyOpen):
        file(database, now, kind="proxy")
    svc.claim(database, rid, me, now, SECRET)
    svc.close(database, rid, me, now, SECRET, outcome="done")
    assert file(database, now + timedelta(hours=1)).view["status"] == "open"


def test_the_phone_is_kept_masked_hashed_and_encrypted_never_plain(database, now):
    view = file(database, now, phone="13812345678").view
    with database.read() as db:
        row = db.get_one(AssistRequest, view["id"])
        stored = [getattr(row, c.key) for c in AssistRequest.__table__.columns]
        public = svc.public_view(db, db.get_one(Hall, row.hall_id), row)
    assert not any("13812345678" in str(v) for v in stored)
    assert row.phone_masked == "138****5678"
    assert svc.reveal_phone(SECRET, row.phone_cipher) == "13812345678"
    assert svc.reveal_phone("another-key", row.phone_cipher) is None
    assert view["phone"] == "13812345678"  # staff view
    assert "13812345678" not in str(public) and "phone" not in public and "note" not in public


def test_the_open_list_counts_who_is_ahead(database, now):
    views = [file(database, now + timedelta(minutes=i), phone=f"1390000000{i}").view for i in range(3)]
    assert [svc.follow(database, v["follow_token"])["ahead"] for v in views] == [0, 1, 2]
    svc.claim(database, views[0]["id"], handler(database, "assistant1"), now, SECRET)
    assert svc.follow(database, views[2]["follow_token"])["ahead"] == 1
    assert svc.follow(database, views[0]["follow_token"])["ahead"] is None


def test_the_day_report_matches_figures_computed_here(database, now):
    me = handler(database, "assistant1")
    # (kind, minutes to claim, minutes from claim to done, or None: left open / cancelled)
    plan = [("help", 2, 10), ("help", 6, 30), ("help", 15, None), ("proxy", 4, 60), ("proxy", None, None)]
    for i, (kind, wait, handle) in enumerate(plan):
        filed = now + timedelta(minutes=10 * i)
        rid = file(database, filed, phone=f"1370000000{i}", kind=kind).view["id"]
        if wait is not None:
            svc.claim(database, rid, me, filed + timedelta(minutes=wait), SECRET)
            if handle is not None:
                svc.close(database, rid, me, filed + timedelta(minutes=wait + handle), SECRET,
                          outcome="done")
        elif kind == "proxy":
            svc.close(database, rid, me, filed, SECRET, outcome="cancelled")
    file(database, now + timedelta(days=1), phone="13600000000")  # another day: not counted
    report = svc.assist_report(database, HALL, now.date())
    kinds = {k["kind"]: k for k in report["kinds"]}
    assert kinds["help"]["requests"] == 3 and kinds["help"]["done"] == 2
    assert kinds["help"]["wait_avg_min"] == round((2 + 6 + 15) / 3, 1)
    assert kinds["help"]["wait_p50_min"] == 6.0
    assert kinds["help"]["wait_p90_min"] == round(percentile([2, 6, 15], 0.9), 1) == 13.2
    assert kinds["help"]["handle_avg_min"] == 20.0 and kinds["help"]["handle_p90_min"] == 28.0
    assert kinds["proxy"] == {**kinds["proxy"], "requests": 2, "done": 1, "cancelled": 1, "unclaimed": 0,
                              "wait_avg_min": 4.0, "handle_avg_min": 60.0}
    total = report["total"]
    assert total["requests"] == 5 and total["done"] == 3 and total["unclaimed"] == 0
    assert total["wait_p50_min"] == 5.0  # waits 2, 4, 6, 15
    assert report["date"] == now.date().isoformat()


def test_two_helpers_claiming_at_once_get_one_claim_and_one_409(database, now):
    import threading

    rid = file(database, now).view["id"]
    helpers = [handler(database, "assistant1"), second_assistant(database, now)]
    start = threading.Barrier(len(helpers))
    outcomes: list[str] = []

    def claim(who: svc.Handler) -> None:
        start.wait()
        try:
            svc.claim(database, rid, who, now, SECRET)
            outcomes.append("claimed")
        except svc.AssistNotOpen:
            outcomes.append("refused")

    threads = [threading.Thread(target=claim, args=(h,)) for h in helpers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["claimed", "refused"]
    with database.read() as db:
        steps = db.get_one(AssistRequest, rid).steps
        assert [s.action for s in steps] == ["open", "claim"]
