"""办件激增预警: fires past the manager's thresholds with windows to open or reallocate, clears when the
queue falls back, and reaches manager consoles live."""

from __future__ import annotations

from datetime import timedelta

from queue_server import clock
from queue_server.services import alerts, calling, tickets, windows
from queue_server.services import settings as policy
from queue_server.services.common import hall_by_code

from ..conftest import NOW
from .helpers import HALL, close_all_but, wid
from .test_realtime import Screen

MIN = timedelta(minutes=1)


def current(database, at=NOW):
    with database.read() as db:
        return [a.to_json() for a in alerts.surge_alerts(db, hall_by_code(db, HALL), at)]


def thresholds(database, bundles, **hall):
    policy.update_settings(database, HALL, hall, bundles, NOW, "staff:manager")


def take(database, bundle, count, at=NOW):
    for _ in range(count):
        tickets.take_ticket(database, HALL, bundle, at)


def test_waiting_count_past_the_threshold_fires_then_clears(database):
    close_all_but(database, {7, 16, 19}, NOW)  # 7, 19: real-estate and others; 16: newborn first
    thresholds(database, [{"code": "newborn", "waiting": 3}])
    take(database, "newborn", 2)
    assert current(database) == []
    take(database, "newborn", 1)
    [alert] = current(database)
    assert (alert["bundle"], alert["waiting"], alert["waiting_threshold"], alert["reasons"]) == (
        "newborn", 3, 3, ["waiting"])
    assert alert["wait_threshold_min"] == 45  # the hall-wide default: no own wait threshold
    # closed windows allocated to newborn could open (the 综合受理 ones come first by number) …
    assert [(w["number"], w["state"]) for w in alert["open"]] == [(1, "closed"), (2, "closed"), (3, "closed"),
                                                                  (4, "closed")]
    # … and the open windows that do not serve it have empty queues
    assert [(w["number"], w["waiting"]) for w in alert["reallocate"]] == [(7, 0), (19, 0)]
    windows.pause(database, wid(database, 16), NOW)
    [alert] = current(database)
    assert alert["open"][0] == {"number": 16, "name": alert["open"][0]["name"], "state": "paused"}
    take(database, "real-estate", 4)  # windows 7 and 19 are busy now: no longer light
    assert current(database)[0]["reallocate"] == []
    windows.resume(database, wid(database, 16), NOW)
    calling.call_next(database, wid(database, 16), NOW + MIN)
    assert current(database, NOW + MIN) == []  # 2 waiting: below the threshold again


def test_the_longest_wait_past_the_threshold_fires(database):
    thresholds(database, [{"code": "newborn", "wait_min": 30}])
    take(database, "newborn", 1)
    assert current(database, NOW + 29 * MIN) == []
    [alert] = current(database, NOW + 30 * MIN)
    assert (alert["reasons"], alert["longest_wait_min"], alert["waiting_threshold"]) == (["wait"], 30, 20)


def test_the_hall_wide_default_and_the_worst_first(database):
    thresholds(database, [{"code": "retirement", "waiting": 10}], surge_waiting=2)
    take(database, "newborn", 4)
    take(database, "social-security-card", 2)
    take(database, "retirement", 9)
    got = current(database)
    assert [(a["bundle"], a["waiting_threshold"]) for a in got] == [("newborn", 2), ("social-security-card", 2)]
    thresholds(database, [], surge_waiting=20)
    assert current(database) == []


def test_the_api_answers_the_current_alerts(client, sqlite_db, login):
    url = "/api/v1/halls/demo/alerts"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login("clerk1")).status_code == 403
    thresholds(sqlite_db, [{"code": "newborn", "waiting": 1}])
    take(sqlite_db, "newborn", 1, at=clock.now())  # the API answers for the server's now
    body = client.get(url, headers=login("manager")).get_json()
    assert body["hall"] == "demo" and [a["bundle"] for a in body["alerts"]] == ["newborn"]


class AlertScreen(Screen):
    """A screen that also keeps `surge_alert` events."""

    def __init__(self, url: str, screen: str = "manager", token: str | None = None) -> None:
        super().__init__(url, screen=screen, token=token)
        self.sio.on("surge_alert", self._keeper("surge_alert"), namespace="/hall")


def test_the_alert_reaches_manager_consoles_live_and_clears(live_server):
    manager = live_server.login("manager")
    status, _ = live_server.call("PUT", "/halls/demo/settings", manager,
                                 {"bundles": [{"code": "newborn", "waiting": 2}]})
    assert status == 200
    screen = AlertScreen(live_server.url, token=manager)
    hall_screen = AlertScreen(live_server.url, screen="hall")
    try:
        assert screen.wait_for("snapshot")["surge_alerts"] == []
        hall_screen.wait_for("snapshot")
        clerk = live_server.login("clerk1")
        for _ in range(2):
            assert live_server.call("POST", "/halls/demo/tickets", clerk, {"bundle": "newborn"})[0] == 201
        fired = screen.wait_for("surge_alert", where=lambda d: d["alerts"])
        assert fired["hall"] == "demo" and fired["alerts"][0]["bundle"] == "newborn"
        assert fired["alerts"][0]["waiting"] == 2 and fired["alerts"][0]["reasons"] == ["waiting"]
        assert live_server.call("POST", "/windows/1/call-next", clerk)[0] == 200
        cleared = screen.wait_for("surge_alert")
        assert cleared["alerts"] == []
        # public screens never get it
        hall_screen.wait_for("queue_updated")
        names = []
        while not hall_screen.events.empty():
            names.append(hall_screen.events.get()[0])
        assert "surge_alert" not in names
    finally:
        screen.close()
        hall_screen.close()


def test_people_waiting_with_no_open_window_left_are_flagged_first(database):
    """A window closes (closing time, or by mistake) while numbers issued for its bundles still wait."""
    close_all_but(database, {7, 16, 19}, NOW)
    thresholds(database, [{"code": "real-estate", "waiting": 2}])
    take(database, "newborn", 1)
    take(database, "real-estate", 3)
    assert [(a["bundle"], a["reasons"]) for a in current(database)] == [("real-estate", ["waiting"])]
    windows.set_open(database, wid(database, 16), False, NOW)  # newborn's last open window
    found = current(database)
    assert [(a["bundle"], a["reasons"]) for a in found] == [("newborn", ["stranded"]),
                                                          ("real-estate", ["waiting"])]
    assert found[0]["open"] and {w["state"] for w in found[0]["open"]} == {"closed"}  # windows to open
    windows.set_open(database, wid(database, 16), True, NOW)
    assert [a["bundle"] for a in current(database)] == ["real-estate"]
