"""Loading the catalogue and the demo hall into the database (govhall seed [--demo])."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from .catalogue import Bundle as BundleSpec
from .catalogue import Catalogue, DemoHall
from .db import Database
from .models import (
    Allocation,
    Bundle,
    BundleMatter,
    Department,
    Device,
    FormField,
    Hall,
    HallServiceSetting,
    Material,
    MaterialMatter,
    Matter,
    Staff,
    Window,
)
from .passwords import hash_password
from .services.common import audit
from .tokens import token_hash

Coded = TypeVar("Coded", Department, Matter, Bundle)


def _upsert(db: Session, model: type[Coded], code: str) -> Coded:
    row = db.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code)
        db.add(row)
    return row


def seed_catalogue(database: Database, catalogue: Catalogue, now: datetime) -> int:
    """Insert or update every department, matter and bundle by code; returns the bundle count."""
    with database.write() as db:
        departments: dict[str, Department] = {}
        for d in catalogue.departments:
            row = _upsert(db, Department, d.code)
            row.name = d.name
            departments[d.code] = row
        matters: dict[str, Matter] = {}
        for m in catalogue.matters:
            mrow = _upsert(db, Matter, m.code)
            mrow.name, mrow.department = m.name, departments[m.department]
            mrow.legal_days, mrow.promised_days, mrow.fee = m.legal_days, m.promised_days, m.fee
            matters[m.code] = mrow
        db.flush()
        for b in catalogue.bundles:
            _seed_bundle(db, b, departments, matters)
        audit(db, now, "cli", "catalogue.seed", detail_bundles=len(catalogue.bundles))
        return len(catalogue.bundles)


def _seed_bundle(db: Session, b: BundleSpec, departments: dict[str, Department],
                 matters: dict[str, Matter]) -> None:
    row = _upsert(db, Bundle, b.code)
    row.name, row.prefix, row.applicant = b.name, b.prefix, b.applicant
    row.lead_department = departments[b.lead_department]
    row.summary = b.summary
    row.conditions = "\n".join(b.conditions)
    for name in ("legal_days", "promised_days", "fees", "service_minutes", "visits_before",
                 "visits_after", "materials_before"):
        setattr(row, name, getattr(b, name))
    row.matters.clear()
    row.materials.clear()
    row.form_fields.clear()
    db.flush()
    for i, code in enumerate(b.matters):
        row.matters.append(BundleMatter(matter=matters[code], position=i))
    for i, m in enumerate(b.materials):
        material = Material(code=m.code, name=m.name, form=m.form, copies=m.copies,
                            exempt=m.exempt, exempt_note=m.exempt_note, tolerated=m.tolerated,
                            promise_allowed=m.promise_allowed, note=m.note, position=i)
        material.matters = [MaterialMatter(matter=matters[c]) for c in m.matters]
        row.materials.append(material)
    for i, f in enumerate(b.form):
        row.form_fields.append(FormField(
            key=f.key, label=f.label, type=f.type, required=f.required, identity=f.identity,
            options="\n".join(f.options) if f.options else None, position=i))


@dataclass(frozen=True)
class DemoSeeded:
    hall: str
    windows: int
    clerks: list[str]
    kiosk_token: str
    display_token: str


def _as_time(value: object) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def seed_demo(database: Database, demo: DemoHall, password: str, now: datetime) -> DemoSeeded:
    """The demo hall: its windows and allocations (all open), manager, clerk<i> at window i, a kiosk."""
    with database.write() as db:
        spec = demo.hall
        hall = db.scalar(select(Hall).where(Hall.code == spec.code))
        if hall is not None:
            raise ValueError(f"hall {spec.code} already exists; use `govhall demo --reset` to start over")
        hall = Hall(code=spec.code, name=spec.name, timezone=spec.timezone,
                    opens=_as_time(spec.opens), closes=_as_time(spec.closes), notice=spec.notice)
        db.add(hall)
        bundles = {b.code: b for b in db.scalars(select(Bundle))}
        for w in sorted(demo.windows, key=lambda w: w.number):
            window = Window(hall=hall, number=w.number, name=w.name, kind=w.kind, open=True)
            window.allocations = [Allocation(bundle=bundles[r.code], rank=r.rank) for r in w.bundles]
            db.add(window)
        db.flush()
        if not spec.closing_guard:
            db.add(HallServiceSetting(hall_id=hall.id, closing_guard=0))
        hashed = hash_password(password)  # one hash for all demo staff: Argon2 is slow on purpose
        db.add(Staff(username="manager", name="值班主任", password_hash=hashed, role="manager",
                     hall_id=hall.id, created_at=now))
        db.add(Staff(username="admin", name="系统管理员", password_hash=hashed, role="admin",
                     hall_id=hall.id, created_at=now))
        db.add(Staff(username="assistant1", name="帮办员王静", password_hash=hashed, role="assistant",
                     hall_id=hall.id, created_at=now))  # 帮办代办 staff: the /assist/ console
        clerks = []
        for window in sorted(hall.windows, key=lambda w: w.number):
            username = f"clerk{window.number}"
            db.add(Staff(username=username, name=f"{window.number}号窗口工作人员", password_hash=hashed,
                         role="clerk", hall_id=hall.id, window_id=window.id, created_at=now))
            clerks.append(username)
        kiosk_token, display_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        db.add(Device(hall_id=hall.id, kind="kiosk", name="演示自助终端", created_at=now,
                      token_hash=token_hash(kiosk_token)))
        db.add(Device(hall_id=hall.id, kind="display", name="演示大厅屏", created_at=now,
                      token_hash=token_hash(display_token)))
        audit(db, now, "cli", "demo.seed", hall.id, target=f"hall:{hall.code}")
        return DemoSeeded(hall.code, len(demo.windows), clerks, kiosk_token, display_token)
