"""Hall policy a manager sets (appointments, surge thresholds) and the hall's holiday calendar.

A hall without a settings row, or a bundle without its own thresholds, has the defaults of
models.service.POLICY, the values every hall had before halls got their own settings.

Working days: Monday to Friday, except the days the calendar marks `closed` (法定节假日), plus the
weekend days it marks `working` (调休上班). Appointments are bookable on working days only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Bundle, Hall, HallDay, HallServiceSetting, SurgeThreshold
from ..models.service import POLICY
from ..queue.errors import BadRequest, NotFound
from .common import audit, bundle_by_code, hall_by_code

DAY_KINDS = {"closed": "休息（不办公）", "working": "调休上班"}
CALENDAR_SPAN_DAYS = 400  # a calendar query covers at most about a year


@dataclass(frozen=True, slots=True)
class HallPolicy:
    walk_in_percent: int
    grace_min: int
    per_person_limit: int
    days_ahead: int
    surge_waiting: int
    surge_wait_min: int
    closing_guard: int

    @property
    def walk_in_share(self) -> float:
        return self.walk_in_percent / 100


DEFAULT_POLICY = HallPolicy(**{key: default for key, (default, _, _) in POLICY.items()})


@dataclass(frozen=True, slots=True)
class Threshold:
    """When a bundle's queue is a surge: this many waiting, or someone waiting this long."""

    waiting: int
    wait_min: int
    own: bool  # set for the bundle, not the hall-wide default


def policy(db: Session, hall: Hall) -> HallPolicy:
    row = db.get(HallServiceSetting, hall.id)
    if row is None:
        return DEFAULT_POLICY
    return HallPolicy(**{key: getattr(row, key) for key in POLICY})


def thresholds(db: Session, hall: Hall, rules: HallPolicy | None = None) -> dict[str, Threshold]:
    """Every bundle's effective thresholds (own where set, else the hall's), by bundle code."""
    rules = rules or policy(db, hall)
    own = {code: (w, m) for code, w, m in db.execute(
        select(Bundle.code, SurgeThreshold.waiting, SurgeThreshold.wait_min)
        .join(Bundle, Bundle.id == SurgeThreshold.bundle_id).where(SurgeThreshold.hall_id == hall.id))}
    result = {}
    for code in db.scalars(select(Bundle.code)):
        waiting, wait_min = own.get(code, (None, None))
        result[code] = Threshold(waiting if waiting is not None else rules.surge_waiting,
                                 wait_min if wait_min is not None else rules.surge_wait_min,
                                 own=code in own)
    return result


# --- the calendar --------------------------------------------------------------------------------

def exceptions(db: Session, hall: Hall, start: date, end: date) -> dict[date, str]:
    """The hall's calendar exceptions from `start` to `end` inclusive: {day: closed | working}."""
    return {d: kind for d, kind in db.execute(
        select(HallDay.day, HallDay.kind).where(HallDay.hall_id == hall.id, HallDay.day >= start,
                                                HallDay.day <= end))}


def is_working(day: date, marked: Mapping[date, str]) -> bool:
    kind = marked.get(day)
    if kind is not None:
        return kind == "working"
    return day.weekday() < 5


def working_days(db: Session, hall: Hall, start: date, end: date) -> list[date]:
    """The hall's working days from `start` to `end` inclusive."""
    marked = exceptions(db, hall, start, end)
    return [d for d in _days(start, end) if is_working(d, marked)]


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


# --- reading and changing (the manager console) ----------------------------------------------------

def settings_json(db: Session, hall: Hall) -> dict[str, Any]:
    rules = policy(db, hall)
    own = {t.bundle_id: t
           for t in db.scalars(select(SurgeThreshold).where(SurgeThreshold.hall_id == hall.id))}
    bundles = db.scalars(select(Bundle).order_by(Bundle.prefix))
    return {"hall": hall.code, **asdict(rules),
            "limits": {key: {"default": d, "min": lo, "max": hi} for key, (d, lo, hi) in POLICY.items()},
            "bundles": [{"code": b.code, "name": b.name, "prefix": b.prefix,  # None: the hall's
                         "waiting": own[b.id].waiting if b.id in own else None,
                         "wait_min": own[b.id].wait_min if b.id in own else None}
                        for b in bundles]}


def get_settings(database: Database, hall_code: str) -> dict[str, Any]:
    with database.read() as db:
        return settings_json(db, hall_by_code(db, hall_code))


def _check(key: str, value: int) -> int:
    _, low, high = POLICY[key]
    if not low <= value <= high:
        raise BadRequest(f"{key} 应在 {low} 到 {high} 之间")
    return value


