"""What every ``bin/openshield`` command shares: exit codes, JSON and table output, errors.

Exit codes (documented in docs/operations.md), aligned with ``python -m scanner.run``:

| code | meaning |
|---|---|
| 0 | success (``scans trigger --wait``: the scan completed) |
| 1 | the operation failed (database unreachable, ...); ``--wait``: the scan failed |
| 2 | usage error (bad arguments) |
| 3 | refused: conflicts with the scan's state (already active, already terminal, not a scan of this host) |
| 4 | ``--wait``: the scan was cancelled |
| 5 | unknown scan |
| 130 | interrupted (Ctrl-C) while waiting or following |
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from api.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_CANCELLED = 4
EXIT_NOT_FOUND = 5
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A short message for stderr and the exit code that goes with it."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def load_settings() -> "Settings":
    """This host's settings; a malformed variable is a usage error, not a traceback."""
    from api.settings import Settings

    try:
        return Settings.from_env()
    except ValueError as exc:
        raise CliError(f"configuration: {exc}", EXIT_USAGE) from None


def print_json(value: Any) -> None:
    print(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Left-aligned columns; ``-`` for missing values."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def duration(seconds: float | None) -> str | None:
    """``95`` -> ``1m35s``: runtimes and heartbeat ages read at a glance."""
    if seconds is None:
        return None
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
