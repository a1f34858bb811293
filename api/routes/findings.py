"""Findings routes: the current findings (or one scan's), and one finding by id.

A finding exists only for a completed scan. Without ``scan_id`` the list is the *current*
posture, the latest completed scan of each subscription: findings of older scans are history
and may already be fixed. Filters are validated against the rule catalogue, because a misspelt
``category`` or ``rule_id`` would otherwise answer "no findings", which reads as a clean result.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from flask import Blueprint, Response, request, stream_with_context

from api.auth import require_role
from api.errors import ApiError
from api.routes import services
from api.validation import (
    MAX_OFFSET,
    bounded_int,
    parse_category,
    parse_optional_uuid,
    parse_severity,
    single_params,
)
from api.views import finding_view, result_view
from scanner.exports import FILTER_FORMATS, FORMAT_INFO, filter_exporter
from scanner.exports.records import filter_records
from scanner.rules.support.frameworks import BY_SLUG, by_slug
from store.clock import utcnow
from store.findings import FINDING_SORTS, GROUP_SORTS, FindingFilter, FindingsQuery
from store.status import RESULT_STATUSES, ResultStatus

bp = Blueprint("findings", __name__)

FILTER_PARAMS = (
    "severity", "category", "rule_id", "scan_id", "subscription_id", "limit", "offset", "q", "sort", "framework", "control",
)
# status= selects PASS / NOT_EVALUATED results; groups count failures only (muted= narrows them)
FINDINGS_PARAMS = FILTER_PARAMS + ("status", "muted", "new")
GROUPS_PARAMS = FILTER_PARAMS + ("muted", "new")
# an export is every page of a filter: no limit / offset, and a format
EXPORT_PARAMS = tuple(p for p in FINDINGS_PARAMS if p not in ("limit", "offset")) + ("format",)
# the most rows one export streams (a 10,000-resource tenant has ~13,000 failures and a few times
# as many passed results); a larger filter is refused with its count rather than cut short
MAX_EXPORT_ROWS = 200_000
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
# A search longer than any resource id Azure allows is a mistake, not a query.
MAX_QUERY_LENGTH = 200
# Finding ids are a 32-bit INTEGER column (PostgreSQL int4): larger numbers cannot exist.
MAX_FINDING_ID = 2**31 - 1

_ANY_DIGITS = re.compile(r"[0-9]+")


def findings_query() -> FindingsQuery:
    return FindingsQuery(services().store.url)


def scan_not_found(scan_id: str) -> ApiError:
    return ApiError(404, f"scan {scan_id} not found")


def parse_filter(params: dict[str, str]) -> FindingFilter:
    """The filter shared by the findings list and its groups; every value checked (400)."""
    known = services().catalogue
    rule_id = params.get("rule_id")
    if rule_id is not None and rule_id not in known.rule_ids:
        raise ApiError(400, f"unknown rule id: {rule_id}")
    q = params.get("q")
    if q is not None and len(q) > MAX_QUERY_LENGTH:
        raise ApiError(400, f"q must be at most {MAX_QUERY_LENGTH} characters")
    if q is not None and "\x00" in q:
        # PostgreSQL refuses NUL in text; no name or id can contain it
        raise ApiError(400, "q must not contain NUL characters")
    severity = parse_severity(params)
    category = parse_category(params, known.categories)
    status = parse_result_status(params)
    muted = parse_muted(params)
    if muted is not None and status != ResultStatus.FAIL:
        raise ApiError(400, "muted applies to FAIL results only")
    new = parse_true_false(params, "new")
    if new is not None and status != ResultStatus.FAIL:
        raise ApiError(400, "new applies to FAIL results only")
    rule_ids = parse_control(params)
    if status != ResultStatus.FAIL and (severity is not None or category is not None):
        # PASS / NOT_EVALUATED rows store no rule metadata: filter on the rules that have it
        rule_ids = tuple(e["rule_id"] for e in known.entries
                         if severity in (None, e["severity"]) and category in (None, e["category"])
                         and (rule_ids is None or e["rule_id"] in rule_ids))
    return FindingFilter(
        rule_ids=rule_ids,
        status=status,
        muted=muted,
        new=new,
        severity=severity,
        category=category,
        rule_id=rule_id,
        scan_id=parse_optional_uuid(params, "scan_id"),
        subscription_id=parse_optional_uuid(params, "subscription_id"),
        q=(q.strip() or None) if q is not None else None,
    )


def parse_control(params: dict[str, str]) -> tuple[str, ...] | None:
    """``framework`` (and optionally ``control``): the rules mapped to that control, or to any
    control of the framework. An unknown control is a 400, not an empty (clean-looking) answer."""
    framework, control = params.get("framework"), params.get("control")
    if framework is None:
        if control is not None:
            raise ApiError(400, "control needs framework")
        return None
    chosen = by_slug(framework)
    if chosen is None:
        raise ApiError(400, f"framework must be one of {', '.join(BY_SLUG)}")
    controls = services().catalogue.controls(chosen.key)
    if control is None:
        return tuple(sorted({rule for rules in controls.values() for rule in rules}))
    if control not in controls:
        raise ApiError(400, f"unknown control {control!r} of {chosen.slug}")
    return tuple(controls[control])


def parse_sort(params: dict[str, str], allowed: tuple[str, ...]) -> str:
    sort = params.get("sort", allowed[0])
    if sort not in allowed:
        raise ApiError(400, f"sort must be one of {', '.join(allowed)}")
    return sort


@bp.get("/api/findings")
@require_role("reader")
def list_findings() -> dict[str, Any]:
    params = single_params(request.args, FINDINGS_PARAMS)
    where = parse_filter(params)
    sort = parse_sort(params, tuple(FINDING_SORTS))
    limit = bounded_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = bounded_int(params, "offset", 0, 0, MAX_OFFSET)
    query = findings_query()
    total, page = query.list_findings(where, limit=limit, offset=offset, sort=sort)
    # Only an empty answer needs to know whether the scan exists: an unknown scan is a 404, a
    # known scan without (matching) findings an empty list.
    if total == 0 and where.scan_id is not None and query.scan_status(where.scan_id) is None:
        raise scan_not_found(where.scan_id)
    if where.status == ResultStatus.FAIL:
        views = [finding_view(r) for r in page]
    else:
        entries = services().catalogue.by_id
        views = [result_view(r, entries.get(r["rule_id"])) for r in page]
    return {"count": total, "limit": limit, "offset": offset, "findings": views}


def parse_result_status(params: dict[str, str]) -> ResultStatus:
    """``status``: FAIL (default), PASS or NOT_EVALUATED, in any case."""
    raw = params.get("status")
    if raw is None:
        return ResultStatus.FAIL
    if raw.upper() not in RESULT_STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(RESULT_STATUSES)}")
    return ResultStatus(raw.upper())


def parse_muted(params: dict[str, str]) -> bool | None:
    return parse_true_false(params, "muted")


def parse_true_false(params: dict[str, str], name: str) -> bool | None:
    """A ``true`` / ``false`` filter (any case); None when absent."""
    raw = params.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise ApiError(400, f"{name} must be true or false")
    return raw.lower() == "true"


@bp.get("/api/findings/groups")
@require_role("reader")
def finding_groups() -> dict[str, Any]:
    """The same filter as ``/api/findings``, counted per rule: one row per rule with failures."""
    params = single_params(request.args, GROUPS_PARAMS)
    where = parse_filter(params)
    sort = parse_sort(params, GROUP_SORTS)
    limit = bounded_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = bounded_int(params, "offset", 0, 0, MAX_OFFSET)
    query = findings_query()
    count, total_findings, groups = query.rule_groups(where, limit=limit, offset=offset, sort=sort)
    if count == 0 and where.scan_id is not None and query.scan_status(where.scan_id) is None:
        raise scan_not_found(where.scan_id)
    return {
        "count": count,
        "total_findings": total_findings,
        "limit": limit,
        "offset": offset,
        "groups": [dataclasses.asdict(g) for g in groups],
    }


@bp.get("/api/findings/export")
@require_role("reader")
def export_findings() -> Response:
    """Every row of a ``/api/findings`` filter as a file (CSV or JSON-OCSF), streamed in batches:
    what the explorer shows, all pages. More than ``MAX_EXPORT_ROWS`` is refused before a byte
    is sent, so a file is never silently cut short."""
    params = single_params(request.args, EXPORT_PARAMS)
    fmt = params.get("format", "").lower()
    if fmt not in FILTER_FORMATS:
        raise ApiError(400, f"format must be one of {', '.join(FILTER_FORMATS)}")
    where = parse_filter(params)
    sort = parse_sort(params, tuple(FINDING_SORTS))
    query = findings_query()
    total = query.count_matching(where)
    if total == 0 and where.scan_id is not None and query.scan_status(where.scan_id) is None:
        raise scan_not_found(where.scan_id)
    if total > MAX_EXPORT_ROWS:
        raise ApiError(400, f"the filter matches {total:,} rows; an export holds at most {MAX_EXPORT_ROWS:,}: "
                            "narrow the filter")
    url = services().store.url
    # limit: rows stored between the count and the stream (a scan completing) cannot exceed the cap
    records = filter_records(url, where, sort=sort, limit=MAX_EXPORT_ROWS)
    info = FORMAT_INFO[fmt]
    name = f"openshield-findings-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.{info.extension}"
    body = stream_with_context(filter_exporter(fmt)(records))
    return Response(body, mimetype=info.media_type.split(";")[0], content_type=info.media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Total-Count": str(total),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


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
    return finding_view(finding)
