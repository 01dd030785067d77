"""The database's count of people ahead equals the queue rule's (`calling.people_ahead`).

Issuing a ticket counts its people ahead in SQL (services.common.people_ahead_of) instead of loading
the hall's whole line; random lines with every lane, ties in place and transfers hold the two equal.
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
from queue_server.services.common import as_rule, people_ahead_of, today
from queue_server.services.waits import hall_lines

from ..conftest import NOW

ticket_specs = st.lists(
    st.tuples(
        st.sampled_from(["newborn", "retirement"]),  # bundle
        st.sampled_from(list(calling.Priority)),
        st.integers(-3, 3),  # queue_at offset in minutes: ties on purpose
        st.sampled_from([None, -20, 0, 20]),  # appointment slot start offset (minutes)
        st.sampled_from([None, 1, 2]),  # transferred to window number
        st.sampled_from(["waiting", "waiting", "waiting", "called", "done"]),
    ),
    min_size=1, max_size=14,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=ticket_specs)
def test_people_ahead_in_sql_equals_the_rule(database: Database, specs: list[tuple]) -> None:
    session = database.writer()
    try:
        hall = session.scalars(select(Hall).where(Hall.code == "demo")).one()
        bundles = {b.code: b for b in session.scalars(select(Bundle).where(Bundle.code.in_(["newborn", "retirement"])))}
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
