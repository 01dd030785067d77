"""The `/hall` Socket.IO namespace: `subscribe` then `snapshot`, then live events after each commit.

Rooms: `hall:<code>` (every screen of a hall), `window:<id>` (the screen above one window),
`manager:<code>` (manager consoles, which need a staff token given as `auth: {token}` on connect).
With several server processes, `--redis-url` makes Flask-SocketIO relay emits through Redis, so a
call made on one process reaches screens connected to another.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from flask import request
from flask_socketio import Namespace, SocketIO, disconnect, emit, join_room, leave_room
from sqlalchemy import select

from .. import auth, clock
from ..auth import principal_from_token, principal_of
from ..events import Event, QueueUpdated, TicketCalled, WindowUpdated
from ..models import Hall, Window
from ..queue.errors import QueueError
from ..runtime import Runtime
from ..services import waits
from ..services.alerts import alerts_payload
from ..services.common import hall_by_code
from ..services.snapshot import (
    hall_snapshot,
    manager_snapshot,
    window_snapshot,
    window_update,
)
from ..services.waits import halls_waits
from . import assist

log = logging.getLogger(__name__)
NAMESPACE = "/hall"
REFRESH_BATCH = 1  # halls refreshed per database read (short slices: requests run in between)
TOKEN_RECHECK_S = 30.0  # how often a staff screen's token is verified again
# Snapshots computed at once per process. After a restart every screen subscribes again within
# seconds; unbounded, their snapshots held every pooled PostgreSQL connection (kiosks and clerks
# waited for one) and hundreds of half-built snapshots at once (server memory that stays).
SNAPSHOTS_AT_ONCE = 4

socketio = SocketIO()


class HallNamespace(Namespace):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(NAMESPACE)
        self.rt = rt
        self.managers: dict[str, int] = {}  # sid -> staff hall id, for manager screens
        self.assist_staff: dict[str, int] = {}  # sid -> staff hall id (-1 any), for the assist screen
        self.tokens: dict[str, tuple[str, float]] = {}  # sid -> (staff token, when last checked)
        self.state: _StateRefresh | None = None  # set by make_publisher
        self.snapshots = threading.BoundedSemaphore(SNAPSHOTS_AT_ONCE)

    def on_connect(self, auth: dict[str, Any] | None = None) -> bool:
        token = (auth or {}).get("token") if isinstance(auth, dict) else None
        if token:
            self.tokens[request.sid] = (str(token), time.monotonic())  # type: ignore[attr-defined]
            principal = principal_of(self.rt.database, str(token))
            if principal is not None and principal.role in ("manager", "admin"):
                self.managers[request.sid] = principal.hall_id or 0  # type: ignore[attr-defined]
                if principal.role == "admin":
                    self.managers[request.sid] = -1
            scope = assist.staff_scope(principal.role, principal.hall_id) if principal else None
            if scope is not None:
                self.assist_staff[request.sid] = scope  # type: ignore[attr-defined]
        return True

    def on_disconnect(self, reason: object = None) -> None:
        self.tokens.pop(request.sid, None)  # type: ignore[attr-defined]
        self.managers.pop(request.sid, None)  # type: ignore[attr-defined]
        self.assist_staff.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_subscribe(self, data: Any) -> dict[str, Any]:
        """Join the screen's rooms and answer with a fresh snapshot (also after every reconnect)."""
        if not isinstance(data, dict) or not isinstance(data.get("hall"), str):
            return {"ok": False,
                    "error": {"code": "bad_request", "message": "subscribe needs {hall, screen}"}}
        screen = str(data.get("screen") or "hall")
        try:
            with self.snapshots:
                snapshot = self._snapshot(data["hall"], screen)
        except QueueError as e:
            return {"ok": False, "error": {"code": e.code, "message": str(e)}}
        join_room(f"hall:{data['hall']}")
        if self.state is not None and self.state.relay is not None:
            self.state.relay.start(self.state.sio)  # hear of changes made on the other processes
        if screen.startswith("window:"):
            join_room(screen)
        if screen == "manager":
            join_room(f"manager:{data['hall']}")
        for room in assist.rooms(data["hall"], screen):
            join_room(room)
        snapshot["screen"] = screen
        snapshot["version"] = self.rt.version
        # to this screen alone, which is connected here: not through Redis to every other process
        emit("snapshot", snapshot, ignore_queue=True)
        return {"ok": True}

    def on_unsubscribe(self, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("hall"), str):
            leave_room(f"hall:{data['hall']}")

    def on_heartbeat(self, data: Any = None) -> dict[str, Any]:
        """Screens ask every few seconds; no answer means the data shown may be stale.

        A staff screen's token is checked again here now and then: a manager deactivated (or whose
        password changed) stops receiving the hall's live data within TOKEN_RECHECK_S.
        """
        sid = request.sid  # type: ignore[attr-defined]
        held = self.tokens.get(sid)
        if held is not None and time.monotonic() - held[1] > TOKEN_RECHECK_S:
            with self.rt.database.read() as db:
                principal = principal_from_token(db, held[0], clock.now())
            if principal is None:
                self.managers.pop(sid, None)
                self.assist_staff.pop(sid, None)
                self.tokens.pop(sid, None)
                disconnect()
                return {"ok": False, "error": {"code": "unauthorized", "message": "登录已失效，请重新登录"}}
            self.tokens[sid] = (held[0], time.monotonic())
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
                data = manager_snapshot(db, hall, now)
                data["surge_alerts"] = alerts_payload(db, hall, now)["alerts"]  # 办件激增预警
                return data
            if screen.startswith("window:"):
                window = db.get(Window, _int(screen[7:]))
                if window is None or window.hall_id != hall.id:
                    raise _NotFound(f"no window {screen[7:]} in hall {hall_code}")
                return window_snapshot(db, hall, window, now)
            if assist.is_assist_screen(screen):
                allowed = self.assist_staff.get(request.sid)  # type: ignore[attr-defined]
                return assist.snapshot(db, hall, screen, allowed, self.rt.settings.secret_key)
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


