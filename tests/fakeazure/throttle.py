"""Request throttling as Azure documents it, for the emulator.

Azure Resource Manager ("Understand how Azure Resource Manager throttles requests",
https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
subscription reads are metered by a token bucket per subscription, per security principal and
per region; the 2024 regional table gives 250 tokens refilled at 25 per second. An empty bucket
answers 429 with ``Retry-After``; every answer carries
``x-ms-ratelimit-remaining-subscription-reads``. The emulator runs in one "region", so the key
is (subscription, client id).

Azure Resource Graph ("Guidance for throttled requests in Azure Resource Graph",
https://learn.microsoft.com/azure/governance/resource-graph/concepts/guidance-for-throttled-requests):
15 queries per 5-second window per user; answers carry ``x-ms-user-quota-remaining`` and
``x-ms-user-quota-resets-after`` (``hh:mm:ss``), and 429 when the quota is spent.

Both are off unless ``--arm-throttle BUCKET/REFILL`` / ``--arg-throttle QUERIES/SECONDS`` are
given. Clocks are injectable so the tests can check the refill rate without sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    """``A/B`` on the command line: a bucket of ``amount`` and ``per`` (refill per second for
    ARM, window seconds for ARG)."""

    amount: int
    per: float

    @staticmethod
    def parse(spec: str) -> "Limit":
        amount, sep, per = spec.partition("/")
        try:
            limit = Limit(int(amount), float(per))
        except ValueError:
            raise ValueError(f"expected N/M (for example 250/25), got {spec!r}") from None
        if not sep or limit.amount < 1 or limit.per <= 0:
            raise ValueError(f"expected N/M with N >= 1 and M > 0, got {spec!r}")
        return limit

    def __str__(self) -> str:
        return f"{self.amount}/{self.per:g}"


@dataclass(frozen=True)
class Decision:
    """The outcome of one metered request: allowed or not, and the headers to send."""

    allowed: bool
    headers: list[tuple[str, str]]
    retry_after: float = 0.0


class TokenBucket:
    """One bucket: ``capacity`` tokens, refilled continuously at ``refill`` per second."""

    def __init__(self, capacity: int, refill: float, now: float) -> None:
        self.capacity = capacity
        self.refill = refill
        self.tokens = float(capacity)
        self.stamp = now

    def take(self, now: float) -> tuple[bool, int, float]:
        """(allowed, tokens left, seconds until one token) after trying to take one token."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, int(self.tokens), 0.0
        return False, 0, (1 - self.tokens) / self.refill


class ArmThrottle:
    """Subscription-read buckets keyed by (subscription, client id)."""

    def __init__(self, limit: Limit, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def read(self, subscription: str, client_id: str) -> Decision:
        now = self._clock()
        key = (subscription.lower(), client_id.lower())
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.limit.amount, self.limit.per, now)
            allowed, left, wait = bucket.take(now)
        headers = [("x-ms-ratelimit-remaining-subscription-reads", str(left))]
        if allowed:
            return Decision(True, headers)
        # Retry-After is whole seconds in ARM's answers; never 0, or clients would spin
        retry = max(1, math.ceil(wait))
        return Decision(False, headers + [("Retry-After", str(retry))], float(retry))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


class ArgThrottle:
    """Resource Graph user quota: ``amount`` queries per fixed window of ``per`` seconds."""

    def __init__(self, limit: Limit, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # user -> (window start, queries used)

    def query(self, user: str) -> Decision:
        now = self._clock()
        with self._lock:
            start, used = self._windows.get(user.lower(), (now, 0))
            if now - start >= self.limit.per:
                start, used = now, 0
            allowed = used < self.limit.amount
            if allowed:
                used += 1
            self._windows[user.lower()] = (start, used)
        resets = max(0.0, start + self.limit.per - now)
        headers = [("x-ms-user-quota-remaining", str(self.limit.amount - used)),
                   ("x-ms-user-quota-resets-after", _hms(resets))]
        if allowed:
            return Decision(True, headers)
        retry = max(1, math.ceil(resets))
        return Decision(False, headers + [("Retry-After", str(retry))], float(retry))

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


def _hms(seconds: float) -> str:
    """ARG's ``hh:mm:ss`` for the quota reset (rounded up to whole seconds)."""
    total = math.ceil(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


class Arrivals:
    """When the first and the last metered request arrived, and how many 429s were sent."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.throttled = 0

    def record(self, status: int) -> None:
        now = self._clock()
        with self._lock:
            if self.first is None:
                self.first = now
            self.last = now
            if status == 429:
                self.throttled += 1

    def snapshot(self) -> dict[str, float | int | None]:
        with self._lock:
            return {"first_request_at": self.first, "last_request_at": self.last,
                    "throttled_429": self.throttled}
