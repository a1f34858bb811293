"""A fake NVD CVE API 2.0 (``/rest/json/cves/2.0``) inside the emulator.

It answers CPE queries over the records of :mod:`nvd_data` the way NVD does: ``cpeName`` (an
exact version, matched against each CVE's version ranges), ``virtualMatchString`` with optional
``versionStart``/``versionStartType``/``versionEnd``/``versionEndType`` (CVEs whose ranges
overlap the asked range), paging with ``startIndex``/``resultsPerPage`` (at most 2000).

Behaviour under load is NVD's: an optional rolling-window limit per client kind (with or
without an ``apiKey`` header) answered with **403** and a ``message`` header, and injected
faults: latency, every K-th request throttled (403 or 429), every K-th failing (503), or the
whole service down (503). Every request is recorded (time, status, query) for tests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from .nvd_data import records

MAX_PAGE = 2000
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")
_CPE = re.compile(r"^cpe:2\.3:a:([^:]+):([^:]+)(?::([^:]*))?(?::.*)?$")

Response = tuple[int, str, list[tuple[str, str]], bytes]
JSON = "application/json"


def version_key(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        parts.append(int(digits.group(0)) if digits else 0)
    return tuple(parts)


def _cmp(a: str, b: str) -> int:
    ka, kb = version_key(a), version_key(b)
    width = max(len(ka), len(kb))
    ka, kb = ka + (0,) * (width - len(ka)), kb + (0,) * (width - len(kb))
    return (ka > kb) - (ka < kb)


def _bounds(match: dict[str, Any]) -> tuple[str | None, bool, str | None, bool]:
    start = match.get("versionStartIncluding") or match.get("versionStartExcluding")
    end = match.get("versionEndIncluding") or match.get("versionEndExcluding")
    return start, "versionStartIncluding" in match, end, "versionEndIncluding" in match


def _overlaps(match: dict[str, Any], lo: str | None, lo_incl: bool, hi: str | None, hi_incl: bool) -> bool:
    """Does the match's version range share a version with [lo, hi] (inclusivity per flag)?"""
    start, start_incl, end, end_incl = _bounds(match)
    if end is not None and lo is not None:
        c = _cmp(end, lo)
        if c < 0 or (c == 0 and not (end_incl and lo_incl)):
            return False
    if start is not None and hi is not None:
        c = _cmp(start, hi)
        if c > 0 or (c == 0 and not (start_incl and hi_incl)):
            return False
    return True


class NvdFaults:
    KEYS = ("latency_ms", "throttle_every", "throttle_status", "fail_every", "down", "page_size",
            "rate_limit", "keyed_rate_limit")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency_ms = 0.0
        self.throttle_every = 0
        self.throttle_status = 403
        self.fail_every = 0
        self.down = False
        self.page_size = MAX_PAGE
        self.rate_limit = ""
        self.keyed_rate_limit = ""
        self.seq = 0

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - set(self.KEYS)
        if unknown:
            raise ValueError(f"unknown NVD fault keys: {', '.join(sorted(unknown))}")
        for key, value in changes.items():
            if key in ("rate_limit", "keyed_rate_limit"):
                if value and not _RATE.match(str(value)):
                    raise ValueError(f"{key} must look like 5/30 (requests/seconds) or be empty")
                value = str(value or "")
            elif key == "down":
                if not isinstance(value, bool):
                    raise ValueError("down must be true or false")
            elif key == "throttle_status":
                if value not in (403, 429):
                    raise ValueError("throttle_status must be 403 or 429")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{key} must be a number >= 0")
            elif key == "page_size" and not 1 <= value <= MAX_PAGE:
                raise ValueError(f"page_size must be 1..{MAX_PAGE}")
        with self.lock:
            for key, value in changes.items():
                setattr(self, key, int(value) if key in ("throttle_every", "fail_every", "page_size") else value)
            self.seq = 0
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.KEYS}


