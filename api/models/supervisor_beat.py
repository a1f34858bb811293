"""One row per host's supervisor: its liveness, shown by ``GET /health``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, UTCDateTime, utcnow
from api.models.db import read_scope
from api.models.scan import _iso

# A supervisor beats every second; one silent for longer than this is not running
# (GET /health, `bin/openshield supervisor status`, and other hosts' supervisors agree on it).
ALIVE_SECONDS = 10


class SupervisorBeat(Base):
    __tablename__ = "supervisor_heartbeats"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "started_at": _iso(self.started_at), "last_seen": _iso(self.last_seen)}


def live_hosts(url: str, within_seconds: float = ALIVE_SECONDS) -> set[str]:
    """Hosts whose supervisor beat within the last ``within_seconds``."""
    cutoff = utcnow() - timedelta(seconds=within_seconds)
    with read_scope(url) as session:
        return set(session.scalars(select(SupervisorBeat.host).where(SupervisorBeat.last_seen >= cutoff)))
