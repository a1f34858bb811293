"""What a finished scan stores: its engine result turned into ``findings`` (FAIL),
``scan_results`` (PASS, NOT_EVALUATED) and ``scan_rule_outcomes`` rows (column names as in
:mod:`store.models`), and the one-line summary. ``finding_key``, ``first_seen_at`` and ``is_new``
are filled by :meth:`store.scans.ScanStore.complete_with_results`, which sees the previous scan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scanner.engine import FindingRecord, RuleOutcomeRecord, ScanResult


def finding_row(record: FindingRecord, scan_id: str, subscription_id: str, detected_at: datetime) -> dict[str, Any]:
    """The ``findings`` row for one failed evaluation."""
    rule, ev = record.rule, record.evaluation
    metadata = dict(ev.metadata)
    if ev.detail:
        metadata.setdefault("detail", ev.detail)
    return {
        "scan_id": scan_id,
        "subscription_id": subscription_id,
        "rule_id": rule.id,
        "rule_name": rule.title,
        "severity": rule.severity,
        "category": rule.category,
        "resource_id": ev.resource_id,
        "resource_name": ev.resource_name,
        "resource_type": ev.resource_type,
        "description": record.description(),
        "remediation": rule.remediation,
        "frameworks": {k: list(v) for k, v in rule.frameworks.items()},
        "metadata": metadata,
        "detected_at": detected_at,
        "location": ev.location or None,
        # filled by CVE enrichment for findings whose metadata names deployed software
        "cve_references": None,
        "cvss_score": None,
        "exploit_available": False,
    }


def finding_rows(result: ScanResult, scan_id: str, subscription_id: str, detected_at: datetime) -> list[dict[str, Any]]:
    return [finding_row(f, scan_id, subscription_id, detected_at) for f in result.findings]


def result_row(record: FindingRecord) -> dict[str, Any]:
    """The compact ``scan_results`` row of one PASS or NOT_EVALUATED verdict (without scan id):
    no rule metadata (the catalogue has it), a detail only when the resource could not be read."""
    ev = record.evaluation
    return {
        "rule_id": record.rule.id,
        "status": str(ev.status),
        "resource_id": ev.resource_id,
        "resource_name": ev.resource_name,
        "resource_type": ev.resource_type,
        "location": ev.location or None,
        "detail": (ev.detail or None) if ev.passed is None else None,
    }


def result_rows(result: ScanResult) -> list[dict[str, Any]]:
    return [result_row(r) for r in result.other_results]


def outcome_row(outcome: RuleOutcomeRecord) -> dict[str, Any]:
    """The ``scan_rule_outcomes`` row of one rule (without its scan id)."""
    return {
        "rule_id": outcome.rule_id,
        "status": outcome.status,
        "reason": outcome.reason,
        "evaluated_count": outcome.evaluated,
        "failed_count": outcome.failed,
        "not_evaluated_count": outcome.not_evaluated,
    }


def outcome_rows(result: ScanResult) -> list[dict[str, Any]]:
    return [outcome_row(o) for o in result.outcomes]


def summary(result: ScanResult, findings: int) -> str:
    """``123 resources, 45 findings, score 67.8, 0 rules skipped, 0 errored``."""
    skipped = sum(1 for o in result.outcomes if o.status == "skipped")
    errored = sum(1 for o in result.outcomes if o.status == "error")
    return (f"{result.inventory.resource_count} resources, {findings} findings, score {result.score}, "
            f"{skipped} rules skipped, {errored} errored")
