"""The HTTP API contract of DESIGN.md: paths, shapes, status codes, error shape, roles and seats."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from queue_server.models import AuditLog

from ..conftest import NOW

B = "/api/v1"


def error_of(r):
    body = r.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]["code"]


def test_bundles_with_waits_and_the_notice(client):
    r = client.get(f"{B}/halls/demo/bundles")
    assert r.status_code == 200
    bundles = r.get_json()["bundles"]
    assert len(bundles) >= 15
    for b in bundles:
        assert {"code", "name", "prefix", "waiting", "wait_min", "open_windows"} <= set(b)
    notice = client.get(f"{B}/bundles/newborn").get_json()
    assert notice["name"].startswith("新生儿") and notice["matters"] and notice["materials"]
    assert all(m["matters"] for m in notice["materials"])
    assert 0 < notice["identity_fillable_share"] < 1
    assert error_of(client.get(f"{B}/bundles/nothing")) == "not_found"
    assert client.get(f"{B}/halls/nowhere/bundles").status_code == 404


def test_take_a_number_needs_a_kiosk_or_staff_token(client, kiosk, login):
    assert client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}).status_code == 401
    r = client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk)
    assert r.status_code == 201
    t = r.get_json()
    assert t["number"] == "A001" and t["people_ahead"] == 0 and t["track_token"]
    assert set(t) >= {"id", "number", "bundle", "priority", "status", "people_ahead", "wait_min", "track_token"}
    r = client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=login("clerk1"))
    assert r.status_code == 201 and r.get_json()["number"] == "A002"


def test_idempotency_key_replays_the_same_ticket(client, kiosk):
    headers = {**kiosk, "Idempotency-Key": "kiosk-7-0001"}
    first = client.post(f"{B}/halls/demo/tickets", json={"bundle": "retirement"}, headers=headers)
    again = client.post(f"{B}/halls/demo/tickets", json={"bundle": "retirement"}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["id"] == again.get_json()["id"]
    other = client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=headers)
    assert other.status_code == 409 and error_of(other) == "idempotency_mismatch"


def test_an_idempotency_key_answers_only_the_device_that_used_it(client, kiosk, sqlite_db):
    """Another kiosk sending the same key gets a 409, never the first kiosk's ticket."""
    import secrets as _secrets

    from queue_server.models import Device, Hall
    from queue_server.tokens import token_hash

    token = _secrets.token_urlsafe(16)
    with sqlite_db.write() as db:
        hall = db.scalars(select(Hall).where(Hall.code == "demo")).one()
        db.add(Device(hall_id=hall.id, kind="kiosk", name="another kiosk", created_at=NOW,
                      token_hash=token_hash(token)))
    key = {"Idempotency-Key": "kiosk-7-0002"}
    first = client.post(f"{B}/halls/demo/tickets", json={"bundle": "retirement"}, headers={**kiosk, **key})
    assert first.status_code == 201
    stranger = client.post(f"{B}/halls/demo/tickets", json={"bundle": "retirement"},
                           headers={"Authorization": f"Bearer {token}", **key})
    assert stranger.status_code == 409 and error_of(stranger) == "idempotency_mismatch"
    assert first.get_json()["track_token"] not in stranger.get_data(as_text=True)


@pytest.mark.parametrize("body", [
    {}, {"bundle": ""}, {"bundle": 5}, {"bundle": "newborn", "priority": "vip"}, [], "text",
    {"bundle": "newborn", "identity_token": "forged"},
])
def test_bad_input_is_a_4xx_with_the_error_shape(client, kiosk, body):
    r = client.post(f"{B}/halls/demo/tickets", json=body, headers=kiosk)
    assert 400 <= r.status_code < 500
    error_of(r)


