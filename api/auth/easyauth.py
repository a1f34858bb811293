"""App Service Authentication ("Easy Auth"): the platform signs people in and vouches for them.

When it is on, App Service puts ``WEBSITE_AUTH_ENABLED=True`` in the app's environment, handles
the sign-in (``/.auth/login/aad``) itself, strips any ``X-MS-CLIENT-PRINCIPAL`` a client sends
and injects its own: base64 JSON ``{"auth_typ", "claims": [{"typ", "val"}], "name_typ",
"role_typ"}``. Only then is the header trusted; anywhere else anyone could send it, so it is
ignored. App roles arrive as claims of type ``role_typ`` (or ``roles``) and map as for Entra ID
tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any, Mapping

from api.auth.entra import APP_ROLES
from api.auth.principal import NoRoleError, Principal, TokenError, higher_role

HEADER = "X-MS-CLIENT-PRINCIPAL"
LOGIN_PATH = "/.auth/login/aad"
LOGOUT_PATH = "/.auth/logout"
MAX_HEADER_BYTES = 64 * 1024
_OBJECT_ID_TYPES = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")


def enabled_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """True when App Service says its authentication module is on."""
    env = os.environ if environ is None else environ
    return env.get("WEBSITE_AUTH_ENABLED", "").strip().lower() == "true"


def principal_from_header(value: str) -> Principal:
    """The principal App Service vouches for; TokenError (401) or NoRoleError (403) otherwise."""
    document = _decode(value)
    claims = document.get("claims")
    if not isinstance(claims, list):
        raise TokenError(f"{HEADER} has no claims")
    pairs = [(c.get("typ"), c.get("val")) for c in claims if isinstance(c, dict)]
    role_type = document.get("role_typ") if isinstance(document.get("role_typ"), str) else "roles"
    name_type = document.get("name_typ") if isinstance(document.get("name_typ"), str) else "name"
    roles = [val for typ, val in pairs if typ in (role_type, "roles") and isinstance(val, str)]
    role = higher_role([APP_ROLES[r] for r in roles if r in APP_ROLES])
    if role is None:
        raise NoRoleError("the signed-in user has no OpenShield app role (OpenShield.Reader or OpenShield.Operator)")
    names = [val for typ, val in pairs if typ == name_type and isinstance(val, str) and val]
    object_ids = [val for typ, val in pairs if typ in _OBJECT_ID_TYPES and isinstance(val, str) and val]
    subject = (names or object_ids or [None])[0]
    return Principal(role=role, subject=subject[:256] if subject else None, kind="easyauth")


def _decode(value: str) -> dict[str, Any]:
    if len(value) > MAX_HEADER_BYTES:
        raise TokenError(f"{HEADER} is too large")
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        document = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise TokenError(f"{HEADER} is not base64 JSON") from None
    if not isinstance(document, dict):
        raise TokenError(f"{HEADER} is not a JSON object")
    return document
