"""Shared fixtures: a fixed clock, a migrated and seeded database on SQLite and on PostgreSQL.

PostgreSQL and Redis tests run against GOVHALL_TEST_POSTGRES_URL / GOVHALL_TEST_REDIS_URL (defaults:
the local servers). Without the server they are skipped, unless GOVHALL_TEST_REQUIRE_SERVICES=1
(set by .ci/run), where a missing server fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from queue_server.catalogue import load_catalogue, load_demo_hall
from queue_server.db import Database
from queue_server.migrate import upgrade
from queue_server.seed import seed_catalogue, seed_demo

PG_URL = os.environ.get("GOVHALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GOVHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE = os.environ.get("GOVHALL_TEST_REQUIRE_SERVICES") == "1"
DEMO_PASSWORD = "test-password"

# Monday 2026-11-23 10:00 in Shanghai: a working morning
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def service_missing(what: str, why: object) -> None:
    if REQUIRE:
        pytest.fail(f"{what} is required here (GOVHALL_TEST_REQUIRE_SERVICES=1) but unavailable: {why}")
    pytest.skip(f"{what} unavailable: {why}")


@pytest.fixture
def now() -> datetime:
    return NOW


def _seed(database: Database) -> None:
    upgrade(database)
    catalogue = load_catalogue()
    seed_catalogue(database, catalogue, NOW)
    seed_demo(database, load_demo_hall(catalogue), DEMO_PASSWORD, NOW)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file that each test copies (seeding hashes passwords: slow on purpose)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    _seed(database)
    database.dispose()
    return path


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "govhall.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


_admin: list[Engine] = []


def _pg_admin() -> Engine:
    """An AUTOCOMMIT engine on the test server (for CREATE/DROP DATABASE), made once."""
    if not _admin:
        try:
            engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            with engine.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as e:  # any driver or connection error means "not here"
            service_missing("PostgreSQL", e)
        _admin.append(engine)
    return _admin[0]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated, seeded PostgreSQL database used as the TEMPLATE of each test's database."""
    admin = _pg_admin()
    name = f"govhall_tpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    _seed(database)
    database.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_db(pg_template: str) -> Iterator[Database]:
    admin = _pg_admin()
    name = f"govhall_t_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    database = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Database:
    """The seeded demo hall on each supported database."""
    fixture = "sqlite_db" if request.param == "sqlite" else "pg_db"
    return request.getfixturevalue(fixture)


# --- the web app -------------------------------------------------------------------------------

TEST_SECRET = "test-secret-key-not-for-production"


@pytest.fixture
def settings(sqlite_db: Database, tmp_path: Path):
    from queue_server.settings import Settings

    # In-process tests read what a request changed at once: no coalescing, no cached estimates
    # (the real server processes of LiveServer run with the defaults)
    return Settings(database_url=sqlite_db.url, secret_key=TEST_SECRET, instance_path=tmp_path,
                    async_mode="threading", publish_coalesce_ms=0, load_cache_s=0)


@pytest.fixture
def app(settings, sqlite_db: Database):
    from queue_server import create_app

    app = create_app(settings, sqlite_db)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """login('clerk3') -> headers with that staff member's bearer token."""
    def _login(username: str) -> dict[str, str]:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.get_json()
        return {"Authorization": f"Bearer {r.get_json()['token']}"}
    return _login


@pytest.fixture
def kiosk(sqlite_db: Database):
    """Headers of a fresh kiosk device token of the demo hall."""
    import secrets as _secrets

    from queue_server.models import Device, Hall
    from queue_server.tokens import token_hash

    token = _secrets.token_urlsafe(16)
    with sqlite_db.write() as db:
        hall = db.scalars(select(Hall).where(Hall.code == "demo")).one()
        db.add(Device(hall_id=hall.id, kind="kiosk", name="test kiosk", created_at=NOW,
                      token_hash=token_hash(token)))
    return {"Authorization": f"Bearer {token}"}


# --- a real server process -----------------------------------------------------------------------

class LiveServer:
    """`govhall serve` in its own process on a free port, restartable on the same database."""

    def __init__(self, database_url: str, instance: Path, redis_url: str | None = None,
                 channel: str = "govhall-test", async_mode: str | None = None) -> None:
        self.database_url, self.instance, self.redis_url = database_url, instance, redis_url
        self.channel, self.async_mode = channel, async_mode
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "GOVHALL_SECRET_KEY": TEST_SECRET,
               "GOVHALL_INSTANCE_PATH": str(self.instance), "PYTHONUNBUFFERED": "1",
               "GOVHALL_REDIS_CHANNEL": self.channel}
        args = [sys.executable, "-m", "queue_server.launch", "serve", "--port", str(self.port),
                "--database-url", self.database_url]
        if self.redis_url:
            args += ["--redis-url", self.redis_url]
        if self.async_mode:
            args += ["--async-mode", self.async_mode]
        self.log_path = self.instance / f"server-{self.port}.log"
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in 30 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def login(self, username: str) -> str:
        req = urllib.request.Request(
            f"{self.url}/api/v1/auth/login", method="POST",
            data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["token"]

    def call(self, method: str, path: str, token: str | None = None, body: object = None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(f"{self.url}/api/v1{path}", method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def free_port(span: int = 1) -> int:
    """A port free now, with the `span - 1` ports after it free too (the demo's kiosk takes port + 1)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + span <= 65536 and all(_bindable(port + i) for i in range(1, span)):
            return port


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    db_path = tmp_path / "live.db"
    shutil.copy(sqlite_template, db_path)
    server = LiveServer(f"sqlite:///{db_path}", tmp_path)
    server.start()
    yield server
    server.stop()
