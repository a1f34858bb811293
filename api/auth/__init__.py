"""API authentication, one job per module:

- :mod:`api.auth.principal` — roles, :class:`Principal`, the errors (401, 403, 503);
- :mod:`api.auth.claims` — claim checks that survive any JSON type a signer put in a token;
- :mod:`api.auth.hs256` — service tokens (``JWT_SECRET``): minting and verification;
- :mod:`api.auth.revocation` — revoked ``jti`` and ``OPENSHIELD_TOKENS_NOT_BEFORE``;
- :mod:`api.auth.entra` — Entra ID access tokens (RS256, the tenant's JWKS, app roles);
- :mod:`api.auth.easyauth` — App Service Authentication's ``X-MS-CLIENT-PRINCIPAL``;
- :mod:`api.auth.config` — the auth settings, read and checked once at start-up;
- :mod:`api.auth.guard` — the request side: credential → principal → role check.

The names below are what the rest of the code and the tests import.
"""

from api.auth.guard import Authenticator, authenticate, init_auth, require_role
from api.auth.hs256 import (
    ALGORITHM, DEMO_JWT_SECRET, MIN_SECRET_BYTES, demo_mode, issue_token, issue_token_with_id, secret_from_env,
    verify_token,
)
from api.auth.principal import RANK, ROLES, AuthUnavailable, NoRoleError, Principal, TokenError

__all__ = [
    "ALGORITHM", "DEMO_JWT_SECRET", "MIN_SECRET_BYTES", "RANK", "ROLES", "AuthUnavailable", "Authenticator",
    "NoRoleError", "Principal", "TokenError", "authenticate", "demo_mode", "init_auth", "issue_token",
    "issue_token_with_id", "require_role", "secret_from_env", "verify_token",
]