def make_publisher(rt: Runtime, sio: SocketIO, namespace: HallNamespace | None = None) -> Any:
    """Publish after commit: the call first (what screens must show at once), then the refreshed state."""

    def publish(events: Iterable[Event]) -> None:
        events = tuple(events)
        called = False
        for e in events:
            if isinstance(e, TicketCalled):
                payload = e.payload()
                sio.emit("ticket_called", payload, to=f"hall:{e.hall}", namespace=NAMESPACE)
                called = True
        if called:
            # let the screens' writers send the call now (gevent, eventlet), before the refreshed
            # state is computed; a no-op wait for threads
            sio.sleep(0)
        try:
            assist.publish(rt, sio, events)
        except Exception:  # as below: the request already committed
            log.exception("publishing 帮办代办 updates after commit failed")
        changed = {e.hall for e in events if isinstance(e, TicketCalled | WindowUpdated)}
        if changed:
            waits.CACHE.invalidate(changed)  # calls, finishes, window changes: estimates change now
        state.add(events, changed)

    state = _StateRefresh(rt, sio, rt.settings.publish_coalesce_ms / 1000)
    if namespace is not None:
        namespace.state = state
    return publish


def listen_to_other_processes(sio: SocketIO) -> None:
    """Start hearing the other server processes (with Redis) now, not at the first change here."""
    for namespace in getattr(sio, "namespace_handlers", []):
        state = getattr(namespace, "state", None)
        if state is not None and state.relay is not None:
            state.relay.start(sio)


