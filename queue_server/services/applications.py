"""Applications (一表申请 → 统一出件, 进度随时查): submit, follow, advance through the status flow.

Status flow: received → in_review → decided → result_ready → delivered, one step at a time, each
timestamped. Window pickup: reaching result_ready queues an SMS notice in the outbox. Post: the
result is 'delivered' when mailed, which needs the tracking number (the SMS carries it).
The applicant is kept as the keyed hash of the ID number plus the masked name; any ID number in the
form is stored masked, with its keyed hash beside it — never in clear (DESIGN.md, Security).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Bundle, FormField, Hall
from ..models.service import Application, ApplicationCounter, ApplicationStep, Outbox
from ..queue import identity as idnum
from ..queue.errors import BadRequest, BundleNotServed, Conflict, InvalidIdNumber, NotFound
from ..queue.priority import Identity
from ..tokens import identity_hash
from .common import audit, bundle_by_code, hall_by_code, today
from .tickets import served_in

STATUSES = ("received", "in_review", "decided", "result_ready", "delivered")
STATUS_LABELS = {"received": "已受理", "in_review": "审查中", "decided": "已办结（已决定）",
                 "result_ready": "结果已出，待领取/寄送", "delivered": "已领取/已寄出"}
UNFINISHED = STATUSES[:3]  # still counts against promised_by (overdue until result_ready)
DELIVERIES = ("window", "post")
NUMBER_PREFIX = "SQ"  # 申请

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$")
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
BANK_CARD = re.compile(r"^[0-9]{12,19}$")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")  # GB 32100
VERIFIED_IDENTITY = ("name", "id_number", "birth_date")  # the identity token vouches for these
NOT_YOURS = "没有找到该申请，请核对申请编号并使用申请人本人身份查询"


class FormInvalid(BadRequest):
    code = "form_invalid"


class FormUnknownField(FormInvalid):
    code = "form_unknown_field"


class FormMissingField(FormInvalid):
    code = "form_missing_field"


class IdentityMismatch(BadRequest):
    code = "identity_mismatch"


class DeliveryIncomplete(BadRequest):
    code = "delivery_incomplete"


class TrackingNumberRequired(BadRequest):
    code = "tracking_number_required"


class TrackingNumberNotAllowed(BadRequest):
    code = "tracking_number_not_allowed"


class ApplicationOutOfOrder(Conflict):
    code = "application_out_of_order"


class AmbiguousNumber(Conflict):
    code = "ambiguous_number"


# --- pure rules -------------------------------------------------------------------------------

def working_days_after(start: date, days: int) -> date:
    """The `days`-th working day after `start` (0: `start` itself); working days are Monday–Friday.

    Limitation: public holidays (春节, 国庆 …) and the weekend days worked in their place (调休) are
    not known to the system, so a deadline across a holiday comes out earlier than the official one.
    """
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def application_number(day: date, seq: int) -> str:
    """SQ20261123-0001: per hall and service day; a fifth digit after 9,999 rather than wrapping."""
    return f"{NUMBER_PREFIX}{day:%Y%m%d}-{seq:04d}"


def next_status(current: str) -> str | None:
    i = STATUSES.index(current)
    return STATUSES[i + 1] if i + 1 < len(STATUSES) else None


def is_overdue(status: str, promised_by: date | None, day: date) -> bool:
    """Past the promised date and the result not yet ready (限时办结)."""
    return promised_by is not None and status in UNFINISHED and day > promised_by


def _check_value(f: FormField, value: str) -> str:
    """The value to keep for a form field of `f.type`, or FormInvalid naming the field."""
    bad = FormInvalid(f"“{f.label}”（{f.key}）格式不正确")
    if f.type == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise bad from None
    checks: dict[str, Callable[[str], bool]] = {
        "select": lambda v: v in (f.options or "").splitlines(),
        "phone": lambda v: PHONE.match(v) is not None,
        "number": lambda v: NUMBER.match(v) is not None,
        "bank_card": lambda v: BANK_CARD.match(v) is not None,
        "credit_code": lambda v: CREDIT_CODE.match(v) is not None,
    }
    check = checks.get(f.type)
    if check is not None and not check(value):
        raise bad
    return value


def _identity_value(f: FormField, value: str | None, person: Identity, secret: str) -> str | None:
    """An identity-bound field: what the form says must agree with the verified person."""
    mismatch = IdentityMismatch(f"“{f.label}”与核验的身份不一致")
    if f.identity == "id_number":
        if value is None:
            return None  # the id_hash column carries it
        if identity_hash(secret, _id_number(f, value)) != person.id_hash:
            raise mismatch
        return idnum.mask_id(idnum.normalise(value))
    if f.identity == "name":
        if value is not None and idnum.mask_name(value) != person.masked_name:
            raise mismatch
        return person.masked_name  # the name is kept masked only
    if value is not None and date.fromisoformat(_check_value(f, value)) != person.birth_date:
        raise mismatch
    return person.birth_date.isoformat()


def _id_number(f: FormField, value: str) -> str:
    try:
        return idnum.validate(value)
    except InvalidIdNumber as e:
        raise FormInvalid(f"“{f.label}”：{e}") from None


def check_form(fields: Sequence[FormField], form: Mapping[str, str], person: Identity,
               secret: str) -> tuple[dict[str, str], dict[str, str]]:
    """Validate a merged form (一表申请) against the bundle's fields: (values to keep, ID hashes).

    Unknown keys are refused; required fields must be present, except the name, ID number and
    birth date, which the verified identity supplies. ID numbers are kept masked, with a keyed hash.
    """
    by_key = {f.key: f for f in fields}
    unknown = sorted(set(form) - set(by_key))
    if unknown:
        raise FormUnknownField(f"表单中有本事项不需要的字段：{', '.join(unknown)}")
    kept: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for f in fields:
        raw = form.get(f.key)
        value = raw.strip() if raw is not None and raw.strip() else None
        if f.identity in VERIFIED_IDENTITY:
            shown = _identity_value(f, value, person, secret)
            if shown is not None:
                kept[f.key] = shown
            continue
        if value is None:
            if f.required:
                raise FormMissingField(f"请填写“{f.label}”（{f.key}）")
            continue
        if f.type == "id_number":
            number = _id_number(f, value)
            kept[f.key], hashes[f.key] = idnum.mask_id(number), identity_hash(secret, number)
        else:
            kept[f.key] = _check_value(f, value)
    return kept, hashes


def _delivery(delivery: str, address: str | None, phone: str | None) -> None:
    if delivery == "post" and not (address and phone):
        raise DeliveryIncomplete("邮寄送达需要填写收件地址和手机号码")
    if phone is not None and not MOBILE.match(phone):
        raise FormInvalid("手机号码格式不正确")


# --- views ------------------------------------------------------------------------------------

def mask_phone(phone: str | None) -> str | None:
    return phone[:3] + "****" + phone[-4:] if phone and len(phone) >= 7 else phone


@dataclass(frozen=True, slots=True)
class ApplicationView:
    data: dict[str, Any]

    def public(self) -> dict[str, Any]:
        """What the applicant sees (a kiosk screen): no form, no address, the phone masked."""
        return {k: v for k, v in self.data.items() if k not in ("id", "form", "address", "phone")}

    def staff(self) -> dict[str, Any]:
        return self.data


def view(db: Session, app: Application, now: datetime) -> ApplicationView:
    hall = db.get_one(Hall, app.hall_id)
    return ApplicationView({
        "id": app.id, "number": app.number, "hall": hall.code, "hall_name": hall.name,
        "bundle": app.bundle.code, "bundle_name": app.bundle.name, "status": app.status,
        "status_label": STATUS_LABELS[app.status], "masked_name": app.masked_name,
        "delivery": app.delivery, "tracking_number": app.tracking_number,
        "promised_by": app.promised_by.isoformat() if app.promised_by else None,
        "overdue": is_overdue(app.status, app.promised_by, today(hall, now)),
        "received_at": app.received_at.isoformat(), "phone_masked": mask_phone(app.phone),
        "history": [{"status": s.status, "label": STATUS_LABELS[s.status], "at": s.at.isoformat(),
                     "note": s.note} for s in app.steps],
        "form": json.loads(app.form), "address": app.address, "phone": app.phone,
    })


# --- state changes ----------------------------------------------------------------------------

def _next_seq(db: Session, hall: Hall, day: date) -> int:
    """One upsert: concurrent kiosks never share a number."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ApplicationCounter).values(hall_id=hall.id, service_day=day, last_seq=1)
    upsert = stmt.on_conflict_do_update(
        index_elements=["hall_id", "service_day"],
        set_={"last_seq": ApplicationCounter.last_seq + 1},
    ).returning(ApplicationCounter.last_seq)
    return int(db.execute(upsert).scalar_one())


