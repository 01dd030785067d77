"""The /hall Socket.IO namespace with real clients against real server processes.

subscribe -> snapshot; ticket_called after the commit; a fresh snapshot after a server restart;
manager screens need a token; two processes behind Redis share events.
"""

from __future__ import annotations

import json
import queue
import time
import uuid
from pathlib import Path

import pytest
import socketio

from ..conftest import REDIS_URL, LiveServer, service_missing


class Screen:
    """A real Socket.IO client subscribed like a display; events land in a queue."""

    def __init__(self, url: str, hall: str = "demo", screen: str = "hall", token: str | None = None,
                 events: tuple[str, ...] = ("snapshot", "ticket_called", "queue_updated", "window_updated"),
                 ) -> None:
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        self.sio.on("connect", self._subscribe, namespace="/hall")
        for name in events:
            self.sio.on(name, self._keeper(name), namespace="/hall")
        self.hall, self.screen, self.answers = hall, screen, queue.Queue()
        self.sio.connect(url, namespaces=["/hall"], transports=["websocket"],
                         auth={"token": token} if token else None, wait_timeout=10)

    def _subscribe(self) -> None:
        self.sio.emit("subscribe", {"hall": self.hall, "screen": self.screen}, namespace="/hall",
                      callback=self.answers.put)

    def _keeper(self, name: str):
        return lambda data: self.events.put((name, data))

    def wait_for(self, name: str, timeout: float = 5.0, where=lambda d: True) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                got, data = self.events.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if got == name and where(data):
                return data
        raise AssertionError(f"no {name} within {timeout}s")

    def close(self) -> None:
        self.sio.disconnect()


def take_and_call(server: LiveServer, bundle: str = "newborn", window: int = 1) -> dict:
    clerk = server.login(f"clerk{window}")
    status, ticket = server.call("POST", "/halls/demo/tickets", clerk, {"bundle": bundle})
    assert status == 201, ticket
    status, called = server.call("POST", f"/windows/{window}/call-next", clerk)
    assert status == 200, called
    return called["ticket"]


def test_subscribe_gives_a_snapshot_then_calls_arrive_after_commit(live_server):
    screen = Screen(live_server.url)
    try:
        snap = screen.wait_for("snapshot")
        assert snap["hall"]["code"] == "demo" and len(snap["windows"]) >= 24 and snap["version"]
        ticket = take_and_call(live_server)
        called = screen.wait_for("ticket_called")
        assert called["ticket"] == {"number": ticket["number"], "bundle": "newborn", "priority": "none"}
        assert called["window"]["number"] == 1 and called["recall"] is False
        assert called["announcement"] == f"请{ticket['number']}号到1号窗口办理"
        assert set(called) >= {"hall", "ticket", "window", "announcement", "recall", "at"}
        # the event went out after the commit: the state it describes is already readable
        _, tracked = live_server.call("GET", f"/track/{ticket['track_token']}")
        assert tracked["ticket"]["status"] == "called"
        # the window's own update goes out at once; the hall's queue refresh follows (coalesced)
        update = screen.wait_for("window_updated", where=lambda d: d["window"]["number"] == 1)
        assert update["window"]["current"]["number"] == ticket["number"]
        screen.wait_for("queue_updated")
    finally:
        screen.close()


def test_window_screen_and_bad_subscriptions(live_server):
    screen = Screen(live_server.url, screen="window:2")
    try:
        snap = screen.wait_for("snapshot")
        assert snap["window"]["number"] == 2 and "next" in snap
        answers = []
        screen.sio.emit("subscribe", {"hall": "nowhere", "screen": "hall"}, namespace="/hall",
                        callback=answers.append)
        screen.sio.emit("subscribe", {"hall": "demo", "screen": "manager"}, namespace="/hall",
                        callback=answers.append)
        screen.sio.emit("subscribe", "junk", namespace="/hall", callback=answers.append)
        deadline = time.time() + 5
        while len(answers) < 3 and time.time() < deadline:
            time.sleep(0.05)
        codes = sorted(a["error"]["code"] for a in answers)
        assert codes == ["bad_request", "forbidden", "not_found"]
    finally:
        screen.close()


