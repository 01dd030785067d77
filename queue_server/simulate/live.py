"""Advice for the rest of today from a hall's live queue, stored, and yesterday's advice checked.

The simulated rest of the day starts from the database: the waiting tickets (their place in line
and priority), the windows open now with their allocations, how long the busy ones still need,
today's measured service times (the same samples the wait estimate uses), the no-show share so far,
and arrivals per bundle and hour from the hall's own last seven service days (today's rate so far
when there is no history). Service times are drawn lognormal around the measured mean with a
coefficient of variation of 0.6 (an assumption, the same as the shipped profile's).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import AllocationAdvice, AuditLog, Bundle, Hall, Ticket, Window
from ..queue import calling, eta
from ..services.common import audit, hall_by_code, today
from ..services.reports import percentile
from ..services.waits import measured_service
from .advisor import Advice, Scenario, advise
from .arrivals import Citizen, draw_day, draw_service, expected_arrivals
from .cli import allocation_json
from .engine import Rules
from .profile import BundleLoad, Profile, Service, Visitors, WindowPlan

CV = 0.6
HISTORY_DAYS = 7
SEEDS = (1, 2, 3)


def _local_min(value: datetime, tz: ZoneInfo) -> float:
    local = value.astimezone(tz)
    return local.hour * 60 + local.minute + local.second / 60


def _clock_min(t: time) -> float:
    return t.hour * 60 + t.minute


def _allocation(db: Session, hall: Hall) -> tuple[WindowPlan, ...]:
    windows = db.scalars(select(Window).where(Window.hall_id == hall.id, Window.open.is_(True),
                                              Window.paused.is_(False)).order_by(Window.number))
    return tuple(WindowPlan(w.number, w.name, {a.bundle.code: a.rank for a in w.allocations})
                 for w in windows if w.allocations)


def _hourly(db: Session, hall: Hall, now: datetime, tz: ZoneInfo) -> dict[str, dict[int, float]]:
    """Mean tickets per bundle and local hour over the hall's last service days with tickets."""
    day = today(hall, now)
    days = db.scalars(select(Ticket.service_day).where(
        Ticket.hall_id == hall.id, Ticket.service_day < day,
        Ticket.service_day >= day - timedelta(days=28)).distinct()
        .order_by(Ticket.service_day.desc()).limit(HISTORY_DAYS)).all()
    counts: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    if days:
        rows = db.execute(select(Bundle.code, Ticket.taken_at).join(Bundle, Bundle.id == Ticket.bundle_id)
                          .where(Ticket.hall_id == hall.id, Ticket.service_day.in_(days)))
        for code, taken in rows:
            counts[code][taken.astimezone(tz).hour] += 1 / len(days)
        return {c: dict(h) for c, h in counts.items()}
    # no history: today's rate so far, spread evenly over the rest of the day
    opened = _clock_min(hall.opens)
    elapsed_h = max((_local_min(now, tz) - opened) / 60, 0.5)
    counted = db.execute(select(Bundle.code, func.count(Ticket.id))
                         .join(Bundle, Bundle.id == Ticket.bundle_id)
                         .where(Ticket.hall_id == hall.id, Ticket.service_day == day)
                         .group_by(Bundle.code))
    hours = range(int(opened // 60), int(-(-_clock_min(hall.closes) // 60)))
    return {code: {h: n / elapsed_h for h in hours} for code, n in counted}


def _no_show_share(db: Session, hall: Hall, day: date) -> float:
    rows = dict(db.execute(select(Ticket.status, func.count(Ticket.id)).where(
        Ticket.hall_id == hall.id, Ticket.service_day == day,
        Ticket.status.in_(("done", "no_show"))).group_by(Ticket.status)).all())
    done, missed = rows.get("done", 0), rows.get("no_show", 0)
    return missed / (done + missed) if done + missed >= 20 else 0.05


def build(db: Session, hall: Hall, now: datetime) -> tuple[Profile, Scenario]:
    """The profile of the rest of the day and the scenario (three drawn continuations)."""
    tz = ZoneInfo(hall.timezone)
    day = today(hall, now)
    start = max(_local_min(now, tz), _clock_min(hall.opens))
    samples = measured_service(db, hall, now)
    expected = {code: float(m) for code, m in db.execute(select(Bundle.code, Bundle.service_minutes))}
    names = {code: name for code, name in db.execute(select(Bundle.code, Bundle.name))}
    mean = {code: eta.service_minutes(samples.get(code, []), m) for code, m in expected.items()}
    hourly = _hourly(db, hall, now, tz)
    allocation = _allocation(db, hall)
    profile = Profile(
        name=hall.name, source="live", opens_min=_clock_min(hall.opens),
        closes_min=_clock_min(hall.closes), recall_limit=hall.recall_limit,
        requeue_places=hall.requeue_places, recall_interval_min=1.0, walk_min=0.5,
        visitors=Visitors(no_show_share=_no_show_share(db, hall, day), return_share=0.0),
        bundles={c: BundleLoad(daily=sum(h.values()), by_hour=h, service=Service(mean_min=mean[c], cv=CV))
                 for c, h in hourly.items() if c in mean},
        hourly={c: h for c, h in hourly.items() if c in mean}, expected_min=expected,
        bundle_names=names, allocation=allocation,
    )
    waiting = db.execute(select(Ticket, Bundle.code).join(Bundle, Bundle.id == Ticket.bundle_id).where(
        Ticket.hall_id == hall.id, Ticket.service_day == day,
        Ticket.status == calling.Status.WAITING.value)).all()
    busy_until: dict[int, float] = {}
    for ticket, code in db.execute(select(Ticket, Bundle.code).join(Bundle, Bundle.id == Ticket.bundle_id)
                                   .where(Ticket.hall_id == hall.id, Ticket.service_day == day,
                                          Ticket.status.in_(("called", "serving")))):
        window = db.get(Window, ticket.window_id) if ticket.window_id else None
        if window is not None:
            began = _local_min(ticket.started_at or ticket.called_at or now, tz)
            busy_until[window.number] = max(began + mean.get(code, 15.0), start + 1)
    offset = max((t.id for t, _ in waiting), default=0)
    days = []
    for seed in SEEDS:
        rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
        present = [Citizen(id=t.id, bundle=code, arrive=min(_local_min(t.taken_at, tz), start),
                           service=draw_service(rng, Service(mean_min=mean.get(code, 15.0), cv=CV)),
                           priority=calling.Priority(t.priority), quoted=False)
                   for t, code in waiting if code in mean]
        future = [replace(c, id=c.id + offset) for c in draw_day(profile, seed, start_min=start)]
        days.append(present + future)
    rules = Rules(closes_min=profile.closes_min, recall_limit=hall.recall_limit,
                  requeue_places=hall.requeue_places, expected_min=expected)
    return profile, Scenario(rules, days, start, {c: s[-50:] for c, s in samples.items()}, busy_until)


def give_advice(database: Database, hall_code: str, now: datetime, actor: str,
                budget_s: float = 5.0) -> dict[str, Any]:
    """Simulate the rest of today, search a better allocation, store the advice and answer it.

    The search runs outside any transaction (it takes seconds); only the stored row is written.
    """
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        hall_id, tz, day = hall.id, ZoneInfo(hall.timezone), today(hall, now)
        closes = max(datetime.combine(day, hall.closes, tzinfo=tz), now)
        profile, scenario = build(db, hall, now)
        earlier = previous(db, hall, now)
    expected = {c: round(n, 1) for c, n in expected_arrivals(profile, scenario.start_min).items()}
    waiting: dict[str, int] = defaultdict(int)
    for c in scenario.days[0]:
        if not c.quoted:
            waiting[c.bundle] += 1
    advice = advise(profile.allocation, scenario, budget_s=budget_s, max_moves=10) \
        if profile.allocation else None
    bundles = _bundles(profile, advice, expected, waiting)
    current = round(advice.today_eval.hall_p90, 1) if advice else None
    advised = round(advice.proposed_eval.hall_p90, 1) if advice else None
    with database.write() as db:
        row = AllocationAdvice(
            hall_id=hall_id, service_day=day, created_at=now, created_by=actor, horizon_end=closes,
            hall_p90_current=current, hall_p90_advised=advised,
            predicted=json.dumps({b["code"]: {k: b[k] for k in (
                "expected", "waiting", "current_p50", "current_p90", "advised_p50", "advised_p90")}
                for b in bundles}),
            current_allocation=json.dumps(allocation_json(profile.allocation), ensure_ascii=False),
            proposed_allocation=json.dumps(
                allocation_json(advice.proposed if advice else profile.allocation), ensure_ascii=False),
        )
        db.add(row)
        db.flush()
        row_id = row.id
        audit(db, now, actor, "advice.generate", hall_id, target=f"advice:{row_id}",
              hall_p90_current=current, hall_p90_advised=advised)
    return {
        "id": row_id, "hall": hall_code, "at": now.isoformat(), "horizon_end": closes.isoformat(),
        "open_windows": len(profile.allocation),
        "hall_p90_current": current, "hall_p90_advised": advised,
        "seconds": round(advice.seconds, 1) if advice else 0.0,
        "evaluations": advice.evaluations if advice else 0,
        "bundles": bundles, "changes": _changes(advice),
        "previous": earlier,
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def _bundles(profile: Profile, advice: Advice | None, expected: dict[str, float],
             waiting: dict[str, int]) -> list[dict[str, Any]]:
    codes = sorted(set(expected) | set(waiting) | {c for w in profile.allocation for c in w.ranks})
    rows = []
    for code in codes:
        cur = advice.today_eval if advice else None
        adv = advice.proposed_eval if advice else None
        rows.append({
            "code": code, "name": profile.bundle_names.get(code, code),
            "expected": expected.get(code, 0.0), "waiting": waiting.get(code, 0),
            "current_p50": _r(cur.bundle_p50.get(code)) if cur else None,
            "current_p90": _r(cur.bundle_p90.get(code)) if cur else None,
            "advised_p50": _r(adv.bundle_p50.get(code)) if adv else None,
            "advised_p90": _r(adv.bundle_p90.get(code)) if adv else None,
        })
    return sorted(rows, key=lambda r: -(r["current_p90"] or 0))


def _changes(advice: Advice | None) -> list[dict[str, Any]]:
    if advice is None:
        return []
    out = []
    for before, after in zip(advice.today, advice.proposed, strict=True):
        if dict(before.ranks) != dict(after.ranks):
            out.append({"number": before.number, "name": before.name,
                        "current": allocation_json((before,))[0]["bundles"],
                        "advised": allocation_json((after,))[0]["bundles"]})
    return out


def previous(db: Session, hall: Hall, now: datetime) -> dict[str, Any] | None:
    """The last advice of the most recent earlier day, beside that day's actual waits after it.

    Actual: every ticket of that day first called after the advice (those already waiting then, and
    those taken later), wait = called_at − taken_at, as the prediction simulated them.
    """
    row = db.scalar(select(AllocationAdvice).where(
        AllocationAdvice.hall_id == hall.id, AllocationAdvice.service_day < today(hall, now))
        .order_by(AllocationAdvice.created_at.desc()).limit(1))
    if row is None:
        return None
    actual: dict[str, list[float]] = defaultdict(list)
    for code, taken, called in db.execute(
        select(Bundle.code, Ticket.taken_at, Ticket.called_at).join(Bundle, Bundle.id == Ticket.bundle_id)
        .where(Ticket.hall_id == hall.id, Ticket.service_day == row.service_day,
               Ticket.called_at >= row.created_at)
    ):
        if called is not None:
            actual[code].append((called - taken).total_seconds() / 60)
    names = dict(db.execute(select(Bundle.code, Bundle.name)).all())
    predicted: dict[str, dict[str, Any]] = json.loads(row.predicted)
    changed = db.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.hall_id == hall.id, AuditLog.action == "window.allocation",
        AuditLog.at >= row.created_at, AuditLog.at <= row.horizon_end))
    every = [w for ws in actual.values() for w in ws]
    return {
        "date": row.service_day.isoformat(), "at": row.created_at.isoformat(),
        "allocation_changes_after": changed or 0,
        "hall_p90_current": row.hall_p90_current, "hall_p90_advised": row.hall_p90_advised,
        "hall_p90_actual": _r(percentile(every, 0.9)),
        "bundles": [{"code": code, "name": names.get(code, code),
                     "predicted_current_p90": p.get("current_p90"),
                     "predicted_advised_p90": p.get("advised_p90"),
                     "actual_p50": _r(percentile(actual.get(code, []), 0.5)),
                     "actual_p90": _r(percentile(actual.get(code, []), 0.9)),
                     "called": len(actual.get(code, []))}
                    for code, p in predicted.items()],
    }
