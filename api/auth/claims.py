"""Checks on a signed token's claims that hold whatever JSON the signer put in them.

A valid signature says who signed, not that the claims are well formed: ``role`` may be a list,
``exp`` a string or ``10**400``. Every check here answers with a one-line :class:`TokenError`
(401) rather than letting a type error or an overflow become a 500. Shared by the HS256 and the
Entra ID verifiers so that both read times the same way.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from api.auth.principal import TokenError

# RFC 7519 NumericDate: seconds since 1970. Anything past 9999-12-31 is refused rather than
# carried around as an integer too large for a float or a datetime.
MAX_NUMERIC_DATE = 253_402_300_799
MAX_STRING_CLAIM = 256


def numeric_date(claims: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    """Claim ``name`` as seconds since 1970, None when absent and optional; TokenError otherwise."""
    if name not in claims or claims[name] is None:
        if required:
            raise TokenError(f"token has no {name!r} claim")
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TokenError(f"token {name!r} claim must be a number of seconds since 1970")
    if isinstance(value, float) and not math.isfinite(value):
        raise TokenError(f"token {name!r} claim must be a finite number")
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise TokenError(f"token {name!r} claim is out of range")
    return float(value)


def check_window(expires_at: float, not_before: float | None, now: float) -> None:
    """Refuse a token outside its validity window (``exp`` exclusive, ``nbf`` inclusive)."""
    if now >= expires_at:
        raise TokenError("token expired")
    if not_before is not None and now < not_before:
        raise TokenError("token is not valid yet")


def short_string(claims: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    """Claim ``name`` as a non-empty string of at most 256 characters."""
    if name not in claims or claims[name] is None:
        if required:
            raise TokenError(f"token has no {name!r} claim")
        return None
    value = claims[name]
    if not isinstance(value, str) or not value or len(value) > MAX_STRING_CLAIM:
        raise TokenError(f"token {name!r} claim must be a non-empty string of at most {MAX_STRING_CLAIM} characters")
    return value


def string_list(claims: Mapping[str, Any], name: str) -> list[str]:
    """Claim ``name`` as a list of strings (absent: empty)."""
    value = claims.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TokenError(f"token {name!r} claim must be a list of strings")
    return value
