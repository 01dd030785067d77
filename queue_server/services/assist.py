"""帮办代办: file a request, claim it, record progress, close it; the public view; the day's figures.

States: open → claimed → in_progress → done, and cancelled from any state before done. A claimed or
in-progress request can be released back to open (the helper was called away). Only the staff
member handling a request records its progress or closes it as done; a manager may do either for
anyone (and is audit-logged). Waiting is filed → first claim, handling is first claim → done.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import Database
from ..events import AssistUpdated
from ..models import AssistRequest, AssistStep, Bundle, Device, Hall, Staff
from ..models.assist import KINDS, REASONS
from ..queue.errors import Conflict, Forbidden, NotFound
from ..queue.identity import mask_name
from ..queue.priority import Identity
from ..tokens import identity_hash
from .common import audit, bundle_by_code, hall_by_code, lock_hall, today
from .evaluations import day_bounds
from .reports import minutes, percentile

ACTIVE = ("open", "claimed", "in_progress")
HANDLED = ("claimed", "in_progress")
KIND_NAMES = {"help": "帮办", "proxy": "代办"}
REASON_NAMES = {"elderly": "老年人", "disabled": "残疾人", "other": "其他"}
STATUS_NAMES = {"open": "已提交，等待工作人员受理", "claimed": "已受理，工作人员正在赶来",
                "in_progress": "正在办理", "done": "已办结", "cancelled": "已取消"}
ACTION_NAMES = {"open": "提交求助", "claim": "工作人员受理", "progress": "办理进展",
                "release": "退回待受理", "done": "办结", "cancel": "取消"}


class AssistAlreadyOpen(Conflict):
    code = "assist_already_open"


class AssistNotOpen(Conflict):
    code = "assist_not_open"


class AssistNotHandled(Conflict):
    code = "assist_not_handled"


class AssistClosed(Conflict):
    code = "assist_closed"


@dataclass(frozen=True, slots=True)
class Handler:
    """The staff member acting on a request (from the bearer token)."""

    staff_id: int
    actor: str  # staff:<username>
    role: str  # assistant | manager | admin
    hall_id: int | None

    @property
    def manager(self) -> bool:
        return self.role in ("manager", "admin")


@dataclass(frozen=True, slots=True)
class Filing:
    kind: str
    location: str | None
    bundle: str | None = None
    reason: str = "other"
    phone: str | None = None
    name: str | None = None
    note: str | None = None
    identity: Identity | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """A state change's answer: the request as staff see it, and the event to publish after commit."""

    view: dict[str, Any]
    event: AssistUpdated


# --- the phone number ----------------------------------------------------------------------------

def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"govhall-phone:{secret}".encode()).digest()))


def mask_phone(phone: str) -> str:
    """138****5678."""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def reveal_phone(secret: str, cipher: str | None) -> str | None:
    """The full phone for staff; None when the server key changed since it was stored."""
    if not cipher:
        return None
    try:
        return _fernet(secret).decrypt(cipher.encode()).decode()
    except InvalidToken:
        return None


# --- filing --------------------------------------------------------------------------------------

def file_request(database: Database, hall_code: str, filing: Filing, secret: str, now: datetime,
                 source: str, device_id: int | None = None, handler: Handler | None = None) -> Done:
    """Open a request; one open request per phone number and hall (a second is refused with 409)."""
    if filing.kind not in KINDS or filing.reason not in REASONS:
        raise ValueError("kind and reason are validated by the API schema")
    with database.write() as db:
        hall = lock_hall(db, hall_by_code(db, hall_code).id)  # serialise the per-phone check
        bundle = bundle_by_code(db, filing.bundle) if filing.bundle else None
        location = filing.location
        if not location and device_id is not None:
            location = db.get_one(Device, device_id).name  # a kiosk is where the citizen stands
        phone_hash = identity_hash(secret, f"phone:{filing.phone}") if filing.phone else None
        if phone_hash and db.scalar(select(AssistRequest.id).where(
                AssistRequest.hall_id == hall.id, AssistRequest.phone_hash == phone_hash,
                AssistRequest.status.in_(ACTIVE)).limit(1)):
            raise AssistAlreadyOpen("该手机号已有未办结的帮办代办请求，请留意工作人员联系")
        name = filing.identity.masked_name if filing.identity else _mask_name(filing.name)
        req = AssistRequest(
            hall_id=hall.id, kind=filing.kind, bundle_id=bundle.id if bundle else None,
            location=(location or "服务大厅")[:100], reason=filing.reason, note=filing.note or None,
            phone_masked=mask_phone(filing.phone) if filing.phone else None, phone_hash=phone_hash,
            phone_cipher=_fernet(secret).encrypt(filing.phone.encode()).decode() if filing.phone else None,
            masked_name=name or None, id_hash=filing.identity.id_hash if filing.identity else None,
            status="open", follow_token=secrets.token_urlsafe(16), source=source, device_id=device_id,
            created_at=now, updated_at=now)
        db.add(req)
        db.flush()
        actor = handler.actor if handler else (f"device:{device_id}" if device_id else "citizen")
        _step(db, req, "open", now, actor, handler.staff_id if handler else None)
        if handler is not None:
            _audit(db, hall, req, handler, "assist.file", now)
        return _done(db, hall, req, secret)


