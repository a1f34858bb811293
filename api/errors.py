"""Every error the API returns is JSON ``{"error": "<short specific message>"}``.

Clients (the dashboard, scripts, ``bin/openshield``) parse one shape whatever went wrong, so
Flask's own HTML error pages (404, 405, 413, 500) are replaced here too. Messages are short and
never carry a traceback, a token or a connection string; details go to the server log.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from store.db import DatabaseBusy

log = logging.getLogger("openshield.api")


class ApiError(Exception):
    """An error answer: raise it anywhere in a request; extra fields join the JSON body."""

    # positional-only, so that a body field may itself be called "status" (409 on cancel)
    def __init__(self, code: int, message: str, /, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def error_response(code: int, message: str, /, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = code
    return response


def _api_error(exc: ApiError) -> Response:
    response = error_response(exc.code, exc.message, **exc.extra)
    response.headers.update(exc.headers)
    return response


def _http_message(exc: HTTPException) -> str:
    """A short, specific message instead of Werkzeug's paragraph-long descriptions."""
    if isinstance(exc, MethodNotAllowed):
        allowed = ", ".join(sorted(m for m in (exc.valid_methods or []) if m not in ("HEAD", "OPTIONS")))
        return f"method {request.method} not allowed on {request.path}" + (f"; allowed: {allowed}" if allowed else "")
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length
        return "request body too large" + (f" (limit {limit} bytes)" if limit else "")
    if exc.code == 404:
        return f"not found: {request.path}"
    return (exc.name or "error").lower()


def _http_error(exc: HTTPException) -> Response:
    # get_response() keeps the headers Werkzeug chose (Allow on 405, for instance).
    response = exc.get_response()
    response.set_data(jsonify({"error": _http_message(exc)}).get_data())
    response.mimetype = "application/json"
    return response


# PostgreSQL SQLSTATEs of a bounded wait that ran out: lock_not_available (lock_timeout),
# query_canceled (statement_timeout)
_BUSY_SQLSTATES = ("55P03", "57014")
RETRY_AFTER_SECONDS = "5"


def _database_error(exc: DBAPIError) -> Response:
    if getattr(exc.orig, "sqlstate", None) in _BUSY_SQLSTATES:
        log.warning("database busy on %s %s: %s", request.method, request.path, type(exc.orig).__name__)
        return _retry_later("database busy (a lock wait timed out); retry shortly")
    # The driver's message may name hosts and users: log it, answer something generic.
    log.error("database error on %s %s: %s", request.method, request.path, type(exc.orig).__name__, exc_info=exc)
    return _retry_later("database unavailable; retry shortly")


def _database_busy(exc: DatabaseBusy) -> Response:
    # Another process holds the SQLite write lock past the bound (OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS).
    log.warning("database busy on %s %s: %s", request.method, request.path, exc)
    return _retry_later("database busy (a lock wait timed out); retry shortly")


def _retry_later(message: str) -> Response:
    response = error_response(503, message)
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal server error")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(DatabaseBusy, _database_busy)
    app.register_error_handler(Exception, _unexpected)