def test_manager_screen_with_a_token(live_server):
    screen = Screen(live_server.url, screen="manager", token=live_server.login("manager"))
    try:
        snap = screen.wait_for("snapshot")
        assert "waiting_total" in snap and "longest_wait_min" in snap["bundles"][0]
    finally:
        screen.close()


def test_a_screen_gets_a_fresh_snapshot_after_a_server_restart(live_server):
    screen = Screen(live_server.url)
    try:
        screen.wait_for("snapshot")
        live_server.restart()
        snap = screen.wait_for("snapshot", timeout=20)
        assert snap["hall"]["code"] == "demo"
        ticket = take_and_call(live_server)
        assert screen.wait_for("ticket_called")["ticket"]["number"] == ticket["number"]
    finally:
        screen.close()


@pytest.mark.redis
def test_two_processes_share_events_through_redis(sqlite_template: Path, tmp_path: Path):
    import shutil

    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as e:
        service_missing("Redis", e)
    db = tmp_path / "shared.db"
    shutil.copy(sqlite_template, db)
    channel = f"govhall-test-{uuid.uuid4().hex[:8]}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = LiveServer(f"sqlite:///{db}", tmp_path / "a", REDIS_URL, channel)
    b = LiveServer(f"sqlite:///{db}", tmp_path / "b", REDIS_URL, channel)
    a.start()
    b.start()
    relayed = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    relayed.subscribe(channel)  # what the processes send each other through Redis
    screens = [Screen(a.url), Screen(b.url)]
    try:
        for s in screens:
            s.wait_for("snapshot")
        # A screen's snapshot goes to that screen alone, from its own process: not through Redis
        # to every other process (2,000 screens subscribing after a restart would send them all).
        events = []
        until = time.time() + 1.0
        while time.time() < until:  # None also for the subscription's confirmation: read on
            message = relayed.get_message(timeout=0.1)
            if message is not None:
                events.append(json.loads(message["data"]).get("event"))
        assert "snapshot" not in events, events
        relayed.close()
        ticket = take_and_call(a)  # the call is made through process A
        for s in screens:  # and reaches the screen connected to B as well
            assert s.wait_for("ticket_called")["ticket"]["number"] == ticket["number"]
        # Each process refreshes the queue of its own screens: a number taken through A alone (no
        # call) still reaches B's screen, told by A which halls changed; and each screen gets each
        # refresh once, not once per process.
        for s in screens:
            while not s.events.empty():
                s.events.get()
        clerk = a.login("clerk2")
        taken = [a.call("POST", "/halls/demo/tickets", clerk, {"bundle": "newborn"})[1] for _ in range(3)]
        ahead = taken[-1]["people_ahead"]

        def newborn_waiting(data: dict) -> int:
            return {b["code"]: b["waiting"] for b in data["bundles"]}["newborn"]

        for s in screens:
            s.wait_for("queue_updated", where=lambda d: newborn_waiting(d) == ahead + 1)
        time.sleep(2.5)  # two more refresh intervals: nothing further changed, nothing more comes
        for s in screens:
            extra = []
            while not s.events.empty():
                extra.append(s.events.get()[0])
            assert "queue_updated" not in extra, extra
        # A window paused through B drops the hall's cached load on A within a refresh interval: the
        # next number taken through A is quoted for the windows still open (not for 60 s of cache).
        manager = b.login("manager")
        windows = b.call("GET", "/halls/demo/windows", manager)[1]["windows"]
        serving = [w for w in windows if any(x["code"] == "newborn" for x in w["bundles"])]
        for w in serving:
            assert b.call("POST", f"/windows/{w['id']}/pause", manager)[0] == 200
        time.sleep(1.5)
        status, after = a.call("POST", "/halls/demo/tickets", clerk, {"bundle": "newborn"})
        assert status == 201 and after["wait_min"] is None, after  # no open window serves it now
        # A kiosk token revoked through B stops working on A at once, though A holds who it names
        # (auth_cache_s: 120 s): B tells A through Redis.
        status, kiosk = a.call("POST", "/halls/demo/devices", manager, {"kind": "kiosk", "name": "k-relay"})
        assert status == 201
        assert a.call("GET", "/halls/demo/devices", kiosk["token"])[0] == 403  # known (cached), not a manager
        assert b.call("DELETE", f"/halls/demo/devices/{kiosk['id']}", manager)[0] == 200
        deadline = time.time() + 2
        while a.call("GET", "/halls/demo/devices", kiosk["token"])[0] != 401:
            assert time.time() < deadline, "the revocation did not reach process A"
            time.sleep(0.05)
    finally:
        for s in screens:
            s.close()
        a.stop()
        b.stop()


