"""The queue rules through the services, on SQLite and PostgreSQL (DESIGN.md 'Queue rules')."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from queue_server.models import Ticket, TicketEvent
from queue_server.queue import errors
from queue_server.queue.priority import Identity
from queue_server.services import calling, rollover, tickets, windows
from queue_server.services.common import hall_by_code
from queue_server.services.waits import hall_waits

from .helpers import HALL, close_all_but, only, wid

MIN = timedelta(minutes=1)


def take(database, bundle, now, **kw):
    return tickets.take_ticket(database, HALL, bundle, now, **kw).ticket


def called_number(acted):
    return acted.ticket.number


def test_numbers_count_per_bundle_and_restart_each_service_day(database, now):
    first = [take(database, "newborn", now + i * MIN).number for i in range(3)]
    other = take(database, "real-estate", now).number
    assert first == ["A001", "A002", "A003"]
    assert other == "P001"
    # 23:59 Shanghai is still the same day; 00:01 the next one
    late = now.replace(hour=15, minute=59)  # 23:59 in UTC+8
    assert take(database, "newborn", late).number == "A004"
    assert take(database, "newborn", late + 2 * MIN).number == "A001"


def test_ticket_shape_has_the_contract_fields(database, now):
    t = take(database, "newborn", now).to_json()
    for key in ("id", "number", "bundle", "priority", "status", "people_ahead", "wait_min", "track_token"):
        assert key in t
    assert t["bundle"] == "newborn" and t["status"] == "waiting" and t["priority"] == "none"


def test_same_idempotency_key_gives_the_same_ticket(database, now):
    a = tickets.take_ticket(database, HALL, "newborn", now, idempotency_key="k-1")
    b = tickets.take_ticket(database, HALL, "newborn", now + MIN, idempotency_key="k-1")
    c = tickets.take_ticket(database, HALL, "newborn", now, idempotency_key="k-2")
    assert a.created and not b.created and c.created
    assert a.ticket.id == b.ticket.id and a.ticket.number == b.ticket.number == "A001"
    assert c.ticket.number == "A002"
    assert b.events == ()
    with pytest.raises(errors.IdempotencyMismatch):
        tickets.take_ticket(database, HALL, "real-estate", now, idempotency_key="k-1")


def test_unknown_hall_and_bundle_are_not_found(database, now):
    with pytest.raises(errors.NotFound):
        take(database, "no-such-bundle", now)
    with pytest.raises(errors.NotFound):
        tickets.take_ticket(database, "nowhere", "newborn", now)


def test_elderly_priority_comes_from_the_birth_date_only(database, now):
    old = Identity("h1", date(1950, 1, 1), "王*")
    young = Identity("h2", date(1990, 1, 1), "李*")
    assert take(database, "newborn", now, identity=old).priority == "elderly"
    assert take(database, "newborn", now, identity=young).priority == "none"
    with pytest.raises(errors.Forbidden):
        take(database, "newborn", now, priority="elderly", identity=young)
    with pytest.raises(errors.Forbidden):
        take(database, "newborn", now, priority="appointment")
    assert take(database, "newborn", now, priority="disabled").priority == "disabled"
    with pytest.raises(errors.BadRequest):
        take(database, "newborn", now, priority="vip")


def test_call_order_transferred_then_appointment_then_priority_then_rank_then_oldest(database, now):
    close_all_but(database, {1, 2}, now)
    w1 = only(database, 1, {"newborn": 1, "real-estate": 2}, now)
    w2 = only(database, 2, {"newborn": 1}, now)
    old_rank2 = take(database, "real-estate", now)           # rank 2 at window 1, oldest
    normal = take(database, "newborn", now + MIN)
    later = take(database, "newborn", now + 2 * MIN)
    disabled = take(database, "newborn", now + 3 * MIN, priority="disabled")
    # window 2 calls `normal`, then transfers it to window 1
    assert called_number(calling.call_next(database, w2, now + 4 * MIN)) == disabled.number
    assert called_number(calling.call_next(database, w2, now + 5 * MIN)) == normal.number
    calling.transfer(database, w2, now + 6 * MIN, to_window=1)
    order = [called_number(calling.call_next(database, w1, now + (7 + i) * MIN)) for i in range(3)]
    assert order == [normal.number, later.number, old_rank2.number]
    with pytest.raises(errors.QueueEmpty):
        calling.call_next(database, w1, now + 20 * MIN)


def test_a_window_calls_only_bundles_it_serves(database, now):
    close_all_but(database, {3}, now)
    w3 = only(database, 3, {"retirement": 1}, now)
    take(database, "newborn", now)
    with pytest.raises(errors.QueueEmpty):
        calling.call_next(database, w3, now + MIN)


def test_recall_up_to_the_limit_then_no_show_and_requeue_places_behind(database, now):
    close_all_but(database, {1}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    first = take(database, "newborn", now)
    others = [take(database, "newborn", now + (i + 1) * MIN) for i in range(5)]
    calling.call_next(database, w1, now + 10 * MIN)
    for i in range(3):
        acted = calling.recall(database, w1, now + (11 + i) * MIN)
        assert acted.events[0].recall is True
        assert acted.ticket.recall_count == i + 1
    with pytest.raises(errors.RecallLimit):
        calling.recall(database, w1, now + 15 * MIN)
    gone = calling.no_show(database, w1, now + 16 * MIN).ticket
    assert gone.number == first.number and gone.status == "no_show"
    back, _ = tickets.requeue(database, gone.id, now + 17 * MIN)
    assert back.status == "waiting" and back.people_ahead == 3  # the demo hall puts it 3 places back
    order = [called_number(calling.call_next(database, w1, now + (20 + i) * MIN)) for i in range(6)]
    assert order == [others[0].number, others[1].number, others[2].number, first.number,
                     others[3].number, others[4].number]
    with pytest.raises(errors.InvalidTransition):
        tickets.requeue(database, others[0].id, now + 30 * MIN)


def test_requeue_with_fewer_waiting_goes_to_the_end(database, now):
    close_all_but(database, {1}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    a = take(database, "newborn", now)
    b = take(database, "newborn", now + MIN)
    calling.call_next(database, w1, now + 2 * MIN)
    calling.no_show(database, w1, now + 3 * MIN)
    back, _ = tickets.requeue(database, a.id, now + 4 * MIN)
    assert back.people_ahead == 1
    assert called_number(calling.call_next(database, w1, now + 5 * MIN)) == b.number


def test_start_finish_and_call_next_finishes_the_current(database, now):
    close_all_but(database, {1}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    a, b = take(database, "newborn", now), take(database, "newborn", now)
    with pytest.raises(errors.NoCurrentTicket):
        calling.start(database, w1, now)
    calling.call_next(database, w1, now + MIN)
    assert calling.start(database, w1, now + 2 * MIN).ticket.status == "serving"
    with pytest.raises(errors.InvalidTransition):
        calling.recall(database, w1, now + 3 * MIN)
    done = calling.finish(database, w1, now + 12 * MIN).ticket
    assert done.number == a.number and done.status == "done"
    calling.call_next(database, w1, now + 13 * MIN)
    with database.read() as db:
        row = db.get(Ticket, a.id)
        assert row.finished_at - row.started_at == 10 * MIN
    # pressing call-next with b still called finishes b first, then finds the queue empty
    with pytest.raises(errors.QueueEmpty):
        calling.call_next(database, w1, now + 20 * MIN)
    with database.read() as db:
        assert db.get(Ticket, b.id).status == "called"  # the refused call rolled back entirely


def test_transfer_to_a_bundle_keeps_the_original_time(database, now):
    close_all_but(database, {1, 2}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    w2 = only(database, 2, {"real-estate": 1}, now)
    moved = take(database, "newborn", now)
    for i in range(3):
        take(database, "real-estate", now + (i + 1) * MIN)
    calling.call_next(database, w1, now + 5 * MIN)
    after = calling.transfer(database, w1, now + 6 * MIN, to_bundle="real-estate").ticket
    assert after.number == moved.number and after.bundle == "real-estate" and after.status == "waiting"
    with database.read() as db:
        row = db.get(Ticket, moved.id)
        assert row.queue_at == now and row.taken_at == now and row.transfer_count == 1
    assert called_number(calling.call_next(database, w2, now + 7 * MIN)) == moved.number


def test_transfer_to_a_closed_window_falls_back_to_the_bundle(database, now):
    close_all_but(database, {1, 2, 3}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    w2 = only(database, 2, {"newborn": 1}, now)
    w3 = only(database, 3, {"newborn": 1}, now)
    t = take(database, "newborn", now)
    calling.call_next(database, w1, now + MIN)
    calling.transfer(database, w1, now + 2 * MIN, to_window=3)
    with pytest.raises(errors.QueueEmpty):
        calling.call_next(database, w2, now + 3 * MIN)  # held for window 3
    windows.set_open(database, w3, False, now + 4 * MIN)
    assert called_number(calling.call_next(database, w2, now + 5 * MIN)) == t.number
    with pytest.raises(errors.InvalidTransition):
        calling.transfer(database, w2, now + 6 * MIN, to_window=2)
    with pytest.raises(errors.InvalidTransition):
        calling.transfer(database, w2, now + 6 * MIN)


def test_pause_and_resume(database, now):
    close_all_but(database, {1}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    take(database, "newborn", now)
    windows.pause(database, w1, now)
    with pytest.raises(errors.WindowPaused):
        calling.call_next(database, w1, now + MIN)
    with pytest.raises(errors.InvalidTransition):
        windows.pause(database, w1, now)
    windows.resume(database, w1, now + 2 * MIN)
    assert calling.call_next(database, w1, now + 3 * MIN).ticket.number == "A001"
    windows.set_open(database, w1, False, now)
    with pytest.raises(errors.WindowClosed):
        calling.call_next(database, w1, now + 4 * MIN)


def test_rollover_expires_yesterdays_tickets_and_they_are_never_called(database, now):
    close_all_but(database, {1}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    old = take(database, "newborn", now)
    tomorrow = now + timedelta(days=1)
    with pytest.raises(errors.QueueEmpty):
        calling.call_next(database, w1, tomorrow)
    expired, _ = rollover.close_past_days(database, HALL, tomorrow)
    assert expired == 1
    with database.read() as db:
        assert db.get(Ticket, old.id).status == "expired"
    assert take(database, "newborn", tomorrow).number == "A001"


def test_wait_estimate_uses_measured_service_time_and_open_windows(database, now):
    close_all_but(database, {1, 2}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    only(database, 2, {"newborn": 1}, now)
    # measure: ten citizens served in 20 minutes each at window 1
    t = now
    for _ in range(10):
        take(database, "newborn", t)
        calling.call_next(database, w1, t)
        calling.start(database, w1, t)
        t += 20 * MIN
        calling.finish(database, w1, t)
    for _ in range(4):
        take(database, "newborn", t)
    with database.read() as db:
        row = next(r for r in hall_waits(db, hall_by_code(db, HALL), t) if r.code == "newborn")
    # blended mean: (10*20 + 5*expected)/15; two windows; 4 waiting -> (4+0.5)*S/2
    assert row.waiting == 4 and row.open_windows == 2
    assert 15 <= row.service_min <= 20
    assert row.wait_min == pytest.approx(4.5 * row.service_min / 2, abs=1)
    windows.pause(database, w1, t)
    with database.read() as db:
        paused = next(r for r in hall_waits(db, hall_by_code(db, HALL), t) if r.code == "newborn")
    assert paused.open_windows == 1 and paused.wait_min > row.wait_min


def test_every_step_is_recorded_in_the_ticket_history(database, now):
    close_all_but(database, {1}, now)
    w1 = only(database, 1, {"newborn": 1}, now)
    a = take(database, "newborn", now)
    calling.call_next(database, w1, now)
    calling.recall(database, w1, now)
    calling.start(database, w1, now)
    calling.finish(database, w1, now)
    with database.read() as db:
        kinds = list(db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == a.id)
                                .order_by(TicketEvent.id)))
    assert kinds == ["issued", "called", "recalled", "started", "finished"]


def test_allocation_change_applies_to_the_next_call_and_is_audited(database, now):
    from queue_server.models import AuditLog
    close_all_but(database, {4}, now)
    w4 = only(database, 4, {"retirement": 1}, now)
    take(database, "newborn", now)
    with pytest.raises(errors.QueueEmpty):
        calling.call_next(database, w4, now)
    view, _ = windows.set_allocation(database, HALL, 4, [("newborn", 1), ("retirement", 2)],
                                          now, actor="staff:manager")
    assert [(b["code"], b["rank"]) for b in view.to_json()["bundles"]] == [("newborn", 1), ("retirement", 2)]
    assert calling.call_next(database, w4, now).ticket.bundle == "newborn"
    with database.read() as db:
        entry = db.scalars(select(AuditLog).where(AuditLog.action == "window.allocation")
                           .order_by(AuditLog.id.desc())).first()
        assert entry.actor == "staff:manager" and "newborn" in entry.detail
    with pytest.raises(errors.BadRequest):
        windows.set_allocation(database, HALL, 4, [("newborn", 1), ("newborn", 2)], now)
    with pytest.raises(errors.NotFound):
        windows.set_allocation(database, HALL, 4, [("nothing", 1)], now)
    assert wid(database, 4) == w4


def test_a_window_action_carries_the_state_a_fresh_read_gives(database, now):
    """window_updated's state is read in the action's own transaction (call-next from the line it
    chose): it must equal what the window's snapshot reads after the commit."""
    from queue_server.events import WindowUpdated
    from queue_server.models import Window
    from queue_server.services.snapshot import window_snapshot

    for i, bundle in enumerate(["newborn", "newborn", "education", "newborn", "retirement", "newborn",
                                "education", "newborn"]):
        take(database, bundle, now + i * MIN,
             identity=Identity("h1", date(1950, 1, 1), "王*") if i == 5 else None)
    window = wid(database, 1)

    def state_of(acted, at):
        (event,) = [e for e in acted.events if isinstance(e, WindowUpdated)]
        with database.read() as db:
            w = db.get_one(Window, window)
            fresh = window_snapshot(db, hall_by_code(db, HALL), w, at)
        assert event.state == {"window": fresh["window"], "next": fresh["next"]}
        return event.state

    at = now + 10 * MIN
    first = calling.call_next(database, window, at)
    called = state_of(first, at)
    assert called["window"]["current"]["number"] == called_number(first) == "A004"  # elderly first
    assert [t["number"] for t in called["next"]][:2] == ["A001", "A002"] and len(called["next"]) == 5
    state_of(calling.recall(database, window, at), at)
    state_of(calling.start(database, window, at), at)
    done = state_of(calling.finish(database, window, at), at)
    assert done["window"]["current"] is None
    state_of(calling.call_next(database, window, at + MIN), at + MIN)
    state_of(calling.no_show(database, window, at + MIN), at + MIN)
