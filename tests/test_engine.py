"""The engine's outcome rules: errors isolated, unreadable data skipped, scores computed."""

from __future__ import annotations

import gc
import threading
from typing import Iterable

import pytest

from scanner.azure.collector import CollectProgress
from scanner.engine import ScanEngine, StopRequested, evaluate_rule
from scanner.inventory import ChildSpec, Inventory, Needs, arm_key
from scanner.rules.support.base import Evaluation, Rule
from scanner.scoring import RuleTally, posture_score

STORAGE = "Microsoft.Storage/storageAccounts"


def make_rule(rule_id: str, evaluate, needs: Needs | None = None, severity: str = "HIGH") -> Rule:  # type: ignore[no-untyped-def]
    return Rule(
        id=rule_id, title=rule_id, severity=severity, category="storage", description="d.", remediation="r",
        frameworks={"NIST": ("PR.DS-2",)}, needs=needs or Needs(resource_types=frozenset({STORAGE})),
        evaluate=evaluate,
    )


def two_accounts(inv: Inventory) -> Iterable[Evaluation]:
    for res in inv.of_type(STORAGE):
        yield Evaluation(res["id"], res["name"], STORAGE, res["name"] == "good", detail="bad one")


def inventory() -> Inventory:
    inv = Inventory(subscription_id="s")
    inv.resources[STORAGE.lower()] = [
        {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/good", "name": "good"},
        {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/bad", "name": "bad"},
    ]
    return inv


class Sink:
    def __init__(self) -> None:
        self.phases: list[str] = []
        self.rules: list[tuple[int, int, int]] = []

    def phase(self, name: str) -> None:
        self.phases.append(name)

    def collecting(self, event: CollectProgress, percent: int) -> None:
        pass

    def rule_done(self, completed: int, total: int, percent: int) -> None:
        self.rules.append((completed, total, percent))


def test_failed_evaluation_becomes_finding() -> None:
    outcome, findings = evaluate_rule(make_rule("AZ-T-001", two_accounts), inventory())
    assert outcome.status == "ok" and outcome.evaluated == 2 and outcome.failed == 1
    assert [f.evaluation.resource_name for f in findings] == ["bad"]
    assert findings[0].description().startswith("bad one.")


def test_raising_rule_is_error_and_others_go_on() -> None:
    def boom(inv: Inventory) -> Iterable[Evaluation]:
        raise RuntimeError("kaput")

    sink = Sink()
    rules = [make_rule("AZ-T-001", boom), make_rule("AZ-T-002", two_accounts)]
    engine = ScanEngine(rules, lambda needs, cb, stop: inventory(), sink)
    result = engine.run()
    by_id = {o.rule_id: o for o in result.outcomes}
    assert by_id["AZ-T-001"].status == "error" and "kaput" in (by_id["AZ-T-001"].reason or "")
    assert by_id["AZ-T-002"].status == "ok" and len(result.findings) == 1
    assert sink.phases == ["collecting", "evaluating"]
    assert sink.rules[-1][:2] == (2, 2)


def test_unavailable_data_skips_rule_with_reason() -> None:
    inv = inventory()
    inv.unavailable["graph:users"] = "Microsoft Graph denied users (HTTP 403): grant User.Read.All"
    rule = make_rule("AZ-T-003", two_accounts, Needs(graph=frozenset({"users"})))
    outcome, findings = evaluate_rule(rule, inv)
    assert outcome.status == "skipped" and "User.Read.All" in (outcome.reason or "")
    assert findings == []


def test_real_rule_counts_unreadable_resource_as_not_evaluated() -> None:
    from scanner.rules import REGISTRY

    inv = inventory()
    inv.unreadable["/subscriptions/s/resourcegroups/g/providers/microsoft.storage/storageaccounts/locked"] = "HTTP 403"
    outcome, _ = evaluate_rule(REGISTRY["AZ-STOR-002"], inv)
    assert outcome.not_evaluated == 1 and "HTTP 403" in (outcome.reason or "")


def test_child_missing_counts_as_not_evaluated() -> None:
    spec = ChildSpec(STORAGE, "blobServices/default")

    def child_rule(inv: Inventory) -> Iterable[Evaluation]:
        for res in inv.of_type(STORAGE):
            child = inv.child(spec, res["id"])
            if not child:
                yield Evaluation(res["id"], res["name"], STORAGE, None, detail="blob service unreadable")

    outcome, findings = evaluate_rule(make_rule("AZ-T-005", child_rule, Needs(children=(spec,))), inventory())
    assert outcome.status == "ok" and outcome.evaluated == 0 and outcome.not_evaluated == 2 and not findings


def test_stop_between_rules() -> None:
    stop = threading.Event()
    stop.set()
    engine = ScanEngine([make_rule("AZ-T-001", two_accounts)], lambda n, cb, s: inventory(), Sink(), stop)
    try:
        engine.run()
    except Exception as exc:  # noqa: BLE001
        assert type(exc).__name__ == "StopRequested"
    else:
        raise AssertionError("engine did not stop")


def test_score() -> None:
    assert posture_score([]) is None
    assert posture_score([RuleTally("HIGH", 4, 0)]) == 100.0
    assert posture_score([RuleTally("HIGH", 4, 4)]) == 0.0
    # a critical failure weighs more than a low one
    crit = posture_score([RuleTally("CRITICAL", 1, 1), RuleTally("LOW", 1, 0)])
    low = posture_score([RuleTally("CRITICAL", 1, 0), RuleTally("LOW", 1, 1)])
    assert crit is not None and low is not None and crit < low
    assert posture_score([RuleTally("INFO", 3, 3)]) is None


def test_needs_union_dedupes_children() -> None:
    spec = ChildSpec(STORAGE, "blobServices/default")
    union = Needs.union([Needs(children=(spec,), graph=frozenset({"users"})),
                         Needs(children=(spec,), optional_graph=frozenset({"users", "applications"}))])
    assert union.children == (spec,)
    assert union.graph == {"users"} and union.optional_graph == {"applications"}
    assert arm_key(STORAGE) == "arm:microsoft.storage/storageaccounts"


def test_collection_progress_never_goes_backwards() -> None:
    """The listing grows the total while fetches complete: 5/10 then 6/20 must not drop."""
    seen: list[int] = []

    class Recording(Sink):
        def collecting(self, event: CollectProgress, percent: int) -> None:
            seen.append(percent)

    def collect(needs: Needs, on_progress, stop: threading.Event) -> Inventory:  # type: ignore[no-untyped-def]
        for done, total, complete in ((5, 10, False), (6, 20, False), (15, 20, True), (20, 20, True)):
            on_progress(CollectProgress(done, total, total, complete))
        return inventory()

    ScanEngine([make_rule("R1", two_accounts)], collect, Recording()).run()
    assert seen == sorted(seen) and seen[0] > 0 and seen[-1] == 70


def test_cyclic_gc_paused_while_rules_run_and_restored_after() -> None:
    """The evaluating phase pauses the cyclic collector (issue 17: it cost half the phase) and
    gives it back as it was, also when the phase ends in a stop request."""
    seen: list[bool] = []

    def spy(inv: Inventory) -> Iterable[Evaluation]:
        seen.append(gc.isenabled())
        return two_accounts(inv)

    assert gc.isenabled()
    result = ScanEngine([make_rule("AZ-T-001", spy)], lambda n, cb, s: inventory(), Sink()).run()
    assert seen == [False] and gc.isenabled()
    assert result.evaluate_cpu_seconds >= 0 and len(result.findings) == 1

    stop = threading.Event()

    def stopping(inv: Inventory) -> Iterable[Evaluation]:
        stop.set()
        return two_accounts(inv)

    engine = ScanEngine([make_rule("AZ-T-001", stopping), make_rule("AZ-T-002", spy)], lambda n, cb, s: inventory(),
                        Sink(), stop)
    with pytest.raises(StopRequested):
        engine.run()
    assert gc.isenabled() and seen == [False]

    gc.disable()  # a caller that had paused it itself keeps it paused
    try:
        ScanEngine([make_rule("AZ-T-001", spy)], lambda n, cb, s: inventory(), Sink()).run()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_verdicts_are_immutable_records() -> None:
    """Evaluation and FindingRecord are light immutable records; a verdict made without
    metadata gets a read-only empty mapping that turns into a plain dict for storage."""
    ev = Evaluation("/x/a", "a", STORAGE, True)
    with pytest.raises(AttributeError):
        ev.passed = False  # type: ignore[misc]
    assert dict(ev.metadata) == {} and ev.location == "" and str(ev.status) == "PASS"
    outcome, findings = evaluate_rule(make_rule("AZ-T-001", two_accounts), inventory())
    with pytest.raises(AttributeError):
        findings[0].rule = findings[0].rule  # type: ignore[misc]


def test_freeze_after_leaves_the_results_frozen_for_the_caller_to_thaw() -> None:
    """The scan process's mode: nothing for the collector to walk after the phase; the caller
    (ScanJob) thaws once the results are stored."""
    gc.unfreeze()
    try:
        ScanEngine([make_rule("AZ-T-001", two_accounts)], lambda n, cb, s: inventory(), Sink(), freeze_after=True).run()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
