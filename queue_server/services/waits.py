"""Waiting counts and wait estimates per bundle, from measured service times and open windows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Allocation, Bundle, Hall, Ticket, Window
from ..queue import calling, eta
from .common import ACTIVE, today

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

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "prefix": self.prefix,
                "waiting": self.waiting, "wait_min": self.wait_min,
                "open_windows": self.open_windows, "service_min": round(self.service_min, 1)}


@dataclass(frozen=True, slots=True)
class HallLoad:
    """What the estimates need about a hall at one moment."""

    windows: tuple[eta.WindowLoad, ...]
    waiting: dict[str, int]
    oldest: dict[str, datetime]
    service_min: dict[str, float]
    idle: dict[str, int]

    def wait_for(self, bundle: str, ahead: int) -> int | None:
        servers = eta.servers_for(bundle, self.windows, self.waiting)
        return eta.wait_minutes(ahead, self.service_min[bundle], servers, self.idle.get(bundle, 0))


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


def hall_load(db: Session, hall: Hall, now: datetime) -> HallLoad:
    day = today(hall, now)
    windows = db.scalars(select(Window).where(Window.hall_id == hall.id)).all()
    alloc = db.execute(
        select(Allocation.window_id, Bundle.code, Allocation.rank)
        .join(Bundle, Bundle.id == Allocation.bundle_id)
        .join(Window, Window.id == Allocation.window_id)
        .where(Window.hall_id == hall.id)
    ).all()
    busy = set(db.scalars(
        select(Ticket.window_id).where(Ticket.hall_id == hall.id, Ticket.service_day == day,
                                       Ticket.status.in_(ACTIVE))))
    ranks: dict[int, dict[str, int]] = defaultdict(dict)
    for window_id, code, rank in alloc:
        ranks[window_id][code] = rank
    loads = tuple(eta.WindowLoad(number=w.number, ranks=ranks[w.id], busy=w.id in busy)
                  for w in windows if w.open and not w.paused)
    idle: dict[str, int] = defaultdict(int)
    for w in loads:
        if not w.busy:
            for code in w.ranks:
                idle[code] += 1
    waiting: dict[str, int] = {}
    oldest: dict[str, datetime] = {}
    for code, count, first in db.execute(
        select(Bundle.code, func.count(Ticket.id), func.min(Ticket.taken_at))
        .join(Bundle, Bundle.id == Ticket.bundle_id)
        .where(Ticket.hall_id == hall.id, Ticket.service_day == day,
               Ticket.status == calling.Status.WAITING.value)
        .group_by(Bundle.code)
    ):
        waiting[code] = count
        oldest[code] = _aware(first)
    samples = measured_service(db, hall, now)
    expected = {code: minutes for code, minutes in db.execute(select(Bundle.code, Bundle.service_minutes))}
    service = {code: eta.service_minutes(samples.get(code, []), minutes)
               for code, minutes in expected.items()}
    return HallLoad(loads, waiting, oldest, service, dict(idle))


def hall_waits(db: Session, hall: Hall, now: datetime) -> list[BundleWait]:
    """Every bundle of the catalogue that some window of the hall serves, with its wait now."""
    load = hall_load(db, hall, now)
    served = {code for w in db.scalars(select(Window).where(Window.hall_id == hall.id))
              for code in (a.bundle.code for a in w.allocations)}
    bundles = db.scalars(select(Bundle).where(Bundle.code.in_(served)).order_by(Bundle.prefix))
    result = []
    for b in bundles:
        waiting = load.waiting.get(b.code, 0)
        result.append(BundleWait(
            code=b.code, name=b.name, prefix=b.prefix, waiting=waiting,
            wait_min=load.wait_for(b.code, waiting),
            open_windows=sum(1 for w in load.windows if b.code in w.ranks),
            service_min=load.service_min[b.code],
            servers=eta.servers_for(b.code, load.windows, load.waiting),
            oldest_taken_at=load.oldest.get(b.code),
        ))
    return result