def test_not_json_at_all(client, kiosk):
    r = client.post(f"{B}/halls/demo/tickets", data=b"\xff\xfe", headers={**kiosk, "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    error_of(r)


def test_clerk_acts_only_at_their_seat(client, kiosk, login):
    client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk)
    clerk1 = login("clerk1")
    assert client.post(f"{B}/windows/1/call-next").status_code == 401
    refused = client.post(f"{B}/windows/2/call-next", headers=clerk1)
    assert refused.status_code == 403 and error_of(refused) == "forbidden"
    r = client.post(f"{B}/windows/1/call-next", headers=clerk1)
    assert r.status_code == 200
    assert r.get_json()["ticket"]["number"] == "A001"
    assert client.post(f"{B}/windows/1/call-next", headers=login("manager")).status_code in (200, 409)
    assert client.post(f"{B}/windows/999/call-next", headers=clerk1).status_code == 404


def test_window_actions_and_queue_empty(client, kiosk, login):
    clerk = login("clerk1")
    empty = client.post(f"{B}/windows/1/call-next", headers=clerk)
    assert empty.status_code == 409 and error_of(empty) == "queue_empty"
    client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk)
    assert client.post(f"{B}/windows/1/call-next", headers=clerk).status_code == 200
    recall = client.post(f"{B}/windows/1/recall", headers=clerk).get_json()["ticket"]
    assert recall["recall_count"] == 1
    assert client.post(f"{B}/windows/1/start", headers=clerk).get_json()["ticket"]["status"] == "serving"
    moved = client.post(f"{B}/windows/1/transfer", json={"window": 7}, headers=clerk)
    assert moved.status_code == 200 and moved.get_json()["ticket"]["status"] == "waiting"
    assert client.post(f"{B}/windows/1/transfer", json={}, headers=clerk).status_code == 400
    assert client.post(f"{B}/windows/1/finish", headers=clerk).status_code == 409
    paused = client.post(f"{B}/windows/1/pause", headers=clerk).get_json()
    assert paused["paused"] is True
    assert error_of(client.post(f"{B}/windows/1/call-next", headers=clerk)) == "window_paused"
    assert client.post(f"{B}/windows/1/resume", headers=clerk).get_json()["paused"] is False


def test_only_managers_change_allocations_and_it_is_audited(client, login, app):
    body = {"bundles": [{"code": "newborn", "rank": 1}, {"code": "retirement", "rank": 2}]}
    assert client.put(f"{B}/halls/demo/windows/5/bundles", json=body, headers=login("clerk5")).status_code == 403
    r = client.put(f"{B}/halls/demo/windows/5/bundles", json=body, headers=login("manager"))
    assert r.status_code == 200
    w = r.get_json()
    assert {"id", "number", "name", "kind", "open", "bundles"} <= set(w)
    assert [(b["code"], b["rank"]) for b in w["bundles"]] == [("newborn", 1), ("retirement", 2)]
    listed = client.get(f"{B}/halls/demo/windows").get_json()["windows"]
    assert next(x for x in listed if x["number"] == 5)["bundles"] == w["bundles"]
    bad = client.put(f"{B}/halls/demo/windows/5/bundles", json={"bundles": [{"code": "newborn", "rank": 0}]},
                     headers=login("manager"))
    assert bad.status_code == 422 and error_of(bad) == "invalid_input"
    from queue_server.runtime import runtime
    with app.app_context(), runtime().database.read() as db:
        actions = [a.action for a in db.query(AuditLog).all()]
    assert "window.allocation" in actions


def test_login_refusal_and_rate_limit_per_username(client):
    for _ in range(5):
        r = client.post(f"{B}/auth/login", json={"username": "clerk2", "password": "wrong"})
        assert r.status_code == 401 and error_of(r) == "unauthorized"
    limited = client.post(f"{B}/auth/login", json={"username": "clerk2", "password": "wrong"})
    assert limited.status_code == 429 and error_of(limited) == "rate_limited"
    # another username from the same address is not affected
    assert client.post(f"{B}/auth/login", json={"username": "clerk3", "password": "wrong"}).status_code == 401


def test_device_tokens_are_issued_and_revoked_by_a_manager(client, login):
    manager = login("manager")
    assert client.post(f"{B}/halls/demo/devices", json={"kind": "kiosk", "name": "x"},
                       headers=login("clerk1")).status_code == 403
    issued = client.post(f"{B}/halls/demo/devices", json={"kind": "kiosk", "name": "2号自助机"}, headers=manager)
    assert issued.status_code == 201
    device = issued.get_json()
    token = {"Authorization": f"Bearer {device['token']}"}
    assert client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=token).status_code == 201
    assert client.delete(f"{B}/halls/demo/devices/{device['id']}", headers=manager).status_code == 200
    assert client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=token).status_code == 401
    listed = client.get(f"{B}/halls/demo/devices", headers=manager).get_json()["devices"]
    assert all("token" not in d for d in listed)
    audit = client.get(f"{B}/halls/demo/audit", headers=manager).get_json()["entries"]
    assert {"device.issue", "device.revoke"} <= {e["action"] for e in audit}


