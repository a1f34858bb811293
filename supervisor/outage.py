"""How the supervisor behaves while its database is unreachable: one log line when the
database goes away, one when it is back, and a growing pause between attempts meanwhile.

Logging a full traceback every tick (four a second) buried the one fact an operator needs
("the database is down since 12:03") under dozens of identical stacks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

from store.db import DatabaseBusy

# Errors that say "the database cannot do this now", as opposed to a bug in the supervisor.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (DBAPIError, DatabaseBusy)
# PostgreSQL SQLSTATEs of a bounded wait that ran out (lock_timeout, statement_timeout).
_BUSY_SQLSTATES = ("55P03", "57014")

FIRST_BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 5.0


def is_busy(exc: BaseException) -> bool:
    """A lock wait ran out: the database answers, something holds a lock (retry next tick)."""
    if isinstance(exc, DatabaseBusy):
        return True
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _BUSY_SQLSTATES


def describe(exc: BaseException) -> str:
    """One line about a database error: the driver's first line, never a traceback."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else 'no details'}"


@dataclass
class DatabaseOutage:
    """Tracks whether the database answered the last tick, and how long to wait before the next."""

    log: logging.Logger
    down_since: float | None = None
    backoff: float = field(default=FIRST_BACKOFF_SECONDS)

    def failed(self, exc: BaseException) -> float:
        """The tick failed on the database; returns how long to wait before trying again."""
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.backoff = FIRST_BACKOFF_SECONDS
            self.log.error("database unreachable (%s); retrying every %g s at most until it answers",
                           describe(exc), MAX_BACKOFF_SECONDS)
        else:
            self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)
        return self.backoff

    def succeeded(self) -> None:
        if self.down_since is not None:
            self.log.warning("database reachable again after %.1f s", time.monotonic() - self.down_since)
            self.down_since = None
            self.backoff = FIRST_BACKOFF_SECONDS
