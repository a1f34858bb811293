"""The estate as the API shows it: the subscriptions the identity can see (discovered through
ARM, cached briefly), each with its latest score, active scan and schedules.

Discovery costs one ARM round trip per page (hundreds of milliseconds on real Azure), so the
list is cached per app for ``SUBSCRIPTION_CACHE_SECONDS`` (60 s) and ``?refresh=true`` forces a
new listing. Tests replace the lister with a function.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from flask import current_app

from api.compliance import tally_controls
from api.errors import ApiError
from scanner.azure.subscriptions import DiscoveredSubscription, DiscoveryError, list_subscriptions
from store.clock import utcnow
from store.findings import LatestScan
from store.history import evaluated_counts, weighted_score

SUBSCRIPTION_CACHE_SECONDS = 60.0
_EXTENSION = "openshield.subscriptions"

Lister = Callable[[], list[DiscoveredSubscription]]


@dataclass
class SubscriptionCache:
    """What the identity can see, listed at most once per ``ttl`` seconds (thread-safe)."""

    lister: Lister = list_subscriptions
    ttl: float = SUBSCRIPTION_CACHE_SECONDS

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._value: list[DiscoveredSubscription] | None = None
        self._fetched_at = 0.0
        self.fetched_at: datetime | None = None

    def get(self, refresh: bool = False) -> list[DiscoveredSubscription]:
        with self._lock:
            fresh = self._value is not None and time.monotonic() - self._fetched_at < self.ttl
            if fresh and not refresh:
                return list(self._value or [])
            try:
                value = self.lister()
            except DiscoveryError as exc:
                raise ApiError(502, str(exc)) from None
            self._value, self._fetched_at, self.fetched_at = value, time.monotonic(), utcnow()
            return list(value)


def subscription_cache() -> SubscriptionCache:
    """The app's cache (created on first use; tests install their own with a fake lister)."""
    cache = current_app.extensions.get(_EXTENSION)
    if cache is None:
        cache = current_app.extensions.setdefault(_EXTENSION, SubscriptionCache())
    return cache  # type: ignore[no-any-return]


def install_lister(app: object, lister: Lister, ttl: float = SUBSCRIPTION_CACHE_SECONDS) -> SubscriptionCache:
    """Give ``app`` a cache over ``lister`` (tests, and callers with their own discovery)."""
    cache = SubscriptionCache(lister=lister, ttl=ttl)
    app.extensions[_EXTENSION] = cache  # type: ignore[attr-defined]
    return cache


# ------------------------------------------------------------------------- estate posture
def estate_score(url: str, latest: list[LatestScan]) -> dict[str, Any]:
    """The estate's score: each subscription's latest score weighted by the resource verdicts its
    rules reached, ``Σ score_s × evaluated_s / Σ evaluated_s`` (subscriptions without a score or
    with nothing evaluated do not count), so a subscription of 3 resources does not weigh as much
    as one of 3,000."""
    weights = evaluated_counts(url, [s.scan_id for s in latest])
    return {
        "score": weighted_score([(s.score, weights[s.scan_id]) for s in latest]),
        "weighting": "evaluated resource verdicts (sum of evaluated_count of the rules that ran)",
        "subscriptions": len(latest),
        "evaluated": sum(weights.values()),
        "by_subscription": {s.scan_id: weights[s.scan_id] for s in latest},
    }


def compliance_by_subscription(controls: Any, latest_ids: dict[str, str],
                               outcomes: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """Per subscription (its latest scan), how many of the framework's controls passed, failed
    or could not be judged."""
    rows = []
    for subscription_id, scan_id in sorted(latest_ids.items()):
        statuses = [t.status for t in tally_controls(controls, [scan_id], outcomes)]
        rows.append({"subscription_id": subscription_id, "scan_id": scan_id, "controls": len(statuses),
                     "passed": statuses.count("passed"), "failed": statuses.count("failed"),
                     "not_evaluated": statuses.count("not_evaluated")})
    return rows
