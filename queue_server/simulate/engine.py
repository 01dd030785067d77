"""The discrete-event day: arrivals take tickets, free windows call next, citizens come or do not.

Every decision a server would make is made by the server's own rules in `queue_server.queue`:
`calling.choose_next` picks the ticket a window calls, `calling.people_ahead` and the `eta` module
give the wait quoted on each ticket (as `services.waits.HallLoad.wait_for` composes them), and
`calling.requeue_at` puts a returning no-show back in line. Each bundle's line is kept as a heap
ordered by `calling.line_order`, and `choose_next` is handed the head of each line the window serves:
within one bundle `choose_next` orders by that same key, so its choice among the heads is its choice
among all waiting tickets (tests/unit/test_simulate.py checks this equivalence on random queues).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import cast

from ..queue import calling, eta
from .arrivals import Citizen
from .profile import Allocation

BASE = datetime(2026, 1, 5, tzinfo=UTC)  # any aware instant: the rules only compare times

FREE, RETURN, ARRIVE = range(3)  # same-instant order: a window frees before a ticket is taken


@dataclass(frozen=True, slots=True)
class Rules:
    """The hall settings and citizen behaviour the day runs with."""

    closes_min: float
    recall_limit: int = 3
    requeue_places: int = 3
    recall_interval_min: float = 1.0
    walk_min: float = 0.5
    expected_min: Mapping[str, float] = field(default_factory=dict)  # catalogue prior per bundle


@dataclass(slots=True)
class Outcome:
    """What happened to one citizen's ticket."""

    citizen: Citizen
    first_call: float | None = None
    quoted_min: int | None = None
    served: bool = False
    no_show: bool = False


@dataclass(slots=True)
class WindowStats:
    number: int
    name: str
    busy_min: float = 0.0
    served: int = 0
    no_shows: int = 0


@dataclass(slots=True)
class DayResult:
    outcomes: list[Outcome]
    windows: list[WindowStats]
    end_min: float


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


