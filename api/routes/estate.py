"""The estate: ``GET /api/subscriptions``, many-subscription triggers, score history.

``POST /api/scans/trigger`` hands a body with ``subscription_ids`` or ``all`` to
:func:`trigger_many`: every subscription gets its own entry (a new scan, the active scan that
kept it from starting, or the reason it was not scanned), and all the new rows are written in
one transaction (:func:`scanner.estate.enqueue`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Mapping

from flask import Blueprint, Response, jsonify, request

from api.auth import require_role
from api.errors import ApiError
from api.estate import subscription_cache
from api.routes import Services, services
from api.validation import bounded_int, parse_optional_uuid, parse_uuid, single_params
from scanner.estate import Entry, enqueue
from store import history
from store.clock import iso, utcnow
from store.findings import FindingsQuery
from store.parsing import check_rule_ids
from store.schedules import ScheduleStore
from store.status import Trigger

log = logging.getLogger("openshield.api")

bp = Blueprint("estate", __name__)

MANY_FIELDS = ("subscription_ids", "all", "rules")
MAX_SUBSCRIPTIONS = 1000
HISTORY_PARAMS = ("subscription_id", "days")
SUBSCRIPTIONS_PARAMS = ("refresh",)
_HTTP_STATUS = {"created": 202, "active": 409, "skipped": 422, "error": 403}


# --------------------------------------------------------------------------- many trigger
def is_many(body: Mapping[str, Any]) -> bool:
    return "subscription_ids" in body or "all" in body


def _parse_many(body: Mapping[str, Any], known_rules: frozenset[str]) -> tuple[list[str] | None, list[str] | None]:
    unknown = sorted(set(body) - set(MANY_FIELDS))
    if unknown:
        raise ApiError(400, f"unknown field(s): {', '.join(unknown)}; allowed with subscription_ids or all: "
                            f"{', '.join(MANY_FIELDS)}")
    if "subscription_ids" in body and "all" in body:
        raise ApiError(400, "give subscription_ids or all, not both")
    rules = None
    if "rules" in body:
        value = body["rules"]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ApiError(400, "rules must be a non-empty array of rule ids (omit it to run every rule)")
        try:
            rules = check_rule_ids(value, known_rules)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
    if "all" in body:
        if body["all"] is not True:
            raise ApiError(400, "all must be true (or give subscription_ids)")
        return None, rules
    ids = body["subscription_ids"]
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, "subscription_ids must be a non-empty array of subscription ids")
    if len(ids) > MAX_SUBSCRIPTIONS:
        raise ApiError(400, f"subscription_ids holds at most {MAX_SUBSCRIPTIONS} ids")
    parsed = [parse_uuid(v, "subscription_ids[]") for v in ids]
    return list(dict.fromkeys(parsed)), rules


def _entry_view(entry: Entry) -> dict[str, Any]:
    view: dict[str, Any] = {"subscription_id": entry.subscription_id, "display_name": entry.display_name,
                            "result": entry.outcome, "http_status": _HTTP_STATUS[entry.outcome]}
    if entry.scan_id:
        view["scan_id"] = entry.scan_id
        view["status_url"] = f"/api/scans/{entry.scan_id}"
    if entry.reason:
        view["error"] = entry.reason
    return view


def _launch_created(svc: Services, entries: list[Entry]) -> int:
    """Start new scans until the host is full; the rest stay queued for the supervisors."""
    started = 0
    for entry in entries:
        if entry.outcome != "created" or entry.scan_id is None:
            continue
        try:
            result = svc.launcher.launch(entry.scan_id)
        except Exception:
            log.exception("launching scan %s failed; leaving the queue to the supervisor", entry.scan_id)
            break
        if not result.launched:
            break
        started += 1
    return started


def trigger_many(svc: Services, body: Mapping[str, Any]) -> Response:
    wanted, rules = _parse_many(body, svc.known_rules)
    visible = subscription_cache().get()
    if wanted is None and not visible:
        raise ApiError(422, "the identity can see no subscriptions: give it the Reader role on them "
                            "(or on a management group above them)")
    result = enqueue(svc.store, visible, wanted=wanted, trigger=Trigger.API, rules=rules)
    started = _launch_created(svc, result.entries)
    created = len(result.created)
    if wanted is None and created == 0 and not any(e.outcome == "active" for e in result.entries):
        response = jsonify({"error": "no visible subscription can be scanned",
                            "scans": [_entry_view(e) for e in result.entries]})
        response.status_code = 422
        return response
    response = jsonify({
        "count": len(result.entries),
        "created": created,
        "started": started,
        "message": f"{created} scan(s) queued, {started} starting now; the rest start as launch slots free up",
        "scans": [_entry_view(e) for e in result.entries],
    })
    response.status_code = 202
    return response


# ------------------------------------------------------------------------- subscriptions
@bp.get("/api/subscriptions")
@require_role("reader")
def list_estate() -> dict[str, Any]:
    params = single_params(request.args, SUBSCRIPTIONS_PARAMS)
    refresh = params.get("refresh", "false")
    if refresh not in ("true", "false"):
        raise ApiError(400, "refresh must be true or false")
    cache = subscription_cache()
    visible = cache.get(refresh=refresh == "true")
    url = services().settings.database_url
    latest = {s.subscription_id: s for s in FindingsQuery(url).latest_scans()}
    active = history.active_scans(url)
    schedules = ScheduleStore(url).for_subscriptions()
    everywhere = schedules.get(None, [])
    rows = []
    for sub in visible:
        last = latest.get(sub.subscription_id)
        rows.append({
            "subscription_id": sub.subscription_id,
            "display_name": sub.display_name,
            "state": sub.state,
            "scannable": sub.scannable,
            "latest_scan": None if last is None else {
                "scan_id": last.scan_id, "score": last.score, "total_findings": last.total_findings,
                "completed_at": iso(last.completed_at)},
            "active_scan": active.get(sub.subscription_id),
            "schedules": [{"id": s.id, "name": s.name, "enabled": s.enabled, "next_run_at": iso(s.next_run_at),
                           "target": "all" if s.subscription_id is None else "subscription"}
                          for s in schedules.get(sub.subscription_id, []) + everywhere],
        })
    return {"count": len(rows), "fetched_at": iso(cache.fetched_at), "subscriptions": rows}


# ------------------------------------------------------------------------- score history
@bp.get("/api/score/history")
@require_role("reader")
def score_history() -> dict[str, Any]:
    params = single_params(request.args, HISTORY_PARAMS)
    subscription_id = parse_optional_uuid(params, "subscription_id")
    days = bounded_int(params, "days", 30, 1, 366)
    points = history.score_history(services().settings.database_url, since=utcnow() - timedelta(days=days),
                                   subscription_id=subscription_id)
    return {"subscription_id": subscription_id, "days": days, "count": len(points),
            "points": [{"subscription_id": p.subscription_id, "scan_id": p.scan_id,
                        "completed_at": iso(p.completed_at), "score": p.score,
                        "total_findings": p.total_findings} for p in points]}
