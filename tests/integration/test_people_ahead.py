"""The database's count of people ahead equals the queue rule's (`calling.people_ahead`), and its
choice of a window's next tickets equals the rule's (`calling.choose_next`).

Issuing a ticket counts its people ahead in SQL (services.common.people_ahead_of), and a call picks
its ticket in SQL (services.common.next_at_window), instead of loading the hall's whole line; random
lines with every lane, ties in place, transfers and closed windows hold the two equal.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from queue_server.db import Database
from queue_server.models import Bundle, Hall, Ticket, Window
from queue_server.queue import calling
from queue_server.services import waits
from queue_server.services.common import as_rule, next_at_window, people_ahead_of, ranks_of, today
from queue_server.services.waits import hall_lines

from ..conftest import NOW

ticket_specs = st.lists(
    st.tuples(
        st.sampled_from(["newborn", "retirement", "education"]),  # bundle (windows 16, 17 rank two of them apart)
        st.sampled_from(list(calling.Priority)),
        st.integers(-3, 3),  # queue_at offset in minutes: ties on purpose
        st.sampled_from([None, -20, 0, 20]),  # appointment slot start offset (minutes)
        st.sampled_from([None, 1, 2]),  # transferred to window number
        st.sampled_from(["waiting", "waiting", "waiting", "called", "done"]),
    ),
    min_size=1, max_size=14,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=ticket_specs, closed=st.sets(st.sampled_from([1, 2, 3])))
def test_people_ahead_in_sql_equals_the_rule(database: Database, specs: list[tuple], closed: set[int]) -> None:
    session = database.writer()
    try:
        hall = session.scalars(select(Hall).where(Hall.code == "demo")).one()
        bundles = {b.code: b for b in session.scalars(select(Bundle).where(Bundle.code.in_(["newborn", "retirement", "education"])))}
        windows = {w.number: w.id for w in session.scalars(select(Window).where(Window.hall_id == hall.id))}
        day = today(hall, NOW)
        made = []
        for i, (code, priority, offset, due, for_window, status) in enumerate(specs):
            at = NOW + timedelta(minutes=offset)
            t = Ticket(hall_id=hall.id, bundle_id=bundles[code].id, service_day=day, seq=900 + i,
                       number=f"Z{900 + i}", priority=priority.value, status=status, source="kiosk",
                       taken_at=at, queue_at=at, track_token=secrets.token_urlsafe(12),
                       due_at=NOW + timedelta(minutes=due) if due is not None else None,
                       for_window_id=windows[for_window] if for_window else None)
            t.bundle = bundles[code]
            session.add(t)
            made.append(t)
        session.flush()
        rules = [as_rule(t, t.bundle.code) for t in made if t.status == "waiting"]
        # every window's next tickets, with some windows closed (their transfers fall back to the line)
        for window in session.scalars(select(Window).where(Window.hall_id == hall.id)):
            window.open = window.number not in closed
        session.flush()
        shut = frozenset(windows[n] for n in closed if n in windows)
        for number, window_id in windows.items():
            window = session.get_one(Window, window_id)
            line, expected_next = list(rules), []
            while (chosen := calling.choose_next(line, window_id, ranks_of(session, window), NOW, shut)):
                line.remove(chosen)
                expected_next.append(chosen.id)
            got = [t.id for t in next_at_window(session, hall.id, day, window_id, NOW, count=len(rules) + 1)]
            assert got == expected_next, (number, closed, specs)
        for t in made:
            if t.status == "waiting":
                expected = calling.people_ahead(as_rule(t, t.bundle.code), rules, NOW)
                assert people_ahead_of(session, t, NOW) == expected, (t.number, specs)
        # a ticket being issued (not inserted yet) is the newest: counted before its insert
        code, priority = specs[0][0], specs[0][1]
        new = Ticket(hall_id=hall.id, bundle_id=bundles[code].id, service_day=day, number="Z999",
                     priority=priority.value, queue_at=NOW, taken_at=NOW)
        newest = calling.Ticket(id=10**9, number="Z999", bundle=code, priority=priority, queue_at=NOW)
        assert people_ahead_of(session, new, NOW) == calling.people_ahead(newest, rules, NOW), specs
        # taking a number counts the same from the hall's line in counts (waits.hall_lines)
        line = hall_lines(session.connection(), {hall.id: day}, NOW)[hall.id]
        # one hall, several halls (their lists expanded) and issuing's read (no oldest) read alike
        several = hall_lines(session.connection(), {hall.id: day, hall.id + 10**6: day}, NOW)
        issuing = hall_lines(session.connection(), {hall.id: day}, NOW, oldest=False)[hall.id]
        assert sorted(several[hall.id].lanes) == sorted(line.lanes) == sorted(issuing.lanes), specs
        assert several[hall.id].oldest == line.oldest and issuing.oldest == {}
        assert line.oldest.keys() == line.waiting.keys()
        assert several[hall.id + 10**6].lanes == [] and hall_lines(session.connection(), {}, NOW) == {}
        lane = int(calling.base_lane(newest, NOW))
        assert line.ahead_of_newest(code, lane) == calling.people_ahead(newest, rules, NOW), specs
        assert line.load(waits.CACHE.get(session, hall, NOW)).waiting == dict(Counter(r.bundle for r in rules))
        # and a number issued after it in the same batch has it ahead, as the rule says
        line.add_newest(code, lane, NOW)
        then = calling.Ticket(id=10**9 + 1, number="Z998", bundle=code, priority=priority, queue_at=NOW)
        assert line.ahead_of_newest(code, lane) == calling.people_ahead(then, [*rules, newest], NOW), specs
    finally:
        session.rollback()
        session.close()
