"""The rating pad's question: the window's latest finished, unrated ticket, only to a pad of its hall or staff."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from queue_server.models import Device, Hall
from queue_server.tokens import token_hash

from ..conftest import NOW
from .helpers import wid
from .test_evaluations import MIN, done_ticket, error_code

B = "/api/v1"


def device(database, kind: str, hall_code: str = "demo") -> dict[str, str]:
    """Headers of a fresh device token of `kind` in hall `hall_code` (made when missing)."""
    token = secrets.token_urlsafe(16)
    with database.write() as db:
        hall = db.scalar(select(Hall).where(Hall.code == hall_code))
        if hall is None:
            hall = Hall(code=hall_code, name="另一个大厅")
            db.add(hall)
            db.flush()
        db.add(Device(hall_id=hall.id, kind=kind, name=f"test {kind}", created_at=NOW,
                      token_hash=token_hash(token)))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def clock(monkeypatch):
    """The API's clock, a minute after `done_ticket` finished its ticket; tests move it."""
    at = [NOW + 11 * MIN]
    monkeypatch.setattr("queue_server.api.ratingpad.now", lambda: at[0])
    return at


def test_the_pad_gets_the_finished_ticket_until_it_is_rated(client, sqlite_db, now, clock):
    token = done_ticket(sqlite_db, now, window=1)
    pad = device(sqlite_db, "rating_pad")
    path = f"{B}/windows/{wid(sqlite_db, 1)}/last-finished"
    r = client.get(path, headers=pad)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["track_token"] == token and body["number"] == "A001" and body["bundle_name"]
    assert set(body) == {"number", "bundle_name", "track_token", "finished_at"}  # nothing about the person
    rated = client.post(f"{B}/evaluations", json={"ticket": token, "level": 2, "reasons": ["long_wait"],
                                                  "channel": "pad"})
    assert rated.status_code == 201, rated.get_json()
    again = client.get(path, headers=pad)
    assert again.status_code == 404 and error_code(again) == "nothing_to_rate"


def test_staff_never_get_the_track_token_so_a_clerk_cannot_rate_their_own_service(
        client, sqlite_db, now, clock, login):
    done_ticket(sqlite_db, now, window=1)
    path = f"{B}/windows/{wid(sqlite_db, 1)}/last-finished"
    for who in ("clerk1", "manager"):
        r = client.get(path, headers=login(who))
        assert r.status_code == 403 and error_code(r) == "forbidden", who


def test_nothing_to_rate_when_none_finished_or_too_long_ago(client, sqlite_db, now, clock):
    pad = device(sqlite_db, "rating_pad")
    path = f"{B}/windows/{wid(sqlite_db, 1)}/last-finished"
    r = client.get(path, headers=pad)
    assert r.status_code == 404 and error_code(r) == "nothing_to_rate"
    done_ticket(sqlite_db, now, window=1)
    clock[0] = NOW + 21 * MIN  # finished at +10 min: eleven minutes ago
    r = client.get(path, headers=pad)
    assert r.status_code == 404 and error_code(r) == "nothing_to_rate"


def test_others_are_refused(client, sqlite_db, now, clock):
    done_ticket(sqlite_db, now, window=1)
    path = f"{B}/windows/{wid(sqlite_db, 1)}/last-finished"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    for kind in ("kiosk", "display"):
        r = client.get(path, headers=device(sqlite_db, kind))
        assert r.status_code == 403 and error_code(r) == "forbidden", kind
    elsewhere = client.get(path, headers=device(sqlite_db, "rating_pad", hall_code="other"))
    assert elsewhere.status_code == 403 and error_code(elsewhere) == "forbidden"
    missing = client.get(f"{B}/windows/2147483647/last-finished", headers=device(sqlite_db, "rating_pad"))
    assert missing.status_code == 404 and error_code(missing) == "not_found"
