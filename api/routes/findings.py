"""Findings routes: the current findings (or one scan's), and one finding by id.

A finding exists only for a completed scan. Without ``scan_id`` the list is the *current*
posture, the latest completed scan of each subscription: findings of older scans are history
and may already be fixed. Filters are validated against the rule catalogue, because a misspelt
``category`` or ``rule_id`` would otherwise answer "no findings", which reads as a clean result.

The catalogue (and the query-string helpers the posture routes share) live here; it is built
once when the blueprint is registered, so requests never import rule modules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, request
from flask.blueprints import BlueprintSetupState

from api.auth import require_role
from api.errors import ApiError
from api.models.findings_query import SEVERITIES, FindingFilter, FindingsQuery
from api.routes import services
from api.validation import MAX_OFFSET, parse_uuid, single_params

bp = Blueprint("findings", __name__)

FINDINGS_PARAMS = ("severity", "category", "rule_id", "scan_id", "subscription_id", "limit", "offset")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
# Finding ids are a 32-bit INTEGER column (PostgreSQL int4): larger numbers cannot exist.
MAX_FINDING_ID = 2**31 - 1

# path/query spelling -> the key of Rule.frameworks, and the framework's display name
FRAMEWORKS: dict[str, tuple[str, str]] = {
    "cis": ("CIS", "CIS Microsoft Azure Foundations Benchmark"),
    "nist": ("NIST", "NIST Cybersecurity Framework"),
    "iso27001": ("ISO27001", "ISO/IEC 27001:2022 Annex A"),
}

_CATALOGUE = "openshield.catalogue"
_DIGITS = re.compile(r"[0-9]{1,12}")
_ANY_DIGITS = re.compile(r"[0-9]+")


# ---------------------------------------------------------------------------------- catalogue
@dataclass(frozen=True)
class Catalogue:
    """The rule metadata the read routes need, computed once per app."""

    entries: tuple[dict[str, Any], ...]  # Rule.catalogue_entry(), in rule id order
    rule_ids: frozenset[str]
    categories: tuple[str, ...]

    @classmethod
    def load(cls) -> Catalogue:
        # the whole catalogue: imported once, at registration, never on a request
        from scanner.rules import all_rules

        entries = tuple(rule.catalogue_entry() for rule in all_rules())
        return cls(
            entries=entries,
            rule_ids=frozenset(e["rule_id"] for e in entries),
            categories=tuple(sorted({e["category"] for e in entries})),
        )

    def controls(self, framework_key: str) -> dict[str, list[str]]:
        """Control id -> ids of the rules mapped to it, for one framework key (``CIS`` …)."""
        mapping: dict[str, list[str]] = {}
        for entry in self.entries:
            for control in entry["frameworks"].get(framework_key, ()):
                mapping.setdefault(control, []).append(entry["rule_id"])
        return mapping


def install_catalogue(state: BlueprintSetupState) -> None:
    """Blueprint ``record_once`` hook: both read blueprints share one catalogue per app."""
    if _CATALOGUE not in state.app.extensions:
        state.app.extensions[_CATALOGUE] = Catalogue.load()


bp.record_once(install_catalogue)


def catalogue() -> Catalogue:
    return current_app.extensions[_CATALOGUE]  # type: ignore[no-any-return]


def findings_query() -> FindingsQuery:
    return FindingsQuery(services().store.url)


# ------------------------------------------------------------------------- query parameters
def parse_severity(params: Mapping[str, str]) -> str | None:
    """``severity`` in any case; answered and compared in the canonical upper case."""
    raw = params.get("severity")
    if raw is None:
        return None
    if raw.upper() not in SEVERITIES:
        raise ApiError(400, f"severity must be one of {', '.join(SEVERITIES)}")
    return raw.upper()


def parse_category(params: Mapping[str, str], known: tuple[str, ...]) -> str | None:
    raw = params.get("category")
    if raw is not None and raw not in known:
        raise ApiError(400, f"category must be one of {', '.join(known)}")
    return raw


def parse_optional_uuid(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name)
    return None if raw is None else parse_uuid(raw, name)


def parse_int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    value = int(raw) if _DIGITS.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise ApiError(400, f"{name} must be an integer from {low} to {high}")
    return value


def parse_framework(raw: str) -> tuple[str, str] | None:
    """(frameworks key, display name) for ``cis``/``nist``/``iso27001`` in any case, else None."""
    return FRAMEWORKS.get(raw.lower())


def scan_not_found(scan_id: str) -> ApiError:
    return ApiError(404, f"scan {scan_id} not found")


# ------------------------------------------------------------------------------------ routes
@bp.get("/api/findings")
@require_role("reader")
def list_findings() -> dict[str, Any]:
    params = single_params(request.args, FINDINGS_PARAMS)
    known = catalogue()
    rule_id = params.get("rule_id")
    if rule_id is not None and rule_id not in known.rule_ids:
        raise ApiError(400, f"unknown rule id: {rule_id}")
    where = FindingFilter(
        severity=parse_severity(params),
        category=parse_category(params, known.categories),
        rule_id=rule_id,
        scan_id=parse_optional_uuid(params, "scan_id"),
        subscription_id=parse_optional_uuid(params, "subscription_id"),
    )
    limit = parse_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = parse_int(params, "offset", 0, 0, MAX_OFFSET)
    query = findings_query()
    total, page = query.list_findings(where, limit=limit, offset=offset)
    # Only an empty answer needs to know whether the scan exists: an unknown scan is a 404, a
    # known scan without (matching) findings an empty list.
    if total == 0 and where.scan_id is not None and query.scan_status(where.scan_id) is None:
        raise scan_not_found(where.scan_id)
    return {"count": total, "limit": limit, "offset": offset, "findings": page}


@bp.get("/api/findings/<finding_id>")
@require_role("reader")
def get_finding(finding_id: str) -> dict[str, Any]:
    if _ANY_DIGITS.fullmatch(finding_id) is None:
        raise ApiError(400, "finding id must be a positive integer")
    # An id beyond the column's range is simply unknown (and must not reach PostgreSQL's int4).
    in_range = len(finding_id) <= 10 and 1 <= int(finding_id) <= MAX_FINDING_ID
    finding = findings_query().get_finding(int(finding_id)) if in_range else None
    if finding is None:
        raise ApiError(404, f"finding {finding_id} not found")
    return finding
