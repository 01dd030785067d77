"""Who is called next, who is ahead of whom, and where a returning no-show goes back in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum


class Priority(StrEnum):
    """Why a ticket may go ahead (绿色通道), or not."""

    NONE = "none"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    APPOINTMENT = "appointment"


class Status(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    EXPIRED = "expired"  # still waiting when its service day ended


class Lane(IntEnum):
    """Call order between kinds of ticket (DESIGN.md: transferred, due appointment, priority, normal)."""

    TRANSFERRED, APPOINTMENT, PRIORITY, NORMAL = range(4)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A waiting ticket as the rules see it."""

    id: int
    number: str  # "A012"
    bundle: str
    priority: Priority
    queue_at: datetime  # the place in line: taken_at, kept on transfer, moved on a no-show's return
    for_window: int | None = None  # transferred to one window
    due_at: datetime | None = None  # an appointment's slot start


def base_lane(t: Ticket, now: datetime) -> Lane:
    """The lane of a ticket for any window other than the one it was transferred to."""
    if t.priority is Priority.APPOINTMENT and t.due_at is not None and t.due_at <= now:
        return Lane.APPOINTMENT
    if t.priority in (Priority.ELDERLY, Priority.DISABLED):
        return Lane.PRIORITY
    return Lane.NORMAL


def lane_for(t: Ticket, window: int, now: datetime) -> Lane:
    """The lane of `t` when `window` calls: its own transfers come first."""
    return Lane.TRANSFERRED if t.for_window == window else base_lane(t, now)


def eligible(t: Ticket, window: int, ranks: Mapping[str, int], unavailable: frozenset[int]) -> bool:
    """Whether `window` may call `t`: transferred to it, or in a bundle it serves and not held elsewhere.

    A ticket transferred to a window that has since closed falls back to its bundle's queue, so a
    closed window never strands a citizen.
    """
    if t.for_window == window:
        return True
    held_elsewhere = t.for_window is not None and t.for_window not in unavailable
    return not held_elsewhere and t.bundle in ranks


def choose_next(
    waiting: Iterable[Ticket],
    window: int,
    ranks: Mapping[str, int],
    now: datetime,
    unavailable: frozenset[int] = frozenset(),
) -> Ticket | None:
    """The ticket `window` should call; None if nothing it serves waits.

    Order: transferred to this window, due appointments, priority, then the window's rank of the
    bundle (1 = primary), then the oldest place in line.
    """

    def order(t: Ticket) -> tuple[int, int, datetime, int]:
        lane = lane_for(t, window, now)
        rank = 0 if lane is Lane.TRANSFERRED else ranks.get(t.bundle, 1)
        return (lane, rank, t.queue_at, t.id)

    mine = [t for t in waiting if eligible(t, window, ranks, unavailable)]
    return min(mine, key=order, default=None)


def line_order(t: Ticket, now: datetime) -> tuple[int, datetime, int]:
    """Order within one bundle's line, as every window but a transfer target sees it."""
    return (base_lane(t, now), t.queue_at, t.id)


def people_ahead(ticket: Ticket, waiting: Iterable[Ticket], now: datetime) -> int:
    """Waiting tickets of the same bundle that would be called before `ticket`."""
    if ticket.for_window is not None:
        mine = [t for t in waiting if t.for_window == ticket.for_window and t.id != ticket.id]
        return sum(1 for t in mine if (t.queue_at, t.id) < (ticket.queue_at, ticket.id))
    key = line_order(ticket, now)
    return sum(
        1
        for t in waiting
        if t.id != ticket.id and t.bundle == ticket.bundle and t.for_window is None
        and line_order(t, now) < key
    )


def requeue_at(returning: Ticket, waiting: Sequence[Ticket], places: int, now: datetime) -> datetime:
    """The `queue_at` that puts a returning no-show `places` places behind the head of its line.

    Counted among the waiting tickets of its bundle and lane; with fewer than `places` waiting it
    goes to the end of that line. (过号 rule: the citizen is served soon, but not before those
    who were present.)
    """
    lane = base_lane(returning, now)
    line = sorted(
        (t for t in waiting
         if t.bundle == returning.bundle and t.id != returning.id and t.for_window is None
         and base_lane(t, now) == lane),
        key=lambda t: (t.queue_at, t.id),
    )
    if not line:
        return now
    anchor = line[min(places, len(line)) - 1] if places > 0 else None
    if anchor is None:
        return line[0].queue_at - timedelta(microseconds=1)
    return anchor.queue_at + timedelta(microseconds=1)
