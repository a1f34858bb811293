"""Auth settings from the environment, checked once at start-up (a bad value stops the app).

Read here rather than in ``store.settings`` because only the API authenticates requests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from api.auth.easyauth import enabled_from_env
from api.auth.entra import EntraSettings
from api.auth.revocation import DEFAULT_CACHE_SECONDS


@dataclass(frozen=True)
class AuthConfig:
    # OPENSHIELD_TOKENS_NOT_BEFORE: service tokens issued before it are refused
    tokens_not_before: datetime | None
    # OPENSHIELD_REVOCATION_CACHE_SECONDS: how stale a worker's revoked-token list may be
    revocation_cache_seconds: float
    # OPENSHIELD_ENTRA_TENANT_ID + OPENSHIELD_ENTRA_AUDIENCE (+ AZURE_AUTHORITY_HOST); None: off
    entra: EntraSettings | None = None
    # WEBSITE_AUTH_ENABLED=True: App Service Authentication is on; trust X-MS-CLIENT-PRINCIPAL
    easy_auth: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "AuthConfig":
        env = os.environ if environ is None else environ
        return cls(
            tokens_not_before=_instant(env, "OPENSHIELD_TOKENS_NOT_BEFORE"),
            revocation_cache_seconds=_seconds(env, "OPENSHIELD_REVOCATION_CACHE_SECONDS", DEFAULT_CACHE_SECONDS),
            entra=EntraSettings.from_env(env),
            easy_auth=enabled_from_env(env),
        )


def _instant(env: Mapping[str, str], name: str) -> datetime | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise RuntimeError(f"{name} must be an ISO 8601 time with a zone, for example 2026-11-30T09:00:00Z, not {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 300:
        raise RuntimeError(f"{name} must be a number of seconds from 0 to 300, not {raw!r}")
    return value
