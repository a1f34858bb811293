"""Time as every process records and shows it: aware UTC datetimes, ISO 8601 with ``Z``.

One module so that the API, the CLI, the scanner and the supervisor cannot disagree on how a
timestamp is written or how old something is.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """``2026-11-29T20:52:51.123456Z``, or None."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def seconds_since(moment: datetime | None) -> float | None:
    """How long ago ``moment`` was (None stays None: "never happened" is not "just now")."""
    return None if moment is None else (utcnow() - moment).total_seconds()
