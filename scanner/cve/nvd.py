"""NVD CVE API 2.0 client on ``requests``: rate limit, retries with back-off, paging, cache.

Why so careful: the public NVD allows 5 requests per rolling 30 s (50 with an API key) and
answers a client that exceeds it with 403 (sometimes 429), and it has slow and failing spells
(503, timeouts). Every request therefore waits for a slot of the shared
:class:`~scanner.cve.ratelimit.SlidingWindowLimiter`, and 403/429/5xx/timeouts are retried
with exponential back-off (``Retry-After`` honoured), each retry taking a slot again. A query's
whole answer (all pages) is cached in the database for ``NVD_CACHE_TTL_HOURS``, so a CPE is
looked up once across scans and hosts.

The API key travels only in the ``apiKey`` header and is never logged.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable
from urllib.parse import urlencode

import requests

from scanner.cve.cache import NvdCache
from scanner.cve.ratelimit import SlidingWindowLimiter, Stopped
from scanner.cve.settings import NvdSettings

log = logging.getLogger(__name__)

RETRYABLE = frozenset({403, 429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 60.0
USER_AGENT = "OpenShield CVE enrichment"


class NvdError(Exception):
    """NVD could not answer; the message is short and fit for ``cve_enrichment_error``."""


def summarize(vulnerability: dict[str, Any]) -> dict[str, Any]:
    """What enrichment keeps of one NVD CVE item: id, CVSS v3 score and vector, published, KEV."""
    cve = vulnerability.get("cve") or {}
    metrics = cve.get("metrics") or {}
    chosen: dict[str, Any] | None = None
    for name in ("cvssMetricV31", "cvssMetricV30"):
        entries = metrics.get(name) or []
        if entries:
            # NVD's own ("Primary") score first, the CNA's ("Secondary") when NVD has none
            chosen = next((e for e in entries if e.get("type") == "Primary"), entries[0])
            break
    data = (chosen or {}).get("cvssData") or {}
    published = cve.get("published")
    if isinstance(published, str) and published and not published.endswith("Z"):
        published += "Z"  # NVD timestamps are UTC without a zone suffix
    score = data.get("baseScore")
    return {
        "id": str(cve.get("id", "")),
        "cvss_score": float(score) if isinstance(score, (int, float)) else None,
        "cvss_vector": data.get("vectorString"),
        "published": published,
        "kev": bool(cve.get("cisaExploitAdd")),
    }


class NvdClient:
    def __init__(self, settings: NvdSettings, limiter: SlidingWindowLimiter, cache: NvdCache | None = None,
                 stop: threading.Event | None = None, session: requests.Session | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.settings = settings
        self.limiter = limiter
        self.cache = cache
        self.stop = stop or threading.Event()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if settings.api_key:
            self.session.headers["apiKey"] = settings.api_key
        self._sleep = sleep
        self.requests_sent = 0
        self.cache_hits = 0

    def cves(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """Every CVE matching ``query`` (all pages), summarised; from the cache when fresh."""
        key = urlencode(sorted(query.items()))
        if self.cache is not None:
            cached = self.cache.get(key, self.settings.cache_ttl_hours)
            if cached is not None:
                self.cache_hits += 1
                return cached
        found: dict[str, dict[str, Any]] = {}
        start = 0
        while True:
            page = self._get({**query, "startIndex": str(start), "resultsPerPage": str(self.settings.page_size)})
            items = page.get("vulnerabilities") or []
            for item in items:
                summary = summarize(item)
                if summary["id"]:
                    found[summary["id"]] = summary
            total = int(page.get("totalResults") or 0)
            start += len(items)
            if not items or start >= total:
                break
        result = sorted(found.values(), key=lambda c: c["id"])
        if self.cache is not None:
            self.cache.put(key, result)
        return result

    def _get(self, params: dict[str, str]) -> dict[str, Any]:
        attempts = self.settings.max_attempts
        last = ""
        for attempt in range(1, attempts + 1):
            self.limiter.acquire(self.stop)
            self.requests_sent += 1
            retry_after: float | None = None
            try:
                response = self.session.get(self.settings.url, params=params, timeout=self.settings.timeout_seconds)
            except requests.exceptions.SSLError as exc:
                raise NvdError(f"cannot verify NVD's TLS certificate ({_reason(exc)})") from None
            except requests.Timeout:
                last = f"no answer within {self.settings.timeout_seconds:g} s"
            except requests.ConnectionError as exc:
                last = f"cannot connect ({_reason(exc)})"
            else:
                if response.status_code == 200:
                    try:
                        return dict(response.json())
                    except ValueError:
                        last = "answered with something that is not JSON"
                elif response.status_code in RETRYABLE:
                    last = _http_reason(response)
                    retry_after = _retry_after(response)
                else:
                    raise NvdError(f"NVD refused the query: {_http_reason(response)}")
            if attempt < attempts:
                delay = min(self.settings.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
                if retry_after is not None:
                    delay = max(delay, min(retry_after, MAX_BACKOFF_SECONDS))
                log.warning("NVD request failed (%s); retry %d of %d in %.1f s", last, attempt, attempts - 1, delay)
                self._wait(delay)
        raise NvdError(f"NVD unavailable: {last} (after {attempts} attempts)")

    def _wait(self, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
            return
        if self.stop.wait(seconds):
            raise Stopped()


def _http_reason(response: requests.Response) -> str:
    # NVD explains refusals in a "message" header, not in the body
    detail = (response.headers.get("message") or "").strip()
    text = f"HTTP {response.status_code}"
    return f"{text} ({detail[:120]})" if detail else text


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After", "").strip()
    try:
        return max(float(raw), 0.0) if raw else None
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "certificate verify failed",
                   "Temporary failure in name resolution", "Connection reset"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__