def _mask_name(name: str | None) -> str | None:
    return mask_name(name) if name and name.strip() else None


# --- staff actions -------------------------------------------------------------------------------

def claim(database: Database, request_id: int, handler: Handler, now: datetime, secret: str,
          note: str | None = None) -> Done:
    """Take an open request: the citizen's wait ends at the first claim."""
    with database.write() as db:
        req, hall = _locked(db, request_id, handler)
        if req.status != "open":
            raise AssistNotOpen(f"该请求{_state_word(req.status)}，不能受理")
        req.status, req.staff_id, req.updated_at = "claimed", handler.staff_id, now
        req.claimed_at = req.claimed_at or now
        _step(db, req, "claim", now, handler.actor, handler.staff_id, note)
        _audit(db, hall, req, handler, "assist.claim", now)
        return _done(db, hall, req, secret)


def progress(database: Database, request_id: int, handler: Handler, now: datetime, secret: str,
             note: str) -> Done:
    """Record what was done; the first note turns a claimed request in progress."""
    with database.write() as db:
        req, hall = _handled_by(db, request_id, handler)
        if req.status == "claimed":
            req.status, req.started_at = "in_progress", now
        req.updated_at = now
        _step(db, req, "progress", now, handler.actor, handler.staff_id, note)
        _audit(db, hall, req, handler, "assist.progress", now)
        return _done(db, hall, req, secret)


def release(database: Database, request_id: int, handler: Handler, now: datetime, secret: str,
            note: str | None = None) -> Done:
    """Give a request back to the open list for another helper."""
    with database.write() as db:
        req, hall = _handled_by(db, request_id, handler)
        req.status, req.staff_id, req.updated_at = "open", None, now
        _step(db, req, "release", now, handler.actor, handler.staff_id, note)
        _audit(db, hall, req, handler, "assist.release", now)
        return _done(db, hall, req, secret)


def close(database: Database, request_id: int, handler: Handler, now: datetime, secret: str,
          outcome: str, note: str | None = None) -> Done:
    """Done (by its handler, once claimed) or cancelled (any helper of the hall, before done)."""
    with database.write() as db:
        if outcome == "done":
            req, hall = _handled_by(db, request_id, handler)
            req.status, req.done_at = "done", now
        else:
            req, hall = _locked(db, request_id, handler)
            if req.status not in ACTIVE:
                raise AssistClosed(f"该请求{_state_word(req.status)}")
            if req.status in HANDLED and req.staff_id != handler.staff_id and not handler.manager:
                raise Forbidden("该请求由其他工作人员办理，只有办理人或值班主任可以取消")
            req.status, req.cancelled_at = "cancelled", now
        req.updated_at = now
        _step(db, req, "done" if outcome == "done" else "cancel", now, handler.actor,
              handler.staff_id, note)
        _audit(db, hall, req, handler, f"assist.{outcome}", now)
        return _done(db, hall, req, secret)


def cancel_by_citizen(database: Database, follow_token: str, now: datetime, secret: str) -> Done:
    """The citizen no longer needs help: only while nobody has claimed it."""
    with database.write() as db:
        req = _by_token(db, follow_token, lock=True)
        if req.status != "open":
            raise AssistNotOpen(f"该请求{_state_word(req.status)}，请直接联系工作人员")
        req.status, req.cancelled_at, req.updated_at = "cancelled", now, now
        _step(db, req, "cancel", now, "citizen", None, "群众自行取消")
        return _done(db, db.get_one(Hall, req.hall_id), req, secret)


