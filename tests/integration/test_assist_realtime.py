"""帮办代办 on the /hall Socket.IO namespace with real clients against a real server: the staff screen
needs a staff token and sees new requests after commit; the citizen's screen gets its request's
public view only."""

from __future__ import annotations

from .test_realtime import Screen


def Client(url: str, screen: str, token: str | None = None) -> Screen:
    """A real Socket.IO client subscribed to one screen of the demo hall (test_realtime's Screen)."""
    return Screen(url, screen=screen, token=token, events=("snapshot", "assist_updated"))


BODY = {"kind": "help", "location": "24小时自助区 3号终端", "phone": "13812345678", "name": "王芳",
        "note": "不会操作自助机"}


def test_staff_see_a_new_request_live_and_the_citizen_sees_its_claim(live_server):
    staff = Client(live_server.url, "assist", live_server.login("assistant1"))
    try:
        assert staff.answers.get(timeout=5) == {"ok": True}
        assert staff.wait_for("snapshot")["requests"] == []
        status, filed = live_server.call("POST", "/halls/demo/assist-requests", None, BODY)
        assert status == 201
        update = staff.wait_for("assist_updated")
        request = update["request"]
        assert request["follow_token"] == filed["follow_token"] and request["status"] == "open"
        assert request["phone"] == "13812345678"  # staff screens carry the number to call back
        # the event went out after the commit: the request is already listed
        token = live_server.login("assistant1")
        _, listed = live_server.call("GET", "/halls/demo/assist-requests", token)
        assert [r["id"] for r in listed["requests"]] == [request["id"]]

        citizen = Client(live_server.url, f"assist-follow:{filed['follow_token']}")
        try:
            assert citizen.answers.get(timeout=5) == {"ok": True}
            assert citizen.wait_for("snapshot")["request"]["status"] == "open"
            status, _ = live_server.call("POST", f"/assist-requests/{request['id']}/claim", token, {})
            assert status == 200
            seen = citizen.wait_for("assist_updated")["request"]
            assert seen["status"] == "claimed" and seen["helper"] == {"name": "帮办员王静"}
            assert "phone" not in seen and "note" not in seen
            assert "13812345678" not in str(seen) and "不会操作自助机" not in str(seen)
            assert staff.wait_for("assist_updated")["request"]["status"] == "claimed"
        finally:
            citizen.close()
    finally:
        staff.close()


def test_the_staff_screen_needs_a_staff_token(live_server):
    for token in (None, live_server.login("clerk1")):
        client = Client(live_server.url, "assist", token)
        try:
            answer = client.answers.get(timeout=5)
            assert answer["ok"] is False and answer["error"]["code"] == "forbidden"
        finally:
            client.close()
    manager = Client(live_server.url, "assist", live_server.login("manager"))
    try:
        assert manager.answers.get(timeout=5) == {"ok": True}
    finally:
        manager.close()


def test_an_unknown_follow_token_is_refused(live_server):
    client = Client(live_server.url, "assist-follow:no-such-token")
    try:
        answer = client.answers.get(timeout=5)
        assert answer["ok"] is False and answer["error"]["code"] == "not_found"
    finally:
        client.close()
