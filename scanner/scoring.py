"""The 0-100 posture score of a scan.

Each rule that was evaluated contributes its pass rate (compliant / evaluated resources),
weighted by severity, so one open critical NSG weighs more than many informational gaps.
Skipped and errored rules do not count: a score must not improve because data was unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

SEVERITY_WEIGHTS = {"CRITICAL": 10.0, "HIGH": 6.0, "MEDIUM": 3.0, "LOW": 1.0, "INFO": 0.0}


@dataclass(frozen=True)
class RuleTally:
    severity: str
    evaluated: int
    failed: int


def posture_score(tallies: Iterable[RuleTally]) -> float | None:
    """Severity-weighted pass rate in percent, or ``None`` when nothing was evaluated."""
    weighted = total = 0.0
    for tally in tallies:
        weight = SEVERITY_WEIGHTS.get(tally.severity, 1.0)
        if tally.evaluated <= 0 or weight == 0:
            continue
        passed = max(0, tally.evaluated - tally.failed)
        weighted += weight * passed / tally.evaluated
        total += weight
    if total == 0:
        return None
    return round(100.0 * weighted / total, 1)
