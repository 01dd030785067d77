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

from .db import Database
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


def _staff_claims(token: str) -> dict[str, object] | None:
    """What a staff token signs (None for a device token, or a staff token forged or expired)."""
    try:
        data = _serializer().loads(token, max_age=STAFF_TOKEN_HOURS * 3600)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def _key(token: str) -> tuple[tuple[str, int | str], dict[str, object] | None]:
    """Where `KNOWN` keeps who `token` names (a staff id, or a device token's hash), and what a staff
    token signs."""
    claims = _staff_claims(token)
    if claims is not None:
        return ("staff", claims.get("s")), claims  # type: ignore[return-value]
    return ("device", token_hash(token)), None


def _valid(known: _StaffEntry | Principal | None, claims: dict[str, object] | None) -> Principal | None:
    """The principal, if the token is still good for it (a staff token signed with the password now held)."""
    if isinstance(known, _StaffEntry):
        return known.principal if claims is not None and known.password_tail == claims.get("p") else None
    return known


def _read(db: Session, key: tuple[str, int | str]) -> _StaffEntry | Principal | None:
    """Read the active staff member or unrevoked device `key` names into `KNOWN` (or drop it there)."""
    kind, ident = key
    if kind == "staff":
        staff = db.get(Staff, ident)
        if staff is not None and staff.active:
            return _known_staff(staff)
    else:
        device = db.scalar(select(Device).where(Device.token_hash == ident))
        if device is not None and device.revoked_at is None:
            return _known_device(device)
    KNOWN.pop(key)
    return None


def principal_from_token(db: Session, token: str, now: datetime) -> Principal | None:
    """The staff member or device a bearer token names, or None if it is not (or no longer) valid.
    Read from the database (and remembered in `KNOWN`)."""
    if not token:
        return None
    key, claims = _key(token)
    return _valid(_read(db, key), claims)


def principal_of(database: Database, token: str) -> Principal | None:
    """Who `token` names: as this process knows it, or read."""
    principal = PRINCIPALS.get(token)
    if principal is None:
        key, claims = _key(token)
        principal = _valid(KNOWN.get(key), claims)
        if principal is None:
            with database.read() as db:
                principal = _valid(_read(db, key), claims)
        if principal is not None:
            PRINCIPALS.put(token, principal)
    return principal


@dataclass(frozen=True, slots=True)
class _StaffEntry:
    principal: Principal
    password_tail: str  # a token signed with another tail predates a password change


def _known_staff(row: Staff) -> _StaffEntry:
    """Remember an active staff member's row (as a token checks it)."""
    entry = _StaffEntry(Principal("staff", row.id, row.role, row.hall_id, row.window_id, row.username),
                        row.password_hash[-12:])
    KNOWN.put(("staff", row.id), entry)
    return entry


def _known_device(row: Device) -> Principal:
    """Remember a device that is not revoked."""
    principal = Principal("device", row.id, row.kind, row.hall_id, None, row.name)
    KNOWN.put(("device", row.token_hash), principal)
    return principal


def know_everyone(db: Session) -> int:
    """Read every active staff member and device into `KNOWN` (start-up): after a restart, the
    hall's kiosks and clerks are not each held up by a read of their own row. How many were read."""
    room = KNOWN.max_entries // 2  # leave room for those read later, before the cache would be emptied
    staff = db.scalars(select(Staff).where(Staff.active.is_(True)).limit(room)).all()
    devices = db.scalars(select(Device).where(Device.revoked_at.is_(None)).limit(room - len(staff))).all()
    for row in staff:
        _known_staff(row)
    for device in devices:
        _known_device(device)
    return len(staff) + len(devices)


auth = HTTPTokenAuth(scheme="Bearer", description="staff login token or device token")


# Who a token names. Every request of a kiosk or a clerk carries its token; reading the staff or
# device row each time was a fifth of the cost of taking a number. Under it, `KNOWN`: who a staff id
# or a device token's hash names, read for everyone at start-up (`know_everyone`), so that a token
# not yet seen (a clerk's new login, every kiosk after a restart) is only checked, not read. Any change
# to a staff or device row (revocation, deactivation, a new password or seat) empties both on this
# process at commit, and through `tell_others` (the Redis relay, realtime/hall.py) on the other server
# processes at once.
PRINCIPALS: Expiring[str, Principal] = Expiring()
KNOWN: Expiring[tuple[str, int | str], _StaffEntry | Principal] = Expiring(max_entries=20_000)  # ~0.5 KB each
tell_others: Callable[[], None] | None = None


def forget_principals() -> None:
    """Drop what this process knows of tokens, staff and devices: the next request reads again."""
    PRINCIPALS.clear()
    KNOWN.clear()


@event.listens_for(Session, "after_flush")
def _staff_or_devices_changed(session: Session, _context: object) -> None:
    if any(isinstance(row, Staff | Device)
           for row in (*session.new, *session.dirty, *session.deleted)):
        session.info["forget_principals"] = True


@event.listens_for(Session, "after_commit")
def _forget_principals(session: Session) -> None:
    if session.info.pop("forget_principals", False):
        forget_principals()
        if tell_others is not None:
            tell_others()


@auth.verify_token
def _verify(token: str) -> Principal | None:
    principal = principal_of(runtime().database, token) if token else None
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
