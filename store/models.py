"""The schema every process shares: one declarative class per table.

Only the aggregate modules change rows (``store.scans`` for scans and their results,
``store.enrichment_runs`` for re-enrichment runs, ``store.supervisors`` for supervisor beats);
everything else reads. Alembic (``store/migrations``) creates and changes the tables; these
classes must match what the migrations build (``tests/test_migrations.py`` checks it).
How a row looks in the API is the API's business (``api.views``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text, TypeDecorator, false, text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.status import ACTIVE_SQL, CveStatus, Phase, RunStatus, Trigger

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no timezone type and hands back naive values; normalising here means the rest of
    the code can compare and serialise datetimes without caring which database is behind it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def one_active_per(name: str, column: str) -> Index:
    """A partial unique index: at most one pending or running row per ``column`` value.

    The database, not the code, decides races between workers and hosts (the loser's INSERT
    fails), on SQLite and PostgreSQL alike.
    """
    return Index(name, column, unique=True, sqlite_where=text(ACTIVE_SQL), postgresql_where=text(ACTIVE_SQL))


class Scan(Base):
    """One scan: the single source of truth for its lifecycle (``store.scans`` changes it)."""

    __tablename__ = "scans"

    scan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(36), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=RunStatus.PENDING)
    phase: Mapped[str] = mapped_column(String(16), nullable=False, default=Phase.QUEUED)
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
    cve_enrichment_status: Mapped[str] = mapped_column(String(16), nullable=False, default=CveStatus.PENDING)
    # why CVE enrichment failed (short, human), null otherwise
    cve_enrichment_error: Mapped[str | None] = mapped_column(String(500))
    trigger: Mapped[str] = mapped_column(String(8), nullable=False, default=Trigger.API)
    # selected rule ids (null = all rules)
    rules: Mapped[list[str] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_scans_created_at", "created_at"),
        Index("ix_scans_status", "status"),
        # the latest completed scan per subscription (findings, score, compliance)
        Index("ix_scans_status_subscription_completed", "status", "subscription_id", "completed_at"),
        # One active scan per subscription, enforced by the database so that concurrent
        # triggers (several workers, several hosts) cannot both win.
        one_active_per("uq_scans_active_subscription", "subscription_id"),
    )


class Finding(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(36), ForeignKey("scans.scan_id", ondelete="CASCADE"), nullable=False)
    subscription_id: Mapped[str] = mapped_column(String(36), nullable=False)
    rule_id: Mapped[str] = mapped_column(String(32), nullable=False)
    rule_name: Mapped[str] = mapped_column(String(255), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    resource_id: Mapped[str] = mapped_column(Text, nullable=False)
    resource_name: Mapped[str] = mapped_column(String(512), nullable=False)
    resource_type: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    remediation: Mapped[str] = mapped_column(Text, nullable=False)
    frameworks: Mapped[dict[str, list[str]]] = mapped_column(JSON, nullable=False)
    # "metadata" is reserved on declarative classes, hence the attribute name
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, nullable=False)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # CVE enrichment (findings whose metadata names deployed software): a list of
    # {id, cvss_score, cvss_vector, published}, null until enriched; the highest CVSS v3 score;
    # whether CISA lists one of them as known exploited (NVD's cisaExploitAdd).
    # none_as_null: "not enriched" is SQL NULL, not the JSON text null, so it can be queried
    cve_references: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    exploit_available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    __table_args__ = (
        Index("ix_findings_scan_id", "scan_id"),
        Index("ix_findings_rule_id", "rule_id"),
        Index("ix_findings_severity", "severity"),
    )


class RuleOutcome(Base):
    """How one rule fared in one scan: ``ok``, ``error`` or ``skipped`` with the reason.

    Separating "no findings" from "could not evaluate" is what lets a user trust a clean result.
    """

    __tablename__ = "scan_rule_outcomes"

    scan_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("scans.scan_id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    evaluated_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    not_evaluated_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class EnrichmentRun(Base):
    """One CVE re-enrichment of a completed scan: a supervised run like a scan, with the same
    process identity fields (``store.enrichment_runs`` changes it)."""

    __tablename__ = "enrichment_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(36), ForeignKey("scans.scan_id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # the host that reserved a launch slot for it (null while queued)
    host: Mapped[str | None] = mapped_column(String(255))
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pid: Mapped[int | None] = mapped_column(Integer)
    process_create_time: Mapped[float | None] = mapped_column(Float)
    # why it failed or was cancelled (short, human), null otherwise
    error_message: Mapped[str | None] = mapped_column(String(500))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    findings_enriched: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    __table_args__ = (
        Index("ix_enrichment_runs_scan_id", "scan_id"),
        # One active re-enrichment per scan, decided by the database (409 for the loser).
        one_active_per("uq_enrichment_runs_active_scan", "scan_id"),
    )


class NvdCacheEntry(Base):
    """One NVD query's answer (all pages), reduced to what enrichment keeps."""

    __tablename__ = "nvd_cache"

    # sha256 of the canonical query string: queries can be longer than an index allows
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    query: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SupervisorBeat(Base):
    """One row per host's supervisor: its liveness (``GET /health``, other hosts' supervisors)."""

    __tablename__ = "supervisor_heartbeats"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class RevokedToken(Base):
    """A service token (HS256, by its ``jti``) the API must refuse before it expires.

    ``store.revocations`` writes it (``openshield token revoke``); the API reads the unexpired
    rows every few seconds. ``expires_at`` is the token's own expiry when known: after it the
    row is no longer needed, since the token is refused anyway.
    """

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(256), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subject: Mapped[str | None] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(String(500))