def promised_by(bundle: Bundle, day: date) -> date | None:
    """限时办结: the bundle's promised working days (else its legal ones) from the day received."""
    days = bundle.promised_days if bundle.promised_days is not None else bundle.legal_days
    return working_days_after(day, days) if days is not None else None


@dataclass(frozen=True, slots=True)
class Submission:
    hall: str
    bundle: str
    person: Identity
    form: Mapping[str, str]
    delivery: str = "window"
    address: str | None = None
    phone: str | None = None


def submit(database: Database, sub: Submission, now: datetime, *, secret: str, actor: str,
           source: str = "kiosk", device_id: int | None = None,
           staff_id: int | None = None) -> ApplicationView:
    """Receive one application: validated form, today's next number, the promised date."""
    _delivery(sub.delivery, sub.address, sub.phone)
    with database.write() as db:
        hall = hall_by_code(db, sub.hall)
        bundle = bundle_by_code(db, sub.bundle)
        if not served_in(db, hall, bundle):
            raise BundleNotServed(f"{hall.name}暂未受理“{bundle.name}”")
        kept, hashes = check_form(bundle.form_fields, sub.form, sub.person, secret)
        day = today(hall, now)
        seq = _next_seq(db, hall, day)
        app = Application(
            hall_id=hall.id, bundle_id=bundle.id, service_day=day, seq=seq,
            number=application_number(day, seq), status=STATUSES[0], id_hash=sub.person.id_hash,
            masked_name=sub.person.masked_name, form=json.dumps(kept, ensure_ascii=False),
            id_hashes=json.dumps(hashes) if hashes else None, delivery=sub.delivery,
            address=sub.address if sub.delivery == "post" else None, phone=sub.phone,
            promised_by=promised_by(bundle, day), received_at=now, updated_at=now, source=source,
            device_id=device_id, staff_id=staff_id,
        )
        app.bundle = bundle
        app.steps.append(ApplicationStep(status=STATUSES[0], at=now, actor=actor))
        db.add(app)
        db.flush()
        return view(db, app, now)


