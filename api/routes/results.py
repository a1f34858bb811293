"""Result routes about one scan: what changed since another scan (``/diff``) and exports
(``/export``). Reads only; the store modules do the work, this module validates and shapes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, stream_with_context

from api.auth import require_role
from api.errors import ApiError
from api.routes import services
from api.validation import parse_uuid, single_params
from api.views import diff_view
from scanner.exports import FORMAT_INFO, FORMATS, ExportError, check_exportable, exporter, file_name
from store.diff import PREVIOUS, DiffError, scan_diff

bp = Blueprint("results", __name__)

DIFF_PARAMS = ("against",)
EXPORT_PARAMS = ("format",)


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


@bp.get("/api/scans/<scan_id>/export")
@require_role("reader")
def export(scan_id: str) -> Response:
    """The scan's results as a file, streamed: CSV, JSON-OCSF or the HTML report."""
    scan_id = parse_uuid(scan_id, "scan_id")
    params = single_params(request.args, EXPORT_PARAMS)
    fmt = params.get("format", "").lower()
    if fmt not in FORMATS:
        raise ApiError(400, f"format must be one of {', '.join(FORMATS)}")
    url = services().store.url
    try:
        check_exportable(url, scan_id)
    except ExportError as exc:
        raise ApiError(exc.status, str(exc)) from None
    info = FORMAT_INFO[fmt]
    body = stream_with_context(exporter(fmt)(url, scan_id))
    return Response(body, mimetype=info.media_type.split(";")[0], content_type=info.media_type, headers={
        "Content-Disposition": f'attachment; filename="{file_name(scan_id, fmt)}"',
        # the HTML report carries no script and loads nothing: say so to the browser as well
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "X-Content-Type-Options": "nosniff",
    })

