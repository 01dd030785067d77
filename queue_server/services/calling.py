"""A window's actions on its tickets: call next, recall, no-show, start, finish, transfer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from display.announcement import announcement

from ..db import Database
from ..events import Event, QueueUpdated, TicketCalled, WindowUpdated
from ..models import Hall, Ticket, Window
from ..queue import calling
from ..queue.errors import (
    BundleNotServed,
    InvalidTransition,
    NoCurrentTicket,
    NotFound,
    QueueEmpty,
    RecallLimit,
    WindowClosed,
    WindowPaused,
)
from .common import (
    Check,
    TicketView,
    bundle_by_code,
    current_ticket,
    lock_window,
    next_at_window,
    record,
    today,
    view,
    window_ref,
)
from .snapshot import NEXT_FEW, window_update
from .tickets import served_in


@dataclass(frozen=True, slots=True)
class Acted:
    """The result of a window action: the ticket it touched and the events to publish."""

    ticket: TicketView | None
    events: tuple[Event, ...]


def _called_event(hall: Hall, ticket: Ticket, window: Window, now: datetime, recall: bool) -> TicketCalled:
    return TicketCalled(
        hall=hall.code, number=ticket.number, bundle=ticket.bundle.code, priority=ticket.priority,
        window=window_ref(window), announcement=announcement(ticket.number, window.number, recall),
        recall=recall, at=now,
    )


def _window_updated(db: Session, hall: Hall, window: Window, now: datetime, **known: Any) -> WindowUpdated:
    """The window's new state, read in the change's own transaction (the publisher need not read it
    again after commit); `known`: window_update's current ticket and next line, when at hand."""
    return WindowUpdated(hall.code, window.id, window_update(db, hall, window, now, **known))


def _finish(db: Session, ticket: Ticket, window: Window, now: datetime, how: str) -> None:
    ticket.status = calling.Status.DONE.value
    ticket.started_at = ticket.started_at or ticket.called_at
    ticket.finished_at = now
    record(db, ticket, "finished", now, window.id, how=how)


def call_next(database: Database, window_id: int, now: datetime, staff_id: int | None = None,
              check: Check = None) -> Acted:
    """Call the next ticket for the window (the current one, if any, is finished first).

    Two windows pressing at the same moment never get the same ticket: the hall row is locked for
    the choice and the update.
    """
    with database.write() as db:
        hall, window = lock_window(db, window_id, check)
        if not window.open:
            raise WindowClosed(f"{window.number}号窗口未开放")
        if window.paused:
            raise WindowPaused(f"{window.number}号窗口已暂停，请先恢复")
        day = today(hall, now)
        current = current_ticket(db, window, day)
        if current is not None:
            _finish(db, current, window, now, how="next")
        chosen = next_at_window(db, hall.id, day, window.id, now, count=1 + NEXT_FEW)
        if not chosen:
            raise QueueEmpty(f"{window.number}号窗口暂无等候")
        ticket = db.get_one(Ticket, chosen[0].id, options=[joinedload(Ticket.bundle)])
        ticket.status = calling.Status.CALLED.value
        ticket.window_id = window.id
        ticket.for_window_id = None
        ticket.called_at = now
        ticket.recall_count = 0
        ticket.staff_id = staff_id
        record(db, ticket, "called", now, window.id)
        return Acted(view(ticket, people_ahead=0, window=window), (
            _called_event(hall, ticket, window, now, recall=False),
            QueueUpdated(hall.code, (ticket.bundle.code,)),
            _window_updated(db, hall, window, now, current=ticket, line=chosen[1:]),
        ))


def _current_or_refuse(db: Session, hall: Hall, window: Window, now: datetime,
                       allowed: tuple[calling.Status, ...]) -> Ticket:
    ticket = current_ticket(db, window, today(hall, now))
    if ticket is None:
        raise NoCurrentTicket(f"{window.number}号窗口当前没有叫到的号")
    if calling.Status(ticket.status) not in allowed:
        raise InvalidTransition(f"{ticket.number}号当前状态不能进行此操作")
    return ticket


