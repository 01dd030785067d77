"""Numbers issued together (one transaction for a batch of requests) are what one after another gives."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from queue_server.groupcommit import ALONE
from queue_server.models import Allocation, Bundle, Hall, Ticket, TicketCounter, TicketEvent, Window
from queue_server.queue import errors
from queue_server.queue.priority import Identity
from queue_server.services import settings, tickets
from queue_server.services.common import people_ahead_of
from queue_server.services.tickets import Issued, TakeRequest, _issue_batch

from ..conftest import NOW
from .helpers import HALL

ELDER = Identity(id_hash="h" * 64, birth_date=date(1940, 1, 1), masked_name="王*")


def req(bundle: str, **kw) -> TakeRequest:
    return TakeRequest(HALL, bundle, NOW, **kw)


def test_a_batch_numbers_and_counts_as_if_taken_one_after_another(database):
    first = tickets.take_ticket(database, HALL, "newborn", NOW - timedelta(minutes=5)).ticket
    batch = [req("newborn"), req("retirement"), req("newborn", identity=ELDER), req("newborn"),
             req("retirement"), req("newborn", identity=ELDER)]
    out = _issue_batch(database, batch)
    assert all(isinstance(o, Issued) and o.created for o in out)
    shown = [o.ticket for o in out]
    assert [t.number for t in shown] == ["A002", "E001", "A003", "A004", "E002", "A005"]
    assert [t.priority for t in shown] == ["none", "none", "elderly", "none", "none", "elderly"]
    # ahead when issued: the elderly go before the plain numbers already waiting, after earlier elderly
    assert [t.people_ahead for t in shown] == [1, 0, 0, 3, 1, 1]
    assert first.number == "A001"
    with database.read() as db:
        rows = {t.id: t for t in db.scalars(select(Ticket).where(Ticket.id.in_([t.id for t in shown])))}
        assert [rows[t.id].quoted_people_ahead for t in shown] == [t.people_ahead for t in shown]
        assert [rows[t.id].quoted_wait_min for t in shown] == [t.wait_min for t in shown]
        assert all(rows[t.id].taken_at == NOW and rows[t.id].device_id is None for t in shown)
        issued_events = db.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "issued")).all()
        assert sorted(t.id for t in shown) == sorted(set(issued_events) - {first.id})
        # the line as it stands now agrees with what each was told (nobody called in between)
        assert people_ahead_of(db, rows[shown[-1].id], NOW) == 1
        assert people_ahead_of(db, rows[shown[3].id], NOW) == 4  # the second elderly went ahead of it since
    # the next number, alone, continues each lane
    assert tickets.take_ticket(database, HALL, "retirement", NOW).ticket.number == "E003"


def test_a_batch_over_two_halls_and_two_moments_counts_each_hall_apart(database):
    with database.write() as db:
        newborn = db.scalar(select(Bundle).where(Bundle.code == "newborn"))
        second = Hall(code="second", name="第二大厅")
        window = Window(hall=second, number=1, name="1号窗口", kind="comprehensive", open=True)
        window.allocations = [Allocation(bundle=newborn, rank=1)]
        db.add(second)
    tickets.take_ticket(database, HALL, "newborn", NOW - timedelta(minutes=5))
    later = NOW + timedelta(minutes=1)
    out = _issue_batch(database, [req("newborn"), TakeRequest("second", "newborn", NOW),
                                  TakeRequest(HALL, "newborn", later), TakeRequest("second", "newborn", later),
                                  req("newborn")])
    shown = [o.ticket for o in out]
    assert [t.number for t in shown] == ["A002", "A001", "A003", "A002", "A004"]
    # the second at a later moment counts the first's numbers, the last counts none taken after its moment
    assert [t.people_ahead for t in shown] == [1, 0, 2, 1, 2]
    assert [t.taken_at for t in shown] == [NOW, NOW, later, later, NOW]
    with database.read() as db:
        counters = {(hall, seq) for hall, seq in db.execute(
            select(Hall.code, TicketCounter.last_seq).join(Hall, Hall.id == TicketCounter.hall_id))}
        assert counters == {(HALL, 4), ("second", 2)}
        events = db.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "issued")).all()
        assert {t.id for t in shown} <= set(events)


def test_a_request_the_batch_cannot_issue_plainly_is_left_to_its_caller_and_takes_no_number(database):
    settings.update_settings(database, HALL, {"closing_guard": 1}, None, NOW, "manager:test")
    late = datetime(2026, 11, 23, 8, 59, tzinfo=UTC)  # 16:59 in Shanghai: nothing can be served by 17:00
    out = _issue_batch(database, [req("newborn"), TakeRequest(HALL, "retirement", late),
                                  req("no-such-bundle"), req("newborn", priority="appointment"),
                                  req("retirement")])
    assert [o if o is ALONE else o.ticket.number for o in out] == ["A001", ALONE, ALONE, ALONE, "E001"]
    with database.read() as db:
        assert sorted(db.scalars(select(TicketCounter.last_seq))) == [1, 1]  # the refused took none
    # alone, each is told why
    for bad, error in ((TakeRequest(HALL, "retirement", late), errors.ClosingSoon),
                       (req("no-such-bundle"), errors.NotFound),
                       (req("newborn", priority="appointment"), errors.Forbidden)):
        with pytest.raises(error):
            tickets.take_ticket(database, bad.hall_code, bad.bundle_code, bad.now, priority=bad.priority)


def test_one_key_twice_in_a_batch_writes_nothing_then_each_alone_gets_the_one_ticket(database):
    out = _issue_batch(database, [req("newborn", idempotency_key="k-1"), req("newborn"),
                                  req("newborn", idempotency_key="k-1")])
    assert out == [ALONE, ALONE, ALONE]  # the insert collided: the batch rolled back
    with database.read() as db:
        assert db.scalar(select(Ticket.id)) is None and db.scalar(select(TicketCounter.last_seq)) is None
    a = tickets.take_ticket(database, HALL, "newborn", NOW, idempotency_key="k-1")
    b = tickets.take_ticket(database, HALL, "newborn", NOW, idempotency_key="k-1")
    assert a.created and not b.created and a.ticket.number == b.ticket.number == "A001"


def test_concurrent_kiosks_get_distinct_numbers_and_honest_counts(database):
    """Forty kiosks at once through take_ticket: batches form; each number told its true place."""
    results: list[tickets.TicketView] = []
    failures: list[BaseException] = []

    def kiosk(i: int) -> None:
        try:
            results.append(tickets.take_ticket(database, HALL, "newborn", NOW, source="kiosk").ticket)
        except BaseException as error:  # asserted below
            failures.append(error)

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures
    assert sorted(t.number for t in results) == [f"A{i:03d}" for i in range(1, 41)]
    # all plain numbers of one lane at the same moment: the n-th issued has n-1 ahead
    assert sorted((t.number, t.people_ahead) for t in results) == [(f"A{i:03d}", i - 1) for i in range(1, 41)]
    group = tickets._group(database)
    assert group.items >= 40 and group.batches <= group.items