class _StateRefresh:
    """The refreshed state (queue_updated, window_updated, surge_alert) after a change.

    With `coalesce_s` > 0 (a running server) a hall's queue changes of that interval are gathered and
    the hall is refreshed once per interval from a background task, for all changed halls with one
    query: at a hundred tickets a second a hall's screens get a few queue updates a second, not a
    hundred, and the request that took the number does not wait for them. ticket_called and a
    window's own update never wait: a window screen and its rating pad see every step of a service.

    The queue state is computed where the screens are: each process refreshes only the halls that
    have a screen connected to it, and sends the refresh to its own screens. With several processes
    (Redis), each tells the others once per interval which halls changed on it (`HallsRelay`), so a
    ticket taken on one process refreshes the screens of another. Before this, every process computed
    every changed hall and pushed it through Redis whether or not any screen watched it: at 200
    tickets a second over 200 halls that was 15 % of the server's time with no screen connected.
    """

    def __init__(self, rt: Runtime, sio: SocketIO, coalesce_s: float) -> None:
        self.rt, self.sio, self.coalesce_s = rt, sio, coalesce_s
        self.halls: set[str] = set()  # changed here since the last refresh
        self.remote_halls: set[str] = set()  # changed on other processes (told through Redis)
        self.reload: set[str] = set()  # windows or calls changed here: the others drop their loads
        self.lock = threading.Lock()
        self.running = False
        self.relay = HallsRelay(rt.settings.redis_url, f"{rt.settings.redis_channel}:changed",
                                self.remote) if rt.settings.redis_url else None
        if self.relay is not None:
            auth.tell_others = self.relay.forget_principals

    def add(self, events: tuple[Event, ...], reload: set[str] | frozenset[str] = frozenset()) -> None:
        """Refresh after `events`; `reload`: halls whose windows or calls changed (the other processes
        drop their cached loads of them)."""
        halls = {e.hall for e in events if isinstance(e, QueueUpdated | TicketCalled)}
        windows = {(e.hall, e.window_id) for e in events if isinstance(e, WindowUpdated)}
        windows |= {(e.hall, e.window.id) for e in events if isinstance(e, TicketCalled)}
        if not halls and not windows:
            return
        if self.relay is not None:
            self.relay.start(self.sio)
        if self.coalesce_s <= 0:
            self._publish(halls, windows, _known_states(events))
            if self.relay is not None:
                self.relay.send(halls, set(reload))
            return
        if windows:  # a window's state goes out at once: its screen and rating pad follow each step
            self._publish(set(), windows, _known_states(events))
        self._pending(halls, self.halls, set(reload) if self.relay is not None else set())

    def remote(self, halls: set[str], reload: set[str]) -> None:
        """Halls changed on another process: drop the loads it changed, refresh those watched here."""
        if reload:
            waits.CACHE.invalidate(reload)
        if self.coalesce_s <= 0:
            self._publish(halls, set())
        else:
            self._pending(halls, self.remote_halls)

    def _pending(self, halls: set[str], into: set[str], reload: set[str] | None = None) -> None:
        if not halls and not reload:
            return
        with self.lock:
            into |= halls
            self.reload |= reload or set()
            start = not self.running
            self.running = True
        if start:
            self.sio.start_background_task(self._loop)

    def _loop(self) -> None:
        while True:
            self.sio.sleep(self.coalesce_s)
            with self.lock:
                local, remote, reload = set(self.halls), set(self.remote_halls), set(self.reload)
                self.halls.clear()
                self.remote_halls.clear()
                self.reload.clear()
                if not local and not remote and not reload:
                    self.running = False
                    return
            if self.relay is not None:
                self.relay.send(local, reload)  # only what changed here: what others told us is theirs
            self._publish(local | remote, set())

    def watched(self, halls: set[str]) -> set[str]:
        """The halls with a screen or console connected to this process."""
        rooms = _rooms(self.sio)
        return {h for h in halls if f"hall:{h}" in rooms}

    def _publish(self, halls: set[str], windows: set[tuple[str, int]],
                 known: dict[tuple[str, int], dict[str, Any]] | None = None) -> None:
        # A few halls per read, letting requests run in between: refreshing two hundred halls at
        # once would hold a cooperative (gevent) server for a noticeable time.
        batch = sorted(self.watched(halls))
        local = self.relay is not None  # the other processes refresh their own screens
        if not local:  # one process: a window nobody watches needs no refresh either
            seen = self.watched({hall for hall, _ in windows})
            windows = {w for w in windows if w[0] in seen}
        known = known or {}
        now = clock.now()
        for hall, window_id in sorted(windows & known.keys()):  # read by the change itself
            _emit_window(self.sio, hall, known[hall, window_id], now)
        windows -= known.keys()
        for start in range(0, max(len(batch), 1), REFRESH_BATCH):
            part = set(batch[start:start + REFRESH_BATCH])
            if not part and (start or not windows):
                break
            try:
                _publish_state(self.rt, self.sio, part, windows if start == 0 else set(), local)
            except Exception:  # a screen refresh must never fail the request that already committed
                log.exception("publishing state after commit failed")
            if len(batch) > REFRESH_BATCH:
                self.sio.sleep(0)


