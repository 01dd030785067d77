"""Wait estimates from measured service times and the windows open for a bundle.

Model (documented because clerks and citizens read its output): each open, unpaused window splits
its time between the bundles allocated to it in proportion to their waiting tickets weighted by
rank (rank 1 = 1, rank 2 = 1/4, rank 3 = 1/16, …), because call-next prefers the primary bundle.
The bundle's service rate is the sum of those shares divided by its mean service time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

PRIOR_WEIGHT = 5  # the catalogue's expected time counts as this many measurements
MIN_SERVICE_MIN = 0.5
MAX_SERVICE_MIN = 120.0


@dataclass(frozen=True, slots=True)
class WindowLoad:
    """An open, unpaused window: its bundles with their rank."""

    number: int
    ranks: Mapping[str, int]
    busy: bool = False
    weights: Mapping[str, float] = field(init=False, compare=False, repr=False)  # rank_weight of each

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", {b: rank_weight(r) for b, r in self.ranks.items()})


def rank_weight(rank: int) -> float:
    return 4.0 ** (1 - max(rank, 1))


def service_minutes(samples: Sequence[float], expected: float) -> float:
    """Mean service time, the catalogue's expectation blended in while measurements are few.

    Samples are clipped so a ticket left open over lunch cannot wreck the mean.
    """
    clipped = [min(max(s, MIN_SERVICE_MIN), MAX_SERVICE_MIN) for s in samples]
    return (sum(clipped) + PRIOR_WEIGHT * expected) / (len(clipped) + PRIOR_WEIGHT)


def servers_for(bundle: str, windows: Sequence[WindowLoad], waiting: Mapping[str, int]) -> float:
    """How many windows' worth of service `bundle` gets now (0.0 when none is open for it)."""
    total = 0.0
    for w in windows:
        weight = w.weights.get(bundle)
        if weight is None:
            continue
        own = weight * max(waiting.get(bundle, 0), 1)
        others = sum(other * waiting.get(b, 0) for b, other in w.weights.items() if b != bundle)
        total += own / (own + others)
    return total


def servers_all(windows: Sequence[WindowLoad], waiting: Mapping[str, int]) -> dict[str, float]:
    """`servers_for` of every bundle some window serves, in one pass over the windows.

    Per window the weighted demand of all its bundles is summed once; a bundle's share then only
    swaps its own term (an empty line still counts as one, as in `servers_for`).
    """
    total: dict[str, float] = {}
    for w in windows:
        weights = [(b, weight, waiting.get(b, 0)) for b, weight in w.weights.items()]
        base = sum(weight * n for _, weight, n in weights)
        for b, weight, n in weights:
            own = weight * max(n, 1)
            total[b] = total.get(b, 0.0) + own / (base - weight * n + own)
    return total


def wait_minutes(ahead: int, service_min: float, servers: float, idle_windows: int = 0) -> int | None:
    """Minutes until a ticket with `ahead` people before it is called; None if no window serves it."""
    if servers <= 0:
        return None
    if ahead == 0 and idle_windows > 0:
        return 0
    # A window now busy frees on average half a service time from now.
    return math.ceil((ahead + 0.5) * service_min / servers)


def served_before_closing(now: datetime, closes: datetime | None, wait_min: int | None,
                          service_min: float) -> bool:
    """The closing-time promise: whether a number taken `now` is called after `wait_min` and served
    within `service_min` before the hall `closes` (None: no closing to keep, e.g. the guard is off).

    With no open window serving the bundle (`wait_min` None) nothing can be promised either way: the
    ticket itself says that no window is open.
    """
    if closes is None or wait_min is None:
        return True
    return now + timedelta(minutes=wait_min + service_min) <= closes
