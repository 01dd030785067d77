"""The closing-time promise guard: no number that could not be served before the hall closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server.queue import errors
from queue_server.services import settings, tickets
from queue_server.services.waits import hall_waits

from ..conftest import NOW
from .helpers import HALL

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOSES = datetime(2026, 11, 23, 17, 0, tzinfo=SHANGHAI)  # the demo hall closes at 17:00


def guard(database, on: bool) -> None:
    settings.update_settings(database, HALL, {"closing_guard": int(on)}, None, NOW, "manager:test")


def newborn(database, at: datetime):
    from queue_server.services.common import hall_by_code

    with database.read() as db:
        return {b.code: b for b in hall_waits(db, hall_by_code(db, HALL), at)}["newborn"]


def test_the_demo_hall_starts_without_the_guard(database):
    late = (CLOSES + timedelta(minutes=30)).astimezone(UTC)
    assert settings.get_settings(database, HALL)["closing_guard"] == 0
    assert tickets.take_ticket(database, HALL, "newborn", late).created
    assert newborn(database, late).issuing


def test_a_bundle_stops_issuing_when_a_number_could_not_be_served_before_closing(database):
    guard(database, True)
    early = (CLOSES - timedelta(hours=2)).astimezone(UTC)
    before = newborn(database, early)
    assert before.issuing and tickets.take_ticket(database, HALL, "newborn", early).created
    # the last moment a new number is still served: called after its wait, done by closing time
    last = newborn(database, early)
    cutoff = CLOSES - timedelta(minutes=last.wait_min + last.service_min)
    ok_at = (cutoff - timedelta(minutes=1)).astimezone(UTC)
    assert newborn(database, ok_at).issuing
    assert tickets.take_ticket(database, HALL, "newborn", ok_at).created
    late = (cutoff + timedelta(minutes=2)).astimezone(UTC)
    assert not newborn(database, late).issuing
    with pytest.raises(errors.ClosingSoon, match="今日已停止取号") as refused:
        tickets.take_ticket(database, HALL, "newborn", late)
    assert "17:00" in str(refused.value) and "预约" in str(refused.value)
    guard(database, False)  # the manager turns it off: numbers again, at once on this process
    assert tickets.take_ticket(database, HALL, "newborn", late).created


def test_the_api_refuses_with_closing_soon_and_lists_the_bundle_as_not_issuing(app, client, login,
                                                                                  monkeypatch):
    from queue_server import clock

    manager = login("manager")
    r = client.put(f"/api/v1/halls/{HALL}/settings", json={"closing_guard": 1}, headers=manager)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["closing_guard"] == 1
    monkeypatch.setattr(clock, "now", lambda: (CLOSES - timedelta(minutes=5)).astimezone(UTC))
    listed = {b["code"]: b for b in client.get(f"/api/v1/halls/{HALL}/bundles").get_json()["bundles"]}
    assert listed["newborn"]["issuing"] is False
    r = client.post(f"/api/v1/halls/{HALL}/tickets", json={"bundle": "newborn"}, headers=login("clerk1"))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "closing_soon"
    assert client.put(f"/api/v1/halls/{HALL}/settings", json={"closing_guard": 2},
                      headers=manager).status_code in (400, 422)


def test_bench_halls_copy_the_demo_halls_guard(tmp_path):
    """`govhall bench` runs at any hour: its copies of the demo hall keep the guard off like the demo."""
    from queue_server.bench import prepare
    from queue_server.db import Database
    from queue_server.services.common import hall_by_code

    url = f"sqlite:///{tmp_path / 'bench.db'}"
    prepare.seed_halls(url, 2, 1, "secret")
    database = Database(url)
    with database.read() as db:
        assert [settings.policy(db, hall_by_code(db, f"bench{i:04d}")).closing_guard for i in (1, 2)] == [0, 0]
    late = (CLOSES + timedelta(hours=3)).astimezone(UTC)
    assert tickets.take_ticket(database, "bench0001", "newborn", late).created
    database.dispose()
