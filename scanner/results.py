"""What a finished scan stores: its engine result turned into ``findings`` (FAIL),
``scan_results`` (PASS, NOT_EVALUATED) and ``scan_rule_outcomes`` rows (column names as in
:mod:`store.models`), and the one-line summary. ``finding_key``, ``first_seen_at`` and ``is_new``
are filled by :meth:`store.scans.ScanStore.complete_with_results`, which sees the previous scan.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Iterable, Mapping

from scanner.engine import FindingRecord, RuleOutcomeRecord, ScanResult
from scanner.inventory import Inventory
from scanner.scoring import RuleTally, posture_score
from store.mutes import ActiveMute, first_match


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


def apply_mutes(rows: list[dict[str, Any]], mutes: list[ActiveMute], inventory: Inventory) -> Counter[str]:
    """Mark the finding rows that a mute in force matches (``muted``, ``mute_id``); returns how
    many were muted per rule id. Tags come from the inventory (the resource as collected)."""
    muted: Counter[str] = Counter()
    if not mutes:
        return muted
    tags = _tags_by_id(inventory) if any(m.needs_tags for m in mutes) else {}
    for row in rows:
        mute_id = first_match(mutes, row["rule_id"], row["resource_id"], row["subscription_id"],
                              tags.get(row["resource_id"].lower()))
        row["muted"], row["mute_id"] = mute_id is not None, mute_id
        if mute_id is not None:
            muted[row["rule_id"]] += 1
    return muted


def _tags_by_id(inventory: Inventory) -> dict[str, Mapping[str, Any]]:
    return {
        str(resource.get("id", "")).lower(): resource["tags"]
        for resources in inventory.resources.values()
        for resource in resources
        if isinstance(resource.get("tags"), dict)
    }


def score_without(result: ScanResult, severities: Mapping[str, str], muted: Counter[str]) -> float | None:
    """The scan's score with muted failures left out (neither evaluated nor failed): an
    accepted risk neither lowers the score nor counts as fixed."""
    if not muted:
        return result.score
    tallies: Iterable[RuleTally] = (
        RuleTally(severities[o.rule_id], o.evaluated - muted[o.rule_id], o.failed - muted[o.rule_id])
        for o in result.outcomes
        if o.status == "ok"
    )
    return posture_score(tallies)


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
