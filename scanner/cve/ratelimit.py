"""A sliding-window rate limit shared by every process of a host.

NVD counts requests in a rolling 30-second window per client. Several enrichment processes may
run at once on one host (scans and re-enrichments), so the window is kept in a small file under
the data directory, read and written under an ``flock``: a request is sent only when fewer
than ``limit`` requests were sent in the last ``window`` seconds by any process of the host.
Waiting happens outside the lock, on an event, so a cancelled scan stops waiting at once.

The window kept is slightly longer than the one configured (2 % plus 50 ms): the server counts
requests when they arrive, and network jitter must never push one into its window.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path
from typing import Callable


class Stopped(Exception):
    """The caller asked to stop while waiting for a request slot."""


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_seconds: float, state_file: Path | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window_seconds * 1.02 + 0.05
        self.state_file = state_file
        self._clock = clock or time.time
        self._local: list[float] = []  # without a state file: this process only
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event | None = None) -> None:
        """Block until a request may be sent, and count it."""
        while True:
            wait = self._try_take()
            if wait <= 0:
                return
            if stop is not None:
                if stop.wait(wait):
                    raise Stopped()
            else:
                time.sleep(wait)

    def _try_take(self) -> float:
        """Take a slot (return 0) or return how long to wait for the oldest one to expire."""
        with self._lock:
            if self.state_file is None:
                self._local, wait = self._take(self._local)
                return wait
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.state_file, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                with os.fdopen(os.dup(fd), "r+") as handle:
                    try:
                        stamps = [float(t) for t in json.loads(handle.read() or "[]")]
                    except (ValueError, TypeError):
                        stamps = []
                    stamps, wait = self._take(stamps)
                    handle.seek(0)
                    handle.truncate()
                    handle.write(json.dumps(stamps))
                return wait
            finally:
                os.close(fd)  # releases the flock

    def _take(self, stamps: list[float]) -> tuple[list[float], float]:
        now = self._clock()
        recent = sorted(t for t in stamps if now - t < self.window and t <= now + 1)
        if len(recent) < self.limit:
            recent.append(now)
            return recent, 0.0
        # the slot frees when the (len - limit + 1)-th most recent request leaves the window
        oldest_needed = recent[len(recent) - self.limit]
        return recent, max(oldest_needed + self.window - now, 0.001)
