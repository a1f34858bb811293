"""Compliance per framework control, computed from stored rule outcomes.

Only outcomes can tell "no failure" apart from "could not look": a skipped or errored rule is
reported as not evaluated, never as passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class ControlTally:
    """Resource-level counts for one framework control over the selected scans."""

    control: str
    rules: list[str]
    passed: int = 0
    failed: int = 0
    not_evaluated: int = 0

    @property
    def status(self) -> str:
        # Any failure fails the control; a control nothing was judged for attests nothing.
        if self.failed > 0:
            return "failed"
        if self.passed == 0:
            return "not_evaluated"
        return "passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "rules": self.rules,
            "passed": self.passed,
            "failed": self.failed,
            "not_evaluated": self.not_evaluated,
            "status": self.status,
        }

    def add(self, outcome: Mapping[str, Any] | None) -> None:
        """Count one rule's outcome in one scan.

        ``ok``: passed = evaluated - failed, failed, not_evaluated as recorded. ``skipped``,
        ``error`` (any other status) or no outcome row at all (the scan did not run that rule):
        never a pass; its ``not_evaluated_count``, or 1 for the rule as a whole when it has no
        resource counts. Its ``failed_count`` still counts as failed so a real finding is never
        hidden (the engine records 0 for such rules today).
        """
        if outcome is None:
            self.not_evaluated += 1
            return
        failed = int(outcome["failed_count"])
        not_evaluated = int(outcome["not_evaluated_count"])
        self.failed += failed
        if outcome["status"] == "ok":
            self.passed += max(int(outcome["evaluated_count"]) - failed, 0)
            self.not_evaluated += not_evaluated
        else:
            self.not_evaluated += not_evaluated if not_evaluated > 0 else 1


def tally_controls(
    control_rules: Mapping[str, Sequence[str]],
    scan_ids: Sequence[str],
    outcomes: Mapping[tuple[str, str], Mapping[str, Any]],
) -> list[ControlTally]:
    """One tally per control, summed over every (scan, rule) pair, controls in natural order."""
    tallies = []
    for control in sorted(control_rules, key=natural_key):
        tally = ControlTally(control=control, rules=sorted(control_rules[control]))
        for scan_id in scan_ids:
            for rule_id in tally.rules:
                tally.add(outcomes.get((scan_id, rule_id)))
        tallies.append(tally)
    return tallies


def natural_key(control: str) -> tuple[Any, ...]:
    """Sort key that orders number runs numerically: ``1.2 < 1.10``, ``PR.AC-2 < PR.AC-10``.

    ``re.split`` with a capturing group alternates text and digits, so positions always compare
    like with like.
    """
    parts = _DIGITS.split(control)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


_DIGITS = re.compile(r"(\d+)")
