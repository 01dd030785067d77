"""Shared fixtures: a fixed clock, a migrated and seeded database on SQLite and on PostgreSQL.

PostgreSQL and Redis tests run against GOVHALL_TEST_POSTGRES_URL / GOVHALL_TEST_REDIS_URL (defaults:
the local servers). Without the server they are skipped, unless GOVHALL_TEST_REQUIRE_SERVICES=1
(set by .ci/run), where a missing server fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
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