def for_person(db: Session, number: str, person_hash: str) -> Application:
    """The person's own application; the same NotFound for an unknown number and someone else's."""
    if "\x00" in number:  # never a number; PostgreSQL text cannot even compare it
        raise NotFound(NOT_YOURS)
    app = db.scalar(select(Application).where(Application.number == number,
                                              Application.id_hash == person_hash)
                    .order_by(Application.id.desc()).limit(1))
    if app is None:
        raise NotFound(NOT_YOURS)
    return app


def progress(database: Database, number: str, person: Identity, now: datetime) -> ApplicationView:
    """进度随时查: the applicant's own application, found by number and their verified identity."""
    with database.read() as db:
        return view(db, for_person(db, number, person.id_hash), now)


def for_staff(db: Session, number: str, hall_id: int | None, *, lock: bool = False) -> Application:
    """An application of the staff member's hall (an admin without a hall: any, if unambiguous)."""
    if "\x00" in number:  # never a number; PostgreSQL text cannot even compare it
        raise NotFound(f"没有编号为 {number!r} 的申请")
    query = select(Application).where(Application.number == number)
    if hall_id is not None:
        query = query.where(Application.hall_id == hall_id)
    rows = list(db.scalars(query.with_for_update() if lock else query))
    if not rows:
        raise NotFound(f"没有编号为 {number} 的申请")
    if len(rows) > 1:
        raise AmbiguousNumber("多个大厅有该编号的申请，请以所属大厅的账号操作")
    return rows[0]


