"""The scan's phases: collect once, evaluate every rule, score.

The engine knows nothing of processes or databases: it reports progress through a
:class:`ProgressSink` and returns a :class:`ScanResult` for the caller to store. A rule that
raises is recorded as ``error`` and the others go on; a rule whose required data could not be
read is ``skipped`` with the reason, never counted as "no findings". Single resources a rule
could not judge (its own GET failed, a child was unreadable) are yielded by the rule with
``passed=None`` and counted as not evaluated.

The evaluating phase runs with the cyclic garbage collector paused (:func:`cyclic_gc_paused`)
and inside an :func:`~scanner.rules.support.memo.evaluation_scope`, where parsers that several
rules share run once per object: the two halved the phase's CPU at ``large:10000`` (issue 17;
``tests/bench/bench_rules.py`` measures it and checks that no verdict moved).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple, Protocol

from scanner.azure.collector import CollectProgress
from scanner.inventory import Inventory, Needs
from scanner.rules.support.base import Evaluation, Rule
from scanner.rules.support.memo import evaluation_scope
from scanner.scoring import RuleTally, posture_score

log = logging.getLogger(__name__)

# Share of the progress bar given to each phase (collection dominates wall time).
COLLECT_SHARE = 70
EVALUATE_SHARE = 20


class ProgressSink(Protocol):
    def phase(self, name: str) -> None: ...
    def collecting(self, event: CollectProgress, percent: int) -> None: ...
    def rule_done(self, completed: int, total: int, percent: int) -> None: ...


class FindingRecord(NamedTuple):
    """One verdict with its rule (a NamedTuple: ~70,000 are made per large scan, see
    :class:`~scanner.rules.support.base.Evaluation`)."""

    rule: Rule
    evaluation: Evaluation

    def description(self) -> str:
        detail = self.evaluation.detail.strip().rstrip(".")
        return f"{detail}. {self.rule.description}" if detail else self.rule.description


@dataclass(frozen=True)
class RuleOutcomeRecord:
    rule_id: str
    status: str  # ok | error | skipped
    reason: str | None
    evaluated: int
    failed: int
    not_evaluated: int


@dataclass
class ScanResult:
    inventory: Inventory
    findings: list[FindingRecord] = field(default_factory=list)
    # every other verdict: PASS and NOT_EVALUATED (stored as compact result rows)
    other_results: list[FindingRecord] = field(default_factory=list)
    outcomes: list[RuleOutcomeRecord] = field(default_factory=list)
    score: float | None = None
    evaluate_seconds: float = 0.0
    # CPU the evaluating thread spent in that phase (wall time on a busy machine includes waiting)
    evaluate_cpu_seconds: float = 0.0
    collect_seconds: float = 0.0


class StopRequested(Exception):
    """The scan was asked to stop between rules."""


def evaluate_rule(rule: Rule, inventory: Inventory) -> tuple[RuleOutcomeRecord, list[FindingRecord]]:
    """Run one rule and classify its outcome (pure apart from logging); only the failures."""
    outcome, findings, _ = evaluate_rule_results(rule, inventory)
    return outcome, findings


def evaluate_rule_results(
    rule: Rule, inventory: Inventory
) -> tuple[RuleOutcomeRecord, list[FindingRecord], list[FindingRecord]]:
    """Run one rule: its outcome, its failures, and its other verdicts (PASS, NOT_EVALUATED)."""
    missing = [k for k in rule.needs.required_keys() if k in inventory.unavailable]
    if missing:
        why = "; ".join(inventory.unavailable[k] for k in missing)
        return RuleOutcomeRecord(rule.id, "skipped", why[:500], 0, 0, 0), [], []
    try:
        evaluations = list(rule.evaluate(inventory))
    except Exception as exc:  # noqa: BLE001 - a broken rule must not sink the scan
        log.exception("rule %s raised", rule.id)
        return RuleOutcomeRecord(rule.id, "error", f"rule raised {type(exc).__name__}: {exc}"[:500], 0, 0, 0), [], []
    # one pass over the verdicts (this loop runs ~70,000 times per large scan)
    findings: list[FindingRecord] = []
    others: list[FindingRecord] = []
    unjudged: set[str] = set()
    not_evaluated = 0
    for e in evaluations:
        passed = e.passed
        if passed is False:
            findings.append(FindingRecord(rule, e))
            continue
        others.append(FindingRecord(rule, e))
        if passed is None:
            not_evaluated += 1
            if e.detail:
                unjudged.add(e.detail)
    evaluated = len(evaluations) - not_evaluated
    reasons = sorted(unjudged)
    reason: str | None = None
    if not_evaluated:
        reason = f"{not_evaluated} resource(s) could not be evaluated"
        if reasons:
            reason += ": " + "; ".join(reasons[:3])
    return RuleOutcomeRecord(rule.id, "ok", reason, evaluated, len(findings), not_evaluated), findings, others


@contextmanager
def cyclic_gc_paused(freeze_after: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the evaluating phase.

    Evaluation allocates ~100,000 small objects at ``large:10000`` (verdicts, their records,
    metadata dicts) while the heap already holds the whole inventory. Every so many allocations
    the collector walks the older generations: measured with ``tests/bench/bench_rules.py``, about
    half of the phase's CPU went to those walks, and none of it freed anything, because rules
    are pure functions that make no reference cycles (reference counting frees what they drop).
    The collector is re-enabled afterwards, as it was, even when a rule or a stop request
    raises; what little cyclic garbage the phase leaves is found by the next collection.

    Re-enabled, the collector's first act is to walk the ~200,000 objects the phase made (tens of
    milliseconds). ``freeze_after`` (the scan process) moves everything to the permanent
    generation first (``gc.freeze()``), so nothing is walked: the caller, which keeps the
    inventory and verdicts until it has stored them, must ``gc.unfreeze()`` when done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze_after:
            gc.freeze()
        if was_enabled:
            gc.enable()


class ScanEngine:
    def __init__(
        self,
        rules: list[Rule],
        collect: Callable[[Needs, Callable[[CollectProgress], None], threading.Event], Inventory],
        sink: ProgressSink,
        stop: threading.Event | None = None,
        freeze_after: bool = False,
    ) -> None:
        self.rules = rules
        self.collect = collect
        self.sink = sink
        self.stop = stop or threading.Event()
        # see cyclic_gc_paused: the caller thaws (gc.unfreeze) once it no longer needs the result
        self.freeze_after = freeze_after

    def run(self) -> ScanResult:
        needs = Needs.union(r.needs for r in self.rules)
        self.sink.phase("collecting")
        started = time.monotonic()

        highest = 0

        def on_collect(event: CollectProgress) -> None:
            # the total grows while the listing pages in, so done/total can dip; a progress bar
            # that moves backwards looks broken, so report the highest value reached
            nonlocal highest
            fraction = event.done / event.total if event.total else 0.0
            if not event.listing_complete:
                fraction *= 0.9  # the total is still growing
            highest = max(highest, int(COLLECT_SHARE * fraction))
            self.sink.collecting(event, highest)

        inventory = self.collect(needs, on_collect, self.stop)
        result = ScanResult(inventory=inventory, collect_seconds=time.monotonic() - started)

        self.sink.phase("evaluating")
        started, cpu_started = time.monotonic(), time.thread_time()
        total = len(self.rules)
        with cyclic_gc_paused(self.freeze_after), evaluation_scope():
            for index, rule in enumerate(self.rules, start=1):
                if self.stop.is_set():
                    raise StopRequested()
                outcome, findings, others = evaluate_rule_results(rule, inventory)
                result.outcomes.append(outcome)
                result.findings.extend(findings)
                result.other_results.extend(others)
                self.sink.rule_done(index, total, COLLECT_SHARE + int(EVALUATE_SHARE * index / max(total, 1)))
        result.evaluate_seconds = time.monotonic() - started
        result.evaluate_cpu_seconds = time.thread_time() - cpu_started
        rules_by_id = {r.id: r for r in self.rules}
        result.score = posture_score(
            RuleTally(rules_by_id[o.rule_id].severity, o.evaluated, o.failed)
            for o in result.outcomes
            if o.status == "ok"
        )
        return result
