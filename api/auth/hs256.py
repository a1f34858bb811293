"""HS256 service tokens: what ``openshield token`` mints and what scripts and the CLI send.

Tokens are self-contained so that every gunicorn worker and every host can check them without a
session store: the shared ``JWT_SECRET`` signs them, and the only shared state is the list of
revoked ``jti`` values (:mod:`api.auth.revocation`). Tokens are never logged, and error
messages never echo them.

``issue_token`` lives here, next to the verification, so that ``bin/openshield token`` and
``bin/demo`` cannot drift from what the API accepts.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

import jwt

from api.auth.claims import check_window, numeric_date, short_string
from api.auth.principal import RANK, ROLES, Principal, TokenError

ALGORITHM = "HS256"
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (32 bytes).
MIN_SECRET_BYTES = 32
# Used only when OPENSHIELD_DEMO=1 and no JWT_SECRET is set; public, so never safe elsewhere.
DEMO_JWT_SECRET = "openshield-demo-only-secret-never-use-it-in-production"

# Signature and algorithm only: every claim is checked by api.auth.claims, which answers any
# JSON type with a 401 (PyJWT's own checks let some shapes through as type errors).
_SIGNATURE_ONLY = {
    "verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
    "verify_aud": False, "verify_iss": False, "verify_sub": False, "verify_jti": False, "require": [],
}


@dataclass(frozen=True)
class ServiceToken:
    """A verified HS256 token: who it is for, and what revocation needs to know about it."""

    principal: Principal
    expires_at: float
    not_before: float | None
    issued_at: float | None
    jti: str | None


def demo_mode(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("OPENSHIELD_DEMO", "").strip().lower() in ("1", "true", "yes", "on")


def secret_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``JWT_SECRET``; in demo mode without one, the fixed demo secret. Raises RuntimeError otherwise.

    An explicit ``JWT_SECRET`` always wins, so a demo can still run with a private secret.
    """
    env = os.environ if environ is None else environ
    secret = env.get("JWT_SECRET", "")
    if secret:
        check_secret(secret)
        return secret
    if demo_mode(env):
        return DEMO_JWT_SECRET
    raise RuntimeError("JWT_SECRET is required (or set OPENSHIELD_DEMO=1)")


def check_secret(secret: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise RuntimeError(
            f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (for example: openssl rand -hex 32)"
        )


def issue_token(secret: str, role: str, ttl_seconds: int = 3600, subject: str = "openshield") -> str:
    """A signed token for ``role`` that expires after ``ttl_seconds``, with a fresh ``jti``."""
    return issue_token_with_id(secret, role, ttl_seconds, subject)[0]


def issue_token_with_id(
    secret: str, role: str, ttl_seconds: int = 3600, subject: str = "openshield"
) -> tuple[str, dict[str, Any]]:
    """The token and its claims (``jti`` names it for ``openshield token revoke``)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be a positive integer")
    check_secret(secret)
    now = int(_now())
    claims = {"sub": subject, "role": role, "iat": now, "exp": now + ttl_seconds, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), claims


def verify_token(secret: str, token: str) -> Principal:
    """The token's principal, or :class:`TokenError` saying what is wrong with it."""
    return verify_service_token(secret, token).principal


def verify_service_token(secret: str, token: str) -> ServiceToken:
    """The verified token (signature, claim shapes, validity window); not yet checked for revocation."""
    verified = _verify_signed(secret, token)
    check_window(verified.expires_at, verified.not_before, _now())  # a cached verdict still expires on time
    return verified


# Decoding and checking a JWT costs about a tenth of a GET /api/scans/<id>, and clients reuse
# one token for many calls: remember tokens whose signature and claims checked out (per secret)
# and re-check only their validity window (and revocation, in the caller). Failures are never
# cached, so a bad token is re-examined every time.
@lru_cache(maxsize=1024)
def _verify_signed(secret: str, token: str) -> ServiceToken:
    claims = _decode(secret, token)
    expires_at = numeric_date(claims, "exp", required=True)
    assert expires_at is not None
    not_before = numeric_date(claims, "nbf", required=False)
    issued_at = numeric_date(claims, "iat", required=False)
    if "role" not in claims:
        raise TokenError("token has no 'role' claim")
    role = claims["role"]
    if not isinstance(role, str) or role not in RANK:
        raise TokenError(f"token role must be one of {', '.join(ROLES)}")
    subject = short_string(claims, "sub", required=True)
    jti = short_string(claims, "jti", required=False)
    return ServiceToken(Principal(role=role, subject=subject), expires_at, not_before, issued_at, jti)


def _decode(secret: str, token: str) -> dict[str, Any]:
    try:
        return dict(jwt.decode(token, secret, algorithms=[ALGORITHM], options=_SIGNATURE_ONLY))  # type: ignore[arg-type]
    except jwt.InvalidSignatureError:
        raise TokenError("token signature is invalid") from None
    except jwt.InvalidAlgorithmError:
        raise TokenError(f"token must be signed with {ALGORITHM}") from None
    except jwt.DecodeError:
        raise TokenError("token is malformed") from None
    except jwt.InvalidTokenError:
        raise TokenError("token is invalid") from None
    except (ValueError, TypeError, OverflowError, RecursionError):
        # a header or payload PyJWT could not take apart (deep nesting, odd types)
        raise TokenError("token is malformed") from None


def _now() -> float:
    return time.time()
