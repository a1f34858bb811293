"""Exit codes of supervised processes (``python -m scanner.run``, ``python -m scanner.enrich``),
defined once: the processes exit with them, the supervisor reads them back from the monitor's
``exit_status.json``, and ``bin/openshield`` and the docs use the same numbers.
"""

from __future__ import annotations

import signal
import sys
from enum import IntEnum
from typing import Sequence

from store.parsing import parse_uuid


class ExitCode(IntEnum):
    COMPLETED = 0  # the run finished its work
    FAILED = 1  # the run failed; its record says why
    USAGE = 2  # bad arguments
    NOT_RUNNABLE = 3  # nothing to claim: not pending, already claimed, or the subscription is busy
    CANCELLED = 4  # stopped on request (through the database)
    UNKNOWN_SCAN = 5  # no such scan
    # CI gate (--fail-on SEVERITY): the scan completed, and a non-muted failure at or above
    # that severity exists
    GATE_FAILED = 6


SIGNAL_BASE = 128  # 128 + N: stopped by signal N (the shell's convention)


def for_signal(signum: int) -> int:
    return SIGNAL_BASE + signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def scan_id_argument(argv: Sequence[str], usage: str) -> str:
    """The one scan-id argument of a supervised process's command line (canonical form).

    A wrong command line is a usage error: the reason goes to stderr and the process exits 2.
    """
    if len(argv) != 1:
        print(usage, file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)
    try:
        return parse_uuid(argv[0], "scan_id")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE) from None


def describe(code: int) -> str:
    """How an exit code reads in a message: ``killed by SIGKILL`` (negative: the signal that
    ended the process, as ``subprocess`` reports it), ``stopped by SIGTERM``, ``exited with code 1``."""
    if code < 0:
        return f"killed by {signal_name(-code)}"
    if code > SIGNAL_BASE and code - SIGNAL_BASE < 65:
        return f"stopped by {signal_name(code - SIGNAL_BASE)}"
    return f"exited with code {code}"
