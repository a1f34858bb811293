"""Scan lifecycle routes: trigger, show, list, cancel, log tail, CVE re-enrichment.

The API never runs a scan: a trigger inserts a ``pending`` row and asks the launcher to start
a detached process, which takes about a millisecond, so the answer is immediate. Every status
change goes through :class:`api.models.scan_state.ScanStore`, whose conditional UPDATEs decide
races with the scan process and the supervisor.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request

from api.auth import require_role
from api.errors import ApiError
from api.models.enrichment_state import EnrichmentActive, EnrichmentStore, ScanNotEnrichable
from api.models.scan import TERMINAL_STATUSES
from api.models.scan_state import ActiveScanExists
from api.routes import Services, services
from api.validation import json_object_body, parse_list_query, parse_log_lines, parse_trigger, parse_uuid

log = logging.getLogger("openshield.api")

bp = Blueprint("scans", __name__)

LOG_FILE = "scan.log"
# Upper bound on what one log request reads, whatever `lines` says: lines can be very long.
LOG_TAIL_MAX_BYTES = 4 * 1024 * 1024
_LOG_BLOCK = 64 * 1024
# How often cancel re-reads a scan that changed state under it before giving up.
_CANCEL_ATTEMPTS = 3


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
        scan = svc.store.create(wanted.subscription_id, trigger="api", rules=wanted.rules)
    except ActiveScanExists as exc:
        raise ApiError(
            409, f"subscription {wanted.subscription_id} already has an active scan", scan_id=exc.scan_id
        ) from None
    message = _launch(svc, scan.scan_id)
    url = status_url(scan.scan_id)
    response = jsonify({"scan_id": scan.scan_id, "status": "pending", "status_url": url, "message": message})
    response.status_code = 202
    response.headers["Location"] = url
    return response


def _launch(svc: Services, scan_id: str) -> str:
    """Start the scan or leave it queued; the message tells the caller which."""
    try:
        result = svc.launcher.launch(scan_id)
    except Exception:
        # The row is committed and pending: the supervisor launches queued scans on its own.
        log.exception("launching scan %s failed; leaving it to the supervisor", scan_id)
        return "scan accepted but not started yet; the supervisor will start it"
    if result.launched:
        return "scan starting"
    return (
        f"scan queued: this host already runs its maximum of {svc.settings.max_concurrent_scans} "
        "concurrent scans; it starts when one finishes"
    )


# ------------------------------------------------------------------------------ show / list
@bp.get("/api/scans/<scan_id>")
@require_role("reader")
def get_scan(scan_id: str) -> dict[str, Any]:
    scan_id = _scan_id(scan_id)
    view = services().store.view(scan_id)
    if view is None:
        raise _not_found(scan_id)
    return view


@bp.get("/api/scans")
@require_role("reader")
def list_scans() -> dict[str, Any]:
    query = parse_list_query(request.args)
    total, page = services().store.list_scans(
        status=query.status, subscription_id=query.subscription_id, limit=query.limit, offset=query.offset
    )
    return {"count": total, "limit": query.limit, "offset": query.offset, "scans": [s.to_dict() for s in page]}


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
    for _ in range(_CANCEL_ATTEMPTS):
        scan = store.get(scan_id)
        if scan is None:
            raise _not_found(scan_id)
        if scan.status in TERMINAL_STATUSES:
            raise ApiError(409, f"scan is already {scan.status}", status=scan.status)
        if scan.status == "pending" and scan.host is None:
            if store.cancel(scan_id, "cancelled on request", from_statuses=("pending",)):
                return {"scan_id": scan_id, "status": "cancelled"}, 200
        elif store.request_cancel(scan_id):
            return {
                "scan_id": scan_id,
                "status": scan.status,
                "cancel_requested": True,
                "message": "cancellation requested; the scan stops within seconds",
            }, 202
        # The scan changed state between the read and the update: look again.
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
        run = store.start_run(scan_id, host=svc.settings.host_id)
    except LookupError:
        raise _not_found(scan_id) from None
    except ScanNotEnrichable as exc:
        raise ApiError(409, f"scan is {exc.status}; only a completed scan can be enriched", scan_id=scan_id) from None
    except EnrichmentActive:
        raise ApiError(409, "a CVE enrichment of this scan is already running", scan_id=scan_id) from None
    try:
        svc.launcher.launch_enrichment(scan_id, run.id)
    except Exception:
        log.exception("launching the enrichment of scan %s failed", scan_id)
        store.fail(run.id, "could not start the enrichment process; see the server log", from_statuses=("pending",))
        raise ApiError(503, "could not start the enrichment process; retry shortly") from None
    url = status_url(scan_id)
    response = jsonify({"scan_id": scan_id, "cve_enrichment_status": "PENDING", "message": "CVE enrichment starting"})
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
    lines, truncated = tail_lines(svc.settings.scan_dir(scan_id) / LOG_FILE, count)
    return {"scan_id": scan_id, "lines": lines, "truncated": truncated}


def tail_lines(path: Path, count: int, max_bytes: int = LOG_TAIL_MAX_BYTES) -> tuple[list[str], bool]:
    """The last ``count`` lines of ``path``, and whether anything before them was left out.

    Reads backwards from the end in blocks, stopping once it has ``count`` complete lines or
    ``max_bytes``, so a log of any size costs the same. A missing file is an empty log (the
    scan has not started writing yet).
    """
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return [], False
    with handle:
        pos = handle.seek(0, os.SEEK_END)
        chunks: list[bytes] = []
        newlines = taken = 0
        # The file's final newline ends the last line; only the newlines before it separate
        # lines, and ``count`` separators mean the first wanted line starts inside the data.
        trailing = 0
        while pos > 0 and newlines - trailing < count and taken < max_bytes:
            size = min(_LOG_BLOCK, pos, max_bytes - taken)
            pos -= size
            handle.seek(pos)
            chunk = handle.read(size)
            if not chunks and chunk.endswith(b"\n"):
                trailing = 1
            chunks.append(chunk)
            taken += len(chunk)
            newlines += chunk.count(b"\n")
    data = b"".join(reversed(chunks))
    if not data:
        return [], False
    if data.endswith(b"\n"):
        data = data[:-1]
    pieces = data.split(b"\n")
    if pos > 0 and len(pieces) > 1:
        pieces = pieces[1:]  # starts mid-line (or at a line we did not need)
    truncated = pos > 0 or len(pieces) > count
    return [p.rstrip(b"\r").decode("utf-8", "replace") for p in pieces[-count:]], truncated