class HallsRelay:
    """Tells the other server processes which halls changed here, through Redis (one message per
    interval), and hands what they say to `on_remote`: the halls whose queue changed, and those whose
    windows or calls changed (the others drop their cached loads of these at once, instead of
    using them until they expire)."""

    def __init__(self, url: str, channel: str, on_remote: Any) -> None:
        self.url, self.channel, self.on_remote = url, channel, on_remote
        self.me = uuid.uuid4().hex
        self.client: Any = None
        self.started = False

    def start(self, sio: SocketIO) -> None:
        if not self.started:
            self.started = True
            sio.start_background_task(self._listen, sio)

    def send(self, halls: set[str], reload: set[str]) -> None:
        if halls or reload:
            self._publish({"from": self.me, "halls": sorted(halls), "reload": sorted(reload)},
                          "which halls changed")

    def _publish(self, message: dict[str, Any], what: str) -> None:
        try:
            if self.client is None:
                import redis

                self.client = redis.Redis.from_url(self.url)
            self.client.publish(self.channel, json.dumps(message))
        except Exception:  # Redis down: the others refresh on their next change, tokens within the TTL
            log.warning("could not tell the other processes %s", what, exc_info=True)
            self.client = None

    def forget_principals(self) -> None:
        """A staff or device row changed here: the others drop who their tokens name at once."""
        self._publish({"from": self.me, "principals": True}, "a staff or device change")

    def _listen(self, sio: SocketIO) -> None:
        import redis

        lost = False
        while True:
            try:
                pubsub = redis.Redis.from_url(self.url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                if lost:
                    log.warning("hall change relay: Redis is back")
                    lost = False
                for message in pubsub.listen():  # type: ignore[no-untyped-call]
                    data = json.loads(message["data"])
                    if data.get("from") == self.me:
                        continue
                    if data.get("principals"):
                        auth.forget_principals()
                    else:
                        self.on_remote({str(h) for h in data.get("halls", [])},
                                       {str(h) for h in data.get("reload", [])})
            except Exception as e:  # reconnect: Redis restarted or the connection dropped
                if not lost:  # once per outage, not once a second
                    log.warning("hall change relay lost Redis (%s); reconnecting every second", e)
                    lost = True
                sio.sleep(1.0)


def _publish_state(rt: Runtime, sio: SocketIO, halls: set[str], windows: set[tuple[str, int]],
                   local: bool = False) -> None:
    """Emit the queue state of `halls` (to this process's screens alone when `local`) and the state
    of `windows` (to every process's)."""
    now = clock.now()
    codes = halls | {h for h, _ in windows}
    with rt.database.read() as db:
        found = {h.code: h for h in db.scalars(select(Hall).where(Hall.code.in_(codes)))}
        waits = halls_waits(db, [found[c] for c in sorted(halls) if c in found], now)
        for code in sorted(codes):
            hall = found.get(code)
            if hall is None:
                continue
            if code in waits:
                sio.emit("queue_updated", {"hall": code, "bundles": [b.to_json() for b in waits[code]],
                                           "at": now.isoformat()},
                         to=f"hall:{code}", namespace=NAMESPACE, ignore_queue=local)
                # 办件激增预警 to manager consoles: the current alerts, an empty list when all clear
                # (each process refreshes its own screens: none here, nothing to compute)
                if f"manager:{code}" in _rooms(sio):
                    sio.emit("surge_alert", alerts_payload(db, hall, now, waits[code]),
                             to=f"manager:{code}", namespace=NAMESPACE, ignore_queue=local)
            for hall_code, window_id in sorted(windows):
                window = db.get(Window, window_id)
                if hall_code != code or window is None:
                    continue
                _emit_window(sio, code, window_update(db, hall, window, now), now)


def _rooms(sio: SocketIO) -> dict[str, Any]:
    """The rooms of the `/hall` namespace with a client connected to this process."""
    return sio.server.manager.rooms.get(NAMESPACE, {})  # type: ignore[no-any-return]


def _known_states(events: Iterable[Event]) -> dict[tuple[str, int], dict[str, Any]]:
    """The windows' states the changes read in their own transactions (WindowUpdated.state)."""
    return {(e.hall, e.window_id): e.state for e in events
            if isinstance(e, WindowUpdated) and e.state is not None}


def _emit_window(sio: SocketIO, hall: str, state: dict[str, Any], now: Any) -> None:
    sio.emit("window_updated", {"hall": hall, "window": state["window"], "next": state["next"],
                                "at": now.isoformat()}, to=f"hall:{hall}", namespace=NAMESPACE)