def recall(database: Database, window_id: int, now: datetime, check: Check = None) -> Acted:
    """Call the current ticket again, up to the hall's recall limit; past it the clerk marks a no-show."""
    with database.write() as db:
        hall, window = lock_window(db, window_id, check)
        ticket = _current_or_refuse(db, hall, window, now, (calling.Status.CALLED,))
        if ticket.recall_count >= hall.recall_limit:
            raise RecallLimit(f"{ticket.number}号已重呼{hall.recall_limit}次，请标记过号")
        ticket.recall_count += 1
        record(db, ticket, "recalled", now, window.id, count=ticket.recall_count)
        return Acted(view(ticket, people_ahead=0, window=window), (
            _called_event(hall, ticket, window, now, recall=True),
            _window_updated(db, hall, window, now),
        ))


def no_show(database: Database, window_id: int, now: datetime, check: Check = None) -> Acted:
    """The called citizen did not come (过号); the ticket can be put back in line later."""
    with database.write() as db:
        hall, window = lock_window(db, window_id, check)
        ticket = _current_or_refuse(db, hall, window, now, (calling.Status.CALLED,))
        ticket.status = calling.Status.NO_SHOW.value
        ticket.finished_at = now
        record(db, ticket, "no_show", now, window.id)
        return Acted(view(ticket, window=window), (_window_updated(db, hall, window, now),))


def start(database: Database, window_id: int, now: datetime, check: Check = None) -> Acted:
    """The citizen is at the counter: service time counts from here."""
    with database.write() as db:
        hall, window = lock_window(db, window_id, check)
        ticket = _current_or_refuse(db, hall, window, now, (calling.Status.CALLED,))
        ticket.status = calling.Status.SERVING.value
        ticket.started_at = now
        record(db, ticket, "started", now, window.id)
        return Acted(view(ticket, people_ahead=0, window=window), (_window_updated(db, hall, window, now),))


def finish(database: Database, window_id: int, now: datetime, check: Check = None) -> Acted:
    """The matter is done at this window."""
    with database.write() as db:
        hall, window = lock_window(db, window_id, check)
        ticket = _current_or_refuse(db, hall, window, now,
                                    (calling.Status.CALLED, calling.Status.SERVING))
        _finish(db, ticket, window, now, how="finish")
        return Acted(view(ticket, window=window), (_window_updated(db, hall, window, now),))


def transfer(database: Database, window_id: int, now: datetime, *,
             to_bundle: str | None = None, to_window: int | None = None, check: Check = None) -> Acted:
    """Send the current ticket to another bundle's line or to one window, keeping its place in time.

    `to_window` is a window number in the same hall. The ticket keeps its number and `queue_at`, so
    the citizen does not queue again; a ticket sent to a window is called there before anything else.
    """
    if (to_bundle is None) == (to_window is None):
        raise InvalidTransition("请指定转到的事项或窗口（二选一）")
    with database.write() as db:
        hall, window = lock_window(db, window_id, check)
        ticket = _current_or_refuse(db, hall, window, now,
                                    (calling.Status.CALLED, calling.Status.SERVING))
        before = ticket.bundle.code
        if to_bundle is not None:
            bundle = bundle_by_code(db, to_bundle)
            if not served_in(db, hall, bundle):
                raise BundleNotServed(f"{hall.name}没有窗口办理“{bundle.name}”，不能转过去")
            ticket.bundle = bundle
            ticket.for_window_id = None
            target = to_bundle
        else:
            dest = db.scalar(select(Window).where(Window.hall_id == hall.id, Window.number == to_window))
            if dest is None:
                raise NotFound(f"没有{to_window}号窗口")
            if dest.id == window.id:
                raise InvalidTransition("不能转给本窗口")
            ticket.for_window_id = dest.id
            target = f"window:{dest.number}"
        ticket.status = calling.Status.WAITING.value
        ticket.window_id = None
        ticket.started_at = None
        ticket.recall_count = 0
        ticket.transfer_count += 1
        record(db, ticket, "transferred", now, window.id, to=target)
        events: list[Event] = [QueueUpdated(hall.code, tuple({before, ticket.bundle.code})),
                               _window_updated(db, hall, window, now)]
        if ticket.for_window_id:
            events.append(WindowUpdated(hall.code, ticket.for_window_id))
        return Acted(view(ticket), tuple(events))
