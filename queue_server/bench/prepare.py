"""A fresh, repeatable bench database: N halls shaped like the demo hall, seated clerks, kiosk tokens.

SQLite: a new file in the run's temporary folder. PostgreSQL: a new database created next to the one
the URL names (dropped at the end), so runs never see each other's tickets.
"""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from .. import clock
from ..db import Database

BENCH_PASSWORD = "bench-not-a-secret"  # noqa: S105 - seeded accounts of a throw-away database


@dataclass(frozen=True)
class WindowSeat:
    id: int
    number: int
    token: str  # the seated clerk's bearer token
    calls_all: bool  # serves every bundle: call-next always finds a waiting ticket


@dataclass(frozen=True)
class HallSeats:
    code: str
    windows: tuple[WindowSeat, ...]
    kiosks: tuple[str, ...]  # device tokens


@dataclass
class Fixture:
    """What the load needs to know about the prepared database."""

    url: str
    halls: list[HallSeats]
    bundles: list[str]
    created_database: str | None = None  # PostgreSQL database to drop at the end
    seed_s: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def call_windows(self) -> list[tuple[str, WindowSeat]]:
        """Calling windows interleaved over halls: hall 1 window a, hall 2 window a, …, hall 1 window b."""
        per_hall = [[w for w in h.windows if w.calls_all] for h in self.halls]
        out: list[tuple[str, WindowSeat]] = []
        for i in range(max((len(w) for w in per_hall), default=0)):
            out += [(h.code, ws[i]) for h, ws in zip(self.halls, per_hall, strict=True) if i < len(ws)]
        return out

    def kiosks(self) -> list[tuple[str, str]]:
        """(hall, token) interleaved over halls, so consecutive tickets go to different halls."""
        out: list[tuple[str, str]] = []
        for i in range(max(len(h.kiosks) for h in self.halls)):
            out += [(h.code, h.kiosks[i]) for h in self.halls if i < len(h.kiosks)]
        return out


def fresh_database(base_url: str | None, folder: Path, name: str) -> tuple[str, str | None]:
    """A URL of an empty database: a new SQLite file, or a new PostgreSQL database on base_url's server."""
    if base_url is None or make_url(base_url).get_backend_name() == "sqlite":
        return f"sqlite:///{folder / f'{name}.db'}", None
    db_name = f"govhall_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    return make_url(base_url).set(database=db_name).render_as_string(hide_password=False), db_name


