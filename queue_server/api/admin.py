"""A manager's hall administration: staff accounts, device tokens, the audit log."""

from __future__ import annotations

import json
import secrets
from typing import Any

from apiflask import APIBlueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auth import auth, check_hall, current
from ..models import AuditLog, Device, Hall, Staff
from ..passwords import hash_password
from ..queue.errors import Conflict, Forbidden, NotFound
from ..runtime import runtime
from ..services.common import audit, hall_by_code, window_in_hall
from ..tokens import token_hash
from .common import now, responses
from .schemas import (
    AuditList,
    AuditQuery,
    DeviceIn,
    DeviceList,
    DeviceOut,
    StaffIn,
    StaffList,
    StaffOut,
    StaffPatch,
)

bp = APIBlueprint("admin", __name__, url_prefix="/api/v1", tag="Administration")
MANAGER = ["manager"]


def _hall(db: Any, code: str) -> Hall:
    hall = hall_by_code(db, code)
    check_hall(current(), hall.id)
    return hall


def staff_json(s: Staff, window_number: int | None) -> dict[str, Any]:
    return {"id": s.id, "username": s.username, "name": s.name, "role": s.role,
            "window": window_number, "active": s.active}


def _window_numbers(db: Any, hall: Hall) -> dict[int, int]:
    return {w.id: w.number for w in hall.windows}


@bp.get("/halls/<hall>/staff")
@bp.auth_required(auth, roles=MANAGER)
@bp.output(StaffList)
@bp.doc(summary="Staff accounts of the hall", responses=responses(401, 403, 404))
def list_staff(hall: str) -> dict[str, Any]:
    with runtime().database.read() as db:
        h = _hall(db, hall)
        numbers = _window_numbers(db, h)
        rows = db.scalars(select(Staff).where(Staff.hall_id == h.id).order_by(Staff.username))
        return {"staff": [staff_json(s, numbers.get(s.window_id or 0)) for s in rows]}


@bp.post("/halls/<hall>/staff")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(StaffIn, arg_name="body")
@bp.output(StaffOut, status_code=201)
@bp.doc(summary="Create a staff account", responses=responses(400, 401, 403, 404, 409))
def create_staff(hall: str, body: dict[str, Any]) -> dict[str, Any]:
    who = current()
    if body["role"] == "admin" and who.role != "admin":
        raise Forbidden("只有管理员可以创建管理员账号")
    try:
        with runtime().database.write() as db:
            h = _hall(db, hall)
            window = window_in_hall(db, h, body["window"]) if body.get("window") else None
            staff = Staff(username=body["username"], name=body["name"], role=body["role"],
                          password_hash=hash_password(body["password"]), hall_id=h.id,
                          window_id=window.id if window else None, created_at=now())
            db.add(staff)
            db.flush()
            audit(db, now(), who.actor, "staff.create", h.id, target=f"staff:{staff.username}",
                  role=staff.role, window=body.get("window"))
            return staff_json(staff, window.number if window else None)
    except IntegrityError:
        raise Conflict(f"用户名 {body['username']} 已存在") from None


@bp.patch("/halls/<hall>/staff/<int(max=2147483647):staff_id>")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(StaffPatch, arg_name="body")
@bp.output(StaffOut)
@bp.doc(summary="Change a staff account: name, password, role, seat (window number), active",
        responses=responses(400, 401, 403, 404))
