"""A window's actions (the clerk seated there, or a manager) and a manager's allocation changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apiflask import APIBlueprint

from ..auth import Principal, auth, check_hall_code, check_seat, current
from ..models import Window
from ..queue.errors import BadRequest, NotFound
from ..runtime import runtime
from ..services import calling, windows
from .common import now, responses
from .schemas import AllocationIn, OpenIn, TicketEnvelope, TransferIn, WindowOut

bp = APIBlueprint("windows", __name__, url_prefix="/api/v1", tag="Windows")


def _seated(window_id: int) -> None:
    """Refuse unless the caller may act at this window (a clerk only at their own seat)."""
    with runtime().database.read() as db:
        window = db.get(Window, window_id)
        if window is None:
            raise NotFound(f"没有编号为 {window_id} 的窗口")
        check_seat(current(), window)


def _seat_of(who: Principal) -> Callable[[Window], None]:
    """`check_seat` for the window an action loads in its own transaction (no read of its own)."""
    return lambda window: check_seat(who, window)


def _ticket_action(name: str, action: Callable[..., calling.Acted], summary: str) -> None:
    def view(window: int) -> dict[str, Any]:
        who = current()
        kwargs = {"staff_id": who.id} if name == "call-next" and who.kind == "staff" else {}
        acted = action(runtime().database, window, now(), check=_seat_of(who), **kwargs)
        runtime().publish(acted.events)
        return {"ticket": acted.ticket.to_json() if acted.ticket else None}

    view.__name__ = name.replace("-", "_")
    view.__doc__ = summary
    codes = (401, 403, 404, 409)
    bp.post(f"/windows/<int(max=2147483647):window>/{name}")(
        bp.auth_required(auth, roles=["clerk", "manager"])(
            bp.output(TicketEnvelope)(bp.doc(summary=summary, responses=responses(*codes))(view))))


_ticket_action("call-next", calling.call_next, "Call the next ticket (409 queue_empty when none waits)")
_ticket_action("recall", calling.recall, "Call the current ticket again (up to the hall's limit)")
_ticket_action("no-show", calling.no_show, "Mark the called citizen absent (过号)")
_ticket_action("start", calling.start, "The citizen is at the counter: start service")
_ticket_action("finish", calling.finish, "Finish the current ticket")


@bp.post("/windows/<int(max=2147483647):window>/transfer")
@bp.auth_required(auth, roles=["clerk", "manager"])
@bp.input(TransferIn, arg_name="body")
@bp.output(TicketEnvelope)
@bp.doc(summary="Transfer the current ticket to a bundle or to a window number (keeps its place in time)",
        responses=responses(400, 401, 403, 404, 409))
def transfer(window: int, body: dict[str, Any]) -> dict[str, Any]:
    if (body.get("bundle") is None) == (body.get("window") is None):
        _seated(window)  # a caller who may not act here hears that first
        raise BadRequest("请指定转到的事项(bundle)或窗口号(window)，二选一")
    acted = calling.transfer(runtime().database, window, now(), to_bundle=body.get("bundle"),
                             to_window=body.get("window"), check=_seat_of(current()))
    runtime().publish(acted.events)
    return {"ticket": acted.ticket.to_json() if acted.ticket else None}


def _window_state(window: int, change: Callable[..., tuple[windows.WindowView, tuple]]) -> dict[str, Any]:
    who = current()
    view, events = change(runtime().database, window, now(), actor=who.actor, check=_seat_of(who))
    runtime().publish(events)
    return view.to_json()


@bp.post("/windows/<int(max=2147483647):window>/pause")
@bp.auth_required(auth, roles=["clerk", "manager"])
@bp.output(WindowOut)
@bp.doc(summary="Pause calling at the window", responses=responses(401, 403, 404, 409))
def pause(window: int) -> dict[str, Any]:
    return _window_state(window, windows.pause)


@bp.post("/windows/<int(max=2147483647):window>/resume")
@bp.auth_required(auth, roles=["clerk", "manager"])
@bp.output(WindowOut)
@bp.doc(summary="Resume calling at the window", responses=responses(401, 403, 404, 409))
def resume(window: int) -> dict[str, Any]:
    return _window_state(window, windows.resume)


@bp.put("/windows/<int(max=2147483647):window>/open")
@bp.auth_required(auth, roles=["manager"])
@bp.input(OpenIn, arg_name="body")
@bp.output(WindowOut)
@bp.doc(summary="Open or close a window (manager)", responses=responses(401, 403, 404))
def set_open(window: int, body: dict[str, Any]) -> dict[str, Any]:
    who = current()
    view, events = windows.set_open(runtime().database, window, body["open"], now(), actor=who.actor,
                                    check=_seat_of(who))
    runtime().publish(events)
    return view.to_json()


@bp.put("/halls/<hall>/windows/<int(max=2147483647):window>/bundles")
@bp.auth_required(auth, roles=["manager"])
@bp.input(AllocationIn, arg_name="body")
@bp.output(WindowOut)
@bp.doc(summary="Change which bundles a window serves, with rank (manager); `window` is its number",
        responses=responses(400, 401, 403, 404))
def allocate(hall: str, window: int, body: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    who = current()
    check_hall_code(hall)
    view, events = windows.set_allocation(rt.database, hall, window,
                                          [(b["code"], b["rank"]) for b in body["bundles"]],
                                          now(), actor=who.actor)
    rt.publish(events)
    return view.to_json()


