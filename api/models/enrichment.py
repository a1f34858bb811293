"""Tables behind CVE enrichment: re-enrichment runs and the shared NVD response cache.

A re-enrichment (``POST /api/scans/<id>/enrich``) is a process of its own, supervised like a
scan, so it gets a row of its own with the same process identity fields (host, pid, create
time, heartbeat). Only :mod:`api.models.enrichment_state` changes a run's status.

The NVD cache lives in the database, not on a host's disk, so that every host and every scan
shares it: a CPE query answered once is not asked again until its TTL runs out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, UTCDateTime
from api.models.scan import _iso

RUN_ACTIVE_STATUSES = ("pending", "running")
RUN_TERMINAL_STATUSES = ("completed", "failed")

_ACTIVE_SQL = "status IN ('pending', 'running')"


class EnrichmentRun(Base):
    __tablename__ = "enrichment_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(36), ForeignKey("scans.scan_id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # the host that launched the process (set at creation: the API host spawns it at once)
    host: Mapped[str | None] = mapped_column(String(255))
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pid: Mapped[int | None] = mapped_column(Integer)
    process_create_time: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(500))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    findings_enriched: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (
        Index("ix_enrichment_runs_scan_id", "scan_id"),
        # One active re-enrichment per scan, decided by the database (409 for the loser).
        Index(
            "uq_enrichment_runs_active_scan",
            "scan_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scan_id": self.scan_id,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at),
            "heartbeat_at": _iso(self.heartbeat_at),
            "pid": self.pid,
            "host": self.host,
            "error": self.error,
            "exit_code": self.exit_code,
            "findings_enriched": self.findings_enriched,
        }


class NvdCacheEntry(Base):
    """One NVD query's answer (all pages), reduced to what enrichment keeps."""

    __tablename__ = "nvd_cache"

    # sha256 of the canonical query string: queries can be longer than an index allows
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    query: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
