"""One row per host's supervisor: its liveness, shown by ``GET /health``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, UTCDateTime
from api.models.scan import _iso


class SupervisorBeat(Base):
    __tablename__ = "supervisor_heartbeats"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "started_at": _iso(self.started_at), "last_seen": _iso(self.last_seen)}
