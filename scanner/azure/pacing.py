"""Pace ARM reads on ``x-ms-ratelimit-remaining-subscription-reads`` so a scan never runs into a
429 storm.

Azure Resource Manager meters subscription reads with a token bucket per subscription,
principal and region (250 tokens refilled at 25 per second in the 2024 regional table,
https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling)
and reports what is left on every answer. On real Azure a scan's time is therefore set by the
number of reads, not by our concurrency: once the bucket is nearly empty, sending faster only
buys 429s, each of which costs a Retry-After wait and a retried request.

:class:`ReadPacer` mirrors the bucket: it starts from the first remaining count ARM reports,
takes one token per request it lets through, credits the documented refill rate for elapsed
time, and corrects itself down to each newer count ARM reports (the server's count never
includes requests still in flight, so the lower of the two is the truer one). Below a small
reserve, requests wait for the refill instead of being sent. A 429 empties the mirror and holds
every request until its ``Retry-After`` has passed; azure-core's retry policy then re-sends the
refused request, so a 429 never loses data.

The mirror refills up to a ceiling: the documented 250, or more if ARM reports more. A bucket
can be smaller (another cloud, a tighter quota, the emulator's ``--arm-throttle 40/25``); the
remaining count alone cannot tell a small bucket from one another client is draining, but a 429
can: the bucket ran dry, so it holds no more than the highest count ARM reported in a successful
answer (plus the read that answer took). From the first 429 the ceiling drops to that, so the
mirror stops releasing bursts the bucket cannot hold after each pause; any higher count ARM
reports later raises it again. Without the header (the emulator unthrottled, some
clouds) the pacer never waits.

:class:`PacingPolicy` runs the pacer for every attempt (it sits after azure-core's retry policy).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Mapping

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy

log = logging.getLogger(__name__)

REMAINING_READS = "x-ms-ratelimit-remaining-subscription-reads"
DOCUMENTED_REFILL_PER_SECOND = 25.0
DOCUMENTED_BUCKET = 250
DEFAULT_RESERVE = 5


class ReadPacer:
    """A client-side mirror of ARM's read bucket for one subscription and principal."""

    def __init__(self, refill_per_second: float = DOCUMENTED_REFILL_PER_SECOND, reserve: int = DEFAULT_RESERVE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.refill = refill_per_second
        self.reserve = reserve
        self._clock = clock
        self.tokens: float | None = None  # unknown until ARM reports a count
        # the mirror never refills beyond the documented bucket or the largest count ARM reported
        self.ceiling = float(DOCUMENTED_BUCKET)
        # the highest remaining count a successful answer reported (None: none yet)
        self.highest_reported: float | None = None
        self._stamp = clock()
        self.blocked_until = 0.0
        self.waits = 0
        self.throttled = 0
        self._lock: asyncio.Lock | None = None

    def _refresh(self, now: float) -> None:
        if self.tokens is not None:
            self.tokens = min(self.ceiling, self.tokens + (now - self._stamp) * self.refill)
        self._stamp = now

    def delay(self) -> float:
        """Seconds the next request must wait (0: send now, and its token is taken)."""
        now = self._clock()
        if now < self.blocked_until:
            return self.blocked_until - now
        self._refresh(now)
        if self.tokens is None:
            return 0.0
        if self.tokens >= 1 + self.reserve:
            self.tokens -= 1
            return 0.0
        return (1 + self.reserve - self.tokens) / self.refill

    async def acquire(self) -> None:
        """Wait until a read may be sent. Waiters queue in arrival order (one lock), so a
        steady stream of requests is released at the refill rate, not in bursts."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self.tokens is None and self.blocked_until == 0.0:
            return  # no count reported yet (or never): nothing to pace on
        async with self._lock:
            while True:
                wait = self.delay()
                if wait <= 0:
                    return
                self.waits += 1
                await asyncio.sleep(wait)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from one answer: the remaining count, and a 429's Retry-After."""
        now = self._clock()
        self._refresh(now)
        raw = headers.get(REMAINING_READS)
        if raw is not None:
            try:
                remaining = float(raw)
            except ValueError:
                remaining = None
            if remaining is not None:
                self.ceiling = max(self.ceiling, remaining)
                self.tokens = remaining if self.tokens is None else min(self.tokens, remaining)
                if status != 429:
                    self.highest_reported = max(self.highest_reported or 0.0, remaining)
        if status == 429:
            self.throttled += 1
            retry_after = _seconds(headers.get("Retry-After"))
            self.tokens = 0.0
            self.blocked_until = max(self.blocked_until, now + retry_after)
            log.info("ARM throttled a read (429); pausing reads for %.1f s", retry_after)
            self._tighten()

    def _tighten(self) -> None:
        """After a 429: the bucket holds no more than the highest count ARM reported + 1."""
        if self.highest_reported is None:
            return  # no successful count yet: nothing says the bucket is small
        bound = self.highest_reported + 1
        if bound < self.ceiling:
            self.ceiling = bound
            log.info("ARM's read bucket holds about %d tokens (fewer than documented): pacing to that", bound)


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


class PacingPolicy(AsyncHTTPPolicy):  # type: ignore[type-arg]
    """Runs every ARM attempt (first send and retries) through a :class:`ReadPacer`."""

    def __init__(self, pacer: ReadPacer) -> None:
        super().__init__()
        self.pacer = pacer

    async def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        # only ARM reads draw from the read bucket: a Resource Graph query (POST) has a quota of
        # its own, and its 429 must not hold the ARM reads
        metered = request.http_request.method in ("GET", "HEAD")
        if metered:
            await self.pacer.acquire()
        response = await self.next.send(request)
        if metered:
            http = response.http_response
            self.pacer.observe(http.status_code, http.headers)
        return response
