"""Apply Alembic migrations programmatically (``bin/openshield db upgrade``, tests, startup).

Several App Service instances run ``startup.sh`` at once, each migrating the one PostgreSQL
database: Alembic takes no lock of its own, and two first-time upgrades racing made one fail
with a duplicate-type error. On PostgreSQL the upgrade therefore runs under a session advisory
lock; the second instance waits, then finds the schema current. (SQLite serialises writers.)
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from store.db import get_engine, unbounded_waits

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' is ConfigParser interpolation syntax; URLs may contain it (encoded passwords)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# pg_advisory_lock key shared by every OpenShield instance (any constant bigint works)
_MIGRATION_LOCK = 0x6F70656E736869  # "openshi"


def upgrade(url: str, revision: str = "head") -> None:
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(url), revision)
        return
    # the second instance waits as long as the first one's migration runs (no lock_timeout)
    with engine.connect() as conn, unbounded_waits(conn):
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(url), revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
