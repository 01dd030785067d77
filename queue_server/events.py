"""Events the services return after their transaction; the realtime layer publishes them after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class WindowRef:
    id: int
    number: int
    name: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "name": self.name}


@dataclass(frozen=True, slots=True)
class TicketCalled:
    """A ticket was called (or recalled) to a window: the hall screens announce it."""

    hall: str
    number: str
    bundle: str
    priority: str
    window: WindowRef
    announcement: str
    recall: bool
    at: datetime
    name = "ticket_called"

    def payload(self) -> dict[str, Any]:
        return {
            "hall": self.hall,
            "ticket": {"number": self.number, "bundle": self.bundle, "priority": self.priority},
            "window": self.window.to_json(),
            "announcement": self.announcement,
            "recall": self.recall,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class QueueUpdated:
    """A hall's queue changed (issued, called, transferred…); screens refresh waits from it."""

    hall: str
    bundles: tuple[str, ...] = field(default=())
    name = "queue_updated"

    def payload(self) -> dict[str, Any]:
        return {"hall": self.hall, "bundles": list(self.bundles)}


@dataclass(frozen=True, slots=True)
class WindowUpdated:
    """A window's state, allocation or current ticket changed.

    `state`: the window's new state ({window, next}, services.snapshot.window_update) when the change
    read it in its own transaction (a window's actions do); otherwise the publisher reads it.
    """

    hall: str
    window_id: int
    state: dict[str, Any] | None = field(default=None, compare=False)
    name = "window_updated"

    def payload(self) -> dict[str, Any]:
        return {"hall": self.hall, "window": {"id": self.window_id}}


@dataclass(frozen=True, slots=True)
class AssistUpdated:
    """A 帮办代办 request was filed or moved on: staff consoles and the citizen's phone page refresh it."""

    hall: str
    request_id: int
    follow_token: str
    name = "assist_updated"

    def payload(self) -> dict[str, Any]:
        return {"hall": self.hall, "request": {"id": self.request_id}}


Event = TicketCalled | QueueUpdated | WindowUpdated | AssistUpdated
Publisher = Callable[[Iterable[Event]], None]


def no_publisher(events: Iterable[Event]) -> None:
    """Publish nowhere (CLI, tests of the rules)."""
    del events
