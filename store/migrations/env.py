"""Alembic environment: the URL comes from the caller (``bin/openshield db upgrade``) or
``DATABASE_URL``; metadata from ``store.models`` for autogenerate."""

from __future__ import annotations

from alembic import context

from store.models import Base
from store.db import get_engine, normalise_url, unbounded_waits
from store.settings import Settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_offline() -> None:
    context.configure(url=normalise_url(url), target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    # DDL on a large table may outlast the statement timeout every other session has
    with get_engine(url).connect() as connection, unbounded_waits(connection):
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
