"""CVE enrichment settings from the environment (documented in docs/cve-enrichment.md)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

PUBLIC_NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
# NVD's published limits: 5 requests in a rolling 30 s window without a key, 50 with one.
PUBLIC_LIMIT = (5, 30.0)
KEYED_LIMIT = (50, 30.0)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")
_OFF = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class NvdSettings:
    enabled: bool
    url: str
    api_key: str | None
    rate_requests: int
    rate_seconds: float
    cache_ttl_hours: float
    timeout_seconds: float
    max_attempts: int
    backoff_seconds: float
    page_size: int

    @classmethod
    def from_env(cls) -> "NvdSettings":
        key = os.environ.get("NVD_API_KEY", "").strip() or None
        requests, seconds = _rate(os.environ.get("NVD_RATE_LIMIT", ""), KEYED_LIMIT if key else PUBLIC_LIMIT)
        return cls(
            enabled=os.environ.get("OPENSHIELD_CVE_ENRICHMENT", "1").strip().lower() not in _OFF,
            url=os.environ.get("NVD_API_URL", "").strip() or PUBLIC_NVD_URL,
            api_key=key,
            rate_requests=requests,
            rate_seconds=seconds,
            cache_ttl_hours=_number("NVD_CACHE_TTL_HOURS", 24.0, minimum=0.0),
            timeout_seconds=_number("NVD_TIMEOUT_SECONDS", 30.0, minimum=0.1),
            max_attempts=int(_number("NVD_MAX_ATTEMPTS", 5, minimum=1)),
            backoff_seconds=_number("NVD_RETRY_BACKOFF_SECONDS", 6.0, minimum=0.0),
            page_size=int(_number("NVD_PAGE_SIZE", 2000, minimum=1)),
        )


def _rate(raw: str, default: tuple[int, float]) -> tuple[int, float]:
    """``NVD_RATE_LIMIT=<requests>/<seconds>`` (for tests and private mirrors); else NVD's limit."""
    if not raw.strip():
        return default
    match = _RATE.match(raw)
    if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
        raise ValueError(f"NVD_RATE_LIMIT must look like 5/30 (requests/seconds), got {raw!r}")
    return int(match.group(1)), float(match.group(2))


def _number(name: str, default: float, *, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value
