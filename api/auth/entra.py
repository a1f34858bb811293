"""Entra ID access tokens (RS256) for people: signed by the tenant, roles from app roles.

The tenant's OpenID configuration (``{authority}/{tenant}/v2.0/.well-known/openid-configuration``)
names the issuer and the JWKS; PyJWT's ``PyJWKClient`` fetches the keys, caches them, and fetches
again when a token names a ``kid`` it has not seen (Entra rotates its keys). A token must carry
this tenant's issuer and ``tid``, one of the configured audiences, a valid signature and validity
window, and an app role: ``OpenShield.Operator`` → operator, ``OpenShield.Reader`` → reader; none
→ 403. The configuration and the keys are fetched on first use, not at start-up, so the API
starts while Entra is out of reach; an outage answers 503, never 500.

Tokens must be v2.0 access tokens (the app registration's ``requestedAccessTokenVersion: 2``),
whose issuer is the one the v2.0 OpenID configuration states.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

import jwt

from api.auth.claims import check_window, numeric_date, short_string, string_list
from api.auth.principal import AuthUnavailable, NoRoleError, Principal, TokenError, higher_role

log = logging.getLogger("openshield.api")

PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
ALGORITHM = "RS256"
APP_ROLES = {"OpenShield.Reader": "reader", "OpenShield.Operator": "operator"}
# Seconds between forced JWKS refreshes for unknown key ids (PyJWKClient's cooldown): a rotated
# key is picked up at once the first time, while random kids cannot make us hammer Entra.
KEY_REFRESH_COOLDOWN_SECONDS = 30.0
# How long a fetched key set is trusted before it is fetched again anyway.
KEY_SET_LIFESPAN_SECONDS = 3600.0
HTTP_TIMEOUT_SECONDS = 5.0
# After a failed metadata fetch, answer 503 at once for this long instead of making every
# request wait out another timeout (requests queue behind the fetch's lock).
RETRY_DISCOVERY_AFTER_SECONDS = 5.0
_CLAIM_CHECKS_OFF = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_sub": False,
                     "verify_jti": False, "require": ["iss", "aud"]}


@dataclass(frozen=True)
class EntraSettings:
    tenant_id: str
    audiences: tuple[str, ...]
    authority: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "EntraSettings | None":
        """None when Entra ID sign-in is off (no tenant); RuntimeError on a half or bad setting."""
        env = os.environ if environ is None else environ
        tenant = env.get("OPENSHIELD_ENTRA_TENANT_ID", "").strip()
        audience = env.get("OPENSHIELD_ENTRA_AUDIENCE", "").strip()
        if not tenant and not audience:
            return None
        if not tenant or not audience:
            raise RuntimeError("OPENSHIELD_ENTRA_TENANT_ID and OPENSHIELD_ENTRA_AUDIENCE must be set together")
        try:
            tenant = str(uuid.UUID(tenant))
        except ValueError:
            raise RuntimeError(f"OPENSHIELD_ENTRA_TENANT_ID must be the tenant's id (a UUID), not {tenant!r}") from None
        authority = (env.get("AZURE_AUTHORITY_HOST", "").strip() or PUBLIC_AUTHORITY).rstrip("/")
        if not authority.startswith("https://"):
            raise RuntimeError(f"AZURE_AUTHORITY_HOST must be an https:// URL, not {authority!r}")
        audiences = tuple(a.strip() for a in audience.split(",") if a.strip())
        return cls(tenant_id=tenant, audiences=audiences, authority=authority)


def ssl_context_from_env(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The CA bundle the Azure SDKs use here (``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``), else the system's."""
    env = os.environ if environ is None else environ
    cafile = env.get("REQUESTS_CA_BUNDLE") or env.get("SSL_CERT_FILE") or None
    return ssl.create_default_context(cafile=cafile)