def test_a_deactivated_manager_stops_getting_live_data(app, client, login, sqlite_db, monkeypatch):
    """The token of a manager screen is checked again on heartbeats, not only at connect."""
    from sqlalchemy import update

    from queue_server.models import Staff
    from queue_server.realtime import hall as realtime

    sio = app.extensions["socketio"]
    token = login("manager")["Authorization"].split()[1]
    screen = sio.test_client(app, namespace="/hall", auth={"token": token}, flask_test_client=client)
    assert screen.emit("subscribe", {"hall": "demo", "screen": "manager"}, namespace="/hall",
                       callback=True)["ok"]
    assert screen.emit("heartbeat", {}, namespace="/hall", callback=True)["ok"]
    with sqlite_db.write() as db:
        db.execute(update(Staff).where(Staff.username == "manager").values(active=False))
    monkeypatch.setattr(realtime, "TOKEN_RECHECK_S", 0.0)
    answer = screen.emit("heartbeat", {}, namespace="/hall", callback=True)
    assert answer["ok"] is False and answer["error"]["code"] == "unauthorized"
    assert not screen.is_connected(namespace="/hall")


@pytest.mark.parametrize("mode", ["gevent", "eventlet", "threading"])
def test_every_async_mode_serves_calls_to_screens(mode, sqlite_template: Path, tmp_path: Path):
    """`govhall serve --async-mode` runs each mode's own server (gevent's and eventlet's production
    WSGI servers, werkzeug for threading); a screen on the websocket gets the call in each."""
    import shutil

    shutil.copy(sqlite_template, tmp_path / "live.db")
    server = LiveServer(f"sqlite:///{tmp_path / 'live.db'}", tmp_path, async_mode=mode)
    server.start()
    try:
        screen = Screen(server.url)
        try:
            screen.wait_for("snapshot")
            ticket = take_and_call(server)
            got = screen.wait_for("ticket_called", where=lambda d: d["ticket"]["number"] == ticket["number"])
            assert got["window"]["number"] == 1
            screen.wait_for("queue_updated")  # the coalesced refresh follows
        finally:
            screen.close()
        log = server.log_path.read_text()
        assert f"(async mode {mode})" in log
    finally:
        server.stop()


def test_coalesced_queue_updates_end_on_the_true_count(live_server):
    """Screens get the refreshed queue at most every publish_coalesce_ms per hall; whatever was
    gathered, the last update shows every ticket taken."""
    screen = Screen(live_server.url)
    try:
        before = {b["code"]: b["waiting"] for b in screen.wait_for("snapshot")["bundles"]}["newborn"]
        clerk = live_server.login("clerk1")
        for _ in range(12):
            status, _ticket = live_server.call("POST", "/halls/demo/tickets", clerk, {"bundle": "newborn"})
            assert status == 201

        def waiting(data: dict) -> int:
            return {b["code"]: b["waiting"] for b in data["bundles"]}["newborn"]

        screen.wait_for("queue_updated", where=lambda d: waiting(d) == before + 12)
    finally:
        screen.close()
