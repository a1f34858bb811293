"""One scan's results as uniform records for the exporters: the stored row plus what a
compact PASS / NOT_EVALUATED row leaves to the rule catalogue (title, severity, description,
remediation, frameworks), the finding key and the resource group."""

from __future__ import annotations

from typing import Any, Iterator

from scanner.rules import all_rules
from store.findings import FindingFilter, FindingsQuery
from store.result_keys import finding_key, resource_group_of


def _catalogue() -> dict[str, Any]:
    return {rule.id: rule for rule in all_rules()}


def scan_records(url: str, scan_id: str, *, failures_only: bool = False) -> Iterator[dict[str, Any]]:
    """Every result of the scan (failures first), streamed from the database."""
    rules = _catalogue()
    scan = FindingsQuery(url).scan_row(scan_id) or {}
    for row in FindingsQuery(url).iter_scan_results(scan_id, failures_only=failures_only):
        yield complete(row, rules, scan)


def filter_records(url: str, where: FindingFilter, *, sort: str = "severity",
                   limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The rows of a findings filter (the explorer's current view, across subscriptions),
    streamed, as the same records as a scan's: each PASS / NOT_EVALUATED row is completed from
    its own scan (subscription, completion time)."""
    rules = _catalogue()
    for row in FindingsQuery(url).iter_matching(where, sort=sort, limit=limit):
        scan = {"subscription_id": row.get("subscription_id"), "completed_at": row.get("detected_at")}
        yield complete(row, rules, scan)


def complete(row: dict[str, Any], rules: dict[str, Any], scan: dict[str, Any]) -> dict[str, Any]:
    record = dict(row)
    rule = rules.get(record["rule_id"])
    if record["status"] != "FAIL":
        record.update(
            subscription_id=scan.get("subscription_id"),
            rule_name=rule.title if rule else record["rule_id"],
            severity=rule.severity if rule else "",
            category=rule.category if rule else "",
            description=(record.get("detail") or "") if record["status"] != "PASS" else (rule.description if rule else ""),
            remediation=rule.remediation if rule else "",
            frameworks={k: list(v) for k, v in rule.frameworks.items()} if rule else {},
            detected_at=scan.get("completed_at"),
            first_seen_at=None, is_new=False, muted=False, mute_id=None,
        )
    record["finding_key"] = record.get("finding_key") or finding_key(record["rule_id"], record["resource_id"])
    record["resource_group"] = resource_group_of(record["resource_id"])
    return record
