"""Supervisor liveness: one row per host, written by its supervisor, read by ``GET /health``,
``bin/openshield supervisor status`` and the other hosts' supervisors."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from store.clock import utcnow
from store.db import read_scope, session_scope
from store.models import SupervisorBeat

# A supervisor beats every second; one silent for longer than this is not running
# (GET /health, `bin/openshield supervisor status`, and other hosts' supervisors agree on it).
ALIVE_SECONDS = 10


def beat(url: str, *, host: str, pid: int, started_at: datetime) -> None:
    """Record that ``host``'s supervisor (``pid``) is alive now (insert or update its row)."""
    now = utcnow()
    with session_scope(url) as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(SupervisorBeat).values(host=host, pid=pid, started_at=started_at, last_seen=now)
        session.execute(statement.on_conflict_do_update(
            index_elements=[SupervisorBeat.host],
            set_={"pid": pid, "started_at": started_at, "last_seen": now},
        ))


def get_beat(url: str, host: str) -> SupervisorBeat | None:
    with read_scope(url) as session:
        return session.get(SupervisorBeat, host)


def all_beats(url: str) -> list[SupervisorBeat]:
    with read_scope(url) as session:
        return list(session.scalars(select(SupervisorBeat).order_by(SupervisorBeat.host)))


def live_hosts(url: str, within_seconds: float = ALIVE_SECONDS) -> set[str]:
    """Hosts whose supervisor beat within the last ``within_seconds``."""
    cutoff = utcnow() - timedelta(seconds=within_seconds)
    with read_scope(url) as session:
        return set(session.scalars(select(SupervisorBeat.host).where(SupervisorBeat.last_seen >= cutoff)))
