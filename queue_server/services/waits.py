"""Waiting counts and wait estimates per bundle, from measured service times and open windows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Date, Integer, any_, bindparam, func, null, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ..expiring import Expiring
from ..models import Allocation, Bundle, Hall, Ticket, Window
from ..queue import calling, eta
from . import quotes
from .common import ACTIVE, hall_by_code, lane_sql, range_json, today
from .settings import policy

SAMPLES_PER_BUNDLE = 50
SAMPLE_DAYS = 14


@dataclass(frozen=True, slots=True)
class BundleWait:
    code: str
    name: str
    prefix: str
    waiting: int
    wait_min: int | None  # for a ticket taken now; None when no open window serves the bundle
    open_windows: int
    service_min: float
    servers: float
    oldest_taken_at: datetime | None
    issuing: bool = True  # False: a number taken now could not be served before closing time
    wait_range: tuple[int, int] | None = None  # quoted to a number taken now (services/quotes.py)

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "prefix": self.prefix,
                "waiting": self.waiting, "wait_min": self.wait_min,
                "open_windows": self.open_windows, "service_min": round(self.service_min, 1),
                "issuing": self.issuing, "wait_range": range_json(self.wait_range)}


@dataclass(frozen=True, slots=True)
class HallLoad:
    """What the estimates need about a hall at one moment."""

    windows: tuple[eta.WindowLoad, ...]
    waiting: dict[str, int]
    oldest: dict[str, datetime]
    service_min: dict[str, float]
    idle: dict[str, int]
    servers: dict[str, float] | None = None  # eta.servers_for of every bundle, when computed at once

    def servers_of(self, bundle: str) -> float:
        if self.servers is not None:
            return self.servers.get(bundle, 0.0)
        return eta.servers_for(bundle, self.windows, self.waiting)

    def wait_for(self, bundle: str, ahead: int) -> int | None:
        return eta.wait_minutes(ahead, self.service_min[bundle], self.servers_of(bundle),
                                self.idle.get(bundle, 0))


def measured_service(db: Session, hall: Hall, now: datetime) -> dict[str, list[float]]:
    """Recent service durations in minutes per bundle (start, or call if never started, to finish)."""
    begun = func.coalesce(Ticket.started_at, Ticket.called_at)
    rows = db.execute(
        select(Bundle.code, begun, Ticket.finished_at)
        .join(Bundle, Bundle.id == Ticket.bundle_id)
        .where(Ticket.hall_id == hall.id, Ticket.status == calling.Status.DONE.value,
               Ticket.finished_at >= now - timedelta(days=SAMPLE_DAYS))
        .order_by(Ticket.finished_at.desc()).limit(SAMPLES_PER_BUNDLE * 40)
    )
    samples: dict[str, list[float]] = defaultdict(list)
    for code, started, finished in rows:
        if started is not None and len(samples[code]) < SAMPLES_PER_BUNDLE:
            samples[code].append((_aware(finished) - _aware(started)).total_seconds() / 60)
    return samples


def _aware(value: datetime) -> datetime:
    # func.coalesce and func.min lose the column type on SQLite; the value is UTC either way
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True, slots=True)
class HallFacts:
    """What taking a number needs of the hall row (none of it changes while the hall runs)."""

    id: int
    code: str
    name: str
    timezone: str
    elderly_age: int
    closes: time | None  # when a number must be served by (the closing-time guard); None: guard off

    def closes_at(self, now: datetime) -> datetime | None:
        """Today's closing time (in the hall's zone) for a number taken `now`."""
        if self.closes is None:
            return None
        zone = ZoneInfo(self.timezone)
        return datetime.combine(now.astimezone(zone).date(), self.closes, zone)


@dataclass(frozen=True, slots=True)
class ServedBundle:
    id: int
    code: str
    name: str
    prefix: str


@dataclass(frozen=True, slots=True)
class _Windows:
    """The slow-changing part of a hall's load: open windows, their bundles, measured service times."""

    hall: HallFacts
    windows: tuple[eta.WindowLoad, ...]
    idle: dict[str, int]
    service_min: dict[str, float]
    served: tuple[tuple[str, str, str], ...]  # (code, name, prefix) of the bundles some window serves
    bundles: dict[str, ServedBundle]  # the same bundles by code


