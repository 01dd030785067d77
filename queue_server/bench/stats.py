"""Figures from raw outcomes: percentiles, take-a-number summary, call-to-screen delivery."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from ..quantiles import nearest_rank
from .load import Outcome, ScreenLog

DELIVERY_TIMEOUT_S = 5.0  # an event later than this after the call counts as missed


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100), nearest rank; None for no values."""
    return nearest_rank(values, p / 100) if values else None


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def summarise_http(outcomes: Iterable[Outcome], offered_rate: float, duration: float,
                   ok_codes: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
    """p50/p99 of the successful requests, achieved rate, errors split by kind, the client's own lag."""
    outcomes = list(outcomes)
    ok = [o for o in outcomes if o.status in ok_codes and o.latency_ms is not None]
    latencies = [o.latency_ms for o in ok if o.latency_ms is not None]
    timeouts = sum(1 for o in outcomes if o.status == 0)
    by_status: dict[str, int] = defaultdict(int)
    for o in outcomes:
        if o.status not in ok_codes and o.status != 0:
            by_status[str(o.status)] += 1
    span = (max(o.due + (o.latency_ms or 0) / 1000 for o in ok) - min(o.due for o in outcomes)
            if ok else duration)
    lag = [(o.sent - o.due) * 1000 for o in outcomes]
    return {
        "requested": len(outcomes),
        "ok": len(ok),
        "p50_ms": _r(percentile(latencies, 50)),
        "p90_ms": _r(percentile(latencies, 90)),
        "p99_ms": _r(percentile(latencies, 99)),
        "max_ms": _r(max(latencies, default=None)),
        "offered_rate": offered_rate,
        "rate": round(len(ok) / max(span, duration, 1e-9), 1),
        "errors": len(outcomes) - len(ok),
        "timeouts": timeouts,
        "status_errors": dict(by_status),
        "client_lag_p99_ms": _r(percentile(lag, 99)),
    }


def call_to_screen(calls: Iterable[Outcome], screens: Iterable[ScreenLog]) -> dict[str, Any]:
    """Match every successful call with every screen of its hall subscribed when the call was sent.

    Latency = the screen's receive wall time - the wall time the clerk's request was due. A screen
    subscribed at that moment that never got the event within DELIVERY_TIMEOUT_S missed it; a second
    copy of one event at one screen is a duplicate.
    """
    by_hall: dict[str, list[Outcome]] = defaultdict(list)
    expected_keys = set()
    for c in calls:
        if c.status == 200 and c.number:
            by_hall[c.hall].append(c)
            expected_keys.add((c.hall, c.number, False))
    latencies: list[float] = []
    delivered = missed = duplicated = unexpected = 0
    for screen in screens:
        got: dict[tuple[str, str, bool], list[float]] = defaultdict(list)
        for hall, number, recall, at in screen.received:
            got[(hall, number, recall)].append(at)
            if (hall, number, recall) not in expected_keys:
                unexpected += 1
        for call in by_hall.get(screen.hall, ()):
            if not _subscribed(screen, call.due):
                continue
            times = got.get((call.hall, call.number or "", False), [])
            in_time = [t for t in times if t - call.due <= DELIVERY_TIMEOUT_S]
            if not in_time:
                missed += 1
                continue
            delivered += 1
            duplicated += len(times) - 1
            latencies.append((min(in_time) - call.due) * 1000)
    return {
        "p50_ms": _r(percentile(latencies, 50)),
        "p90_ms": _r(percentile(latencies, 90)),
        "p99_ms": _r(percentile(latencies, 99)),
        "max_ms": _r(max(latencies, default=None)),
        "calls": sum(len(v) for v in by_hall.values()),
        "delivered": delivered,
        "missed": missed,
        "duplicated": duplicated,
        "unexpected": unexpected,
    }


def _subscribed(screen: ScreenLog, at: float) -> bool:
    return any(start is not None and start <= at and (end is None or end > at)
               for start, end in screen.subscribed)


def ratio(ours: float | None, base: float | None) -> float | None:
    if ours is None or not base:
        return None
    return round(ours / base, 2)
