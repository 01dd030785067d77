"""Honest wait quotes: every ticket is quoted a range, and the hall knows how well its quotes held.

The wait model (waits.py, eta.py) gives one figure: the expected wait. How far the real waits fall
from it is measured on the hall's own recent calls: for each ticket called in the last
CALIBRATION_DAYS days (at most the latest CALIBRATION_CALLS), error = actual wait (taken to called)
− the wait quoted on the ticket. A new ticket is quoted the range

    expected wait + median error … expected wait + 90th-percentile error

(its p50–p90 given the hall's recent errors), stored with the ticket and compared with its call.
The share of tickets called no later than the end of their range is the calibration the manager
console and the public waits page show; when it is poor the range is widened (the 97th percentile
for its end) or, when poorer still, withheld (no range promised, the estimate shown as a guide
only). Until MIN_SAMPLES calls have been quoted, a hall is "calibrating": a wide default range.

The same comparison is what `govhall simulate-day` reports for a simulated day (quote error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..expiring import Expiring
from ..models import Ticket
from ..quantiles import nearest_rank

CALIBRATION_DAYS = 7
CALIBRATION_CALLS = 2000
MIN_SAMPLES = 30
GOOD_SHARE = 0.80  # called by the end of the range: keep the p90 range
FAIR_SHARE = 0.60  # below GOOD: widen to the 97th percentile; below FAIR: withhold the range


@dataclass(frozen=True, slots=True)
class Calibration:
    samples: int  # calls with a quoted wait in the period
    ranged: int  # of them, those quoted a range
    within_share: float | None  # of `ranged`, the share called no later than the range's end
    median_error_min: float | None  # median |actual − quoted| in minutes
    low_shift: float  # minutes added to the expected wait for the range's start
    high_shift: float  # … and for its end
    mode: str  # calibrating | range | widened | withheld

    def range_for(self, wait_min: int | None) -> tuple[int, int] | None:
        """The quoted range for an expected wait (None: no window open, or the range is withheld).

        Past ten minutes its ends go out to whole five minutes (down and up): a quote is never said
        more precisely than it is, and what is stored is what the citizen was told.
        """
        if wait_min is None or self.mode == "withheld":
            return None
        if self.mode == "calibrating":
            low, high = wait_min, max(wait_min, math.ceil(wait_min * 1.5) + 5)
        else:
            low = max(0, round(wait_min + self.low_shift))
            high = max(low, math.ceil(wait_min + self.high_shift))
        if high >= 10:
            low, high = low // 5 * 5, -(-high // 5) * 5
        return low, high

    def to_json(self) -> dict[str, object]:
        return {"days": CALIBRATION_DAYS, "samples": self.samples, "ranged": self.ranged,
                "within_share": None if self.within_share is None else round(self.within_share, 3),
                "median_error_min": (None if self.median_error_min is None
                                     else round(self.median_error_min, 1)),
                "mode": self.mode}


def calibrate(calls: list[tuple[float, int, int | None]]) -> Calibration:
    """From (actual wait min, quoted wait min, quoted range end or None) of recent calls."""
    errors = [actual - quoted for actual, quoted, _ in calls]
    ranged = [(actual, high) for actual, _, high in calls if high is not None]
    within = sum(1 for actual, high in ranged if actual <= high) / len(ranged) if ranged else None
    med = median(abs(e) for e in errors) if errors else None
    if len(errors) < MIN_SAMPLES:
        return Calibration(len(errors), len(ranged), within, med, 0.0, 0.0, "calibrating")
    mode = "range"
    high_q = 0.90
    if len(ranged) >= MIN_SAMPLES and within is not None and within < GOOD_SHARE:
        mode, high_q = ("widened", 0.97) if within >= FAIR_SHARE else ("withheld", 0.97)
    return Calibration(len(errors), len(ranged), within, med, nearest_rank(errors, 0.5),
                       nearest_rank(errors, high_q), mode)


_RECENT = (select(Ticket.taken_at, Ticket.called_at, Ticket.quoted_wait_min, Ticket.quoted_range_hi)
           .where(Ticket.hall_id == bindparam("hall"), Ticket.called_at.is_not(None),
                  Ticket.called_at >= bindparam("since", type_=Ticket.called_at.type),
                  Ticket.quoted_wait_min.is_not(None), Ticket.requeue_count == 0)
           .order_by(Ticket.called_at.desc()).limit(CALIBRATION_CALLS))


def measure(db: Session, hall_id: int, now: datetime) -> Calibration:
    since = now - timedelta(days=CALIBRATION_DAYS)
    rows = db.execute(_RECENT, {"hall": hall_id, "since": since})
    return calibrate([((called - taken).total_seconds() / 60, quoted, high)
                      for taken, called, quoted, high in rows])


# Read at most every few minutes per hall: a week of calls changes little in that time.
CACHE: Expiring[tuple[object, int], Calibration] = Expiring()


def calibration(db: Session, hall_id: int, now: datetime) -> Calibration:
    return CACHE.get_or_load((db.get_bind().url, hall_id), lambda: measure(db, hall_id, now))
