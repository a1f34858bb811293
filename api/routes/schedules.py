"""Schedules: ``GET/POST /api/schedules``, ``GET/PATCH/DELETE /api/schedules/<id>``.

A schedule targets one subscription or all (``"all": true``) and is due on an interval or a
cron expression in a time zone; the supervisors fire it (``supervisor.schedules``). Bad cron
expressions, unknown time zones and intervals below the minimum are 400 with the reason.
"""

from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, Response, jsonify, request

from api.auth import require_role
from api.errors import ApiError
from api.routes import services
from api.validation import json_object_body, parse_uuid
from store.clock import iso
from store.models import Schedule
from store.parsing import check_rule_ids
from store.schedules import ScheduleError, ScheduleStore, Timing, min_interval_seconds

bp = Blueprint("schedules", __name__)

CREATE_FIELDS = ("name", "subscription_id", "all", "interval_seconds", "cron", "timezone", "enabled", "rules")
PATCH_FIELDS = ("name", "interval_seconds", "cron", "timezone", "enabled", "rules")


def schedule_view(row: Schedule) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "target": "all" if row.subscription_id is None else "subscription",
        "subscription_id": row.subscription_id, "interval_seconds": row.interval_seconds, "cron": row.cron,
        "timezone": row.timezone, "enabled": row.enabled, "rules": row.rules,
        "next_run_at": iso(row.next_run_at), "created_at": iso(row.created_at),
        "last_fired_at": iso(row.last_fired_at), "last_fired_by": row.last_fired_by,
        "last_scan_ids": row.last_scan_ids or [], "last_skipped": row.last_skipped or [],
        "last_error": row.last_error,
    }


def _store() -> ScheduleStore:
    return ScheduleStore(services().settings.database_url)


def _schedule_id(raw: str) -> str:
    return parse_uuid(raw, "schedule_id")


def _min_interval() -> int:
    try:
        return min_interval_seconds()
    except ValueError as exc:
        raise ApiError(500, str(exc)) from None


def _check_fields(body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(400, f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}")


def _typed(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields' types checked; values checked by :class:`Timing` and the rule catalogue."""
    out: dict[str, Any] = {}
    if "name" in body:
        if not isinstance(body["name"], str) or not 1 <= len(body["name"].strip()) <= 200:
            raise ApiError(400, "name must be a string of 1 to 200 characters")
        out["name"] = body["name"].strip()
    if "interval_seconds" in body:
        value = body["interval_seconds"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ApiError(400, "interval_seconds must be an integer number of seconds")
        out["interval_seconds"] = value
    if "cron" in body:
        if body["cron"] is not None and (not isinstance(body["cron"], str) or len(body["cron"]) > 200):
            raise ApiError(400, "cron must be a five-field cron expression string")
        out["cron"] = body["cron"].strip() if isinstance(body["cron"], str) else None
    if "timezone" in body:
        if not isinstance(body["timezone"], str) or not body["timezone"] or len(body["timezone"]) > 64:
            raise ApiError(400, "timezone must be an IANA time zone name such as Europe/Berlin")
        out["timezone"] = body["timezone"]
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise ApiError(400, "enabled must be true or false")
        out["enabled"] = body["enabled"]
    if "rules" in body:
        value = body["rules"]
        if value is not None:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ApiError(400, "rules must be an array of rule ids, or null for every rule")
            try:
                value = check_rule_ids(value, services().known_rules)
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
        out["rules"] = value
    return out


@bp.get("/api/schedules")
@require_role("reader")
def list_schedules() -> dict[str, Any]:
    rows = _store().list()
    return {"count": len(rows), "schedules": [schedule_view(r) for r in rows]}


@bp.post("/api/schedules")
@require_role("operator")
def create_schedule() -> Response:
    body = json_object_body(request)
    _check_fields(body, CREATE_FIELDS)
    if ("subscription_id" in body) == ("all" in body):
        raise ApiError(400, "give subscription_id or \"all\": true")
    if "all" in body and body["all"] is not True:
        raise ApiError(400, "all must be true (or give subscription_id)")
    subscription_id = parse_uuid(body["subscription_id"], "subscription_id") if "subscription_id" in body else None
    fields = _typed(body)
    timing = Timing(fields.get("interval_seconds"), fields.get("cron"), fields.get("timezone", "UTC"))
    try:
        timing.check(_min_interval())
    except ScheduleError as exc:
        raise ApiError(400, str(exc)) from None
    name = fields.get("name") or (f"every subscription, {timing.cron or f'every {timing.interval_seconds} s'}"
                                  if subscription_id is None else f"{subscription_id}")
    row = _store().create(name=name, subscription_id=subscription_id, timing=timing,
                          enabled=fields.get("enabled", True), rules=fields.get("rules"))
    response = jsonify(schedule_view(row))
    response.status_code = 201
    response.headers["Location"] = f"/api/schedules/{row.id}"
    return response


@bp.get("/api/schedules/<schedule_id>")
@require_role("reader")
def get_schedule(schedule_id: str) -> dict[str, Any]:
    schedule_id = _schedule_id(schedule_id)
    row = _store().get(schedule_id)
    if row is None:
        raise ApiError(404, f"schedule {schedule_id} not found")
    return schedule_view(row)


@bp.patch("/api/schedules/<schedule_id>")
@require_role("operator")
def update_schedule(schedule_id: str) -> dict[str, Any]:
    schedule_id = _schedule_id(schedule_id)
    body = json_object_body(request)
    _check_fields(body, PATCH_FIELDS)
    if not body:
        raise ApiError(400, f"nothing to change; fields: {', '.join(PATCH_FIELDS)}")
    fields = _typed(body)
    try:
        row = _store().update(schedule_id, fields, min_interval=_min_interval())
    except ScheduleError as exc:
        raise ApiError(400, str(exc)) from None
    if row is None:
        raise ApiError(404, f"schedule {schedule_id} not found")
    return schedule_view(row)


@bp.delete("/api/schedules/<schedule_id>")
@require_role("operator")
def delete_schedule(schedule_id: str) -> Response:
    schedule_id = _schedule_id(schedule_id)
    if not _store().delete(schedule_id):
        raise ApiError(404, f"schedule {schedule_id} not found")
    return Response(status=204)
