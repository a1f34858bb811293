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
| 141 | stdout was closed by its reader (``... | head -1``): the rest of the output was dropped |
"""

from __future__ import annotations

import json
import signal
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

from store.clock import iso
from supervisor.exit_codes import SIGNAL_BASE, ExitCode

if TYPE_CHECKING:
    from store.settings import Settings

# The scan process's codes (supervisor.exit_codes), read as a command's outcome.
EXIT_OK = ExitCode.COMPLETED
EXIT_FAILED = ExitCode.FAILED
EXIT_USAGE = ExitCode.USAGE
EXIT_REFUSED = ExitCode.NOT_RUNNABLE
EXIT_CANCELLED = ExitCode.CANCELLED
EXIT_NOT_FOUND = ExitCode.UNKNOWN_SCAN
EXIT_INTERRUPTED = SIGNAL_BASE + 2  # SIGINT
# what a shell reports for a writer stopped by a closed pipe; the CLI exits with it on purpose
EXIT_BROKEN_PIPE = SIGNAL_BASE + int(signal.SIGPIPE)


class CliError(Exception):
    """A short message for stderr and the exit code that goes with it."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def load_settings() -> "Settings":
    """This host's settings; a malformed variable is a usage error, not a traceback."""
    from store.settings import Settings

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
