"""Who is asking: staff (signed login tokens) and devices (random tokens kept as hashes).

Both travel as `Authorization: Bearer <token>`. Roles: clerk, manager, admin for staff (an admin may
do what a manager may); kiosk, display, rating_pad for devices. A clerk acts only at the window
where they are seated; managers only in their own hall; admins anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apiflask import HTTPTokenAuth
from flask import g
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .expiring import Expiring
from .models import Device, Staff, Window
from .queue.errors import Forbidden, Unauthorized
from .runtime import runtime
from .tokens import token_hash

STAFF_TOKEN_HOURS = 12
_SALT = "govhall-staff-token"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # staff | device
    id: int
    role: str  # clerk | manager | admin | kiosk | display | rating_pad
    hall_id: int | None
    window_id: int | None
    name: str

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}" if self.kind == "staff" else f"device:{self.id}"

    @property
    def roles(self) -> list[str]:
        return ["admin", "manager"] if self.role == "admin" else [self.role]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime().settings.secret_key, salt=_SALT)


def issue_staff_token(staff: Staff) -> str:
    # The password hash's tail is signed in: changing the password ends every old session.
    return _serializer().dumps({"s": staff.id, "p": staff.password_hash[-12:]})


def principal_from_token(db: Session, token: str, now: datetime) -> Principal | None:
    """The staff member or device a bearer token names, or None if it is not (or no longer) valid."""
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=STAFF_TOKEN_HOURS * 3600)
    except BadSignature:
        data = None
    if isinstance(data, dict):
        staff = db.get(Staff, data.get("s"))
        if staff is None or not staff.active or staff.password_hash[-12:] != data.get("p"):
            return None
        return Principal("staff", staff.id, staff.role, staff.hall_id, staff.window_id, staff.username)
    device = db.scalar(select(Device).where(Device.token_hash == token_hash(token)))
    if device is None or device.revoked_at is not None:
        return None
    return Principal("device", device.id, device.kind, device.hall_id, None, device.name)


auth = HTTPTokenAuth(scheme="Bearer", description="staff login token or device token")


# Who a token names. Every request of a kiosk or a clerk carries its token; reading the staff or
# device row each time was a fifth of the cost of taking a number. Any change to a staff or device
# row (revocation, deactivation, a new password or seat) empties it on this process at commit, and
# through `tell_others` (the Redis relay, realtime/hall.py) on the other server processes at once.
PRINCIPALS: Expiring[str, Principal] = Expiring()
tell_others: Callable[[], None] | None = None


@event.listens_for(Session, "after_flush")
def _staff_or_devices_changed(session: Session, _context: object) -> None:
    if any(isinstance(row, Staff | Device)
           for row in (*session.new, *session.dirty, *session.deleted)):
        session.info["forget_principals"] = True


@event.listens_for(Session, "after_commit")
def _forget_principals(session: Session) -> None:
    if session.info.pop("forget_principals", False):
        PRINCIPALS.clear()
        if tell_others is not None:
            tell_others()


@auth.verify_token
def _verify(token: str) -> Principal | None:
    from .clock import now

    principal = PRINCIPALS.get(token) if token else None
    if principal is None:
        with runtime().database.read() as db:
            principal = principal_from_token(db, token, now())
        if principal is not None:
            PRINCIPALS.put(token, principal)
    g.principal = principal
    return principal


@auth.get_user_roles
def _roles(principal: Principal) -> list[str]:
    return principal.roles


def current() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise Unauthorized("请先登录")
    return principal


def check_hall(principal: Principal, hall_id: int) -> None:
    if principal.role != "admin" and principal.hall_id != hall_id:
        raise Forbidden("无权操作其他大厅")


def check_hall_code(code: str) -> None:
    """Refuse unless the caller belongs to the hall `code` (404 for an unknown hall)."""
    from .services.common import hall_by_code

    with runtime().database.read() as db:
        check_hall(current(), hall_by_code(db, code).id)


def check_seat(principal: Principal, window: Window) -> None:
    """A clerk only at their own window; a manager in their hall; an admin anywhere."""
    if principal.role == "clerk":
        if principal.window_id != window.id:
            raise Forbidden(f"您未在{window.number}号窗口就座，不能操作该窗口")
        return
    if principal.role in ("manager", "admin"):
        check_hall(principal, window.hall_id)
        return
    raise Forbidden("该账号不能操作窗口")
