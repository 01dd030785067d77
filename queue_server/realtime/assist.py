"""帮办代办 on the `/hall` namespace: the staff screen `assist` and the citizen's `assist-follow:<token>`.

`assist` needs a staff token (assistant, manager or admin of the hall, given as `auth: {token}` on
connect) and carries full requests; `assist-follow:<token>` needs no token and carries the one
request's public view (masked data only). Both get `assist_updated {hall, request, at}` after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_socketio import SocketIO
from sqlalchemy.orm import Session

from .. import clock
from ..events import AssistUpdated
from ..models import AssistRequest, Hall
from ..queue.errors import Forbidden, NotFound
from ..runtime import Runtime
from ..services import assist as svc

NAMESPACE = "/hall"
ROLES = ("assistant", "manager", "admin")
FOLLOW = "assist-follow:"


def is_assist_screen(screen: str) -> bool:
    return screen == "assist" or screen.startswith(FOLLOW)


def staff_scope(role: str, hall_id: int | None) -> int | None:
    """What a connection's token allows on the `assist` screen: a hall id, -1 for any, None for none."""
    if role not in ROLES:
        return None
    return -1 if role == "admin" else (hall_id or 0)


def rooms(hall_code: str, screen: str) -> list[str]:
    if screen == "assist":
        return [f"assist:{hall_code}"]
    if screen.startswith(FOLLOW):
        return [f"{FOLLOW}{screen[len(FOLLOW):]}"]
    return []


def snapshot(db: Session, hall: Hall, screen: str, allowed: int | None, secret: str) -> dict[str, Any]:
    now = clock.now()
    base = {"hall": {"code": hall.code, "name": hall.name}, "at": now.isoformat()}
    if screen == "assist":
        if allowed is None or allowed not in (-1, hall.id):
            raise Forbidden("the assist screen needs a 帮办代办 staff or manager token for this hall")
        return {**base, "requests": svc.list_requests(db, hall, secret, "active", now),
                "today": svc.list_requests(db, hall, secret, "today", now)}
    token = screen[len(FOLLOW):]
    req = db.query(AssistRequest).filter_by(follow_token=token).one_or_none()
    if req is None or req.hall_id != hall.id:
        raise NotFound("没有找到该帮办代办请求")
    return {**base, "request": svc.public_view(db, hall, req)}


def publish(rt: Runtime, sio: SocketIO, events: Iterable[Any]) -> None:
    """Send each changed request to its hall's staff screens and to its citizen's phone page."""
    changed = [e for e in events if isinstance(e, AssistUpdated)]
    if not changed:
        return
    now = clock.now().isoformat()
    with rt.database.read() as db:
        for e in changed:
            found = svc.request_of(db, e.request_id)
            if found is None:
                continue
            hall, req = found
            staff = svc.staff_view(db, hall, req, rt.settings.secret_key)
            sio.emit("assist_updated", {"hall": hall.code, "request": staff, "at": now},
                     to=f"assist:{hall.code}", namespace=NAMESPACE)
            public = svc.public_view(db, hall, req)
            sio.emit("assist_updated", {"hall": hall.code, "request": public, "at": now},
                     to=f"{FOLLOW}{req.follow_token}", namespace=NAMESPACE)