def _locked(db: Session, request_id: int, handler: Handler) -> tuple[AssistRequest, Hall]:
    req = db.scalar(select(AssistRequest).where(AssistRequest.id == request_id).with_for_update())
    if req is None:
        raise NotFound("没有找到该帮办代办请求")
    if handler.role != "admin" and handler.hall_id != req.hall_id:
        raise Forbidden("无权操作其他大厅的请求")
    return req, db.get_one(Hall, req.hall_id)


def _handled_by(db: Session, request_id: int, handler: Handler) -> tuple[AssistRequest, Hall]:
    """The request, claimed or in progress, and acted on by its handler or a manager."""
    req, hall = _locked(db, request_id, handler)
    if req.status not in HANDLED:
        raise AssistNotHandled(f"该请求{_state_word(req.status)}，请先受理")
    if req.staff_id != handler.staff_id and not handler.manager:
        raise Forbidden("该请求由其他工作人员办理")
    return req, hall


def _state_word(status: str) -> str:
    return {"open": "尚未受理", "claimed": "已被受理", "in_progress": "正在办理",
            "done": "已办结", "cancelled": "已取消"}[status]


def _step(db: Session, req: AssistRequest, action: str, at: datetime, actor: str,
          staff_id: int | None, note: str | None = None) -> None:
    req.steps.append(AssistStep(action=action, at=at, actor=actor[:80], staff_id=staff_id,
                                note=note or None))


def _audit(db: Session, hall: Hall, req: AssistRequest, handler: Handler, action: str,
           now: datetime) -> None:
    if handler.manager:  # manager actions are audit-logged; an assistant's own work is its steps
        audit(db, now, handler.actor, action, hall.id, target=f"assist:{req.id}")


def _done(db: Session, hall: Hall, req: AssistRequest, secret: str) -> Done:
    db.flush()
    return Done(staff_view(db, hall, req, secret), AssistUpdated(hall.code, req.id, req.follow_token))


# --- reading -------------------------------------------------------------------------------------

def _by_token(db: Session, follow_token: str, lock: bool = False) -> AssistRequest:
    query = select(AssistRequest).where(AssistRequest.follow_token == follow_token)
    req = db.scalar(query.with_for_update() if lock else query)
    if req is None:
        raise NotFound("没有找到该帮办代办请求")
    return req


def _names(db: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {i: name for i, name in db.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted)))}


def public_view(db: Session, hall: Hall, req: AssistRequest) -> dict[str, Any]:
    """What the citizen's phone page shows: masked data only, never the note or the full phone."""
    names = _names(db, [req.staff_id, *(s.staff_id for s in req.steps)])
    bundle = db.get(Bundle, req.bundle_id) if req.bundle_id else None
    ahead = None
    if req.status == "open":
        ahead = db.scalar(select(func.count(AssistRequest.id)).where(
            AssistRequest.hall_id == hall.id, AssistRequest.status == "open",
            AssistRequest.id < req.id)) or 0
    status_name = STATUS_NAMES[req.status]
    if req.status == "claimed" and req.kind == "proxy":
        status_name = "已受理，工作人员将与您联系"
    return {
        "hall": hall.code, "hall_name": hall.name, "follow_token": req.follow_token,
        "follow_path": f"/h/{req.follow_token}",
        "kind": req.kind, "kind_name": KIND_NAMES[req.kind],
        "bundle": {"code": bundle.code, "name": bundle.name} if bundle else None,
        "location": req.location, "reason": req.reason, "reason_name": REASON_NAMES[req.reason],
        "status": req.status, "status_name": status_name, "masked_name": req.masked_name,
        "phone_masked": req.phone_masked, "created_at": req.created_at.isoformat(), "ahead": ahead,
        "helper": {"name": names[req.staff_id]} if req.staff_id in names else None,
        "steps": [{"action": s.action, "action_name": ACTION_NAMES[s.action], "at": s.at.isoformat(),
                   "note": s.note, "staff": {"name": names[s.staff_id]} if s.staff_id in names else None}
                  for s in req.steps],
    }


