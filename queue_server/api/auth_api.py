"""Staff login: a bearer token for the API and the consoles."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from sqlalchemy import select

from ..auth import auth, current, issue_staff_token
from ..limits import login_allowed, login_failed
from ..models import Hall, Staff, Window
from ..passwords import verify_password
from ..queue.errors import RateLimited, Unauthorized
from ..runtime import runtime
from ..services.common import audit
from .common import now, responses
from .schemas import LoginIn, LoginOut

bp = APIBlueprint("auth", __name__, url_prefix="/api/v1", tag="Auth")


def login_result(staff: Staff, hall: Hall | None, window: Window | None) -> dict[str, Any]:
    return {"token": issue_staff_token(staff), "role": staff.role, "name": staff.name,
            "username": staff.username, "hall": hall.code if hall else None,
            "window": {"id": window.id, "number": window.number, "name": window.name} if window else None}


def check_login(username: str, password: str) -> dict[str, Any]:
    """Verify a staff login; the same refusal for an unknown name and a wrong password."""
    rt = runtime()
    if not login_allowed(username):
        raise RateLimited("登录失败次数过多，请稍后再试")
    with rt.database.write() as db:
        staff = db.scalar(select(Staff).where(Staff.username == username))
        ok = staff is not None and staff.active and verify_password(staff.password_hash, password)
        if staff is None or not ok:
            # a password typed into the username box must not land in the log
            who = f"login:{username[:60]}" if staff is not None else "login:(unknown user)"
            audit(db, now(), who, "auth.failed", staff.hall_id if staff else None)
            result = None
        else:
            audit(db, now(), f"staff:{staff.username}", "auth.login", staff.hall_id)
            hall = db.get(Hall, staff.hall_id) if staff.hall_id else None
            window = db.get(Window, staff.window_id) if staff.window_id else None
            result = login_result(staff, hall, window)
    if result is None:
        login_failed(username)
        raise Unauthorized("用户名或密码错误")
    return result


@bp.post("/auth/login")
@bp.input(LoginIn, arg_name="body")
@bp.output(LoginOut)
@bp.doc(summary="Staff login; failed attempts are limited per username", responses=responses(401, 429))
def login(body: dict[str, Any]) -> dict[str, Any]:
    return check_login(body["username"], body["password"])


@bp.get("/auth/me")
@bp.auth_required(auth)
@bp.output(LoginOut(exclude=("token",)))
@bp.doc(summary="Who the bearer token belongs to", responses=responses(401))
def me() -> dict[str, Any]:
    who = current()
    with runtime().database.read() as db:
        hall = db.get(Hall, who.hall_id) if who.hall_id else None
        window = db.get(Window, who.window_id) if who.window_id else None
        return {"role": who.role, "name": who.name, "username": who.name,
                "hall": hall.code if hall else None,
                "window": {"id": window.id, "number": window.number, "name": window.name} if window else None}
