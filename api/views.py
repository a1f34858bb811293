"""How rows look in the API (and in ``bin/openshield … --json``, which prints the same objects).

The names and their order are the contract in docs/api-reference.md and api/openapi.yaml.
Each view takes a row mapping (a Core ``.mappings()`` row) or an ORM instance, so the hot read
paths can skip the ORM and still answer exactly what the ORM path answers. Flask-free: the CLI
imports it.
"""

from __future__ import annotations

from typing import Any, Mapping

from store.clock import iso
from store.result_keys import finding_key

SCAN_FIELDS = (
    "scan_id", "subscription_id", "status", "phase", "error_message", "rules_completed", "total_rules",
    "progress", "resources_collected", "created_at", "started_at", "completed_at", "duration_seconds",
    "heartbeat_at", "pid", "host", "attempt", "cancel_requested", "exit_code", "total_findings", "score",
    "cve_enrichment_status", "cve_enrichment_error", "trigger", "rules",
)
FINDING_FIELDS = (
    "id", "scan_id", "subscription_id", "rule_id", "rule_name", "severity", "category", "resource_id",
    "resource_name", "resource_type", "description", "remediation", "frameworks", "metadata", "detected_at",
    "cve_references", "cvss_score", "exploit_available",
    # results (issue 15): every stored verdict has a status; failures are followed by their key
    "status", "finding_key", "location", "first_seen_at", "new", "muted", "mute_id",
)
OUTCOME_FIELDS = ("rule_id", "status", "reason", "evaluated_count", "failed_count", "not_evaluated_count")
ENRICHMENT_RUN_FIELDS = (
    "id", "scan_id", "status", "created_at", "started_at", "completed_at", "heartbeat_at", "pid", "host",
    "error", "exit_code", "findings_enriched",
)
BEAT_FIELDS = ("host", "pid", "started_at", "last_seen")

_TIMESTAMPS = frozenset({
    "created_at", "started_at", "completed_at", "heartbeat_at", "detected_at", "last_seen", "first_seen_at",
})


def _values(row: Any) -> Mapping[str, Any]:
    """A row mapping as it is; an ORM instance through its loaded attributes."""
    if isinstance(row, Mapping):
        return row
    values = dict(vars(row))
    if "details" in values:  # the Finding attribute behind the "metadata" column
        values["metadata"] = values["details"]
    return values


def _view(fields: tuple[str, ...], row: Any) -> dict[str, Any]:
    values = _values(row)
    return {name: iso(values.get(name)) if name in _TIMESTAMPS else values.get(name) for name in fields}


def scan_view(row: Any) -> dict[str, Any]:
    """The API's scan object (without ``rule_outcomes``)."""
    return _view(SCAN_FIELDS, row)


def scan_detail_view(row: Any, outcomes: list[Mapping[str, Any]]) -> dict[str, Any]:
    """``GET /api/scans/<id>``: the scan object with its rule outcomes."""
    view = scan_view(row)
    view["rule_outcomes"] = [outcome_view(o) for o in outcomes]
    return view


def outcome_view(row: Any) -> dict[str, Any]:
    return _view(OUTCOME_FIELDS, row)


def finding_view(row: Any) -> dict[str, Any]:
    """A FAIL result (a ``findings`` row)."""
    values = _values(row)
    view = _view(FINDING_FIELDS, row)
    view["exploit_available"] = bool(view["exploit_available"])
    view["status"] = "FAIL"
    view["new"] = bool(values.get("is_new"))
    view["muted"] = bool(view["muted"])
    if view["finding_key"] is None:
        view["finding_key"] = finding_key(str(values["rule_id"]), str(values["resource_id"]))
    return view


def result_view(row: Mapping[str, Any], rule: Mapping[str, Any] | None) -> dict[str, Any]:
    """A PASS or NOT_EVALUATED result (a compact ``scan_results`` row) in the shape of a
    finding: the rule's metadata comes from the catalogue entry ``rule`` (None: a rule no longer
    in the catalogue), the row has no finding id, CVEs or history."""
    rule = rule or {}
    not_evaluated = row["status"] != "PASS"
    values = {
        **row,
        "id": None,
        "rule_name": rule.get("title", row["rule_id"]),
        "severity": rule.get("severity"),
        "category": rule.get("category"),
        "description": (row.get("detail") or "") if not_evaluated else rule.get("description", ""),
        "remediation": rule.get("remediation", ""),
        "frameworks": rule.get("frameworks", {}),
        "metadata": {},
        "finding_key": finding_key(str(row["rule_id"]), str(row["resource_id"])),
    }
    view = _view(FINDING_FIELDS, values)
    view.update(exploit_available=False, new=False, muted=False)
    return view


def enrichment_run_view(row: Any) -> dict[str, Any]:
    return _view(ENRICHMENT_RUN_FIELDS, row)


def beat_view(row: Any) -> dict[str, Any]:
    return _view(BEAT_FIELDS, row)


def diff_view(changes: Any) -> dict[str, Any]:
    """``GET /api/scans/<id>/diff`` and ``bin/openshield scans diff --json`` (a
    :class:`store.diff.ScanDiff`): failures new since the scan compared with, resolved since."""
    return {
        "scan_id": changes.scan_id,
        "against": changes.against,
        "new": [finding_view(r) for r in changes.new],
        "resolved": [finding_view(r) for r in changes.resolved],
        "still_failing": changes.still_failing,
        "muted": changes.muted,
    }
