"""帮办代办 over HTTP: who may file and act (401/403), refusals (409), the public view, the report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from queue_server import clock

from ..conftest import NOW

BODY = {"kind": "help", "bundle": "retirement", "location": "24小时自助区 3号终端",
        "phone": "13812345678", "reason": "elderly", "name": "王芳", "note": "不会操作自助机"}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def file(client, headers=None, **changes):
    return client.post("/api/v1/halls/demo/assist-requests", json={**BODY, **changes},
                       headers=headers or {})


def test_a_citizen_files_from_the_phone_and_follows_it_without_seeing_personal_data(client):
    r = file(client)
    assert r.status_code == 201, r.get_json()
    filed = r.get_json()
    assert filed["status"] == "open" and filed["kind_name"] == "帮办" and filed["reason_name"] == "老年人"
    assert filed["follow_url"] == f"http://localhost/h/{filed['follow_token']}"
    assert filed["qr_url"] == f"/h/{filed['follow_token']}/qr.png"
    assert filed["masked_name"] == "王*" and filed["phone_masked"] == "138****5678"
    followed = client.get(f"/api/v1/assist/{filed['follow_token']}")
    assert followed.status_code == 200
    text = followed.get_data(as_text=True)
    for secret in ("13812345678", "王芳", "不会操作自助机"):
        assert secret not in text and secret not in r.get_data(as_text=True)
    assert client.get("/api/v1/assist/unknown-token-123").status_code == 404


def test_anonymous_filing_needs_a_phone_and_a_location_and_a_bad_token_is_401(client):
    assert file(client, phone=None).status_code == 400
    assert file(client, location=None).status_code == 400
    r = file(client, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert file(client, kind="walk").status_code == 422
    assert file(client, bundle="no-such-bundle").status_code == 404
    assert client.post("/api/v1/halls/nowhere/assist-requests", json=BODY).status_code == 404


def test_a_kiosk_files_for_its_citizen_at_its_own_place(client, kiosk, sqlite_db):
    r = file(client, kiosk, location=None, phone=None)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["location"] == "test kiosk"
    display = _device(sqlite_db, "display")
    assert file(client, display).status_code == 403  # a hall screen files nothing


def _device(database, kind: str) -> dict[str, str]:
    import secrets

    from sqlalchemy import select

    from queue_server.models import Device, Hall
    from queue_server.tokens import token_hash

    token = secrets.token_urlsafe(16)
    with database.write() as db:
        hall = db.scalars(select(Hall).where(Hall.code == "demo")).one()
        db.add(Device(hall_id=hall.id, kind=kind, name=f"test {kind}", created_at=NOW,
                      token_hash=token_hash(token)))
    return {"Authorization": f"Bearer {token}"}


def test_one_open_request_per_phone(client):
    assert file(client).status_code == 201
    again = file(client, kind="proxy")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "assist_already_open"


def test_staff_roles_and_the_whole_flow(client, login):
    token = file(client).get_json()["follow_token"]
    assistant, clerk, manager = login("assistant1"), login("clerk1"), login("manager")
    assert client.get("/api/v1/halls/demo/assist-requests").status_code == 401
    assert client.get("/api/v1/halls/demo/assist-requests", headers=clerk).status_code == 403
    listed = client.get("/api/v1/halls/demo/assist-requests", headers=assistant).get_json()["requests"]
    assert [(r["follow_token"], r["phone"], r["note"]) for r in listed] == [
        (token, "13812345678", "不会操作自助机")]
    rid = listed[0]["id"]
    assert client.post(f"/api/v1/assist-requests/{rid}/claim", json={}, headers=clerk).status_code == 403
    claimed = client.post(f"/api/v1/assist-requests/{rid}/claim", json={}, headers=assistant)
    assert claimed.status_code == 200 and claimed.get_json()["status"] == "claimed"
    twice = client.post(f"/api/v1/assist-requests/{rid}/claim", json={}, headers=manager)
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "assist_not_open"
    noted = client.post(f"/api/v1/assist-requests/{rid}/progress", json={"note": "已到3号终端"},
                        headers=assistant)
    assert noted.get_json()["status"] == "in_progress"
    assert client.post(f"/api/v1/assist-requests/{rid}/progress", json={"note": ""},
                       headers=assistant).status_code == 422
    public = client.get(f"/api/v1/assist/{token}").get_json()
    assert public["helper"] == {"name": "帮办员王静"}
    assert [s["note"] for s in public["steps"]] == [None, None, "已到3号终端"]
    closed = client.post(f"/api/v1/assist-requests/{rid}/close", json={"outcome": "done"},
                         headers=assistant)
    assert closed.status_code == 200 and closed.get_json()["status"] == "done"
    again = client.post(f"/api/v1/assist-requests/{rid}/close", json={"outcome": "cancelled"},
                        headers=assistant)
    assert again.status_code == 409
    assert client.get(f"/api/v1/assist-requests/{rid}", headers=assistant).get_json()["done_at"]
    today = client.get("/api/v1/halls/demo/assist-requests?scope=today", headers=assistant).get_json()
    assert [r["status"] for r in today["requests"]] == ["done"]
    assert client.get("/api/v1/halls/demo/assist-requests", headers=assistant).get_json()["requests"] == []


def test_the_citizen_cancels_only_while_nobody_claimed_it(client, login):
    first = file(client).get_json()
    r = client.post(f"/api/v1/assist/{first['follow_token']}/cancel")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    second = file(client).get_json()  # the phone may ask again once the first is closed
    listed = client.get("/api/v1/halls/demo/assist-requests", headers=login("assistant1")).get_json()
    rid = listed["requests"][0]["id"]
    client.post(f"/api/v1/assist-requests/{rid}/claim", json={}, headers=login("assistant1"))
    r = client.post(f"/api/v1/assist/{second['follow_token']}/cancel")
    assert r.status_code == 409


def test_anonymous_filing_is_limited_per_phone(client):
    for _ in range(5):
        token = file(client).get_json()["follow_token"]
        client.post(f"/api/v1/assist/{token}/cancel")
    limited = file(client)
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    assert file(client, phone="13900001111").status_code == 201  # another citizen is not held up


def test_the_day_report_is_for_managers(client, login):
    token = file(client).get_json()["follow_token"]
    assistant = login("assistant1")
    rid = client.get("/api/v1/halls/demo/assist-requests", headers=assistant).get_json()["requests"][0]["id"]
    client.post(f"/api/v1/assist-requests/{rid}/claim", json={}, headers=assistant)
    assert token
    day = (NOW + timedelta(hours=8)).date().isoformat()  # the hall-local date (Asia/Shanghai)
    r = client.get(f"/api/v1/halls/demo/assist-report?date={day}", headers=login("manager"))
    assert r.status_code == 200
    report = r.get_json()
    assert report["total"]["requests"] == 1 and report["total"]["wait_avg_min"] == 0.0
    assert client.get("/api/v1/halls/demo/assist-report", headers=assistant).status_code == 403
    assert client.get("/api/v1/halls/demo/assist-report?date=2026-13-01",
                      headers=login("manager")).status_code == 400


def test_an_assistant_login_lands_on_the_assist_console(client):
    page = client.get("/login")
    csrf = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": "assistant1", "password": "test-password",
                                    "csrf_token": csrf})
    assert r.status_code == 302 and r.headers["Location"].endswith("/assist/")
    assert client.get("/assist/").status_code == 200
    other = client.get("/counter/")  # not a window clerk: sent to their own console, not to the login
    assert other.status_code == 302 and other.headers["Location"].endswith("/assist/")
    assert client.get("/manage/").headers["Location"].endswith("/assist/")


def test_staff_file_for_a_citizen_and_a_managers_filing_is_audited(client, login, sqlite_db):
    from sqlalchemy import select

    from queue_server.models import AuditLog

    assert file(client, login("clerk1"), phone=None).status_code == 201  # at the window, no phone
    assert file(client, login("manager"), phone="13900003333", kind="proxy").status_code == 201
    listed = client.get("/api/v1/halls/demo/assist-requests", headers=login("assistant1")).get_json()
    assert [(r["source"], r["kind"], r["phone"]) for r in listed["requests"]] == [
        ("staff", "help", None), ("staff", "proxy", "13900003333")]
    with sqlite_db.read() as db:
        actions = db.scalars(select(AuditLog.actor).where(AuditLog.action == "assist.file")).all()
    assert actions == ["staff:manager"]
