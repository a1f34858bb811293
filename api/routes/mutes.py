"""Mutes (accepted risks): ``GET /api/mutes`` (reader), ``POST /api/mutes`` and
``DELETE /api/mutes/<id>`` (operator). The author of a change is the token's ``sub``.
Validation is :func:`store.mutes.parse_mute`, shared with the CLI and the YAML import.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from api.auth import require_role
from api.errors import ApiError
from api.routes import services
from api.validation import json_object_body, single_params
from store.mutes import MuteStore, parse_mute

bp = Blueprint("mutes", __name__)

LIST_PARAMS = ("include_history", "include_deleted")
MAX_MUTE_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+")


def mute_store() -> MuteStore:
    return MuteStore(services().store.url)


def actor() -> str:
    principal = getattr(g, "principal", None)
    return getattr(principal, "subject", None) or "unknown"


def _flag(params: dict[str, str], name: str) -> bool:
    raw = params.get(name, "0")
    if raw not in ("0", "1", "true", "false"):
        raise ApiError(400, f"{name} must be 1 or 0")
    return raw in ("1", "true")


@bp.get("/api/mutes")
@require_role("reader")
def list_mutes() -> dict[str, Any]:
    params = single_params(request.args, LIST_PARAMS)
    history = _flag(params, "include_history")
    store = mute_store()
    mutes = store.list(include_deleted=_flag(params, "include_deleted"))
    answer: dict[str, Any] = {"count": len(mutes), "mutes": mutes}
    if history:
        answer["history"] = store.history()
    return answer


@bp.post("/api/mutes")
@require_role("operator")
def create_mute() -> tuple[Response, int]:
    body = json_object_body(request)
    try:
        spec = parse_mute(body, services().known_rules)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return jsonify(mute_store().create(spec, actor())), 201


@bp.delete("/api/mutes/<mute_id>")
@require_role("operator")
def delete_mute(mute_id: str) -> dict[str, Any]:
    if _DIGITS.fullmatch(mute_id) is None:
        raise ApiError(400, "mute id must be a positive integer")
    # an id beyond the column's range is simply unknown (and must not reach PostgreSQL's int4)
    in_range = len(mute_id) <= 10 and 1 <= int(mute_id) <= MAX_MUTE_ID
    deleted = mute_store().delete(int(mute_id), actor()) if in_range else None
    if deleted is None:
        raise ApiError(404, f"mute {mute_id} not found")
    return deleted
