"""Every ticket is quoted a wait range, stored with it; the hall's calibration is public."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from queue_server.models import Bundle, Ticket
from queue_server.services import quotes, tickets
from queue_server.services.common import hall_by_code, today

from ..conftest import NOW
from .helpers import HALL


def history(database, errors: list[int], quoted: int = 10, days_ago: int = 2) -> None:
    """Tickets called in the past days, quoted `quoted` minutes, called `quoted + e` minutes later."""
    with database.write() as db:
        hall = hall_by_code(db, HALL)
        bundle = db.scalars(select(Bundle).where(Bundle.code == "newborn")).one()
        for i, e in enumerate(errors):
            taken = NOW - timedelta(days=days_ago, minutes=i)
            db.add(Ticket(hall_id=hall.id, bundle_id=bundle.id, service_day=today(hall, taken), seq=500 + i,
                          number=f"H{i:03d}", priority="none", status="done", source="kiosk",
                          taken_at=taken, queue_at=taken, called_at=taken + timedelta(minutes=quoted + e),
                          track_token=secrets.token_urlsafe(12), quoted_wait_min=quoted,
                          recall_count=0, requeue_count=0, transfer_count=0))


def test_a_new_hall_quotes_the_wide_default_then_its_own_errors(database):
    first = tickets.take_ticket(database, HALL, "newborn", NOW).ticket
    with database.read() as db:
        assert quotes.measure(db, hall_by_code(db, HALL).id, NOW).mode == "calibrating"
    low, high = first.wait_range
    assert low <= first.wait_min < high and high >= first.wait_min * 1.5 + 5  # the wide default
    history(database, [e % 7 for e in range(60)])  # quotes 0..6 minutes short
    with database.read() as db:
        c = quotes.measure(db, hall_by_code(db, HALL).id, NOW)
    assert (c.mode, c.samples, c.ranged) == ("range", 60, 0)
    t = tickets.take_ticket(database, HALL, "newborn", NOW).ticket
    assert t.wait_range == c.range_for(t.wait_min)
    assert t.wait_range[0] >= t.wait_min and t.wait_range[1] > t.wait_range[0]
    with database.read() as db:
        row = db.get(Ticket, t.id)
        assert (row.quoted_wait_min, row.quoted_range_lo, row.quoted_range_hi) == (t.wait_min, *t.wait_range)
    assert t.to_json()["wait_range"] == {"lo": t.wait_range[0], "hi": t.wait_range[1]}
    _, tracked = tickets.track(database, t.track_token, NOW)
    assert tracked.wait_range == t.wait_range


def test_old_calls_do_not_count(database):
    history(database, [3] * 60, days_ago=quotes.CALIBRATION_DAYS + 1)
    with database.read() as db:
        assert quotes.measure(db, hall_by_code(db, HALL).id, NOW).samples == 0


def test_the_bundles_list_carries_ranges_and_the_calibration(client):
    data = client.get(f"/api/v1/halls/{HALL}/bundles").get_json()
    assert data["calibration"]["mode"] == "calibrating" and data["calibration"]["days"] == 7
    newborn = {b["code"]: b for b in data["bundles"]}["newborn"]
    assert newborn["wait_range"]["lo"] == newborn["wait_min"]
