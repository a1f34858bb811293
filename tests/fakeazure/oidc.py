"""Entra ID as a resource API sees it: signing keys (JWKS) and RS256 user access tokens.

The emulator's tenant publishes its keys at ``/{tenant}/discovery/v2.0/keys`` (the ``jwks_uri``
of its OpenID configuration) and tests mint v2.0 access tokens for a user with chosen app
roles through ``POST /_admin/oidc/token``. Keys can be rotated (``POST /_admin/oidc/rotate``)
and the key endpoints taken down (``POST /_admin/oidc/faults {"down": true}``: 503 from the
OpenID configuration and the JWKS), so that an API's key cache, its refresh on an unknown
``kid`` and its answer to an outage are tested offline. Another tenant (``OTHER_TENANT_ID``)
has keys of its own, never published here: its tokens are what a foreign tenant would send.

Behaviour and shapes follow Microsoft Learn (see README.md, "Entra ID access tokens").
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

OTHER_TENANT_ID = "99999999-8888-4777-8666-555555555555"
DEFAULT_AUDIENCE = "api://openshield"
Response = tuple[int, str, list[tuple[str, str]], bytes]
JSON = "application/json; charset=utf-8"


@dataclass
class _SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> "_SigningKey":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # Entra's kid is the certificate thumbprint (base64url); a random one of the same form will do
        kid = base64.urlsafe_b64encode(hashlib.sha1(uuid.uuid4().bytes).digest()).rstrip(b"=").decode()
        return cls(kid, private)

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": public["n"], "e": public["e"]}


@dataclass
class FakeOidc:
    """Keys per tenant (the current one signs; published ones verify) and token minting."""

    tenant_id: str
    down: bool = False
    _keys: dict[str, list[_SigningKey]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._keys = {self.tenant_id.lower(): [_SigningKey.generate()], OTHER_TENANT_ID: [_SigningKey.generate()]}

    # -- the public endpoints --------------------------------------------------------------------
    def jwks(self) -> Response:
        if self.down:
            return _unavailable()
        with self._lock:
            keys = [key.jwk() for key in self._keys[self.tenant_id.lower()]]
        return 200, JSON, [("Cache-Control", "max-age=86400, private")], json.dumps({"keys": keys}).encode()

    # -- minting and rotation (admin) ------------------------------------------------------------
    def mint(self, base: str, options: dict[str, Any]) -> str:
        """A v2.0 access token for a user. Options: roles (list), audience, tenant ("own", "other"
        or a tenant id), expires_in (seconds, negative for an expired token), issuer (override),
        claims (extra or replaced claims)."""
        tenant = str(options.get("tenant") or "own")
        tid = {"own": self.tenant_id, "other": OTHER_TENANT_ID}.get(tenant, tenant).lower()
        with self._lock:
            keys = self._keys.get(tid)
            if keys is None:
                keys = self._keys[tid] = [_SigningKey.generate()]
            key = keys[-1]
        now = int(time.time())
        expires_in = int(options.get("expires_in", 3600))
        oid = str(options.get("oid") or uuid.uuid4())
        claims: dict[str, Any] = {
            "aud": options.get("audience", DEFAULT_AUDIENCE),
            "iss": options.get("issuer") or f"{base}/{tid}/v2.0",
            "iat": now - 5, "nbf": now - 5, "exp": now + expires_in,
            "aio": base64.b64encode(uuid.uuid4().bytes).decode(),
            "azp": str(uuid.uuid4()), "azpacr": "0",
            "name": options.get("name", "Ada Lovelace"),
            "oid": oid, "sub": base64.urlsafe_b64encode(hashlib.sha256(oid.encode()).digest()).rstrip(b"=").decode(),
            "preferred_username": options.get("preferred_username", "ada@contoso.example"),
            "rh": "0.A", "scp": "access_as_user", "tid": tid, "uti": uuid.uuid4().hex[:22], "ver": "2.0",
        }
        if options.get("roles") is not None:
            claims["roles"] = options["roles"]
        claims.update(options.get("claims") or {})
        # signed as given (JWS over the JSON): a signer may put any JSON in a claim, and tests
        # check that the API copes; jwt.encode would refuse some shapes before signing
        payload = json.dumps(claims).encode()
        return jwt.PyJWS().encode(payload, key.private, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})

    def rotate(self, retire_old: bool = True) -> str:
        """A new signing key for the tenant; by default the old one is no longer published."""
        new = _SigningKey.generate()
        with self._lock:
            keys = self._keys[self.tenant_id.lower()]
            self._keys[self.tenant_id.lower()] = [new] if retire_old else keys + [new]
        return new.kid

    def admin(self, route: str, method: str, body: bytes, base: str) -> Response | None:
        """``/_admin/oidc/...``; None when the route is not one of these."""
        if method != "POST" or route not in ("oidc/token", "oidc/rotate", "oidc/faults"):
            return None
        try:
            options = json.loads(body or b"{}")
            if not isinstance(options, dict):
                raise ValueError("body must be a JSON object")
        except ValueError as exc:
            return 400, JSON, [], json.dumps({"error": {"code": "BadRequest", "message": str(exc)}}).encode()
        if route == "oidc/token":
            return 200, JSON, [], json.dumps({"access_token": self.mint(base, options)}).encode()
        if route == "oidc/rotate":
            kid = self.rotate(bool(options.get("retire_old", True)))
            return 200, JSON, [], json.dumps({"kid": kid}).encode()
        self.down = bool(options.get("down", self.down))
        return 200, JSON, [], json.dumps({"down": self.down}).encode()


def _unavailable() -> Response:
    body = {"error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred. "
            "Please try again.", "error_codes": [90033]}
    return 503, JSON, [("Retry-After", "1")], json.dumps(body).encode()
