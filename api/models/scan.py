"""The ``scans`` table: one row per scan, the single source of truth for its lifecycle.

Only :mod:`api.models.scan_state` changes ``status``; everything else may read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, UTCDateTime

ACTIVE_STATUSES = ("pending", "running")
TERMINAL_STATUSES = ("completed", "failed", "cancelled")
STATUSES = ACTIVE_STATUSES + TERMINAL_STATUSES
PHASES = ("queued", "starting", "collecting", "evaluating", "enriching", "saving", "done")
TRIGGERS = ("api", "cli", "retry")
CVE_ENRICHMENT_STATUSES = ("PENDING", "ENRICHING", "COMPLETED", "FAILED", "SKIPPED")

_ACTIVE_SQL = "status IN ('pending', 'running')"


class Scan(Base):
    __tablename__ = "scans"

    scan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(36), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    phase: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    error_message: Mapped[str | None] = mapped_column(String(500))
    rules_completed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_rules: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    resources_collected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    # psutil create_time() of the scan process: a pid with another create time is not the scan
    process_create_time: Mapped[float | None] = mapped_column(Float)
    # when a host reserved a launch slot for this scan (host set, process maybe not yet started)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    total_findings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    score: Mapped[float | None] = mapped_column(Float)
    cve_enrichment_status: Mapped[str] = mapped_column(String(16), nullable=False, default="PENDING")
    # why CVE enrichment failed (short, human), null otherwise
    cve_enrichment_error: Mapped[str | None] = mapped_column(String(500))
    trigger: Mapped[str] = mapped_column(String(8), nullable=False, default="api")
    # selected rule ids (null = all rules)
    rules: Mapped[list[str] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_scans_created_at", "created_at"),
        Index("ix_scans_status", "status"),
        # the latest completed scan per subscription (findings, score, compliance)
        Index("ix_scans_status_subscription_completed", "status", "subscription_id", "completed_at"),
        # One active scan per subscription, enforced by the database so that concurrent
        # triggers (several workers, several hosts) cannot both win.
        Index(
            "uq_scans_active_subscription",
            "subscription_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
    )

    def to_dict(self) -> dict[str, Any]:
        """The API's scan object (names are the contract in docs/api-reference.md)."""
        return scan_view(self.__dict__)


API_FIELDS = (
    "scan_id", "subscription_id", "status", "phase", "error_message", "rules_completed", "total_rules",
    "progress", "resources_collected", "created_at", "started_at", "completed_at", "duration_seconds",
    "heartbeat_at", "pid", "host", "attempt", "cancel_requested", "exit_code", "total_findings", "score",
    "cve_enrichment_status", "cve_enrichment_error", "trigger", "rules",
)
_TIMESTAMPS = frozenset({"created_at", "started_at", "completed_at", "heartbeat_at"})


def scan_view(values: Mapping[str, Any]) -> dict[str, Any]:
    """The API's scan object from a row mapping or an ORM instance's attributes.

    Shared by the ORM path and the Core fast path of ``GET /api/scans/<id>``.
    """
    return {name: _iso(values.get(name)) if name in _TIMESTAMPS else values.get(name) for name in API_FIELDS}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
