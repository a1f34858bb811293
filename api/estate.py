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
from typing import Callable

from flask import current_app

from api.errors import ApiError
from scanner.azure.subscriptions import DiscoveredSubscription, DiscoveryError, list_subscriptions
from store.clock import utcnow

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