def test_who_a_token_names_is_known_from_start_up_and_forgotten_on_a_change(client, login, kiosk, sqlite_db):
    """After start-up's read of every staff member and device, a kiosk's and a clerk's first requests
    read neither row; revoking the kiosk, deactivating the clerk or changing a password takes effect
    at once all the same."""
    from sqlalchemy import event

    from queue_server import auth

    manager, clerk = login("manager"), login("clerk2")
    staff = client.get(f"{B}/halls/demo/staff", headers=manager).get_json()["staff"]
    clerk_id = next(s["id"] for s in staff if s["username"] == "clerk2")
    read: list[str] = []
    for engine in {sqlite_db.engine, sqlite_db.read_engine}:
        event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: read.append(statement))

    def rows_read() -> set[str]:
        names = {"device": "FROM device", "staff": "FROM staff"}
        return {name for name, text in names.items() for s in read if text in s}

    def take(headers: dict[str, str]) -> int:
        return client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=headers).status_code

    auth.forget_principals()  # as a restart leaves it: the first requests read their rows
    assert take(kiosk) == 201 and take(clerk) == 201
    assert rows_read() == {"device", "staff"}
    auth.forget_principals()
    with sqlite_db.read() as db:
        assert auth.know_everyone(db) >= 2
    read.clear()
    assert take(kiosk) == 201 and take(clerk) == 201
    assert rows_read() == set()
    # changes through the API drop what was known
    kiosk_id = next(d["id"] for d in client.get(f"{B}/halls/demo/devices", headers=manager).get_json()["devices"]
                    if d["name"] == "test kiosk")
    assert client.delete(f"{B}/halls/demo/devices/{kiosk_id}", headers=manager).status_code == 200
    assert take(kiosk) == 401
    assert client.patch(f"{B}/halls/demo/staff/{clerk_id}", json={"password": "another-long-1"},
                        headers=manager).status_code == 200
    assert take(clerk) == 401
    with sqlite_db.read() as db:
        auth.know_everyone(db)
    assert take(clerk) == 401  # known again, with the new password: the old token is still refused
    assert take(login("manager")) == 201


def test_staff_accounts(client, login):
    manager = login("manager")
    r = client.post(f"{B}/halls/demo/staff", json={"username": "newclerk", "name": "新同事",
                                                  "password": "long-enough-1", "role": "clerk", "window": 12},
                    headers=manager)
    assert r.status_code == 201 and r.get_json()["window"] == 12
    dup = client.post(f"{B}/halls/demo/staff", json={"username": "newclerk", "name": "x",
                                                    "password": "long-enough-1", "role": "clerk"}, headers=manager)
    assert dup.status_code == 409
    token = client.post(f"{B}/auth/login", json={"username": "newclerk", "password": "long-enough-1"})
    assert token.status_code == 200 and token.get_json()["window"]["number"] == 12
    staff_id = r.get_json()["id"]
    assert client.patch(f"{B}/halls/demo/staff/{staff_id}", json={"active": False}, headers=manager).status_code == 200
    assert client.post(f"{B}/auth/login", json={"username": "newclerk", "password": "long-enough-1"}).status_code == 401


def test_track_and_screens_carry_no_personal_data(client, kiosk):
    t = client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk).get_json()
    tracked = client.get(f"{B}/track/{t['track_token']}").get_json()
    assert tracked["ticket"]["number"] == t["number"] and tracked["hall"] == "demo"
    assert client.get(f"{B}/track/nonexistent").status_code == 404
    screen = client.get(f"{B}/halls/demo/screen").get_json()
    assert screen["windows"] and screen["bundles"] is not None
    text = str(screen)
    assert "identity" not in text and "name\": \"王" not in text


def test_openapi_document_is_generated_from_the_schemas(client):
    spec = client.get(f"{B}/openapi.json").get_json()
    paths = spec["paths"]
    for path in ("/api/v1/halls/{hall}/bundles", "/api/v1/bundles/{code}", "/api/v1/halls/{hall}/tickets",
                 "/api/v1/track/{track_token}", "/api/v1/windows/{window}/call-next",
                 "/api/v1/windows/{window}/transfer", "/api/v1/halls/{hall}/windows/{window}/bundles",
                 "/api/v1/auth/login", "/api/v1/halls/{hall}/windows"):
        assert path in paths, path
    take = paths["/api/v1/halls/{hall}/tickets"]["post"]
    assert "201" in take["responses"] and "requestBody" in take


