"""GET /api/v1/halls/{hall}/advice: roles, advice from the live queue, yesterday's advice checked."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from queue_server.models import AllocationAdvice, AuditLog
from queue_server.services import calling, tickets
from queue_server.simulate.live import give_advice

from ..conftest import NOW
from .helpers import HALL, wid

URL = f"/api/v1/halls/{HALL}/advice?budget=0.5"


@pytest.fixture
def at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's clock at NOW (10:00 in the demo hall, an open hour)."""
    monkeypatch.setattr("queue_server.api.advice.now", lambda: NOW)


def test_advice_needs_a_manager(client, login, kiosk, at_now) -> None:
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    for headers in (login("clerk1"), kiosk):
        r = client.get(URL, headers=headers)
        assert r.status_code == 403
        assert r.get_json()["error"]["code"] == "forbidden"
    assert client.get(URL, headers=login("manager")).status_code == 200
    assert client.get("/api/v1/halls/nowhere/advice", headers=login("manager")).status_code == 404
    bad = client.get(f"/api/v1/halls/{HALL}/advice?budget=500", headers=login("manager"))
    assert bad.status_code in (400, 422)
    assert "error" in bad.get_json()


def test_advice_from_the_live_queue_is_stored(client, login, sqlite_db, at_now) -> None:
    for i in range(12):
        tickets.take_ticket(sqlite_db, HALL, "real-estate", NOW - timedelta(minutes=50 - i))
    for i in range(5):
        tickets.take_ticket(sqlite_db, HALL, "retirement", NOW - timedelta(minutes=40 - i))
    calling.call_next(sqlite_db, wid(sqlite_db, 7), NOW - timedelta(minutes=5))

    r = client.get(URL, headers=login("manager"))

    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    by = {b["code"]: b for b in data["bundles"]}
    assert by["real-estate"]["waiting"] == 11 and by["retirement"]["waiting"] == 5
    assert by["real-estate"]["current_p90"] is not None
    assert data["open_windows"] > 0 and data["evaluations"] >= 1
    assert data["hall_p90_advised"] <= data["hall_p90_current"]
    assert data["previous"] is None
    with sqlite_db.read() as db:
        row = db.scalars(select(AllocationAdvice)).one()
        assert row.id == data["id"] and row.created_by == "staff:manager"
        assert json.loads(row.predicted)["real-estate"]["waiting"] == 11
        assert len(json.loads(row.current_allocation)) == data["open_windows"]
        assert db.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "advice.generate")) == 1


def test_the_next_day_shows_yesterdays_advice_against_the_actual_waits(client, login, sqlite_db,
                                                                        monkeypatch) -> None:
    day1 = NOW - timedelta(days=1)  # 10:00 yesterday, hall time
    w7 = wid(sqlite_db, 7)
    tickets.take_ticket(sqlite_db, HALL, "real-estate", day1 - timedelta(minutes=40))
    calling.call_next(sqlite_db, w7, day1 - timedelta(minutes=35))  # called before the advice: not counted
    tickets.take_ticket(sqlite_db, HALL, "real-estate", day1 - timedelta(minutes=30))  # waiting then
    stored = give_advice(sqlite_db, HALL, day1, "staff:manager", budget_s=0.5)
    calling.call_next(sqlite_db, w7, day1 + timedelta(minutes=2))  # waited 32 minutes
    for m in (5, 10, 15):
        tickets.take_ticket(sqlite_db, HALL, "real-estate", day1 + timedelta(minutes=m))
    for m in (25, 30, 45):  # waits 20, 20, 30 minutes
        calling.call_next(sqlite_db, w7, day1 + timedelta(minutes=m))

    monkeypatch.setattr("queue_server.api.advice.now", lambda: NOW)
    data = client.get(URL, headers=login("manager")).get_json()

    prev = data["previous"]
    assert prev["date"] == "2026-11-22"
    assert prev["hall_p90_current"] == stored["hall_p90_current"]
    estate = next(b for b in prev["bundles"] if b["code"] == "real-estate")
    assert estate["called"] == 4
    assert estate["actual_p50"] == 25.0  # waits 20, 20, 30, 32
    assert estate["actual_p90"] == 31.4  # 30 + 0.7 × (32 − 30)
    predicted = next(b for b in stored["bundles"] if b["code"] == "real-estate")
    assert predicted["waiting"] == 1
    assert estate["predicted_current_p90"] == predicted["current_p90"] is not None
    assert prev["hall_p90_actual"] == 31.4
    assert prev["allocation_changes_after"] == 0


def test_advice_answers_conform_to_the_openapi_document(app, login) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().path.endswith("/advice"))
    headers = login("manager")

    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        case.path_parameters = {"hall": "demo"}  # the demo hall, so the advisor really runs
        case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance,
                                                        response_schema_conformance])

    run()