def staff_view(database: Database, number: str, hall_id: int | None, now: datetime) -> ApplicationView:
    with database.read() as db:
        return view(db, for_staff(db, number, hall_id), now)


def _notice(db: Session, app: Application, hall: Hall, now: datetime) -> None:
    """Queue the result notice: window pickup at result_ready, post when mailed (with its number)."""
    if app.phone is None:
        return
    if app.delivery == "window" and app.status == "result_ready":
        text = (f"【{hall.name}】您的申请{app.number}（{app.bundle.name}）办理结果已出，"
                f"请携带本人身份证到统一出件窗口领取。")
    elif app.delivery == "post" and app.status == "delivered":
        text = (f"【{hall.name}】您的申请{app.number}（{app.bundle.name}）办理结果已寄出，"
                f"邮件号{app.tracking_number}，请注意查收。")
    else:
        return
    db.add(Outbox(hall_id=hall.id, channel="sms", phone=app.phone, text=text,
                  ref=f"application:{app.number}", created_at=now))


def _tracking(app: Application, to: str, tracking_number: str | None) -> None:
    if tracking_number is not None:
        if app.delivery != "post":
            raise TrackingNumberNotAllowed("窗口领取的申请没有邮件号")
        if to not in ("result_ready", "delivered"):
            raise TrackingNumberNotAllowed("结果出具后才能填写邮件号")
        app.tracking_number = tracking_number
    if app.delivery == "post" and to == "delivered" and not app.tracking_number:
        raise TrackingNumberRequired("邮寄送达须填写邮件号")


def advance(database: Database, number: str, to: str, now: datetime, *, actor: str,
            hall_id: int | None, note: str | None = None,
            tracking_number: str | None = None) -> ApplicationView:
    """Move an application one step on (409 for any other step); audit-logged."""
    with database.write() as db:
        app = for_staff(db, number, hall_id, lock=True)
        expected = next_status(app.status)
        if to != expected:
            where = f"下一步应为“{STATUS_LABELS[expected]}”" if expected else "已是最后一步"
            raise ApplicationOutOfOrder(f"申请{app.number}当前为“{STATUS_LABELS[app.status]}”，{where}")
        _tracking(app, to, tracking_number)
        app.status, app.updated_at = to, now
        app.steps.append(ApplicationStep(status=to, at=now, actor=actor, note=note))
        hall = db.get_one(Hall, app.hall_id)
        _notice(db, app, hall, now)
        audit(db, now, actor, "application.advance", hall.id, target=f"application:{app.number}",
              to=to, note=bool(note))
        db.flush()
        return view(db, app, now)


def list_applications(database: Database, hall_code: str, state: str, now: datetime,
                      limit: int = 200) -> list[ApplicationView]:
    """A hall's applications: `open` (result not yet out), `overdue`, or `done`; newest first."""
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        day = today(hall, now)
        query = select(Application).where(Application.hall_id == hall.id)
        if state == "done":
            query = query.where(Application.status.not_in(UNFINISHED))
        else:
            query = query.where(Application.status.in_(UNFINISHED))
        if state == "overdue":
            query = query.where(Application.promised_by < day)
        rows = db.scalars(query.order_by(Application.id.desc()).limit(limit))
        return [view(db, a, now) for a in rows]
