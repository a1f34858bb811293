"""Bearer-token auth: HS256 JWTs with a ``role`` claim (``reader`` or ``operator``).

Tokens are self-contained so that every gunicorn worker and every host can check them without
a session store: the shared ``JWT_SECRET`` is the only state. ``operator`` includes ``reader``.
Tokens are never logged, and error messages never echo them.

``issue_token`` lives here, next to the verification, so that ``bin/openshield token`` and
``bin/demo`` cannot drift from what the API accepts.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Callable, Mapping, ParamSpec, TypeVar

import jwt
from flask import Flask, current_app, g, request

from api.errors import ApiError

ALGORITHM = "HS256"
ROLES = ("reader", "operator")
_RANK = {"reader": 1, "operator": 2}

# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (32 bytes).
MIN_SECRET_BYTES = 32
# Used only when OPENSHIELD_DEMO=1 and no JWT_SECRET is set; public, so never safe elsewhere.
DEMO_JWT_SECRET = "openshield-demo-only-secret-never-use-it-in-production"
_EXTENSION = "openshield.auth"
_REALM = 'Bearer realm="openshield"'

P = ParamSpec("P")
R = TypeVar("R")


class TokenError(Exception):
    """A presented token is not acceptable; the message is safe to return to the client."""


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str | None


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
        _check_secret(secret)
        return secret
    if demo_mode(env):
        return DEMO_JWT_SECRET
    raise RuntimeError("JWT_SECRET is required (at least 32 bytes; for example: openssl rand -hex 32)")


def _check_secret(secret: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise RuntimeError(
            f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (for example: openssl rand -hex 32)"
        )


def issue_token(secret: str, role: str, ttl_seconds: int = 3600, subject: str = "openshield") -> str:
    """A signed token for ``role`` that expires after ``ttl_seconds``."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be a positive integer")
    _check_secret(secret)
    now = int(_now())
    claims = {"sub": subject, "role": role, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    """The token's principal, or :class:`TokenError` saying what is wrong with it."""
    principal, expires_at = _verify_signed(secret, token)
    if _now() >= expires_at:  # a cached verdict still expires on time
        raise TokenError("token expired")
    return principal


# Decoding and checking a JWT costs about a tenth of a GET /api/scans/<id>, and clients reuse
# one token for many calls: remember tokens that verified (per secret) and re-check only their
# expiry. Failures are never cached, so a bad token is re-examined every time.
@lru_cache(maxsize=1024)
def _verify_signed(secret: str, token: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "role"]})
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidSignatureError:
        raise TokenError("token signature is invalid") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError(f"token has no {exc.claim!r} claim") from None
    except jwt.InvalidAlgorithmError:
        raise TokenError(f"token must be signed with {ALGORITHM}") from None
    except jwt.ImmatureSignatureError:
        raise TokenError("token is not valid yet") from None
    except jwt.DecodeError:
        raise TokenError("token is malformed") from None
    except jwt.InvalidTokenError:
        raise TokenError("token is invalid") from None
    role = claims.get("role")
    if role not in _RANK:
        raise TokenError(f"token role must be one of {', '.join(ROLES)}")
    subject = claims.get("sub")
    principal = Principal(role=role, subject=subject if isinstance(subject, str) else None)
    return principal, float(claims["exp"])


def _now() -> float:
    return time.time()


def init_auth(app: Flask, secret: str) -> None:
    """Give ``app`` its verification secret (kept out of ``app.config``, which gets printed)."""
    _check_secret(secret)
    app.extensions[_EXTENSION] = secret


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(401, "missing bearer token (Authorization: Bearer <token>)", headers={"WWW-Authenticate": _REALM})
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise ApiError(
            401, "Authorization header must be 'Bearer <token>'",
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_request"'},
        )
    return token


def authenticate(required_role: str) -> Principal:
    """Check the request's token and role; raise 401 or 403 as an :class:`ApiError`."""
    token = _bearer_token()
    try:
        principal = verify_token(current_app.extensions[_EXTENSION], token)
    except TokenError as exc:
        raise ApiError(401, str(exc), headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'}) from None
    if _RANK[principal.role] < _RANK[required_role]:
        raise ApiError(403, f"this action needs the {required_role} role; the token has {principal.role}")
    g.principal = principal
    return principal


def require_role(role: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Route decorator: the request needs a valid token with at least ``role``."""
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            authenticate(role)
            return view(*args, **kwargs)

        return wrapper

    return decorate
