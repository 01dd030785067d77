"""Schema migrations: `govhall db upgrade` applies the Alembic revisions on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Database

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return cfg


def upgrade(database: Database, revision: str = "head") -> None:
    cfg = alembic_config(database)
    with database.engine.connect() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        connection.commit()


def is_current(database: Database) -> bool:
    """True when the database is at the newest revision."""
    heads = set(ScriptDirectory.from_config(alembic_config(database)).get_heads())
    with database.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
        connection.rollback()
    return current == heads
