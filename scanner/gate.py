"""The CI gate: ``--fail-on SEVERITY`` on ``python -m scanner.run`` and on
``bin/openshield scans trigger --wait``.

A completed scan passes the gate unless it has a **non-muted** failure at or above the given
severity; then the command exits with :attr:`supervisor.exit_codes.ExitCode.GATE_FAILED` (6)
instead of 0, and says on stderr what tripped it. Muted failures (accepted risks) never trip it.
A scan that did not complete keeps its own exit code: the gate judges results, not failures to
produce them.
"""

from __future__ import annotations

import sys

from store.findings import FindingsQuery
from store.status import SEVERITIES
from supervisor.exit_codes import ExitCode


def parse_severity(raw: str) -> str:
    """``high`` -> ``HIGH``; ``ValueError`` for anything that is not a severity."""
    if raw.upper() not in SEVERITIES:
        raise ValueError(f"--fail-on must be one of {', '.join(SEVERITIES)}")
    return raw.upper()


def gate(url: str, scan_id: str, fail_on: str) -> int:
    """``ExitCode.GATE_FAILED`` if the completed scan has a non-muted failure at or above
    ``fail_on``, else ``ExitCode.COMPLETED``."""
    counts = FindingsQuery(url).unmuted_failures_at_or_above(scan_id, fail_on)
    if not counts:
        print(f"gate passed: no unmuted failure at or above {fail_on}", file=sys.stderr, flush=True)
        return ExitCode.COMPLETED
    what = ", ".join(f"{n} {severity}" for severity, n in counts.items())
    print(f"gate failed (--fail-on {fail_on}): {what} unmuted failure(s) in scan {scan_id}", file=sys.stderr,
          flush=True)
    return ExitCode.GATE_FAILED