def patch_staff(hall: str, staff_id: int, body: dict[str, Any]) -> dict[str, Any]:
    who = current()
    with runtime().database.write() as db:
        h = _hall(db, hall)
        staff = db.get(Staff, staff_id)
        if staff is None or staff.hall_id != h.id:
            raise NotFound("没有该工作人员")
        if (body.get("role") == "admin" or staff.role == "admin") and who.role != "admin":
            raise Forbidden("只有管理员可以修改管理员账号")
        if "window" in body:
            staff.window_id = window_in_hall(db, h, body["window"]).id if body["window"] else None
        for field in ("name", "role", "active"):
            if field in body:
                setattr(staff, field, body[field])
        if "password" in body:
            staff.password_hash = hash_password(body["password"])
        changed = sorted(k for k in body if k != "password") + (["password"] if "password" in body else [])
        audit(db, now(), who.actor, "staff.update", h.id, target=f"staff:{staff.username}", fields=changed,
              new={k: v for k, v in body.items() if k != "password"})
        numbers = _window_numbers(db, h)
        return staff_json(staff, numbers.get(staff.window_id or 0))


def device_json(d: Device, token: str | None = None) -> dict[str, Any]:
    data = {"id": d.id, "kind": d.kind, "name": d.name, "created_at": d.created_at.isoformat(),
            "revoked_at": d.revoked_at.isoformat() if d.revoked_at else None,
            "last_seen_at": d.last_seen_at.isoformat() if d.last_seen_at else None}
    if token:
        data["token"] = token
    return data


@bp.get("/halls/<hall>/devices")
@bp.auth_required(auth, roles=MANAGER)
@bp.output(DeviceList)
@bp.doc(summary="Device tokens of the hall (the tokens themselves are never shown again)",
        responses=responses(401, 403, 404))
def list_devices(hall: str) -> dict[str, Any]:
    with runtime().database.read() as db:
        h = _hall(db, hall)
        rows = db.scalars(select(Device).where(Device.hall_id == h.id).order_by(Device.id))
        return {"devices": [device_json(d) for d in rows]}


@bp.post("/halls/<hall>/devices")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(DeviceIn, arg_name="body")
@bp.output(DeviceOut, status_code=201)
@bp.doc(summary="Issue a device token (shown once)", responses=responses(400, 401, 403, 404))
def issue_device(hall: str, body: dict[str, Any]) -> dict[str, Any]:
    who = current()
    token = secrets.token_urlsafe(24)
    with runtime().database.write() as db:
        h = _hall(db, hall)
        device = Device(hall_id=h.id, kind=body["kind"], name=body["name"], created_at=now(),
                        token_hash=token_hash(token))
        db.add(device)
        db.flush()
        audit(db, now(), who.actor, "device.issue", h.id, target=f"device:{device.id}",
              kind=device.kind, name=device.name)
        return device_json(device, token)


@bp.delete("/halls/<hall>/devices/<int(max=2147483647):device_id>")
@bp.auth_required(auth, roles=MANAGER)
@bp.output(DeviceOut)
@bp.doc(summary="Revoke a device token at once", responses=responses(401, 403, 404, 409))
def revoke_device(hall: str, device_id: int) -> dict[str, Any]:
    who = current()
    with runtime().database.write() as db:
        h = _hall(db, hall)
        device = db.get(Device, device_id)
        if device is None or device.hall_id != h.id:
            raise NotFound("没有该设备")
        if device.revoked_at is not None:
            raise Conflict("该设备令牌已注销")
        device.revoked_at = now()
        audit(db, now(), who.actor, "device.revoke", h.id, target=f"device:{device.id}")
        return device_json(device)


@bp.get("/halls/<hall>/audit")
@bp.auth_required(auth, roles=MANAGER)
@bp.input(AuditQuery, location="query", arg_name="query")
@bp.output(AuditList)
@bp.doc(summary="The audit log, newest first", responses=responses(401, 403, 404))
def audit_log(hall: str, query: dict[str, Any]) -> dict[str, Any]:
    with runtime().database.read() as db:
        h = _hall(db, hall)
        rows = db.scalars(select(AuditLog).where(AuditLog.hall_id == h.id)
                          .order_by(AuditLog.id.desc()).limit(query["limit"]))
        return {"entries": [{"id": a.id, "at": a.at.isoformat(), "actor": a.actor, "action": a.action,
                             "target": a.target, "detail": json.loads(a.detail) if a.detail else None}
                            for a in rows]}


