"""The `/hall` Socket.IO namespace: `subscribe` then `snapshot`, then live events after each commit.

Rooms: `hall:<code>` (every screen of a hall), `window:<id>` (the screen above one window),
`manager:<code>` (manager consoles, which need a staff token given as `auth: {token}` on connect).
With several server processes, `--redis-url` makes Flask-SocketIO relay emits through Redis, so a
call made on one process reaches screens connected to another.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import request
from flask_socketio import Namespace, SocketIO, emit, join_room, leave_room

from .. import clock
from ..auth import principal_from_token
from ..events import Event, QueueUpdated, TicketCalled, WindowUpdated
from ..models import Window
from ..queue.errors import QueueError
from ..runtime import Runtime
from ..services.common import hall_by_code
from ..services.snapshot import (
    hall_snapshot,
    manager_snapshot,
    window_snapshot,
)
from ..services.waits import hall_waits

log = logging.getLogger(__name__)
NAMESPACE = "/hall"

socketio = SocketIO()


class HallNamespace(Namespace):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(NAMESPACE)
        self.rt = rt
        self.managers: dict[str, int] = {}  # sid -> staff hall id, for manager screens

    def on_connect(self, auth: dict[str, Any] | None = None) -> bool:
        token = (auth or {}).get("token") if isinstance(auth, dict) else None
        if token:
            with self.rt.database.read() as db:
                principal = principal_from_token(db, str(token), clock.now())
            if principal is not None and principal.role in ("manager", "admin"):
                self.managers[request.sid] = principal.hall_id or 0  # type: ignore[attr-defined]
                if principal.role == "admin":
                    self.managers[request.sid] = -1
        return True

    def on_disconnect(self, reason: object = None) -> None:
        self.managers.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_subscribe(self, data: Any) -> dict[str, Any]:
        """Join the screen's rooms and answer with a fresh snapshot (also after every reconnect)."""
        if not isinstance(data, dict) or not isinstance(data.get("hall"), str):
            return {"ok": False,
                    "error": {"code": "bad_request", "message": "subscribe needs {hall, screen}"}}
        screen = str(data.get("screen") or "hall")
        try:
            snapshot = self._snapshot(data["hall"], screen)
        except QueueError as e:
            return {"ok": False, "error": {"code": e.code, "message": str(e)}}
        join_room(f"hall:{data['hall']}")
        if screen.startswith("window:"):
            join_room(screen)
        if screen == "manager":
            join_room(f"manager:{data['hall']}")
        snapshot["screen"] = screen
        snapshot["version"] = self.rt.version
        emit("snapshot", snapshot)
        return {"ok": True}

    def on_unsubscribe(self, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("hall"), str):
            leave_room(f"hall:{data['hall']}")

    def on_heartbeat(self, data: Any = None) -> dict[str, Any]:
        """Screens ask every few seconds; no answer means the data shown may be stale."""
        return {"ok": True, "version": self.rt.version, "at": clock.now().isoformat()}

    def _snapshot(self, hall_code: str, screen: str) -> dict[str, Any]:
        now = clock.now()
        with self.rt.database.read() as db:
            hall = hall_by_code(db, hall_code)
            if screen == "hall":
                return hall_snapshot(db, hall, now)
            if screen == "manager":
                allowed = self.managers.get(request.sid)  # type: ignore[attr-defined]
                if allowed is None or allowed not in (-1, hall.id):
                    raise _Refused("manager screens need a manager's token for this hall")
                return manager_snapshot(db, hall, now)
            if screen.startswith("window:"):
                window = db.get(Window, _int(screen[7:]))
                if window is None or window.hall_id != hall.id:
                    raise _NotFound(f"no window {screen[7:]} in hall {hall_code}")
                return window_snapshot(db, hall, window, now)
        raise _Refused(f"unknown screen {screen!r}: use hall, window:<id> or manager")


class _Refused(QueueError):
    code = "forbidden"


class _NotFound(QueueError):
    code = "not_found"


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _NotFound(f"bad window id {text!r}") from None


def make_publisher(rt: Runtime, sio: SocketIO) -> Any:
    """Publish after commit: the call first (what screens must show at once), then the refreshed state."""

    def publish(events: Iterable[Event]) -> None:
        events = tuple(events)
        for e in events:
            if isinstance(e, TicketCalled):
                payload = e.payload()
                sio.emit("ticket_called", payload, to=f"hall:{e.hall}", namespace=NAMESPACE)
        try:
            _publish_state(rt, sio, events)
        except Exception:  # a screen refresh must never fail the request that already committed
            log.exception("publishing state after commit failed")

    return publish


def _publish_state(rt: Runtime, sio: SocketIO, events: tuple[Event, ...]) -> None:
    halls = {e.hall for e in events if isinstance(e, QueueUpdated | TicketCalled)}
    windows = {(e.hall, e.window_id) for e in events if isinstance(e, WindowUpdated)}
    windows |= {(e.hall, e.window.id) for e in events if isinstance(e, TicketCalled)}
    if not halls and not windows:
        return
    now = clock.now()
    with rt.database.read() as db:
        for code in sorted(halls | {h for h, _ in windows}):
            hall = hall_by_code(db, code)
            if code in halls:
                waits = [b.to_json() for b in hall_waits(db, hall, now)]
                sio.emit("queue_updated", {"hall": code, "bundles": waits, "at": now.isoformat()},
                         to=f"hall:{code}", namespace=NAMESPACE)
            for hall_code, window_id in sorted(windows):
                window = db.get(Window, window_id)
                if hall_code != code or window is None:
                    continue
                snap = window_snapshot(db, hall, window, now)
                sio.emit("window_updated", {"hall": code, "window": snap["window"],
                                            "next": snap["next"], "at": now.isoformat()},
                         to=f"hall:{code}", namespace=NAMESPACE)