def staff_view(db: Session, hall: Hall, req: AssistRequest, secret: str) -> dict[str, Any]:
    """The public view plus the full phone, the citizen's note, the handler and the times."""
    view = public_view(db, hall, req)
    view["helper"] = ({"id": req.staff_id, "name": view["helper"]["name"]}
                      if view["helper"] else None)
    for step, row in zip(view["steps"], req.steps, strict=True):
        if row.staff_id is not None and step["staff"] is not None:
            step["staff"]["id"] = row.staff_id
    view.update({
        "id": req.id, "phone": reveal_phone(secret, req.phone_cipher), "note": req.note,
        "source": req.source,
        **{k: (v.isoformat() if v else None) for k, v in (
            ("claimed_at", req.claimed_at), ("started_at", req.started_at), ("done_at", req.done_at),
            ("cancelled_at", req.cancelled_at), ("updated_at", req.updated_at))},
        "wait_min": _round(minutes(req.claimed_at - req.created_at)) if req.claimed_at else None,
        "handle_min": (_round(minutes(req.done_at - req.claimed_at))
                       if req.done_at and req.claimed_at else None),
    })
    return view


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def follow(database: Database, follow_token: str) -> dict[str, Any]:
    with database.read() as db:
        req = _by_token(db, follow_token)
        return public_view(db, db.get_one(Hall, req.hall_id), req)


def follow_hall(database: Database, follow_token: str) -> str:
    """The hall code of a request (the phone page subscribes to its live updates)."""
    with database.read() as db:
        return db.get_one(Hall, _by_token(db, follow_token).hall_id).code


def get_request(database: Database, request_id: int, handler: Handler, secret: str) -> dict[str, Any]:
    with database.read() as db:
        req = db.get(AssistRequest, request_id)
        if req is None:
            raise NotFound("没有找到该帮办代办请求")
        if handler.role != "admin" and handler.hall_id != req.hall_id:
            raise Forbidden("无权查看其他大厅的请求")
        return staff_view(db, db.get_one(Hall, req.hall_id), req, secret)


def list_requests(db: Session, hall: Hall, secret: str, scope: str, now: datetime) -> list[dict[str, Any]]:
    """active: open, claimed or in progress (oldest first); today: every request filed today."""
    query = select(AssistRequest).where(AssistRequest.hall_id == hall.id)
    if scope == "today":
        start, end = day_bounds(hall, today(hall, now))
        query = query.where(AssistRequest.created_at >= start, AssistRequest.created_at < end)
    else:
        query = query.where(AssistRequest.status.in_(ACTIVE))
    rows = db.scalars(query.order_by(AssistRequest.created_at, AssistRequest.id)).all()
    return [staff_view(db, hall, r, secret) for r in rows]


def request_of(db: Session, request_id: int) -> tuple[Hall, AssistRequest] | None:
    req = db.get(AssistRequest, request_id)
    return None if req is None else (db.get_one(Hall, req.hall_id), req)


# --- the day's figures ---------------------------------------------------------------------------

def _figures(kind: str, rows: list[AssistRequest]) -> dict[str, Any]:
    waits = [minutes(r.claimed_at - r.created_at) for r in rows if r.claimed_at]
    handles = [minutes(r.done_at - r.claimed_at) for r in rows if r.done_at and r.claimed_at]
    return {
        "kind": kind, "kind_name": KIND_NAMES.get(kind, "合计"), "requests": len(rows),
        "done": sum(r.status == "done" for r in rows),
        "cancelled": sum(r.status == "cancelled" for r in rows),
        "unclaimed": sum(r.claimed_at is None and r.status != "cancelled" for r in rows),
        "wait_avg_min": _round(sum(waits) / len(waits)) if waits else None,
        "wait_p50_min": _round(percentile(waits, 0.5)), "wait_p90_min": _round(percentile(waits, 0.9)),
        "handle_avg_min": _round(sum(handles) / len(handles)) if handles else None,
        "handle_p50_min": _round(percentile(handles, 0.5)),
        "handle_p90_min": _round(percentile(handles, 0.9)),
    }


def assist_report(database: Database, hall_code: str, day: date) -> dict[str, Any]:
    """Requests filed on the hall-local `day`, per kind and in total: counts, waiting (filed → first
    claim) and handling (first claim → done) in minutes, average, p50 and p90 (reports.percentile)."""
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        start, end = day_bounds(hall, day)
        rows = list(db.scalars(select(AssistRequest).where(
            AssistRequest.hall_id == hall.id, AssistRequest.created_at >= start,
            AssistRequest.created_at < end)).all())
    return {"hall": hall_code, "date": day.isoformat(),
            "kinds": [_figures(k, [r for r in rows if r.kind == k]) for k in KINDS],
            "total": _figures("all", rows)}