class FakeNvd:
    def __init__(self) -> None:
        self.records = records()
        self.faults = NvdFaults()
        self._log_lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self._windows: dict[bool, deque[float]] = {False: deque(), True: deque()}

    # -- admin -------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._log_lock:
            self.requests = []
            for window in self._windows.values():
                window.clear()
        with self.faults.lock:
            self.faults.seq = 0

    def request_log(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return list(self.requests)

    # -- serving -----------------------------------------------------------------------------
    def handle(self, method: str, raw_query: str, headers: dict[str, str]) -> Response:
        keyed = bool(headers.get("apikey"))
        faults = self.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000.0)
        response = self._answer(method, raw_query, keyed)
        with self._log_lock:
            self.requests.append({"t": time.time(), "status": response[0], "query": raw_query, "api_key": keyed})
        return response

    def _answer(self, method: str, raw_query: str, keyed: bool) -> Response:
        faults = self.faults
        if method not in ("GET", "HEAD"):
            return _refuse(405, "Method not allowed")
        if faults.down:
            return _refuse(503, "Service Unavailable")
        limited = self._over_limit(keyed)
        with faults.lock:
            faults.seq += 1
            seq = faults.seq
        if limited or (faults.throttle_every and seq % faults.throttle_every == 0):
            status = 403 if limited else faults.throttle_status
            return _refuse(status, "Request forbidden by administrative rules: rate limit exceeded", retry_after=None)
        if faults.fail_every and seq % faults.fail_every == 0:
            return _refuse(503, "Service Unavailable")
        try:
            query = {k: v[-1] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
            matched = self._search(query)
            start = int(query.get("startIndex", "0"))
            per_page = int(query.get("resultsPerPage", str(MAX_PAGE)))
        except ValueError as exc:
            return _refuse(404, f"Invalid parameter: {exc}")
        if start < 0 or not 1 <= per_page <= MAX_PAGE:
            return _refuse(404, "Invalid startIndex or resultsPerPage parameter")
        per_page = min(per_page, faults.page_size)
        page = matched[start:start + per_page]
        body = {
            "resultsPerPage": len(page),
            "startIndex": start,
            "totalResults": len(matched),
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            "vulnerabilities": page,
        }
        return 200, JSON, [], json.dumps(body, separators=(",", ":")).encode()

    def _over_limit(self, keyed: bool) -> bool:
        spec = self.faults.keyed_rate_limit if keyed else self.faults.rate_limit
        if not spec:
            return False
        match = _RATE.match(spec)
        assert match
        limit, window = int(match.group(1)), float(match.group(2))
        now = time.monotonic()
        with self._log_lock:
            stamps = self._windows[keyed]
            while stamps and now - stamps[0] >= window:
                stamps.popleft()
            if len(stamps) >= limit:
                return True
            stamps.append(now)
            return False

    def _search(self, query: dict[str, str]) -> list[dict[str, Any]]:
        cpe_name = query.get("cpeName")
        virtual = query.get("virtualMatchString")
        start, end = query.get("versionStart"), query.get("versionEnd")
        start_type, end_type = query.get("versionStartType"), query.get("versionEndType")
        if cpe_name and virtual:
            raise ValueError("cpeName and virtualMatchString cannot be combined")
        if (start or end) and not virtual:
            raise ValueError("versionStart/versionEnd need virtualMatchString")
        if bool(start) != bool(start_type) or bool(end) != bool(end_type):
            raise ValueError("versionStart/versionEnd need versionStartType/versionEndType")
        for kind in (start_type, end_type):
            if kind not in (None, "including", "excluding"):
                raise ValueError("version types are 'including' or 'excluding'")
        pattern = cpe_name or virtual
        if pattern is None:
            return list(self.records)
        parsed = _CPE.match(pattern)
        if not parsed:
            raise ValueError(f"malformed CPE {pattern!r}")
        vendor, product, version = parsed.group(1), parsed.group(2), parsed.group(3)
        if cpe_name and (not version or version in ("*", "-")):
            raise ValueError("cpeName must name a version")
        if version and version not in ("*", "-"):
            lo = hi = version
            lo_incl = hi_incl = True
        else:
            lo, lo_incl = start, start_type != "excluding"
            hi, hi_incl = end, end_type == "including"
        out = []
        for item in self.records:
            for node in item["cve"]["configurations"][0]["nodes"]:
                if any(_criteria_product(m["criteria"]) == (vendor, product) and _overlaps(m, lo, lo_incl, hi, hi_incl)
                       for m in node["cpeMatch"]):
                    out.append(item)
                    break
        return out


def _criteria_product(criteria: str) -> tuple[str, str]:
    parts = criteria.split(":")
    return parts[3], parts[4]


def _refuse(status: int, message: str, retry_after: float | None = None) -> Response:
    # NVD explains refusals in a "message" header with an empty body
    headers = [("message", message)]
    if retry_after is not None:
        headers.append(("Retry-After", f"{retry_after:g}"))
    return status, "text/plain", headers, b""