def drop_database(base_url: str, db_name: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
    admin.dispose()


def staff_token(secret_key: str, staff_id: int, password_hash: str) -> str:
    """The token `POST /api/v1/auth/login` would give (queue_server.auth.issue_staff_token's shape).

    Minted here because 1,000 Argon2 logins would take the bench a minute of CPU.
    """
    from ..auth import _SALT

    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps({"s": staff_id, "p": password_hash[-12:]})


def kiosks_per_hall(halls: int, peak_rate: float, limit: str) -> int:
    """Enough kiosks that none goes past half its own rate limit (limits count per device)."""
    from limits import parse_many

    per_s = min(item.amount / item.get_expiry() for item in parse_many(limit))
    return max(2, math.ceil(peak_rate / (per_s * 0.5) / halls))


def seed_halls(url: str, halls: int, kiosks: int, secret_key: str) -> Fixture:
    """Migrate, load the catalogue, and add `halls` copies of the demo hall with seated clerks."""
    import time

    from ..catalogue import load_catalogue, load_demo_hall
    from ..migrate import upgrade
    from ..models import Allocation, Bundle, Device, Hall, HallServiceSetting, Staff, Window
    from ..passwords import hash_password
    from ..seed import seed_catalogue
    from ..tokens import token_hash

    started = time.monotonic()
    database = Database(url)
    upgrade(database)
    catalogue = load_catalogue()
    seed_catalogue(database, catalogue, clock.now())
    spec = load_demo_hall(catalogue)
    every = set(catalogue.bundle_codes)
    hashed = hash_password(BENCH_PASSWORD)
    now = clock.now()
    # Device ids start at a random offset: rate-limit counters kept in a shared Redis are keyed by
    # device id, and must not carry over from an earlier run's kiosks.
    device_id = 1_000_000 + secrets.randbelow(1_000_000) * 1000  # stays a 32-bit integer
    seats: list[HallSeats] = []
    with database.write() as db:
        bundles = {b.code: b for b in db.scalars(select(Bundle))}
        rows = []
        for i in range(1, halls + 1):
            hall = Hall(code=f"bench{i:04d}", name=f"压测大厅{i}", timezone=spec.hall.timezone,
                        opens=spec.hall.opens, closes=spec.hall.closes, notice=spec.hall.notice)
            for w in spec.windows:
                window = Window(hall=hall, number=w.number, name=w.name, kind=w.kind, open=True)
                window.allocations = [Allocation(bundle=bundles[r.code], rank=r.rank) for r in w.bundles]
            db.add(hall)
            rows.append(hall)
        db.flush()
        # The demo hall's settings, its closing-time guard included (off: a bench runs at any hour;
        # with it on, numbers taken after the demo hall's closing time would be refused)
        db.add_all(HallServiceSetting(hall_id=hall.id, closing_guard=int(spec.hall.closing_guard))
                   for hall in rows)
        staff: list[tuple[Hall, Window, Staff]] = []
        for hall in rows:
            for window in hall.windows:
                s = Staff(username=f"{hall.code}-w{window.number}", name=f"{window.number}号窗口",
                          password_hash=hashed, role="clerk", hall_id=hall.id, window_id=window.id,
                          created_at=now)
                db.add(s)
                staff.append((hall, window, s))
        tokens: dict[str, list[str]] = {h.code: [] for h in rows}
        for hall in rows:
            for k in range(kiosks):
                token = secrets.token_urlsafe(24)
                device_id += 1
                db.add(Device(id=device_id, hall_id=hall.id, kind="kiosk", name=f"压测终端{k + 1}",
                              created_at=now, token_hash=token_hash(token)))
                tokens[hall.code].append(token)
        db.flush()
        calls_all = {w.number: {r.code for r in w.bundles} >= every for w in spec.windows}
        by_hall: dict[str, list[WindowSeat]] = {h.code: [] for h in rows}
        for hall, window, s in staff:
            by_hall[hall.code].append(WindowSeat(window.id, window.number,
                                                 staff_token(secret_key, s.id, hashed),
                                                 calls_all[window.number]))
        seats = [HallSeats(code, tuple(ws), tuple(tokens[code])) for code, ws in by_hall.items()]
    database.dispose()
    return Fixture(url=url, halls=seats, bundles=sorted(every), seed_s=time.monotonic() - started)


def top_up(url: str, need: dict[str, int], bundles: list[str]) -> int:
    """Issue tickets directly (as reception staff would) until each hall has `need` waiting."""
    from ..models import Hall, Ticket
    from ..services import tickets

    database = Database(url)
    made = 0
    with database.read() as db:
        waiting = dict(db.execute(select(Hall.code, func.count(Ticket.id)).join(Ticket, isouter=True)
                                  .where(Ticket.status.is_(None) | (Ticket.status == "waiting"))
                                  .group_by(Hall.code)).tuples().all())
    for hall, count in need.items():
        for i in range(max(0, count - waiting.get(hall, 0))):
            tickets.take_ticket(database, hall, bundles[i % len(bundles)], clock.now(), source="staff")
            made += 1
    database.dispose()
    return made


def analyze(url: str) -> None:
    """Planner statistics for the freshly filled database, as a database in service has them (a new
    PostgreSQL database has none until autovacuum's first pass, which then lands inside the run)."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()


def database_mb(url: str) -> float:
    """Size of the data: SQLite file plus WAL after a checkpoint; PostgreSQL's tables with indexes."""
    if make_url(url).get_backend_name() == "sqlite":
        path = Path(make_url(url).database or "")
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        return size / 1e6
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        size = conn.execute(text(
            "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where c.relkind = 'r' and n.nspname = 'public'")).scalar_one()
    engine.dispose()
    return float(size) / 1e6


def rows_in(url: str, table: str) -> int:
    """Rows of one table (`ticket`, or the baseline's `bare_ticket`): what the servers really wrote."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        count = conn.execute(text(f"select count(*) from {table}")).scalar_one()  # noqa: S608 - our names
    engine.dispose()
    return int(count)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
