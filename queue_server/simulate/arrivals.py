"""The citizens of one simulated day, drawn once per seed so every allocation meets the same people.

Drawing everything about a citizen (arrival, bundle, service time, priority, whether they come when
called) up front is what makes comparisons fair: two allocations simulated with the same seed differ
only by the allocation (common random numbers).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from ..queue.calling import Priority
from .profile import Profile, Service


@dataclass(frozen=True, slots=True)
class Citizen:
    """One ticket's worth of behaviour; times in minutes from the hall's local midnight."""

    id: int
    bundle: str
    arrive: float
    service: float  # minutes at the counter once they are there
    priority: Priority = Priority.NONE
    absent: bool = False  # does not come when called (过号)
    late: bool = False  # comes only after the first recall
    returns_after: float | None = None  # an absent citizen back at the kiosk this many minutes later
    quoted: bool = True  # False for tickets already waiting when a live run starts


def draw_service(rng: random.Random, s: Service) -> float:
    """A service time with mean `s.mean_min` and coefficient of variation `s.cv`."""
    if s.dist == "fixed" or s.cv == 0:
        return s.mean_min
    if s.dist == "exponential":
        return rng.expovariate(1 / s.mean_min)
    sigma2 = math.log(1 + s.cv**2)
    return rng.lognormvariate(math.log(s.mean_min) - sigma2 / 2, math.sqrt(sigma2))


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw by counting exponential gaps (lam is at most a few hundred here)."""
    count, t = 0, rng.expovariate(1.0) if lam > 0 else math.inf
    while t < lam:
        count += 1
        t += rng.expovariate(1.0)
    return count


def warm_history(profile: Profile, seed: int, count: int = 50) -> dict[str, list[float]]:
    """Service times of earlier days per bundle: a running hall's wait estimate starts from these
    (the server keeps the last 50 of 14 days), not from the catalogue's prior alone."""
    rng = random.Random(f"history-{seed}")  # noqa: S311 - a reproducible simulation, not a secret
    return {code: [draw_service(rng, load.service) for _ in range(count)]
            for code, load in sorted(profile.bundles.items())}


def expected_arrivals(profile: Profile, start_min: float | None = None,
                      hourly: Mapping[str, Mapping[int, float]] | None = None) -> dict[str, float]:
    """The mean number of tickets per bundle from `start_min` (default: opening) to closing."""
    begin = profile.opens_min if start_min is None else max(start_min, profile.opens_min)
    out: dict[str, float] = {}
    for code, hours in (hourly or profile.hourly).items():
        total = 0.0
        for hour, expected in hours.items():
            lo, hi = max(hour * 60.0, profile.opens_min), min(hour * 60.0 + 60, profile.closes_min)
            if hi > lo:
                total += expected * max(hi - max(lo, begin), 0) / (hi - lo)
        out[code] = total
    return out


def draw_day(profile: Profile, seed: int, start_min: float | None = None,
             hourly: Mapping[str, Mapping[int, float]] | None = None) -> list[Citizen]:
    """Arrivals from `start_min` (default: opening) to closing, sorted by time, ids from 1.

    Each hour's count per bundle is Poisson with the profile's mean for that hour, spread uniformly
    over the part of the hour the hall is open.
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    begin = profile.opens_min if start_min is None else max(start_min, profile.opens_min)
    v = profile.visitors
    drawn: list[tuple[float, str]] = []
    for code, hours in sorted((hourly or profile.hourly).items()):
        for hour, expected in sorted(hours.items()):
            lo, hi = max(hour * 60.0, profile.opens_min), min(hour * 60.0 + 60, profile.closes_min)
            if hi <= lo:
                continue
            cut = max(lo, begin)
            lam = expected * max(hi - cut, 0) / (hi - lo)
            drawn.extend((rng.uniform(cut, hi), code) for _ in range(_poisson(rng, lam)))
    drawn.sort()
    citizens = []
    for i, (at, code) in enumerate(drawn, start=1):
        load = profile.bundles[code]
        u = rng.random()
        priority = (Priority.APPOINTMENT if u < load.appointment_share
                    else Priority.ELDERLY if u < load.appointment_share + load.priority_share
                    else Priority.NONE)
        absent = rng.random() < v.no_show_share
        late = rng.random() < v.late_share
        back = rng.uniform(*v.return_after_min) if rng.random() < v.return_share else None
        citizens.append(Citizen(
            id=i, bundle=code, arrive=at, service=draw_service(rng, load.service),
            priority=priority, absent=absent, late=late and not absent,
            returns_after=back if absent else None,
        ))
    return citizens
