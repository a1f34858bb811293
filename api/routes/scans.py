"""Scan lifecycle routes: trigger, show, list, cancel, log tail, CVE re-enrichment.

The API never runs a scan or an enrichment: it inserts a queued row and asks the launcher to
start a detached process, which takes about a millisecond, so the answer is immediate. Every
status change goes through the run's store (:mod:`store.scans`, :mod:`store.enrichment_runs`),
whose conditional UPDATEs decide races with the process and the supervisor.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Blueprint, Response, jsonify, request

from api.auth import require_role
from api.errors import ApiError
from api.routes import Services, services
from api.progress import collection_progress
from api.validation import json_object_body, parse_list_query, parse_log_lines, parse_trigger, parse_uuid
from api.views import scan_detail_view, scan_view
from store.enrichment_runs import EnrichmentActive, EnrichmentStore, ScanNotEnrichable
from store.scans import ActiveScanExists
from store.status import TERMINAL, RunStatus, Trigger
from supervisor.kinds import SCAN
from supervisor.launcher import LaunchResult
from supervisor.rundir import RunDir

log = logging.getLogger("openshield.api")

bp = Blueprint("scans", __name__)



def status_url(scan_id: str) -> str:
    return f"/api/scans/{scan_id}"


def _scan_id(raw: str) -> str:
    return parse_uuid(raw, "scan_id")


def _not_found(scan_id: str) -> ApiError:
    return ApiError(404, f"scan {scan_id} not found")


# ---------------------------------------------------------------------------------- trigger
@bp.post("/api/scans/trigger")
@require_role("operator")
def trigger_scan() -> Response:
    svc = services()
    wanted = parse_trigger(
        json_object_body(request), default_subscription=svc.default_subscription, known_rules=svc.known_rules
    )
    try:
        scan = svc.store.create(wanted.subscription_id, trigger=Trigger.API, rules=wanted.rules)
    except ActiveScanExists as exc:
        raise ApiError(
            409, f"subscription {wanted.subscription_id} already has an active scan", scan_id=exc.scan_id
        ) from None
    message = _launch(svc, "scan", lambda: svc.launcher.launch(scan.scan_id))
    url = status_url(scan.scan_id)
    response = jsonify({"scan_id": scan.scan_id, "status": RunStatus.PENDING, "status_url": url, "message": message})
    response.status_code = 202
    response.headers["Location"] = url
    return response


def _launch(svc: Services, what: str, launch: Callable[[], LaunchResult]) -> str:
    """Start the run or leave it queued; the message tells the caller which.

    One policy for every kind of run: if the launcher itself fails, the committed row stays
    queued and the supervisor starts it (it launches queued runs on its own).
    """
    try:
        result = launch()
    except Exception:
        log.exception("launching %s failed; leaving it to the supervisor", what)
        return f"{what} accepted but not started yet; the supervisor will start it"
    if result.launched:
        return f"{what} starting"
    return (
        f"{what} queued: this host already runs its maximum of {svc.settings.max_concurrent_scans} "
        "concurrent scans; it starts when one finishes"
    )


# ------------------------------------------------------------------------------ show / list
@bp.get("/api/scans/<scan_id>")
@require_role("reader")
def get_scan(scan_id: str) -> dict[str, Any]:
    scan_id = _scan_id(scan_id)
    found = services().store.detail(scan_id)
    if found is None:
        raise _not_found(scan_id)
    view = scan_detail_view(*found)
    view["collection"] = collection_progress(view, services().settings.data_dir)
    return view


@bp.get("/api/scans")
@require_role("reader")
def list_scans() -> dict[str, Any]:
    query = parse_list_query(request.args)
    total, page = services().store.list_scans(
        status=query.status, subscription_id=query.subscription_id, limit=query.limit, offset=query.offset
    )
    return {"count": total, "limit": query.limit, "offset": query.offset, "scans": [scan_view(s) for s in page]}


# ----------------------------------------------------------------------------------- cancel
@bp.post("/api/scans/<scan_id>/cancel")
@require_role("operator")
def cancel_scan(scan_id: str) -> tuple[dict[str, Any], int]:
    """Cancel a queued scan at once; ask a launched or running one to stop.

    A scan that has been handed to a process (``host`` set) cannot be cancelled from here
    without racing that process, so it is flagged and the supervisor signals it.
    """
    scan_id = _scan_id(scan_id)
    store = services().store
    outcome = store.stop(scan_id)
    if outcome is None:
        raise _not_found(scan_id)
    if outcome == "cancelled_now":
        return {"scan_id": scan_id, "status": RunStatus.CANCELLED}, 200
    if outcome == "requested":
        scan = store.get(scan_id)
        return {
            "scan_id": scan_id,
            "status": scan.status if scan is not None else RunStatus.CANCELLED,
            "cancel_requested": True,
            "message": "cancellation requested; the scan stops within seconds",
        }, 202
    if outcome in TERMINAL:
        raise ApiError(409, f"scan is already {outcome}", status=outcome)
    raise ApiError(409, "scan changed state while being cancelled; retry")


# ----------------------------------------------------------------------------------- enrich
@bp.post("/api/scans/<scan_id>/enrich")
@require_role("operator")
def enrich_scan(scan_id: str) -> Response:
    """Re-enrich a completed scan's findings with CVEs, as a supervised process of its own.

    NVD look-ups are slow and rate limited, so they never run in a request: the run is recorded
    (the database refuses a second active one for the scan) and a detached process started.
    """
    scan_id = _scan_id(scan_id)
    svc = services()
    store = EnrichmentStore(svc.settings.database_url)
    try:
        run = store.start_run(scan_id)
    except LookupError:
        raise _not_found(scan_id) from None
    except ScanNotEnrichable as exc:
        raise ApiError(409, f"scan is {exc.status}; only a completed scan can be enriched", scan_id=scan_id) from None
    except EnrichmentActive:
        raise ApiError(409, "a CVE enrichment of this scan is already running", scan_id=scan_id) from None
    message = _launch(svc, "CVE enrichment", lambda: svc.launcher.launch_enrichment(scan_id, run.id))
    url = status_url(scan_id)
    response = jsonify({"scan_id": scan_id, "cve_enrichment_status": "PENDING", "message": message})
    response.status_code = 202
    response.headers["Location"] = url
    return response


# -------------------------------------------------------------------------------------- log
@bp.get("/api/scans/<scan_id>/log")
@require_role("operator")
def scan_log(scan_id: str) -> dict[str, Any]:
    scan_id = _scan_id(scan_id)  # validated before it becomes part of a path
    count = parse_log_lines(request.args)
    svc = services()
    if svc.store.get(scan_id) is None:
        raise _not_found(scan_id)
    lines, truncated = RunDir(svc.settings.data_dir, scan_id, SCAN).tail(count)
    return {"scan_id": scan_id, "lines": lines, "truncated": truncated}