class EntraVerifier:
    """Verifies Entra ID access tokens for one tenant and audience."""

    def __init__(self, settings: EntraSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._ssl = ssl_context or ssl_context_from_env()
        self._lock = threading.Lock()
        self._issuer: str | None = None
        self._keys: jwt.PyJWKClient | None = None
        self._failed_at: float | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.settings.authority}/{self.settings.tenant_id}/v2.0/.well-known/openid-configuration"

    def principal(self, token: str) -> Principal:
        issuer, keys = self._discovery()
        try:
            signing_key = keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("Entra ID keys unreachable: %s", exc)
            raise AuthUnavailable("cannot reach Entra ID to check the token's signing key") from None
        except jwt.PyJWKSetError as exc:
            log.warning("Entra ID key set unusable: %s", exc)
            raise AuthUnavailable("Entra ID returned no usable signing keys") from None
        except jwt.PyJWKClientError:
            raise TokenError("token signing key is not one of the tenant's keys") from None
        except (jwt.DecodeError, ValueError, TypeError, RecursionError):
            raise TokenError("token is malformed") from None
        claims = self._decode(token, signing_key, issuer)
        expires_at = numeric_date(claims, "exp", required=True)
        assert expires_at is not None
        check_window(expires_at, numeric_date(claims, "nbf", required=False), time.time())
        numeric_date(claims, "iat", required=False)
        tid = claims.get("tid")
        if not isinstance(tid, str) or tid.lower() != self.settings.tenant_id:
            raise TokenError("token is from another tenant")
        role = higher_role([APP_ROLES[r] for r in string_list(claims, "roles") if r in APP_ROLES])
        if role is None:
            raise NoRoleError("the token has no OpenShield app role (OpenShield.Reader or OpenShield.Operator)")
        subject = short_string(claims, "preferred_username", required=False) or short_string(claims, "oid", required=False)
        return Principal(role=role, subject=subject, kind="entra")

    def _decode(self, token: str, signing_key: jwt.PyJWK, issuer: str) -> dict[str, Any]:
        try:
            return dict(jwt.decode(token, signing_key.key, algorithms=[ALGORITHM], audience=list(self.settings.audiences),
                                   issuer=issuer, options=_CLAIM_CHECKS_OFF))  # type: ignore[arg-type]
        except jwt.InvalidSignatureError:
            raise TokenError("token signature is invalid") from None
        except jwt.InvalidAudienceError:
            raise TokenError("token audience is not this API") from None
        except jwt.InvalidIssuerError:
            raise TokenError("token issuer is not the configured Entra ID tenant") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"token has no {exc.claim!r} claim") from None
        except jwt.InvalidAlgorithmError:
            raise TokenError(f"token must be signed with {ALGORITHM}") from None
        except jwt.InvalidTokenError:
            raise TokenError("token is invalid") from None
        except (ValueError, TypeError, OverflowError, RecursionError):
            raise TokenError("token is malformed") from None

    def _discovery(self) -> tuple[str, jwt.PyJWKClient]:
        """The tenant's issuer and key client, fetched once (retried on the next request after a failure)."""
        with self._lock:
            if self._issuer is not None and self._keys is not None:
                return self._issuer, self._keys
            unreachable = AuthUnavailable("cannot reach Entra ID to read the tenant's OpenID configuration")
            if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_DISCOVERY_AFTER_SECONDS:
                raise unreachable
            try:
                with urllib.request.urlopen(self.metadata_url, timeout=HTTP_TIMEOUT_SECONDS, context=self._ssl) as resp:
                    document = json.loads(resp.read())
                issuer, jwks_uri = document["issuer"], document["jwks_uri"]
                if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
                    raise ValueError("issuer and jwks_uri must be strings")
            except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError) as exc:
                log.warning("Entra ID OpenID configuration unreadable at %s: %s", self.metadata_url, exc)
                self._failed_at = time.monotonic()
                raise unreachable from None
            self._keys = jwt.PyJWKClient(
                jwks_uri, cache_keys=False, lifespan=KEY_SET_LIFESPAN_SECONDS, timeout=HTTP_TIMEOUT_SECONDS,
                ssl_context=self._ssl, cooldown_duration=KEY_REFRESH_COOLDOWN_SECONDS,
            )
            self._issuer = issuer
            return issuer, self._keys