def update_settings(database: Database, hall_code: str, changes: Mapping[str, int | None],
                    bundles: list[dict[str, Any]] | None, now: datetime, actor: str) -> dict[str, Any]:
    """Change the hall's policy (keys of POLICY; None leaves one as it is) and, when `bundles` is given,
    replace every bundle's own surge thresholds with it; audit-logged with the values before."""
    from .alerts import forget_thresholds
    from .waits import CACHE

    try:
        return _update_settings(database, hall_code, changes, bundles, now, actor)
    finally:
        forget_thresholds()  # the screens' refresh keeps them a while: drop them after the commit
        CACHE.invalidate({hall_code})  # the closing-time guard is read with the hall's windows


def _update_settings(database: Database, hall_code: str, changes: Mapping[str, int | None],
                     bundles: list[dict[str, Any]] | None, now: datetime, actor: str) -> dict[str, Any]:
    with database.write() as db:
        hall = hall_by_code(db, hall_code, lock=True)
        row = db.get(HallServiceSetting, hall.id)
        if row is None:
            row = HallServiceSetting(hall_id=hall.id, **asdict(DEFAULT_POLICY))
            db.add(row)
        before = {key: getattr(row, key) for key in POLICY}
        for key, value in changes.items():
            if key in POLICY and value is not None:
                setattr(row, key, _check(key, value))
        detail: dict[str, Any] = {key: [before[key], getattr(row, key)] for key in POLICY
                                  if before[key] != getattr(row, key)}
        if bundles is not None:
            detail["bundles"] = _replace_thresholds(db, hall, bundles)
        audit(db, now, actor, "settings.update", hall.id, target=f"hall:{hall.code}", **detail)
        db.flush()
        return settings_json(db, hall)


def _replace_thresholds(db: Session, hall: Hall, bundles: list[dict[str, Any]]) -> dict[str, Any]:
    rows: dict[int, SurgeThreshold] = {}
    shown: dict[str, Any] = {}
    for item in bundles:
        bundle = bundle_by_code(db, item["code"])
        waiting = item.get("waiting")
        wait_min = item.get("wait_min")
        if waiting is None and wait_min is None:
            continue  # the hall-wide default
        rows[bundle.id] = SurgeThreshold(
            hall_id=hall.id, bundle_id=bundle.id,
            waiting=None if waiting is None else _check("surge_waiting", waiting),
            wait_min=None if wait_min is None else _check("surge_wait_min", wait_min))
        shown[bundle.code] = [waiting, wait_min]
    db.execute(delete(SurgeThreshold).where(SurgeThreshold.hall_id == hall.id))
    db.add_all(rows.values())
    return shown


def day_json(d: HallDay) -> dict[str, Any]:
    return {"date": d.day.isoformat(), "kind": d.kind, "label": DAY_KINDS[d.kind], "note": d.note,
            "weekday": d.day.isoweekday()}


def list_days(database: Database, hall_code: str, start: date, end: date) -> list[dict[str, Any]]:
    if end < start or (end - start).days > CALENDAR_SPAN_DAYS:
        raise BadRequest(f"查询范围应在{CALENDAR_SPAN_DAYS}天以内，且结束日期不早于开始日期")
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        rows = db.scalars(select(HallDay).where(HallDay.hall_id == hall.id, HallDay.day >= start,
                                                HallDay.day <= end).order_by(HallDay.day))
        return [day_json(d) for d in rows]


def set_day(database: Database, hall_code: str, day: date, kind: str, note: str | None,
            now: datetime, actor: str) -> dict[str, Any]:
    """Mark a day closed (法定节假日) or working (调休上班); audit-logged."""
    if kind not in DAY_KINDS:
        raise BadRequest("类型应为 closed（休息）或 working（调休上班）")
    with database.write() as db:
        hall = hall_by_code(db, hall_code, lock=True)
        row = db.get(HallDay, (hall.id, day))
        before = None if row is None else row.kind
        if row is None:
            row = HallDay(hall_id=hall.id, day=day, kind=kind, note=note)
            db.add(row)
        else:
            row.kind, row.note = kind, note
        audit(db, now, actor, "calendar.set", hall.id, target=f"day:{day.isoformat()}",
              kind=kind, note=note, before=before)
        db.flush()
        return day_json(row)


def delete_day(database: Database, hall_code: str, day: date, now: datetime, actor: str) -> None:
    """Back to the ordinary week (Monday–Friday) for that day; audit-logged."""
    with database.write() as db:
        hall = hall_by_code(db, hall_code, lock=True)
        row = db.get(HallDay, (hall.id, day))
        if row is None:
            raise NotFound(f"{day.isoformat()} 没有设置为节假日或调休")
        audit(db, now, actor, "calendar.delete", hall.id, target=f"day:{day.isoformat()}", before=row.kind)
        db.delete(row)
