"""Window state and allocation: pause, resume, open, close, and which bundles a window serves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..db import Database
from ..events import Event, QueueUpdated, WindowUpdated
from ..models import Allocation, Bundle, Hall, Window
from ..queue.errors import BadRequest, InvalidTransition
from .common import Check, audit, bundle_by_code, hall_by_code, lock_window, window_in_hall


@dataclass(frozen=True, slots=True)
class WindowView:
    """DESIGN.md window shape: {id, number, name, kind, open, bundles: [{code, name, rank}]}."""

    id: int
    number: int
    name: str
    kind: str
    open: bool
    paused: bool
    bundles: tuple[tuple[str, str, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "name": self.name, "kind": self.kind,
                "open": self.open, "paused": self.paused,
                "bundles": [{"code": c, "name": n, "rank": r} for c, n, r in self.bundles]}


def window_view(window: Window, bundles: tuple[tuple[str, str, int], ...] | None = None) -> WindowView:
    """The window; `bundles` (code, name, rank) when already read, e.g. by `allocated`."""
    if bundles is None:
        bundles = tuple((a.bundle.code, a.bundle.name, a.rank) for a in window.allocations)
    return WindowView(window.id, window.number, window.name, window.kind, window.open, window.paused,
                      bundles)


_ALLOCATED = (select(Allocation.window_id, Bundle.code, Bundle.name, Allocation.rank)
              .join(Bundle, Bundle.id == Allocation.bundle_id)
              .join(Window, Window.id == Allocation.window_id)
              .where(Window.hall_id == bindparam("hall"))
              .order_by(Allocation.window_id, Allocation.rank, Bundle.prefix))
_ALLOCATED_AT = _ALLOCATED.where(Window.id == bindparam("window"))


def allocated(db: Session, hall_id: int,
              window_id: int | None = None) -> dict[int, tuple[tuple[str, str, int], ...]]:
    """Every window's bundles (code, name, rank) in one query, or one window's: screens refresh after
    each call, and loading each window's allocations and their bundles one by one cost more."""
    found: dict[int, list[tuple[str, str, int]]] = {}
    query = _ALLOCATED if window_id is None else _ALLOCATED_AT
    for window, code, name, rank in db.connection().execute(query, {"hall": hall_id, "window": window_id}):
        found.setdefault(window, []).append((code, name, rank))
    return {window: tuple(rows) for window, rows in found.items()}


def list_windows(database: Database, hall_code: str) -> list[WindowView]:
    with database.read() as db:
        hall = hall_by_code(db, hall_code)
        rows = db.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number))
        return [window_view(w) for w in rows]


def _change(database: Database, window_id: int, now: datetime, actor: str, action: str,
            apply: Any, check: Check = None) -> tuple[WindowView, tuple[Event, ...]]:
    with database.write() as db:
        hall, window = lock_window(db, window_id, check)
        apply(window)
        audit(db, now, actor, action, hall.id, target=f"window:{window.number}")
        return window_view(window), (WindowUpdated(hall.code, window.id),
                                     QueueUpdated(hall.code, ()))


def _set_paused(paused: bool) -> Any:
    def apply(window: Window) -> None:
        if not window.open:
            raise InvalidTransition(f"{window.number}号窗口未开放")
        if window.paused == paused:
            raise InvalidTransition(f"{window.number}号窗口已{'暂停' if paused else '在服务'}")
        window.paused = paused
    return apply


Changed = tuple[WindowView, tuple[Event, ...]]


def pause(database: Database, window_id: int, now: datetime, actor: str = "system",
          check: Check = None) -> Changed:
    """Stop calling at this window for a while (the current ticket can still be finished)."""
    return _change(database, window_id, now, actor, "window.pause", _set_paused(True), check)


def resume(database: Database, window_id: int, now: datetime, actor: str = "system",
           check: Check = None) -> Changed:
    return _change(database, window_id, now, actor, "window.resume", _set_paused(False), check)


def set_open(database: Database, window_id: int, is_open: bool, now: datetime,
             actor: str = "system", check: Check = None) -> tuple[WindowView, tuple[Event, ...]]:
    """Open or close a window (a manager's action); a closed window's transfers fall back to their bundles."""
    def apply(window: Window) -> None:
        window.open = is_open
        window.paused = False
    return _change(database, window_id, now, actor, "window.open" if is_open else "window.close", apply,
                   check)


def set_allocation(database: Database, hall_code: str, window_number: int,
                   bundles: Sequence[tuple[str, int]], now: datetime,
                   actor: str = "system") -> tuple[WindowView, tuple[Event, ...]]:
    """Replace the bundles a window serves, each with its rank; effective for the next call."""
    codes = [c for c, _ in bundles]
    if len(set(codes)) != len(codes):
        raise BadRequest("同一事项不能重复分配给一个窗口")
    if any(rank < 1 for _, rank in bundles):
        raise BadRequest("优先级(rank)从1开始")
    with database.write() as db:
        hall = hall_by_code(db, hall_code, lock=True)
        window = window_in_hall(db, hall, window_number)
        before = {a.bundle.code: a.rank for a in window.allocations}
        window.allocations.clear()
        db.flush()
        for code, rank in bundles:
            window.allocations.append(Allocation(bundle=bundle_by_code(db, code), rank=rank))
        audit(db, now, actor, "window.allocation", hall.id, target=f"window:{window.number}",
              before=before, after=dict(bundles))
        db.flush()
        return window_view(window), (WindowUpdated(hall.code, window.id),
                                     QueueUpdated(hall.code, tuple(set(before) | set(codes))))


def allocate_all(db: Session, window: Window, rank: int = 1) -> None:
    """Give a window every bundle of the catalogue at one rank (综合受理)."""
    for bundle in db.scalars(select(Bundle).order_by(Bundle.prefix)):
        window.allocations.append(Allocation(bundle=bundle, rank=rank))


def halls(database: Database) -> list[Hall]:
    with database.read() as db:
        return list(db.scalars(select(Hall).order_by(Hall.code)))
