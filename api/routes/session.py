"""``GET /api/session``: how to sign in here, and who the request is signed in as (no token needed).

The dashboard reads it at start-up: behind App Service Authentication (``WEBSITE_AUTH_ENABLED``)
it offers "Sign in with Microsoft" (``/.auth/login/aad``, handled by the platform) and, once the
platform vouches for the user, skips the token form. It never says why a credential failed
beyond one line, and never echoes a token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from api.auth import AuthUnavailable, NoRoleError, TokenError
from api.auth.easyauth import LOGIN_PATH, LOGOUT_PATH
from api.auth.guard import current_authenticator
from api.validation import single_params

bp = Blueprint("session", __name__)


@bp.get("/api/session")
def session() -> Response:
    single_params(request.args, ())
    authenticator = current_authenticator()
    easy_auth = authenticator.easy_auth
    principal: dict[str, Any] | None = None
    refused: str | None = None
    if authenticator.has_credential():
        try:
            found = authenticator.from_request()
            principal = {"role": found.role, "subject": found.subject, "kind": found.kind}
        except (TokenError, NoRoleError, AuthUnavailable) as exc:
            refused = str(exc)
    return jsonify({
        "sign_in": {
            "easy_auth": easy_auth,
            "entra_id": authenticator.entra is not None,
            "login_url": f"{LOGIN_PATH}?post_login_redirect_uri=/" if easy_auth else None,
            "logout_url": f"{LOGOUT_PATH}?post_logout_redirect_uri=/" if easy_auth else None,
        },
        "principal": principal,
        "refused": refused,
    })
