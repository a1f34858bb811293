"""The dashboard: ``GET /`` and its static assets under ``/dashboard/``.

The page is plain HTML, CSS and JavaScript modules kept in ``api/dashboard/``: no build step
and nothing fetched from a CDN, because App Service often has no outbound internet and the
emulator demo runs offline. The page talks to the same API as every other client, with the
token the user pastes; these routes need no token themselves (they serve no data).

Every answer carries a strict Content-Security-Policy (``default-src 'self'``, no inline
script or style), so a finding whose text contains markup can never run code in an operator's
browser, and the page cannot be framed.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from api.errors import ApiError

bp = Blueprint("dashboard", __name__)

ASSETS = Path(__file__).resolve().parents[1] / "dashboard"
ASSET_PREFIX = "/dashboard"

# Explicit types: the platform's mimetypes table differs between hosts (``.js`` has been
# text/plain on some), and a module script served as anything but JavaScript does not run.
# Anything else in the folder is not served.
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    # Revalidate every time (the ETag makes that cheap): after an upgrade the browser must not
    # mix an old module with a new one.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def index() -> Response:
    return _send("index.html")


@bp.get(f"{ASSET_PREFIX}/<path:filename>")
def asset(filename: str) -> Response:
    return _send(filename)


def _send(filename: str) -> Response:
    mimetype = _TYPES.get(Path(filename).suffix.lower())
    if mimetype is None:
        raise ApiError(404, f"not found: {ASSET_PREFIX}/{filename}")
    # send_from_directory answers 404 for a missing file and for any path that would leave
    # ASSETS (``..``, absolute paths).
    return send_from_directory(ASSETS, filename, mimetype=mimetype, max_age=0)