def test_public_reads_are_rate_limited(settings, sqlite_db):
    from queue_server import create_app

    app = create_app(settings.with_(public_rate_limit="3/minute"), sqlite_db)
    client = app.test_client()
    codes = [client.get(f"{B}/halls/demo/bundles").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert error_of(client.get(f"{B}/halls/demo/bundles")) == "rate_limited"


def test_take_a_number_is_limited_per_kiosk_not_per_address(settings, sqlite_db, kiosk):
    import secrets

    from sqlalchemy import select

    from queue_server import create_app
    from queue_server.models import Device, Hall
    from queue_server.tokens import token_hash

    app = create_app(settings.with_(ticket_rate_limit="2/minute"), sqlite_db)
    client = app.test_client()
    other = secrets.token_urlsafe(16)
    with sqlite_db.write() as db:
        hall = db.scalars(select(Hall).where(Hall.code == "demo")).one()
        db.add(Device(hall_id=hall.id, kind="kiosk", name="k2", created_at=NOW,
                      token_hash=token_hash(other)))
    take = lambda h: client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=h).status_code  # noqa: E731
    assert [take(kiosk) for _ in range(3)] == [201, 201, 429]
    assert take({"Authorization": f"Bearer {other}"}) == 201  # same address, another kiosk
    refused = client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    # no X-RateLimit-* headers on answers (each would cost a Redis read per request)
    assert not [name for name, _ in refused.headers.items() if name.lower().startswith("x-ratelimit")]


def test_ticket_qr_leads_to_its_tracking_page(client, kiosk):
    import io

    import numpy as np
    import zxingcpp
    from PIL import Image

    t = client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk).get_json()
    r = client.get(f"/t/{t['track_token']}/qr.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    image = np.array(Image.open(io.BytesIO(r.data)).convert("L"))
    texts = [b.text for b in zxingcpp.read_barcodes(image)]
    assert texts == [f"http://localhost/t/{t['track_token']}"]
    assert client.get("/t/bad%20token!/qr.png").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/halls/a%00b/bundles", "/api/v1/bundles/x%00", "/api/v1/track/t%00"])
def test_nul_in_a_path_is_not_found(client, path):
    r = client.get(path)
    assert r.status_code == 404 and error_of(r) == "not_found"


@pytest.mark.parametrize("target", ["//evil.example/", "/%09/evil.example", "/\\evil.example", "https://evil.example/"])
def test_login_never_redirects_off_this_server(client, target):
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = client.post(f"/login?next={target}", data={"username": "clerk1", "password": "test-password",
                                                    "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/counter/"


def test_transfer_to_a_bundle_no_window_serves_is_refused(client, kiosk, login):
    manager = login("manager")
    for w in client.get(f"{B}/halls/demo/windows").get_json()["windows"]:
        codes = [b for b in w["bundles"] if b["code"] != "bankruptcy-check"]
        client.put(f"{B}/halls/demo/windows/{w['number']}/bundles", json={"bundles": [
            {"code": b["code"], "rank": b["rank"]} for b in codes]}, headers=manager)
    clerk = login("clerk1")
    client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk)
    client.post(f"{B}/windows/1/call-next", headers=clerk)
    r = client.post(f"{B}/windows/1/transfer", json={"bundle": "bankruptcy-check"}, headers=clerk)
    assert r.status_code == 409 and error_of(r) == "bundle_not_served"


def test_a_managers_requeue_is_audited_only_when_it_happens(client, kiosk, login, app):
    from sqlalchemy import select

    from queue_server.runtime import runtime

    manager, clerk = login("manager"), login("clerk1")
    t = client.post(f"{B}/halls/demo/tickets", json={"bundle": "newborn"}, headers=kiosk).get_json()
    refused = client.post(f"{B}/tickets/{t['id']}/requeue", headers=manager)  # still waiting
    assert refused.status_code == 409
    client.post(f"{B}/windows/1/call-next", headers=clerk)
    client.post(f"{B}/windows/1/no-show", headers=clerk)
    assert client.post(f"{B}/tickets/{t['id']}/requeue", headers=manager).status_code == 200
    with app.app_context(), runtime().database.read() as db:
        entries = db.scalars(select(AuditLog).where(AuditLog.action == "ticket.requeue")).all()
    assert [e.target for e in entries] == [f"ticket:{t['number']}"]


def test_behind_nginx_public_limits_count_the_forwarded_address(settings, sqlite_db):
    """With GOVHALL_TRUSTED_PROXIES=1 two phones behind nginx are two addresses, not one."""
    from queue_server import create_app

    app = create_app(settings.with_(public_rate_limit="2/minute", trusted_proxies=1), sqlite_db)
    client = app.test_client()

    def get(phone: str) -> int:
        return client.get("/api/v1/halls/demo/bundles", headers={"X-Forwarded-For": phone}).status_code

    assert [get("10.0.0.1"), get("10.0.0.1"), get("10.0.0.1")] == [200, 200, 429]
    assert get("10.0.0.2") == 200
