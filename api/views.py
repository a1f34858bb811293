"""How rows look in the API (and in ``bin/openshield … --json``, which prints the same objects).

The names and their order are the contract in docs/api-reference.md and api/openapi.yaml.
Each view takes a row mapping (a Core ``.mappings()`` row) or an ORM instance, so the hot read
paths can skip the ORM and still answer exactly what the ORM path answers. Flask-free: the CLI
imports it.
"""

from __future__ import annotations

from typing import Any, Mapping

from store.clock import iso

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
)
OUTCOME_FIELDS = ("rule_id", "status", "reason", "evaluated_count", "failed_count", "not_evaluated_count")
ENRICHMENT_RUN_FIELDS = (
    "id", "scan_id", "status", "created_at", "started_at", "completed_at", "heartbeat_at", "pid", "host",
    "error", "exit_code", "findings_enriched",
)
BEAT_FIELDS = ("host", "pid", "started_at", "last_seen")

_TIMESTAMPS = frozenset({"created_at", "started_at", "completed_at", "heartbeat_at", "detected_at", "last_seen"})


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
    view = _view(FINDING_FIELDS, row)
    view["exploit_available"] = bool(view["exploit_available"])
    return view


def enrichment_run_view(row: Any) -> dict[str, Any]:
    return _view(ENRICHMENT_RUN_FIELDS, row)


def beat_view(row: Any) -> dict[str, Any]:
    return _view(BEAT_FIELDS, row)
