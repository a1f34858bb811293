"""Posture routes: the score per subscription, compliance per framework, the rule catalogue.

Score and compliance describe the *current* posture, so by default they read the latest
completed scan of each subscription (one window-function query). Compliance is computed from
the stored rule outcomes, not from findings, because only outcomes can tell "no failure" apart
from "could not look": a skipped or errored rule is reported as not evaluated, never as passed.
"""

from __future__ import annotations

from statistics import fmean
from typing import Any

from flask import Blueprint, Response, request

from api.auth import require_role
from api.compliance import tally_controls
from api.errors import ApiError
from api.estate import compliance_by_subscription, estate_score
from api.routes import services
from api.routes.findings import findings_query, scan_not_found
from api.validation import parse_category, parse_optional_uuid, parse_severity, single_params
from scanner.rules.support.frameworks import BY_SLUG, by_slug
from store.clock import iso
from store.status import RunStatus

bp = Blueprint("posture", __name__)

SCORE_PARAMS = ("subscription_id",)
COMPLIANCE_PARAMS = ("subscription_id", "scan_id", "format")
RULES_PARAMS = ("severity", "category", "framework")


@bp.get("/api/score")
@require_role("reader")
def score() -> dict[str, Any]:
    params = single_params(request.args, SCORE_PARAMS)
    query = findings_query()
    latest = query.latest_scans(parse_optional_uuid(params, "subscription_id"))
    by_severity = query.severity_counts([s.scan_id for s in latest])
    scores = [s.score for s in latest if s.score is not None]
    estate = estate_score(services().settings.database_url, latest)
    return {
        "subscriptions": [
            {
                "subscription_id": s.subscription_id,
                "scan_id": s.scan_id,
                "score": s.score,
                "completed_at": iso(s.completed_at),
                "total_findings": s.total_findings,
                "findings_by_severity": by_severity[s.scan_id],
                "evaluated": estate["by_subscription"][s.scan_id],  # type: ignore[index]
            }
            for s in latest
        ],
        # scans score to one decimal (scanner.scoring); the mean keeps the same precision
        "overall_score": round(fmean(scores), 1) if scores else None,
        # the estate view: weighted by what each subscription's scan evaluated (api/estate.py)
        "estate": {k: v for k, v in estate.items() if k != "by_subscription"},
    }


@bp.get("/api/compliance/<framework>")
@require_role("reader")
def compliance(framework: str) -> dict[str, Any] | Response:
    chosen = by_slug(framework)
    if chosen is None:
        raise ApiError(404, f"unknown framework {framework!r}; known: {', '.join(BY_SLUG)}")
    params = single_params(request.args, COMPLIANCE_PARAMS)
    if "subscription_id" in params and "scan_id" in params:
        raise ApiError(400, "give subscription_id or scan_id, not both")
    query = findings_query()
    scan_id = parse_optional_uuid(params, "scan_id")
    if scan_id is not None:
        status = query.scan_status(scan_id)
        if status is None:
            raise scan_not_found(scan_id)
        if status != RunStatus.COMPLETED:
            raise ApiError(409, f"scan {scan_id} is {status}; compliance needs a completed scan", status=status)
        scan_ids = [scan_id]
        per_subscription: dict[str, str] = {}
    else:
        latest = query.latest_scans(parse_optional_uuid(params, "subscription_id"))
        scan_ids = [s.scan_id for s in latest]
        per_subscription = {s.subscription_id: s.scan_id for s in latest}
    fmt = params.get("format", "json").lower()
    if fmt not in ("json", "csv"):
        raise ApiError(400, "format must be json or csv")
    outcomes = query.outcomes(scan_ids)
    controls = services().catalogue.controls(chosen.key)
    tallies = tally_controls(controls, scan_ids, outcomes)
    if fmt == "csv":
        return compliance_csv(chosen.slug, tallies)
    statuses = [t.status for t in tallies]
    return {
        "framework": chosen.slug,
        "framework_name": chosen.name,
        "scans": sorted(scan_ids),
        "summary": {
            "controls": len(tallies),
            "passed": statuses.count("passed"),
            "failed": statuses.count("failed"),
            "not_evaluated": statuses.count("not_evaluated"),
        },
        "controls": [t.to_dict() for t in tallies],
        # the estate view: each subscription's latest scan on its own
        "by_subscription": compliance_by_subscription(controls, per_subscription, outcomes),
    }


@bp.get("/api/rules")
@require_role("reader")
def rules() -> dict[str, Any]:
    params = single_params(request.args, RULES_PARAMS)
    known = services().catalogue
    severity = parse_severity(params)
    category = parse_category(params, known.categories)
    framework_key: str | None = None
    if "framework" in params:
        chosen = by_slug(params["framework"])
        if chosen is None:
            raise ApiError(400, f"framework must be one of {', '.join(BY_SLUG)}")
        framework_key = chosen.key
    selected = [
        entry
        for entry in known.entries
        if (severity is None or entry["severity"] == severity)
        and (category is None or entry["category"] == category)
        and (framework_key is None or entry["frameworks"].get(framework_key))
    ]
    return {"count": len(selected), "rules": selected}


def compliance_csv(slug: str, tallies: list[Any]) -> Response:
    """``format=csv``: one row per control (RFC 4180, formula-safe like the scan CSV)."""
    from scanner.exports.csv_format import rows_csv

    rows = ([t.control, " ".join(t.rules), t.passed, t.failed, t.not_evaluated, t.status] for t in tallies)
    body = "".join(rows_csv(("control", "rules", "passed", "failed", "not_evaluated", "status"), rows))
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="openshield-compliance-{slug}.csv"'})

