"""What a running app holds: settings, database, the event publisher; reached through `runtime()`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from . import __version__
from .db import Database
from .events import Event, Publisher, no_publisher
from .settings import Settings

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "assets" / "web"


@dataclass
class Runtime:
    settings: Settings
    database: Database
    publisher: Publisher = no_publisher
    version: str = __version__

    def publish(self, events: Iterable[Event]) -> None:
        """Send events to the screens; call only after the transaction that made them committed."""
        self.publisher(tuple(events))


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["govhall"]
    return rt


def build_version() -> str:
    """The package version plus a digest of the pages' sources: screens reload when it changes.

    The same on every server process of one installation (unlike a boot id), so screens behind a
    load balancer do not flap.
    """
    digest = hashlib.sha256(__version__.encode())
    for folder in (WEB, ROOT / "display" / "templates", ROOT / "queue_server" / "consoles" / "templates",
                   ROOT / "kiosk" / "templates"):
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file() and "node_modules" not in p.parts):
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"
