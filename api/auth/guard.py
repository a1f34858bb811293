"""The request side of auth: which credential a request carries, who it is, and may it pass.

One :class:`Authenticator` per app (in ``app.extensions``) holds the verifiers the configuration
enables: HS256 service tokens always; Entra ID access tokens (RS256) when a tenant is set; App
Service's ``X-MS-CLIENT-PRINCIPAL`` only when the platform says its authentication is on (it
is then the platform's own header; elsewhere anyone could send it). A bearer token's ``alg``
header picks its verifier, and each verifier accepts only its own algorithm.
:func:`require_role` is the route decorator. Answers: 401 for a missing or unacceptable
credential (with ``WWW-Authenticate``), 403 for a valid one without the role, 503 (with
``Retry-After``) when the credential cannot be checked right now. Never a 500, whatever a token
holds.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Callable, ParamSpec, TypeVar

import jwt
from flask import Flask, current_app, g, request

from api.auth import easyauth
from api.auth.entra import ALGORITHM as ENTRA_ALGORITHM
from api.auth.hs256 import ALGORITHM, check_secret, verify_service_token
from api.auth.principal import RANK, AuthUnavailable, NoRoleError, Principal, TokenError
from api.errors import ApiError

if TYPE_CHECKING:
    from api.auth.entra import EntraVerifier
    from api.auth.revocation import RevocationList

_EXTENSION = "openshield.auth"
# Methods a browser may send cross-site without the page's consent; anything else signed in by
# App Service's cookie must carry this header, which no cross-site form can add (CSRF).
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-Requested-With"
_REALM = 'Bearer realm="openshield"'
RETRY_AFTER_SECONDS = "5"

P = ParamSpec("P")
R = TypeVar("R")


class Authenticator:
    """Turns a request's credential into a :class:`Principal` (or an auth error)."""

    def __init__(self, secret: str, revocations: RevocationList | None = None, *,
                 entra: EntraVerifier | None = None, easy_auth: bool = False) -> None:
        check_secret(secret)
        self._secret = secret  # kept out of app.config, which gets printed
        self._revocations = revocations
        self.entra = entra
        self.easy_auth = easy_auth

    def from_request(self) -> Principal:
        """The request's principal: App Service's header when the platform vouches for it, else the bearer token."""
        if self.easy_auth:
            header = request.headers.get(easyauth.HEADER)
            if header:
                principal = easyauth.principal_from_header(header)
                if (request.method not in _SAFE_METHODS and not request.headers.get("Authorization")
                        and not request.headers.get(CSRF_HEADER)):
                    raise NoRoleError(f"a browser session must send {CSRF_HEADER} on {request.method} requests")
                return principal
        return self.principal(_bearer_token())

    def has_credential(self) -> bool:
        """Does the request carry anything to check (a bearer token, or the platform's principal)?"""
        return bool(request.headers.get("Authorization")
                    or (self.easy_auth and request.headers.get(easyauth.HEADER)))

    def principal(self, token: str) -> Principal:
        if self.entra is not None and _algorithm(token) == ENTRA_ALGORITHM:
            return self.entra.principal(token)
        verified = verify_service_token(self._secret, token)
        if self._revocations is not None:
            self._revocations.check(verified)
        return verified.principal


def _algorithm(token: str) -> object:
    """The unverified ``alg`` header (only to pick a verifier; each one pins its own algorithm)."""
    try:
        return jwt.get_unverified_header(token).get("alg")
    except (jwt.InvalidTokenError, ValueError, TypeError, RecursionError):
        return None  # the HS256 path says what is wrong with it


def current_authenticator() -> Authenticator:
    return current_app.extensions[_EXTENSION]  # type: ignore[no-any-return]


def init_auth(app: Flask, authenticator: Authenticator | str) -> None:
    """Give ``app`` its authenticator (a bare secret: service tokens only, no revocation list)."""
    if isinstance(authenticator, str):
        authenticator = Authenticator(authenticator)
    app.extensions[_EXTENSION] = authenticator


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
    """Check the request's credential and role; raise 401, 403 or 503 as an :class:`ApiError`."""
    authenticator = current_authenticator()
    try:
        principal = authenticator.from_request()
    except TokenError as exc:
        raise ApiError(401, str(exc), headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'}) from None
    except NoRoleError as exc:
        raise ApiError(403, str(exc)) from None
    except AuthUnavailable as exc:
        raise ApiError(503, str(exc), headers={"Retry-After": RETRY_AFTER_SECONDS}) from None
    if RANK[principal.role] < RANK[required_role]:
        held = "the token has" if principal.kind != "easyauth" else "you have"
        raise ApiError(403, f"this action needs the {required_role} role; {held} {principal.role}")
    g.principal = principal
    return principal


def require_role(role: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Route decorator: the request needs a valid credential with at least ``role``."""
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            authenticate(role)
            return view(*args, **kwargs)

        return wrapper

    return decorate


__all__ = ["ALGORITHM", "CSRF_HEADER", "Authenticator", "authenticate", "current_authenticator", "init_auth",
           "require_role"]