class LoadCache:
    """Keeps `_Windows` per hall for `ttl_s` seconds (0: no caching, the default outside a server).

    Taking a number changes none of it, so at a hundred tickets a second the windows, allocations
    and service-time samples are read once per hall and interval instead of once per ticket. Calls,
    finishes and window changes drop the entry at once on the process that made them (the publisher
    calls `invalidate`); another server process sees them within `ttl_s`.
    """

    def __init__(self) -> None:
        self.entries: Expiring[tuple[object, str], _Windows] = Expiring()

    @property
    def ttl_s(self) -> float:
        return self.entries.ttl_s

    @ttl_s.setter
    def ttl_s(self, value: float) -> None:
        self.entries.ttl_s = value

    def get(self, db: Session, hall: Hall, now: datetime) -> _Windows:
        # keyed by the database's URL: its read and write engines share the entries
        return self.entries.get_or_load((db.get_bind().url, hall.code), lambda: _windows(db, hall, now))

    def by_code(self, db: Session, hall_code: str, now: datetime) -> _Windows:
        """`get` from the hall's code: the hall row itself is read only when the entry is not held
        (taking a number reads nothing else that is slow to change)."""
        held = self.entries.get((db.get_bind().url, hall_code))
        return held if held is not None else self.get(db, hall_by_code(db, hall_code), now)

    def invalidate(self, hall_codes: Iterable[str]) -> None:
        codes = set(hall_codes)
        self.entries.discard(lambda key: key[1] in codes)


CACHE = LoadCache()
# Service minutes per bundle, from the last SAMPLES_PER_BUNDLE services: kept on their own, not
# dropped by every call with the windows (one more sample barely moves a mean of fifty, and reading
# up to 2,000 finished tickets after each call was the heaviest part of a busy hall's refresh).
SERVICE: Expiring[tuple[object, str], dict[str, float]] = Expiring()


def _service_minutes(db: Session, hall: Hall, now: datetime) -> dict[str, float]:
    samples = measured_service(db, hall, now)
    expected = {code: minutes for code, minutes in db.execute(select(Bundle.code, Bundle.service_minutes))}
    return {code: eta.service_minutes(samples.get(code, []), minutes) for code, minutes in expected.items()}


_WINDOWS_AND_BUNDLES = (
    select(Window.id, Window.number, Window.open, Window.paused, Allocation.rank,
           Bundle.id, Bundle.code, Bundle.name, Bundle.prefix)
    .outerjoin(Allocation, Allocation.window_id == Window.id)
    .outerjoin(Bundle, Bundle.id == Allocation.bundle_id)
    .where(Window.hall_id == bindparam("hall"))
    .order_by(Window.number, Allocation.rank)
)
_BUSY = select(Ticket.window_id).where(Ticket.hall_id == bindparam("hall"),
                                       Ticket.service_day == bindparam("day"), Ticket.status.in_(ACTIVE))


def _windows(db: Session, hall: Hall, now: datetime) -> _Windows:
    """Two statements (windows with their bundles; the windows busy now): every call drops this and
    the next refresh of the hall's screens reads it again."""
    conn = db.connection()
    busy = set(conn.scalars(_BUSY, {"hall": hall.id, "day": today(hall, now)}))
    ranks: dict[int, dict[str, int]] = {}
    numbers: dict[int, int] = {}
    bundles: dict[str, ServedBundle] = {}
    for window_id, number, is_open, paused, rank, bundle_id, code, name, prefix in conn.execute(
            _WINDOWS_AND_BUNDLES, {"hall": hall.id}):
        if is_open and not paused:
            numbers[window_id] = number
            ranks.setdefault(window_id, {})
        if code is not None:
            bundles[code] = ServedBundle(bundle_id, code, name, prefix)
            if window_id in ranks:
                ranks[window_id][code] = rank
    loads = tuple(eta.WindowLoad(number=numbers[w], ranks=ranks[w], busy=w in busy) for w in numbers)
    idle: dict[str, int] = defaultdict(int)
    for load in loads:
        if not load.busy:
            for code in load.ranks:
                idle[code] += 1
    service = SERVICE.get_or_load((db.get_bind().url, hall.code), lambda: _service_minutes(db, hall, now))
    bundles = dict(sorted(bundles.items(), key=lambda item: item[1].prefix))
    served = tuple((b.code, b.name, b.prefix) for b in bundles.values())
    guarded = policy(db, hall).closing_guard
    facts = HallFacts(hall.id, hall.code, hall.name, hall.timezone, hall.elderly_age,
                      hall.closes if guarded else None)
    return _Windows(facts, loads, dict(idle), service, served, bundles)


