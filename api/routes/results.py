"""Result routes about one scan: what changed since another scan (``/diff``) and exports
(``/export``). Reads only; the store modules do the work, this module validates and shapes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from api.auth import require_role
from api.errors import ApiError
from api.routes import services
from api.validation import parse_uuid, single_params
from api.views import diff_view
from store.diff import PREVIOUS, DiffError, scan_diff

bp = Blueprint("results", __name__)

DIFF_PARAMS = ("against",)


@bp.get("/api/scans/<scan_id>/diff")
@require_role("reader")
def diff(scan_id: str) -> dict[str, Any]:
    scan_id = parse_uuid(scan_id, "scan_id")
    params = single_params(request.args, DIFF_PARAMS)
    raw = params.get("against", PREVIOUS)
    against = PREVIOUS if raw == PREVIOUS else parse_uuid(raw, "against")
    if against == scan_id:
        raise ApiError(400, "against must be another scan than scan_id")
    try:
        changes = scan_diff(services().store.url, scan_id, against)
    except DiffError as exc:
        raise ApiError(exc.status, str(exc)) from None
    return diff_view(changes)

