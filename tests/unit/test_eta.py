"""The wait estimate model."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.queue.eta import WindowLoad, servers_for, service_minutes, wait_minutes


def test_service_minutes_blends_the_expectation_while_samples_are_few():
    assert service_minutes([], 15) == 15
    assert service_minutes([5.0] * 5, 15) == pytest.approx(10)
    assert service_minutes([5.0] * 500, 15) == pytest.approx((2500 + 75) / 505)
    assert service_minutes([10_000.0], 15) < 40  # a ticket left open over lunch is clipped


def test_servers_split_by_waiting_and_rank():
    w = (WindowLoad(1, {"a": 1}), WindowLoad(2, {"a": 1, "b": 1}), WindowLoad(3, {"b": 1, "a": 2}))
    assert servers_for("a", w[:1], {"a": 3}) == 1
    assert servers_for("a", w[:2], {"a": 3, "b": 3}) == pytest.approx(1.5)
    share = servers_for("a", w[2:], {"a": 4, "b": 4})
    assert share == pytest.approx(1 / 5)  # rank 2 weighs a quarter: 4*0.25 / (4 + 1)
    assert servers_for("c", w, {}) == 0


def test_wait_minutes():
    assert wait_minutes(0, 10, 1, idle_windows=1) == 0
    assert wait_minutes(0, 10, 1) == 5
    assert wait_minutes(4, 10, 2) == 23
    assert wait_minutes(3, 10, 0) is None


@given(
    windows=st.lists(st.dictionaries(st.sampled_from("abcdef"), st.integers(1, 3), min_size=1, max_size=6),
                     min_size=0, max_size=8),
    waiting=st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 40)),
)
def test_servers_all_equals_servers_for_of_each_bundle(windows, waiting):
    from queue_server.queue.eta import servers_all

    loads = [WindowLoad(number=i + 1, ranks=r) for i, r in enumerate(windows)]
    every = servers_all(loads, waiting)
    for bundle in "abcdef":
        assert every.get(bundle, 0.0) == pytest.approx(servers_for(bundle, loads, waiting))


def test_served_before_closing():
    from datetime import UTC, datetime, timedelta

    from queue_server.queue.eta import served_before_closing

    closes = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    at = closes - timedelta(minutes=30)
    assert served_before_closing(at, closes, 10, 20.0)  # called 10 min on, done right at closing
    assert not served_before_closing(at, closes, 11, 20.0)
    assert not served_before_closing(closes + timedelta(minutes=1), closes, 0, 1.0)  # after closing
    assert served_before_closing(at, None, 500, 20.0)  # guard off
    assert served_before_closing(at, closes, None, 20.0)  # no open window: nothing to promise