def waiting_now(db: Session, halls: Sequence[Hall], now: datetime
                ) -> dict[int, tuple[dict[str, int], dict[str, datetime]]]:
    """Waiting count and oldest taking time per bundle, for several halls in one query."""
    lines = hall_lines(db.connection(), {hall.id: today(hall, now) for hall in halls}, now)
    return {hall_id: (line.waiting, line.oldest) for hall_id, line in lines.items()}


def _load(static: _Windows, waiting: dict[str, int], oldest: dict[str, datetime],
          every_bundle: bool = False) -> HallLoad:
    """The load; with `every_bundle` each bundle's servers at once (a screen refresh needs them all,
    a ticket only its own)."""
    return HallLoad(static.windows, waiting, oldest, static.service_min, static.idle,
                    eta.servers_all(static.windows, waiting) if every_bundle else None)


def hall_load(db: Session, hall: Hall, now: datetime) -> HallLoad:
    static = CACHE.get(db, hall, now)
    waiting, oldest = waiting_now(db, [hall], now)[hall.id]
    return _load(static, waiting, oldest)


# The waiting lines of several halls in one statement: per bundle, lane (at `now`), whether in the
# bundle's own line (not sent to one window) and whether queued by `now`, the count and the oldest
# taking time. Enough for the halls' loads (screens, estimates) and to count a new number's people
# ahead (the newest in its lane: a tie in place puts the others ahead), without reading the lines.
_NOW = bindparam("now", type_=Ticket.queue_at.type)


def lines_statement(halls: Literal["one", "several", "array"], oldest: bool) -> Any:
    """The statement for one hall (no expanding lists to render on every call), several (an
    expanding list), or several as arrays (PostgreSQL: one text however many, compiled once); with or
    without the oldest taking time (issuing a number does not need it, nor its parsing)."""
    where = {
        "one": (Ticket.hall_id == bindparam("hall"), Ticket.service_day == bindparam("day")),
        "several": (Ticket.hall_id.in_(bindparam("halls", expanding=True)),
                    Ticket.service_day.in_(bindparam("days", expanding=True))),
        "array": (Ticket.hall_id == any_(bindparam("halls", type_=ARRAY(Integer))),
                  Ticket.service_day == any_(bindparam("days", type_=ARRAY(Date)))),
    }[halls]
    laned = (select(Ticket.hall_id, Ticket.service_day, Bundle.code, lane_sql(_NOW).label("lane"),
                    Ticket.for_window_id.is_(None).label("in_line"), (Ticket.queue_at <= _NOW).label("early"),
                    Ticket.taken_at)
             .join(Bundle, Bundle.id == Ticket.bundle_id)
             .where(Ticket.status == calling.Status.WAITING.value, *where)
             .subquery())
    keys = (laned.c.hall_id, laned.c.service_day, laned.c.code, laned.c.lane, laned.c.in_line, laned.c.early)
    first = func.min(laned.c.taken_at) if oldest else null()
    return select(*keys, func.count(), first).group_by(*keys)


_LINES = {(several, oldest): lines_statement("several" if several else "one", oldest)
          for several in (False, True) for oldest in (False, True)}


