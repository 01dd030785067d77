"""Applications: numbering per hall and day, the merged form, the status flow, the outbox, privacy."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from queue_server import identity_tokens
from queue_server.models import AuditLog
from queue_server.models.service import Application, Outbox
from queue_server.queue import errors
from queue_server.queue import identity as idnum
from queue_server.queue.priority import Identity
from queue_server.services import applications as svc
from queue_server.tokens import identity_hash

from ..conftest import TEST_SECRET
from .helpers import HALL

B = "/api/v1"
DAY = timedelta(days=1)


def id_number(first17: str) -> str:
    return first17 + idnum.check_char(first17)


APPLICANT_ID = id_number("32010219900307124")  # born 1990-03-07, female
OTHER_PARENT_ID = id_number("32010219880511003")
BAD_CHECK_DIGIT = OTHER_PARENT_ID[:-1] + ("0" if OTHER_PARENT_ID[-1] != "0" else "1")
PERSON = Identity(identity_hash(TEST_SECRET, APPLICANT_ID), date(1990, 3, 7), "李*红")


def newborn_form(**changes):
    """A complete 新生儿出生一件事 form; the name, ID number and birth date come from the identity."""
    form = {
        "applicant_sex": "女", "applicant_nation": "汉族", "applicant_address": "南京市玄武区北京东路1号",
        "applicant_phone": "13800138000", "relation_to_newborn": "母亲", "other_parent_name": "王大明",
        "other_parent_id_number": OTHER_PARENT_ID, "other_parent_phone": "13900139000",
        "newborn_name": "王小宝", "newborn_sex": "男", "newborn_birth_date": "2026-11-01",
        "birth_certificate_number": "Q320000123", "household_head_name": "王大明",
        "relation_to_household_head": "子", "settle_address": "南京市玄武区北京东路1号",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def submit(database, now, form=None, person=PERSON, **kw):
    sub = svc.Submission(HALL, kw.pop("bundle", "newborn"), person, newborn_form() if form is None else form, **kw)
    return svc.submit(database, sub, now, secret=TEST_SECRET, actor="device:1").data


def advance(database, number, to, now, **kw):
    return svc.advance(database, number, to, now, actor="staff:clerk1", hall_id=None, **kw).data


def error_code(r):
    return r.get_json()["error"]["code"]


# --- services on SQLite and PostgreSQL ------------------------------------------------------------

def test_numbers_are_sequential_per_hall_and_day(database, now):
    numbers = [submit(database, now + i * timedelta(minutes=1))["number"] for i in range(3)]
    assert numbers == ["SQ20261123-0001", "SQ20261123-0002", "SQ20261123-0003"]
    assert submit(database, now + DAY)["number"] == "SQ20261124-0001"


def test_numbers_stay_unique_when_kiosks_submit_at_once(database, now):
    with ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(lambda i: submit(database, now)["number"], range(12)))
    assert sorted(numbers) == [f"SQ20261123-{i:04d}" for i in range(1, 13)]


def test_received_with_the_promised_date_in_working_days(database, now):
    app = submit(database, now)
    assert app["status"] == "received" and app["promised_by"] == "2026-11-30"  # newborn: 5 working days
    assert app["masked_name"] == "李*红" and not app["overdue"]
    assert [h["status"] for h in app["history"]] == ["received"]
    assert submit(database, now, bundle="listing-compliance", form={
        "agent_phone": "13800138000", "applicant_role": "企业本身", "enterprise_name": "示范科技有限公司",
        "credit_code": "91320100MA1XXXXX0Q", "report_purpose": "首次公开发行上市",
        "period_start": "2023-01-01", "period_end": "2025-12-31"})["promised_by"] == "2026-11-23"  # on the spot


@pytest.mark.parametrize(("form", "error"), [
    (newborn_form(favourite_colour="蓝"), svc.FormUnknownField),
    (newborn_form(newborn_name=None), svc.FormMissingField),
    (newborn_form(newborn_name="  "), svc.FormMissingField),
    (newborn_form(relation_to_newborn="邻居"), svc.FormInvalid),
    (newborn_form(newborn_birth_date="2026-13-01"), svc.FormInvalid),
    (newborn_form(applicant_phone="12345"), svc.FormInvalid),
    (newborn_form(other_parent_id_number=BAD_CHECK_DIGIT), svc.FormInvalid),
    (newborn_form(applicant_id_number=OTHER_PARENT_ID), svc.IdentityMismatch),
    (newborn_form(applicant_name="张三"), svc.IdentityMismatch),
    (newborn_form(applicant_birth_date="1991-03-07"), svc.IdentityMismatch),
])
def test_the_form_is_checked_against_the_bundles_fields(database, now, form, error):
    with pytest.raises(error) as refused:
        submit(database, now, form=form)
    assert refused.value.code.startswith(("form_", "identity_"))


def test_no_id_number_is_stored_in_clear(database, now):
    app = submit(database, now, form=newborn_form(applicant_id_number=APPLICANT_ID.lower(),
                                                  applicant_name="李小红", applicant_birth_date="1990-03-07"))
    with database.read() as db:
        row = db.scalars(select(Application).where(Application.number == app["number"])).one()
        stored = json.loads(row.form)
        assert row.id_hash == PERSON.id_hash and row.masked_name == "李*红"
        assert stored["applicant_id_number"] == idnum.mask_id(APPLICANT_ID)
        assert stored["other_parent_id_number"] == idnum.mask_id(OTHER_PARENT_ID)
        assert stored["applicant_name"] == "李*红" and stored["applicant_birth_date"] == "1990-03-07"
        assert json.loads(row.id_hashes) == {"other_parent_id_number": identity_hash(TEST_SECRET, OTHER_PARENT_ID)}
        everything = " ".join(str(v) for v in (row.form, row.id_hashes, row.masked_name, row.id_hash))
    assert APPLICANT_ID not in everything and OTHER_PARENT_ID not in everything and "李小红" not in everything


def test_the_status_flow_goes_one_step_at_a_time(database, now):
    number = submit(database, now)["number"]
    with pytest.raises(svc.ApplicationOutOfOrder) as refused:
        advance(database, number, "decided", now)
    assert refused.value.code == "application_out_of_order"
    hour = timedelta(hours=1)
    for i, to in enumerate(svc.STATUSES[1:], start=1):
        app = advance(database, number, to, now + i * hour, note=f"第{i}步")
    assert app["status"] == "delivered"
    assert [(h["status"], h["at"]) for h in app["history"]] == [
        (s, (now + i * hour).isoformat()) for i, s in enumerate(svc.STATUSES)]
    with pytest.raises(svc.ApplicationOutOfOrder):
        advance(database, number, "delivered", now + 9 * hour)
    with pytest.raises(errors.NotFound):
        advance(database, "SQ20261123-9999", "in_review", now)
    with database.read() as db:
        assert db.scalar(select(AuditLog).where(AuditLog.action == "application.advance",
                                                AuditLog.target == f"application:{number}")) is not None


def test_overdue_until_the_result_is_ready(database, now):
    number = submit(database, now)["number"]  # promised by Monday 2026-11-30
    advance(database, number, "in_review", now)
    after = now + 8 * DAY  # Tuesday 2026-12-01
    assert not svc.staff_view(database, number, None, now + 7 * DAY).data["overdue"]
    assert svc.staff_view(database, number, None, after).data["overdue"]
    assert [a.data["number"] for a in svc.list_applications(database, HALL, "overdue", after)] == [number]
    advance(database, number, "decided", after)
    ready = advance(database, number, "result_ready", after)
    assert not ready["overdue"]
    assert svc.list_applications(database, HALL, "overdue", after) == []


def test_window_pickup_queues_an_sms_when_the_result_is_ready(database, now):
    number = submit(database, now, phone="13800138000")["number"]
    for to in ("in_review", "decided"):
        advance(database, number, to, now)
    with database.read() as db:
        assert db.scalars(select(Outbox)).all() == []
    advance(database, number, "result_ready", now + timedelta(hours=2))
    with database.read() as db:
        [sms] = db.scalars(select(Outbox)).all()
    assert sms.channel == "sms" and sms.phone == "13800138000" and sms.sent_at is None
    assert number in sms.text and "领取" in sms.text and sms.created_at == now + timedelta(hours=2)
    with pytest.raises(svc.TrackingNumberNotAllowed):
        advance(database, number, "delivered", now, tracking_number="EMS1234567")


def test_post_delivery_needs_an_address_and_a_tracking_number(database, now):
    with pytest.raises(svc.DeliveryIncomplete):
        submit(database, now, delivery="post", phone="13800138000")
    number = submit(database, now, delivery="post", address="南京市玄武区北京东路1号",
                    phone="13800138000")["number"]
    for to in ("in_review", "decided", "result_ready"):
        advance(database, number, to, now)
    with database.read() as db:
        assert db.scalars(select(Outbox)).all() == []  # no pickup notice for post
    with pytest.raises(svc.TrackingNumberRequired):
        advance(database, number, "delivered", now)
    app = advance(database, number, "delivered", now, tracking_number="EMS1234567890")
    assert app["tracking_number"] == "EMS1234567890" and app["status"] == "delivered"
    with database.read() as db:
        [sms] = db.scalars(select(Outbox)).all()
    assert "EMS1234567890" in sms.text and sms.sent_at is None


def test_only_the_applicant_sees_progress(database, now):
    number = submit(database, now)["number"]
    seen = svc.progress(database, number, PERSON, now).public()
    assert seen["number"] == number and "form" not in seen and "phone" not in seen
    stranger = Identity("0" * 64, date(1980, 1, 1), "张*")
    with pytest.raises(errors.NotFound) as theirs:
        svc.progress(database, number, stranger, now)
    with pytest.raises(errors.NotFound) as unknown:
        svc.progress(database, "SQ20261123-0999", PERSON, now)
    assert str(theirs.value) == str(unknown.value)  # no hint that the number exists
    with pytest.raises(errors.NotFound):  # PostgreSQL cannot even compare a NUL: still a 404
        svc.progress(database, "SQ\x00", PERSON, now)
    with pytest.raises(errors.NotFound):
        advance(database, "SQ\x00", "in_review", now)


# --- the API ---------------------------------------------------------------------------------------

def token(person=PERSON):
    return identity_tokens.issue(TEST_SECRET, person)


def post(client, headers, **body):
    body = {"hall": "demo", "bundle": "newborn", "identity_token": token(), "form": newborn_form(), **body}
    return client.post(f"{B}/applications", json=body, headers=headers)


def test_a_kiosk_submits_and_the_applicant_follows_it(client, kiosk):
    assert post(client, {}).status_code == 401
    r = post(client, kiosk, phone="13800138000")
    assert r.status_code == 201, r.get_json()
    app = r.get_json()
    assert app["number"].startswith("SQ") and app["status"] == "received" and app["promised_by"]
    assert app["phone_masked"] == "138****8000" and "form" not in app and "phone" not in app
    path = f"{B}/applications/{app['number']}"
    missing = client.get(path)
    assert missing.status_code == 401
    stranger = {"X-Identity-Token": token(Identity("0" * 64, date(1980, 1, 1), "张*"))}
    theirs = client.get(path, headers=stranger)
    unknown = client.get(f"{B}/applications/SQ20000101-0001", headers={"X-Identity-Token": token()})
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.get_json() == unknown.get_json()
    forged = client.get(path, headers={"X-Identity-Token": "forged"})
    assert forged.status_code == 400
    mine = client.get(path, headers={"X-Identity-Token": token()})
    assert mine.status_code == 200 and mine.get_json()["number"] == app["number"]
    assert OTHER_PARENT_ID not in mine.get_data(as_text=True)


def test_bad_forms_are_refused_with_a_code(client, kiosk):
    r = post(client, kiosk, form=newborn_form(nickname="x"))
    assert r.status_code == 400 and error_code(r) == "form_unknown_field"
    r = post(client, kiosk, form=newborn_form(newborn_name=None))
    assert r.status_code == 400 and error_code(r) == "form_missing_field"
    r = post(client, kiosk, hall="nowhere")
    assert r.status_code == 404
    r = post(client, kiosk, identity_token="forged")
    assert r.status_code == 400


def test_staff_advance_and_kiosks_cannot(client, kiosk, login):
    number = post(client, kiosk, phone="13800138000").get_json()["number"]
    clerk = login("clerk3")
    path = f"{B}/applications/{number}/advance"
    assert client.post(path, json={"to": "in_review"}, headers=kiosk).status_code == 403
    skipped = client.post(path, json={"to": "decided"}, headers=clerk)
    assert skipped.status_code == 409 and error_code(skipped) == "application_out_of_order"
    for to in ("in_review", "decided", "result_ready"):
        r = client.post(path, json={"to": to, "note": "ok"}, headers=clerk)
        assert r.status_code == 200, r.get_json()
    assert r.get_json()["form"]["newborn_name"] == "王小宝" and r.get_json()["phone"] == "13800138000"
    listed = client.get(f"{B}/halls/demo/applications?state=done", headers=clerk).get_json()["applications"]
    assert [a["number"] for a in listed] == [number]
    one = client.get(f"{B}/halls/demo/applications/{number}", headers=login("manager"))
    assert one.status_code == 200 and one.get_json()["status"] == "result_ready"
    assert client.get(f"{B}/halls/demo/applications/SQ1", headers=clerk).status_code == 404
