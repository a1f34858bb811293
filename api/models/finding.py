"""Findings (one per failed rule evaluation) and per-rule outcomes of a scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, UTCDateTime
from api.models.scan import _iso


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scan_id": self.scan_id,
            "subscription_id": self.subscription_id,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "severity": self.severity,
            "category": self.category,
            "resource_id": self.resource_id,
            "resource_name": self.resource_name,
            "resource_type": self.resource_type,
            "description": self.description,
            "remediation": self.remediation,
            "frameworks": self.frameworks,
            "metadata": self.details,
            "detected_at": _iso(self.detected_at),
            "cve_references": self.cve_references,
            "cvss_score": self.cvss_score,
            "exploit_available": bool(self.exploit_available),
        }


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "status": self.status,
            "reason": self.reason,
            "evaluated_count": self.evaluated_count,
            "failed_count": self.failed_count,
            "not_evaluated_count": self.not_evaluated_count,
        }
