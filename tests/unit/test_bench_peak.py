"""The peak search of `govhall bench --find-peak`, against a server model with a known capacity."""

from __future__ import annotations

from typing import Any

from queue_server.bench.run import Options, find_peak


def model(capacity: float, hiccups: set[int] | None = None):
    """A step: p99 under 50 ms up to `capacity`, far over it past; the steps numbered in `hiccups`
    fail once (a checkpoint falling into them) whatever their rate."""
    calls: list[float] = []

    def step(rate: float) -> dict[str, Any]:
        calls.append(rate)
        bad = rate > capacity or len(calls) in (hiccups or set())
        return {"rate": rate, "p50_ms": 5.0, "p99_ms": 900.0 if bad else 20.0, "errors": 0}

    return step, calls


def test_finds_the_capacity_within_five_percent():
    step, _ = model(437)
    found = find_peak(step, Options(ticket_rate=200, peak_max=2000), lambda: None)
    assert 437 * 0.95 <= found["rate"] <= 437
    assert all(s["sustained"] == (s["offered"] <= 437) for s in found["steps"])


def test_a_single_hiccup_does_not_end_the_search():
    step, _ = model(437, hiccups={1})  # the very first step falls on a checkpoint
    found = find_peak(step, Options(ticket_rate=200, peak_max=2000), lambda: None)
    assert 437 * 0.95 <= found["rate"] <= 437
    first, repeat = found["steps"][:2]
    assert (first["offered"], first["sustained"], repeat["repeat"], repeat["sustained"]) == (200, False, True, True)


def test_a_rate_that_fails_twice_is_not_sustained():
    step, _ = model(150)
    found = find_peak(step, Options(ticket_rate=200, peak_max=2000), lambda: None)
    assert found["rate"] <= 150
    assert [s["offered"] for s in found["steps"][:2]] == [200, 200]  # tried twice, then lower