@dataclass(slots=True)
class HallLine:
    """A hall's waiting line in counts, as `hall_lines` reads it; numbers issued are added."""

    waiting: dict[str, int]
    oldest: dict[str, datetime]
    lanes: list[tuple[str, int, bool, bool, int]]  # (bundle, lane, in its own line, queued by now, count)

    def ahead_of_newest(self, bundle: str, lane: int) -> int:
        """`calling.people_ahead` of a number taken now in `lane` of `bundle`'s line."""
        return sum(count for code, at_lane, in_line, early, count in self.lanes
                   if code == bundle and in_line and (at_lane < lane or (at_lane == lane and early)))

    def add_newest(self, bundle: str, lane: int, now: datetime, *, queued: bool = True) -> None:
        """Count a number just issued at `now` (numbers issued after it in the same batch see it
        ahead); `queued` False when this line is read at a moment before `now`."""
        self.waiting[bundle] = self.waiting.get(bundle, 0) + 1
        if now < self.oldest.get(bundle, now + timedelta(seconds=1)):
            self.oldest[bundle] = now
        self.lanes.append((bundle, lane, True, queued, 1))

    def load(self, static: _Windows) -> HallLoad:
        return _load(static, self.waiting, self.oldest)


def hall_lines(conn: Connection, days: dict[int, date], now: datetime, *, oldest: bool = True
               ) -> dict[int, HallLine]:
    """The `HallLine` of each hall (id → its service day) at `now`, in one statement; `oldest`
    False leaves `HallLine.oldest` empty."""
    if not days:
        return {}
    return fold_lines(days, conn.execute(_LINES[len(days) > 1, oldest], {**lines_params(days), "now": now}))


def lines_params(days: dict[int, date]) -> dict[str, Any]:
    """The halls' parameters of a lines statement: one hall's, or several's (lists or arrays)."""
    if len(days) == 1:
        return {"hall": next(iter(days)), "day": next(iter(days.values()))}
    return {"halls": list(days), "days": sorted(set(days.values()))}


def fold_lines(days: dict[int, date], rows: Iterable[Sequence[Any]]) -> dict[int, HallLine]:
    """The `HallLine` of each hall from the rows of a lines statement."""
    lines = {hall_id: HallLine({}, {}, []) for hall_id in days}
    for hall_id, day, code, lane, in_line, early, count, first in rows:
        if days[hall_id] != day:
            continue  # another hall's service day (halls in other time zones)
        line = lines[hall_id]
        line.lanes.append((code, int(lane), bool(in_line), bool(early), count))
        line.waiting[code] = line.waiting.get(code, 0) + count
        if first is not None:
            first = _aware(first)
            if code not in line.oldest or first < line.oldest[code]:
                line.oldest[code] = first
    return lines


def _waits(static: _Windows, load: HallLoad, now: datetime, quote: Callable[[int | None], Any]
           ) -> list[BundleWait]:
    result = []
    closes = static.hall.closes_at(now)
    for code, name, prefix in static.served:
        waiting = load.waiting.get(code, 0)
        wait = load.wait_for(code, waiting)
        result.append(BundleWait(
            code=code, name=name, prefix=prefix, waiting=waiting, wait_min=wait,
            issuing=eta.served_before_closing(now, closes, wait, load.service_min[code]),
            wait_range=quote(wait),
            open_windows=sum(1 for w in load.windows if code in w.ranks),
            service_min=load.service_min[code],
            servers=load.servers_of(code),
            oldest_taken_at=load.oldest.get(code),
        ))
    return result


def hall_waits(db: Session, hall: Hall, now: datetime) -> list[BundleWait]:
    """Every bundle of the catalogue that some window of the hall serves, with its wait now."""
    return halls_waits(db, [hall], now)[hall.code]


def halls_waits(db: Session, halls: Sequence[Hall], now: datetime) -> dict[str, list[BundleWait]]:
    """`hall_waits` of several halls with one query for their lines (the screens' refresh)."""
    lines = waiting_now(db, halls, now)
    result = {}
    for hall in halls:
        static = CACHE.get(db, hall, now)
        quote = quotes.calibration(db, hall.id, now).range_for
        result[hall.code] = _waits(static, _load(static, *lines[hall.id], every_bundle=True), now, quote)
    return result
