"""The report's tables beyond bundles and windows, for any run of service days (a day, week or month).

- hours: per hall-local hour of the day, tickets issued (taken_at), called (called_at) and served
  (finished_at of done tickets), over every day of the period.
- appointments: bookings whose slot starts in the period: booked (all but cancelled), kept (checked
  in), late (checked in after the slot start), missed (marked, or still `booked` past start + the
  hall's grace at `now`), cancelled, pending (still bookable); kept_share = kept / (kept + missed).
- ratings by window, bundle and clerk: count, good (levels 4–5), bad (1–2), good_share = good / count.
  Ratings of kiosk applications have no window or clerk; they count under their bundle only.
- self-service: per bundle, applications submitted at a kiosk (self-service) against tickets served
  at a window; share = kiosk / (kiosk + served). Applications taken by staff at a window are shown
  but not added: they are made during a served ticket, which already counts.
- 一件事 figures: per bundle, cases = served tickets + kiosk applications; visits saved = cases ×
  (visits_before − visits_after) and materials saved = cases × (materials_before − materials the
  citizen still hands in, exempt ones left out), from what the catalogue declares (None when it
  declares nothing); identity_share = fields filled from identity / filled fields of the period's
  applications (the merged form's fields bound to an identity value: name, ID number, birth date …).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Application, Appointment, Bundle, FormField, Hall, Staff, Ticket, Window
from ..models.service import Evaluation
from ..queue.calling import Status
from .evaluations import BAD_LEVELS, GOOD_LEVELS
from .settings import policy


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def hours(hall: Hall, tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    """Tickets issued, called and served per hall-local hour, from opening (or the first ticket) on."""
    zone = ZoneInfo(hall.timezone)
    counts: dict[str, Counter[int]] = {"issued": Counter(), "called": Counter(), "served": Counter()}
    for t in tickets:
        counts["issued"][t.taken_at.astimezone(zone).hour] += 1
        if t.called_at is not None:
            counts["called"][t.called_at.astimezone(zone).hour] += 1
        if t.status == Status.DONE.value and t.finished_at is not None:
            counts["served"][t.finished_at.astimezone(zone).hour] += 1
    seen = set().union(*(c.keys() for c in counts.values()))
    closes = hall.closes.hour - (1 if hall.closes.minute == 0 else 0)
    first, last = min(seen | {hall.opens.hour}), max(seen | {closes})
    return [{"hour": h, "label": f"{h:02d}:00", **{k: c.get(h, 0) for k, c in counts.items()}}
            for h in range(first, last + 1)]


def appointments(db: Session, hall: Hall, start: datetime, end: datetime,
                 now: datetime | None) -> dict[str, Any]:
    rows = db.scalars(select(Appointment).where(
        Appointment.hall_id == hall.id, Appointment.slot_start >= start, Appointment.slot_start < end))
    grace = timedelta(minutes=policy(db, hall).grace_min)
    status: Counter[str] = Counter()
    late = 0
    for a in rows:
        s = a.status
        if s == "booked" and now is not None and now > a.slot_start + grace:
            s = "missed"  # not yet marked by the rollover: the same rule as services.appointments
        status[s] += 1
        late += a.checked_in_at is not None and a.checked_in_at > a.slot_start
    kept, missed = status["checked_in"], status["missed"]
    return {"booked": sum(status.values()) - status["cancelled"], "kept": kept, "late": late,
            "missed": missed, "cancelled": status["cancelled"], "pending": status["booked"],
            "kept_share": _share(kept, kept + missed)}


def _rating_row(levels: Iterable[int]) -> dict[str, Any]:
    levels = list(levels)
    good = sum(lv in GOOD_LEVELS for lv in levels)
    return {"count": len(levels), "good": good, "bad": sum(lv in BAD_LEVELS for lv in levels),
            "good_share": _share(good, len(levels))}


def ratings_by(db: Session, hall: Hall, start: datetime, end: datetime) -> dict[str, list[dict[str, Any]]]:
    rows = db.execute(select(Evaluation.level, Evaluation.window_id, Evaluation.bundle_id,
                             Evaluation.staff_id)
                      .where(Evaluation.hall_id == hall.id, Evaluation.rated_at >= start,
                             Evaluation.rated_at < end)).all()
    groups: dict[str, dict[int, list[int]]] = {"windows": defaultdict(list), "bundles": defaultdict(list),
                                               "clerks": defaultdict(list)}
    for level, window_id, bundle_id, staff_id in rows:
        groups["bundles"][bundle_id].append(level)
        if window_id is not None:
            groups["windows"][window_id].append(level)
        if staff_id is not None:
            groups["clerks"][staff_id].append(level)
    windows = {w.id: w for w in db.scalars(select(Window).where(Window.id.in_(groups["windows"])))}
    bundles = {b.id: b for b in db.scalars(select(Bundle).where(Bundle.id.in_(groups["bundles"])))}
    clerks = {s.id: s for s in db.scalars(select(Staff).where(Staff.id.in_(groups["clerks"])))}
    return {
        "windows": sorted(({"number": windows[i].number, "name": windows[i].name, **_rating_row(lv)}
                           for i, lv in groups["windows"].items()), key=lambda r: r["number"]),
        "bundles": sorted(({"code": bundles[i].code, "name": bundles[i].name, "prefix": bundles[i].prefix,
                            **_rating_row(lv)} for i, lv in groups["bundles"].items()),
                          key=lambda r: r["prefix"]),
        "clerks": sorted(({"username": clerks[i].username, "name": clerks[i].name, **_rating_row(lv)}
                          for i, lv in groups["clerks"].items()), key=lambda r: r["username"]),
    }


def _applications(db: Session, hall: Hall, start: datetime, end: datetime) -> list[Application]:
    return list(db.scalars(select(Application).where(Application.hall_id == hall.id,
                                                     Application.received_at >= start,
                                                     Application.received_at < end)))


def _identity_keys(db: Session) -> dict[int, set[str]]:
    keys: dict[int, set[str]] = defaultdict(set)
    for bundle_id, key in db.execute(select(FormField.bundle_id, FormField.key)
                                     .where(FormField.identity.is_not(None))):
        keys[bundle_id].add(key)
    return keys


def one_thing(db: Session, hall: Hall, tickets: Sequence[Ticket], start: datetime,
              end: datetime) -> dict[str, Any]:
    """Self-service and 一件事 figures per bundle (the module docstring defines each), with totals."""
    served = Counter(t.bundle_id for t in tickets if t.status == Status.DONE.value)
    apps = _applications(db, hall, start, end)
    kiosk = Counter(a.bundle_id for a in apps if a.source == "kiosk")
    staff = Counter(a.bundle_id for a in apps if a.source != "kiosk")
    identity = _identity_keys(db)
    fields: Counter[int] = Counter()
    filled: Counter[int] = Counter()
    for a in apps:
        values = {k for k, v in json.loads(a.form).items() if v not in (None, "")}
        fields[a.bundle_id] += len(values)
        filled[a.bundle_id] += len(values & identity[a.bundle_id])
    shown = set(served) | set(kiosk) | set(staff)
    bundles = db.scalars(select(Bundle).where(Bundle.id.in_(shown)).order_by(Bundle.prefix))
    rows = [_one_thing_row(b, served[b.id], kiosk[b.id], staff[b.id], filled[b.id], fields[b.id])
            for b in bundles]

    def total(key: str) -> int:
        return sum(r[key] or 0 for r in rows)

    totals: dict[str, Any] = {"served": total("served"), "kiosk": total("kiosk"),
                              "staff_applications": total("staff_applications"),
                              "cases": total("cases"), "visits_saved": total("visits_saved"),
                              "materials_saved": total("materials_saved"),
                              "identity_filled": sum(filled.values()), "form_fields": sum(fields.values())}
    totals["self_service_share"] = _share(totals["kiosk"], totals["kiosk"] + totals["served"])
    totals["identity_share"] = _share(totals["identity_filled"], totals["form_fields"])
    return {"bundles": rows, "total": totals}


def _one_thing_row(b: Bundle, served: int, kiosk: int, staff: int, filled: int,
                   fields: int) -> dict[str, Any]:
    cases = served + kiosk
    handed = sum(not m.exempt for m in b.materials)
    visits = (b.visits_before - b.visits_after
              if b.visits_before is not None and b.visits_after is not None else None)
    materials = b.materials_before - handed if b.materials_before is not None else None
    return {"code": b.code, "name": b.name, "prefix": b.prefix, "served": served, "kiosk": kiosk,
            "staff_applications": staff, "self_service_share": _share(kiosk, kiosk + served),
            "cases": cases, "visits_before": b.visits_before, "visits_after": b.visits_after,
            "visits_saved": None if visits is None else cases * max(visits, 0),
            "materials_before": b.materials_before, "materials_now": handed,
            "materials_saved": None if materials is None else cases * max(materials, 0),
            "identity_filled": filled, "form_fields": fields, "identity_share": _share(filled, fields)}
