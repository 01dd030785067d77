"""The pure call-order rules, by example and by property."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from queue_server.queue.calling import (
    Lane,
    Priority,
    Ticket,
    base_lane,
    choose_next,
    eligible,
    lane_for,
    people_ahead,
    requeue_at,
)

from ..strategies import BASE, WINDOWS, ranks, tickets

M = timedelta(minutes=1)


def t(i, bundle="a", minute=0, priority=Priority.NONE, for_window=None, due=None):
    return Ticket(id=i, number=f"A{i:03d}", bundle=bundle, priority=priority,
                  queue_at=BASE + minute * M, for_window=for_window,
                  due_at=BASE + due * M if due is not None else None)


def test_lanes_in_design_order():
    now = BASE + 60 * M
    line = [
        t(1, minute=0),
        t(2, minute=1, priority=Priority.ELDERLY),
        t(3, minute=2, priority=Priority.APPOINTMENT, due=30),
        t(4, minute=3, for_window=7),
        t(5, bundle="b", minute=-10),
    ]
    order = []
    waiting = list(line)
    while (nxt := choose_next(waiting, 7, {"a": 1, "b": 2}, now)) is not None:
        order.append(nxt.id)
        waiting.remove(nxt)
    assert order == [4, 3, 2, 1, 5]


def test_appointment_not_yet_due_waits_as_normal():
    early = t(1, minute=5, priority=Priority.APPOINTMENT, due=100)
    walk_in = t(2, minute=0)
    assert base_lane(early, BASE + 50 * M) is Lane.NORMAL
    assert choose_next([early, walk_in], 1, {"a": 1}, BASE + 50 * M) == walk_in
    assert choose_next([early, walk_in], 1, {"a": 1}, BASE + 100 * M) == early


def test_ticket_held_for_another_open_window_is_not_eligible():
    held = t(1, for_window=2)
    assert not eligible(held, 1, {"a": 1}, frozenset())
    assert eligible(held, 1, {"a": 1}, frozenset({2}))
    assert eligible(held, 2, {}, frozenset())


def test_people_ahead_counts_only_the_same_line():
    line = [t(1, minute=0), t(2, minute=1, priority=Priority.DISABLED), t(3, minute=2),
            t(4, bundle="b", minute=-5)]
    assert people_ahead(line[2], line, BASE) == 2
    assert people_ahead(line[1], line, BASE) == 0
    assert people_ahead(line[0], line, BASE) == 1


def test_requeue_goes_n_places_behind_or_to_the_end():
    line = [t(i, minute=i) for i in range(1, 6)]
    back = t(99, minute=-30)
    at = requeue_at(back, line, 3, BASE)
    moved = Ticket(id=99, number="A099", bundle="a", priority=Priority.NONE, queue_at=at)
    assert people_ahead(moved, [*line, moved], BASE) == 3
    assert requeue_at(back, line[:2], 3, BASE) > line[1].queue_at
    assert requeue_at(back, [], 3, BASE + 7 * M) == BASE + 7 * M


@given(tickets(), st.sampled_from(WINDOWS), ranks)
def test_choose_next_never_skips_an_older_ticket_of_its_lane_and_rank(waiting, window, window_ranks):
    now = BASE + 240 * M
    chosen = choose_next(waiting, window, window_ranks, now)
    mine = [x for x in waiting if eligible(x, window, window_ranks, frozenset())]
    if chosen is None:
        assert mine == []
        return
    assert chosen in mine
    lane = lane_for(chosen, window, now)
    for other in mine:
        other_lane = lane_for(other, window, now)
        assert other_lane >= lane
        if other_lane == lane and lane is not Lane.TRANSFERRED:
            same_rank = window_ranks.get(other.bundle) == window_ranks.get(chosen.bundle)
            if same_rank:
                assert (other.queue_at, other.id) >= (chosen.queue_at, chosen.id)


@given(tickets())
def test_people_ahead_is_a_strict_order_within_a_bundle(waiting):
    now = BASE + 240 * M
    free = [x for x in waiting if x.for_window is None]
    for bundle in {x.bundle for x in free}:
        line = [x for x in free if x.bundle == bundle]
        assert sorted(people_ahead(x, waiting, now) for x in line) == list(range(len(line)))
