"""办件激增预警: the bundles whose queue passes the manager's thresholds, and the windows that could help.

A bundle is in surge while its waiting count reaches its threshold, or while the citizen waiting
longest has waited at least its threshold in minutes (settings.thresholds: the bundle's own, else
the hall's). The alert clears by itself when both fall back below.

A bundle whose people still wait while no open window serves it any more (its windows were closed or
paused, e.g. at closing time) is alerted too, whatever the thresholds ("stranded"), first in the list:
numbers were issued that nobody will call.

Each alert names the windows a manager could use at once:
- open: windows allocated to the bundle that are paused or closed (resuming or opening one adds a
  server), paused ones first;
- reallocate: open, unpaused windows not serving the bundle whose own bundles have at most
  LIGHT_QUEUE people waiting in all and none in surge (giving them the bundle costs little).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Database
from ..expiring import Expiring
from ..models import Hall, Window
from .common import hall_by_code
from .settings import thresholds
from .waits import BundleWait, hall_waits
from .windows import allocated

LIGHT_QUEUE = 3  # a window whose bundles have at most this many waiting can take on another bundle
SUGGESTIONS = 4  # windows named per kind of suggestion


@dataclass(frozen=True, slots=True)
class SurgeAlert:
    bundle: str
    name: str
    prefix: str
    waiting: int
    longest_wait_min: int
    waiting_threshold: int
    wait_threshold_min: int
    reasons: tuple[str, ...]  # waiting | wait | stranded
    open: tuple[dict[str, Any], ...]  # {number, name, state}
    reallocate: tuple[dict[str, Any], ...]  # {number, name, waiting, bundles}

    def to_json(self) -> dict[str, Any]:
        return {"bundle": self.bundle, "name": self.name, "prefix": self.prefix,
                "waiting": self.waiting, "longest_wait_min": self.longest_wait_min,
                "waiting_threshold": self.waiting_threshold,
                "wait_threshold_min": self.wait_threshold_min, "reasons": list(self.reasons),
                "open": list(self.open), "reallocate": list(self.reallocate)}


def surge_alerts(db: Session, hall: Hall, now: datetime,
                 waits: list[BundleWait] | None = None) -> list[SurgeAlert]:
    """The hall's bundles in surge now, the worst (most over its threshold) first.

    `waits`: the hall's waits when the caller has them already (the screens' refresh does).
    """
    limits = _thresholds(db, hall)
    waits = hall_waits(db, hall, now) if waits is None else waits
    waiting = {b.code: b.waiting for b in waits}
    longest = {b.code: int((now - b.oldest_taken_at).total_seconds() // 60) if b.oldest_taken_at else 0
               for b in waits}
    surging = {}
    for b in waits:
        limit = limits[b.code]
        over_wait = b.waiting > 0 and longest[b.code] >= limit.wait_min
        stranded = b.waiting > 0 and b.wait_min is None  # people wait, no open window serves them
        reasons = tuple(r for r, hit in (("stranded", stranded), ("waiting", b.waiting >= limit.waiting),
                                         ("wait", over_wait)) if hit)
        if reasons:
            surging[b.code] = (b, limit, reasons)
    if not surging:
        return []
    windows = db.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number)).all()
    bundles = allocated(db, hall.id)
    served = {w.id: {code for code, _, _ in bundles.get(w.id, ())} for w in windows}
    alerts = []
    for code, (b, limit, reasons) in surging.items():
        # paused windows first: their clerk is at the counter, resuming is quicker than opening
        to_open = sorted(({"number": w.number, "name": w.name, "state": "closed" if not w.open else "paused"}
                          for w in windows if code in served[w.id] and (not w.open or w.paused)),
                         key=lambda x: (x["state"] != "paused", x["number"]))
        light = []
        for w in windows:
            mine = served[w.id]
            if not w.open or w.paused or code in mine or mine & set(surging):
                continue
            load = sum(waiting.get(c, 0) for c in mine)
            if load <= LIGHT_QUEUE:
                light.append({"number": w.number, "name": w.name, "waiting": load, "bundles": sorted(mine)})
        light.sort(key=lambda x: (x["waiting"], x["number"]))
        alerts.append(SurgeAlert(
            bundle=code, name=b.name, prefix=b.prefix, waiting=b.waiting, longest_wait_min=longest[code],
            waiting_threshold=limit.waiting, wait_threshold_min=limit.wait_min, reasons=reasons,
            open=tuple(to_open[:SUGGESTIONS]), reallocate=tuple(light[:SUGGESTIONS])))
    alerts.sort(key=lambda a: ("stranded" not in a.reasons,
                               -max(a.waiting / a.waiting_threshold,
                                    a.longest_wait_min / a.wait_threshold_min)))
    return alerts


# The screens' refresh asks for every changed hall about once a second: each hall's thresholds are
# kept as long as its window loads (create_app sets both); a manager's change here drops them at once.
LIMITS: Expiring[tuple[object, int], dict[str, Any]] = Expiring()


def _thresholds(db: Session, hall: Hall) -> dict[str, Any]:
    return LIMITS.get_or_load((db.get_bind().url, hall.id), lambda: thresholds(db, hall))


def forget_thresholds() -> None:
    LIMITS.clear()


def alerts_payload(db: Session, hall: Hall, now: datetime,
                   waits: list[BundleWait] | None = None) -> dict[str, Any]:
    """What the `surge_alert` event and GET …/alerts carry: the hall's current alerts (empty: all clear)."""
    return {"hall": hall.code, "alerts": [a.to_json() for a in surge_alerts(db, hall, now, waits)],
            "at": now.isoformat()}


def current_alerts(database: Database, hall_code: str, now: datetime) -> dict[str, Any]:
    with database.read() as db:
        return alerts_payload(db, hall_by_code(db, hall_code), now)
