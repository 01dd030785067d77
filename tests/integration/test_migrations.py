"""`govhall db upgrade` builds the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from queue_server.db import Database
from queue_server.migrate import is_current, upgrade
from queue_server.models import Base

from ..conftest import PG_URL, _pg_admin


def assert_matches_models(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
        conn.rollback()
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_on_a_fresh_sqlite_file(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert not is_current(database)
    upgrade(database)
    assert is_current(database)
    upgrade(database)  # a second run is a no-op
    assert_matches_models(database)
    database.dispose()


@pytest.mark.postgres
def test_upgrade_on_a_fresh_postgres_database():
    admin = _pg_admin()
    name = f"govhall_m_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(database)
        assert is_current(database)
        assert_matches_models(database)
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