class Day:
    """One run; `run()` returns the outcomes. Not reused between runs."""

    def __init__(self, allocation: Allocation, rules: Rules, *, quotes: bool = True,
                 history: Mapping[str, Sequence[float]] | None = None,
                 busy_until: Mapping[int, float] | None = None) -> None:
        self.rules = rules
        self.quotes = quotes
        self.plans = allocation
        self.ranks = [dict(w.ranks) for w in allocation]
        self.stats = [WindowStats(w.number, w.name) for w in allocation]
        self.by_bundle: dict[str, list[int]] = {}
        for i, w in enumerate(allocation):
            for code in w.ranks:
                self.by_bundle.setdefault(code, []).append(i)
        self.loads = {code: [eta.WindowLoad(allocation[i].number, self.ranks[i]) for i in idx]
                      for code, idx in self.by_bundle.items()}
        self.lines: dict[str, list[tuple[tuple[int, datetime, int], calling.Ticket]]] = {}
        self.samples = {code: deque(history.get(code, ()) if history else (), maxlen=50)
                        for code in set(self.by_bundle) | set(rules.expected_min)}
        self.idle_since: dict[int, float] = {}
        self.events: list[tuple[float, int, int, object]] = []
        self.seq = 0
        self.outcomes: dict[int, Outcome] = {}
        self.busy_until = busy_until or {}
        self.events_now = 0.0

    # --- the event queue -------------------------------------------------------------
    def _push(self, when: float, kind: int, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, kind, self.seq, payload))

    def run(self, citizens: Iterable[Citizen], start_min: float) -> DayResult:
        for c in citizens:
            self.outcomes[c.id] = Outcome(c)
            self._push(max(c.arrive, start_min), ARRIVE, c)
        for i, w in enumerate(self.plans):
            until = self.busy_until.get(w.number)
            if until is not None and until > start_min:
                self.stats[i].busy_min += until - start_min
                self._push(until, FREE, (i, None))
            else:
                self.idle_since[i] = start_min
        end = start_min
        while self.events:
            now, kind, _, payload = heapq.heappop(self.events)
            self.events_now = now
            end = max(end, now)
            if kind == FREE:
                i, done = cast(tuple[int, tuple[int, str] | None], payload)
                self._settle(i, done)
                self._call(i, now)
            else:
                self._take(cast(Citizen, payload), now, kind == RETURN)
        return DayResult(sorted(self.outcomes.values(), key=lambda o: o.citizen.id), self.stats, end)

    # --- taking a ticket -------------------------------------------------------------
    def _take(self, c: Citizen, now: float, returning: bool) -> None:
        line = self.lines.setdefault(c.bundle, [])
        due = at(c.arrive) if c.priority is calling.Priority.APPOINTMENT else None
        ticket = calling.Ticket(id=c.id, number=str(c.id), bundle=c.bundle, priority=c.priority,
                                queue_at=at(c.arrive), due_at=due)
        nowdt = at(now)
        if returning:
            # 过号重排: back `requeue_places` places behind the head of its line
            ticket = replace(ticket, queue_at=calling.requeue_at(
                ticket, [t for _, t in line], self.rules.requeue_places, nowdt))
        heapq.heappush(line, (calling.line_order(ticket, nowdt), ticket))
        if self.quotes and c.quoted and not returning:
            self.outcomes[c.id].quoted_min = self._quote(ticket, line, nowdt)
        idle = [i for i in self.by_bundle.get(c.bundle, ()) if i in self.idle_since]
        if idle:
            # the clerk who has waited longest presses call-next first
            self._call(min(idle, key=lambda i: (self.idle_since[i], i)), now)

    def _quote(self, ticket: calling.Ticket, line: Sequence[tuple[object, calling.Ticket]],
               nowdt: datetime) -> int | None:
        """The wait the ticket shows when issued: services.waits.HallLoad.wait_for's composition."""
        code = ticket.bundle
        ahead = calling.people_ahead(ticket, [t for _, t in line], nowdt)
        waiting = {b: len(self.lines.get(b, ())) for w in self.loads.get(code, ()) for b in w.ranks}
        loads = [replace(w, busy=i not in self.idle_since)
                 for i, w in zip(self.by_bundle.get(code, ()), self.loads.get(code, ()), strict=True)]
        servers = eta.servers_for(code, loads, waiting)
        service = eta.service_minutes(list(self.samples.get(code, ())),
                                      self.rules.expected_min.get(code, 15.0))
        idle = sum(1 for w in loads if not w.busy)
        return eta.wait_minutes(ahead, service, servers, idle)

    # --- calling ---------------------------------------------------------------------
    def _call(self, i: int, now: float) -> None:
        ranks = self.ranks[i]
        heads = [line[0][1] for code in ranks if (line := self.lines.get(code))]
        chosen = calling.choose_next(heads, i, ranks, at(now)) if heads else None
        if chosen is None:
            self.idle_since[i] = now
            return
        self.idle_since.pop(i, None)
        heapq.heappop(self.lines[chosen.bundle])
        out = self.outcomes[chosen.id]
        c = out.citizen
        if out.first_call is None:
            out.first_call = now
        r = self.rules
        if c.absent and not out.no_show:
            # called, then recalled up to the hall's limit, then marked 过号
            busy, done = r.recall_interval_min * (1 + r.recall_limit), (chosen.id, "no_show")
        else:
            walk = r.walk_min + (r.recall_interval_min if c.late and r.recall_limit > 0 else 0)
            busy, done = walk + c.service, (chosen.id, "served")
        self.stats[i].busy_min += busy
        self._push(now + busy, FREE, (i, done))

    def _settle(self, i: int, done: tuple[int, str] | None) -> None:
        if done is None:
            return
        ticket_id, how = done
        out = self.outcomes[ticket_id]
        c = out.citizen
        if how == "served":
            out.served, out.no_show = True, False
            self.stats[i].served += 1
            self.samples.setdefault(c.bundle, deque(maxlen=50)).append(c.service)
            return
        out.no_show = True
        self.stats[i].no_shows += 1
        if c.returns_after is not None:
            # back at the kiosk later: requeued (it stays a no-show unless it is then served)
            back = self.events_now + c.returns_after
            if back < self.rules.closes_min:
                self._push(back, RETURN, c)
