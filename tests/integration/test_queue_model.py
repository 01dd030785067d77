"""Random sequences of queue operations against a small reference model (hypothesis stateful).

Invariants: a number is never issued twice in a day; a ticket is at most at one window and a window
has at most one ticket; nothing is lost (every issued ticket is in the database in the state the
model expects); call-next finds a ticket exactly when one it may serve waits.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from queue_server.db import Database
from queue_server.models import Ticket
from queue_server.queue import errors
from queue_server.services import calling, tickets, windows

from ..conftest import NOW
from .helpers import HALL, close_all_but, only

SERVES = {1: {"newborn": 1, "retirement": 2}, 2: {"retirement": 1}, 3: {"newborn": 1, "retirement": 1}}
BUNDLES = ("newborn", "retirement")
WINDOW_NUMBERS = tuple(SERVES)


class QueueMachine(RuleBasedStateMachine):
    template: Path

    @initialize()
    def setup(self) -> None:
        self.dir = Path(tempfile.mkdtemp())
        shutil.copy(self.template, self.dir / "q.db")
        self.db = Database(f"sqlite:///{self.dir / 'q.db'}")
        self.now = NOW
        close_all_but(self.db, set(SERVES), self.now)
        self.wid = {n: only(self.db, n, ranks, self.now) for n, ranks in SERVES.items()}
        self.status: dict[int, str] = {}       # ticket id -> status the model expects
        self.bundle: dict[int, str] = {}
        self.held: dict[int, int | None] = {}  # ticket id -> window number it was transferred to
        self.at: dict[int, int | None] = {}    # window number -> ticket id currently there
        self.paused: set[int] = set()
        self.numbers: list[str] = []

    def teardown(self) -> None:
        if hasattr(self, "db"):
            self.db.dispose()
            shutil.rmtree(self.dir, ignore_errors=True)

    def tick(self) -> None:
        self.now += timedelta(minutes=1)

    def eligible_for(self, number: int) -> list[int]:
        return [t for t, s in self.status.items() if s == "waiting" and (
            self.held[t] == number
            or (self.held[t] is None and self.bundle[t] in SERVES[number]))]

    @rule(bundle=st.sampled_from(BUNDLES))
    def take(self, bundle: str) -> None:
        self.tick()
        t = tickets.take_ticket(self.db, HALL, bundle, self.now).ticket
        assert t.id not in self.status
        self.status[t.id], self.bundle[t.id], self.held[t.id] = "waiting", bundle, None
        self.numbers.append(t.number)

    @rule(number=st.sampled_from(WINDOW_NUMBERS))
    def call_next(self, number: int) -> None:
        self.tick()
        if number in self.paused:
            with pytest.raises(errors.WindowPaused):
                calling.call_next(self.db, self.wid[number], self.now)
            return
        candidates = self.eligible_for(number)
        try:
            acted = calling.call_next(self.db, self.wid[number], self.now)
        except errors.QueueEmpty:
            assert candidates == []
            return
        assert acted.ticket.id in candidates
        if (current := self.at.get(number)) is not None:
            self.status[current] = "done"
        self.status[acted.ticket.id] = "called"
        self.held[acted.ticket.id] = None
        self.at[number] = acted.ticket.id

    def _current(self, number: int, allowed: tuple[str, ...]) -> int | None:
        current = self.at.get(number)
        return current if current is not None and self.status[current] in allowed else None

    @rule(number=st.sampled_from(WINDOW_NUMBERS), action=st.sampled_from(["start", "finish", "no_show"]))
    def act(self, number: int, action: str) -> None:
        self.tick()
        allowed = {"start": ("called",), "finish": ("called", "serving"), "no_show": ("called",)}[action]
        current = self._current(number, allowed)
        if current is None:
            with pytest.raises((errors.NoCurrentTicket, errors.InvalidTransition)):
                getattr(calling, action)(self.db, self.wid[number], self.now)
            return
        getattr(calling, action)(self.db, self.wid[number], self.now)
        self.status[current] = {"start": "serving", "finish": "done", "no_show": "no_show"}[action]
        if action != "start":
            self.at[number] = None

    @rule(number=st.sampled_from(WINDOW_NUMBERS), to=st.sampled_from([*BUNDLES, 1, 2, 3]))
    def transfer(self, number: int, to: str | int) -> None:
        self.tick()
        current = self._current(number, ("called", "serving"))
        kw = {"to_bundle": to} if isinstance(to, str) else {"to_window": to}
        if current is None or to == number:
            with pytest.raises((errors.NoCurrentTicket, errors.InvalidTransition)):
                calling.transfer(self.db, self.wid[number], self.now, **kw)
            return
        calling.transfer(self.db, self.wid[number], self.now, **kw)
        self.status[current] = "waiting"
        if isinstance(to, str):
            self.bundle[current], self.held[current] = to, None
        else:
            self.held[current] = to
        self.at[number] = None

    @precondition(lambda self: any(s == "no_show" for s in self.status.values()))
    @rule(data=st.data())
    def requeue(self, data: st.DataObject) -> None:
        self.tick()
        gone = sorted(t for t, s in self.status.items() if s == "no_show")
        ticket = data.draw(st.sampled_from(gone))
        tickets.requeue(self.db, ticket, self.now)
        self.status[ticket] = "waiting"
        self.held[ticket] = None

    @rule(number=st.sampled_from(WINDOW_NUMBERS))
    def pause_or_resume(self, number: int) -> None:
        self.tick()
        if number in self.paused:
            windows.resume(self.db, self.wid[number], self.now)
            self.paused.discard(number)
        else:
            windows.pause(self.db, self.wid[number], self.now)
            self.paused.add(number)

    @invariant()
    def database_agrees(self) -> None:
        if not hasattr(self, "db"):
            return
        assert len(self.numbers) == len(set(self.numbers)), "a number was issued twice"
        with self.db.read() as db:
            rows = db.scalars(select(Ticket)).all()
        assert {r.id: r.status for r in rows} == self.status, "a ticket was lost or is in the wrong state"
        active = [r.window_id for r in rows if r.status in ("called", "serving")]
        assert len(active) == len(set(active)), "a window holds two tickets"
        assert all(w is not None for w in active)


@pytest.fixture
def machine(sqlite_template: Path) -> type[QueueMachine]:
    QueueMachine.template = sqlite_template
    return QueueMachine


def test_random_operations_keep_the_invariants(machine: type[QueueMachine]) -> None:
    run_state_machine_as_test(machine, settings=settings(
        max_examples=60, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
