"""``GET /health``: is the database reachable, and is this host's supervisor alive?

Unauthenticated (load balancers and App Service probe it), so it answers with states only,
never with connection details. The database decides the HTTP status: without it the API can
do nothing (503). A dead supervisor still lets the API answer, but queued scans would never
start and dead scans would never be reaped, hence ``degraded`` with a 200.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import DBAPIError

from api.routes import services
from api.views import beat_view
from store.clock import utcnow
from store.supervisors import ALIVE_SECONDS, get_beat

log = logging.getLogger("openshield.api")

bp = Blueprint("health", __name__)

# The supervisor writes its row every second; older than this, it is not running.
SUPERVISOR_ALIVE_SECONDS = ALIVE_SECONDS


@bp.get("/health")
def health() -> Response:
    svc = services()
    host = svc.settings.host_id
    supervisor: dict[str, Any] = {"alive": False, "last_seen": None, "host": host, "pid": None}
    try:
        beat = get_beat(svc.settings.database_url, host)
    except Exception as exc:  # any failure to read means the database is not usable
        log.warning("health: database check failed: %s", exc)
        return _answer(503, {"status": "degraded", "db": f"error: {_short(exc)}", "supervisor": supervisor})
    if beat is not None:
        supervisor.update(
            alive=utcnow() - beat.last_seen < timedelta(seconds=SUPERVISOR_ALIVE_SECONDS),
            last_seen=beat_view(beat)["last_seen"],
            pid=beat.pid,
        )
    status = "ok" if supervisor["alive"] else "degraded"
    return _answer(200, {"status": status, "db": "ok", "supervisor": supervisor})


def _short(exc: Exception) -> str:
    """The error's class name: enough to tell "unreachable" from "not migrated", nothing secret."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return type(cause).__name__


def _answer(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
