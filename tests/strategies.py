"""Hypothesis strategies for the queue rules, in one place (attrs `tests/strategies.py` shape)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from queue_server.queue.calling import Priority, Ticket

BASE = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
BUNDLES = ("newborn", "retirement", "real-estate")
WINDOWS = (1, 2, 3)

priorities = st.sampled_from([Priority.NONE, Priority.NONE, Priority.NONE, Priority.ELDERLY,
                              Priority.DISABLED, Priority.APPOINTMENT])
minutes = st.integers(min_value=0, max_value=480).map(lambda m: BASE + timedelta(minutes=m))


@st.composite
def tickets(draw: st.DrawFn, max_size: int = 30) -> list[Ticket]:
    """A waiting line: unique ids, any bundle, priority, transfer target and appointment slot."""
    count = draw(st.integers(min_value=0, max_value=max_size))
    result = []
    for i in range(count):
        priority = draw(priorities)
        result.append(Ticket(
            id=i + 1, number=f"X{i + 1:03d}", bundle=draw(st.sampled_from(BUNDLES)),
            priority=priority, queue_at=draw(minutes),
            for_window=draw(st.one_of(st.none(), st.none(), st.sampled_from(WINDOWS))),
            due_at=draw(minutes) if priority is Priority.APPOINTMENT else None,
        ))
    return result


ranks = st.dictionaries(st.sampled_from(BUNDLES), st.integers(min_value=1, max_value=3), min_size=1)
