"""The scan state machine: conditional transitions, one active scan per subscription."""

from __future__ import annotations

import threading
import uuid

import pytest

from store.scans import ActiveScanExists, ScanStore

SUB = "11111111-2222-4333-8444-555555555555"


def test_create_then_claim_then_complete(database_url: str) -> None:
    store = ScanStore(database_url)
    scan = store.create(SUB, trigger="cli")
    assert scan.status == "pending" and scan.phase == "queued"
    assert store.claim(scan.scan_id, pid=123, host="h1", process_create_time=1.5)
    assert not store.claim(scan.scan_id, pid=456, host="h2", process_create_time=2.5), "claimed twice"
    running = store.get(scan.scan_id)
    assert running is not None and running.status == "running" and running.pid == 123
    assert store.complete_with_results(scan.scan_id, findings=[], outcomes=[], score=90.0)
    done = store.get(scan.scan_id)
    assert done is not None and done.status == "completed" and done.score == 90.0
    assert done.completed_at is not None and done.completed_at.tzinfo is not None
    assert done.duration_seconds is not None and done.duration_seconds >= 0


def test_a_foreground_scan_is_created_with_its_launch_taken(database_url: str) -> None:
    """``scanner.run --subscription`` runs the record it creates: no supervisor may launch it."""
    store = ScanStore(database_url)
    scan = store.create(SUB, trigger="cli", launched_by="laptop")
    assert scan.status == "pending" and scan.host == "laptop" and scan.launched_at is not None
    assert scan.scan_id not in {queued.scan_id for queued in store.queued()}
    assert not store.reserve_launch(scan.scan_id, host="server", cap=4)
    assert not store.claim(scan.scan_id, pid=9, host="server", process_create_time=None), "another host ran it"
    assert store.claim(scan.scan_id, pid=7, host="laptop", process_create_time=None)


def test_terminal_states_never_change(database_url: str) -> None:
    store = ScanStore(database_url)
    scan = store.create(SUB)
    assert store.claim(scan.scan_id, pid=1, host="h", process_create_time=None)
    assert store.fail(scan.scan_id, "process vanished without reporting")
    assert not store.complete_with_results(scan.scan_id, findings=[], outcomes=[], score=1.0)
    assert not store.cancel(scan.scan_id, "cancelled by SIGTERM")
    final = store.get(scan.scan_id)
    assert final is not None and final.status == "failed"
    assert final.error_message == "process vanished without reporting"


def test_one_active_scan_per_subscription(database_url: str) -> None:
    store = ScanStore(database_url)
    first = store.create(SUB)
    with pytest.raises(ActiveScanExists) as info:
        store.create(SUB.upper())
    assert info.value.scan_id == first.scan_id
    store.cancel(first.scan_id, "cancelled on request")
    second = store.create(SUB)  # a terminal scan frees the subscription
    assert second.scan_id != first.scan_id


def test_concurrent_creates_have_one_winner(database_url: str) -> None:
    store = ScanStore(database_url)
    winners: list[str] = []
    losers: list[str | None] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            winners.append(store.create(SUB).scan_id)
        except ActiveScanExists as exc:
            losers.append(exc.scan_id)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(winners) == 1 and len(losers) == 7


def test_error_message_is_short_and_single_line(database_url: str) -> None:
    store = ScanStore(database_url)
    scan = store.create(SUB)
    store.fail(scan.scan_id, "first line\nTraceback (most recent call last):\n  File x" + "y" * 1000)
    final = store.get(scan.scan_id)
    assert final is not None and final.error_message == "first line"


def test_results_are_stored_atomically_with_completion(database_url: str) -> None:
    from sqlalchemy import func, select

    from store.models import Finding, RuleOutcome
    from store.clock import utcnow
    from store.db import session_scope

    store = ScanStore(database_url)
    scan = store.create(SUB)
    row = {
        "scan_id": scan.scan_id, "subscription_id": SUB, "rule_id": "AZ-TEST-001", "rule_name": "t",
        "severity": "HIGH", "category": "storage", "resource_id": "/x", "resource_name": "x",
        "resource_type": "Microsoft.Storage/storageAccounts", "description": "d", "remediation": "r",
        "frameworks": {"NIST": ["PR.DS-2"]}, "metadata": {"k": 1}, "detected_at": utcnow(),
    }
    outcome = {"rule_id": "AZ-TEST-001", "status": "ok", "reason": None, "evaluated_count": 2,
               "failed_count": 1, "not_evaluated_count": 0}
    # not running yet: nothing may be stored
    assert not store.complete_with_results(scan.scan_id, findings=[row], outcomes=[outcome], score=50.0)
    with session_scope(database_url) as s:
        assert s.scalar(select(func.count()).select_from(Finding)) == 0
    store.claim(scan.scan_id, pid=1, host="h", process_create_time=None)
    assert store.complete_with_results(scan.scan_id, findings=[row] * 3, outcomes=[outcome], score=50.0)
    with session_scope(database_url) as s:
        findings = s.scalars(select(Finding)).all()
        assert len(findings) == 3 and findings[0].details == {"k": 1}
        assert s.scalar(select(func.count()).select_from(RuleOutcome)) == 1
    assert store.get(scan.scan_id).total_findings == 3  # type: ignore[union-attr]


def test_heartbeat_reports_cancel_request(database_url: str) -> None:
    store = ScanStore(database_url)
    scan = store.create(SUB)
    assert store.heartbeat(scan.scan_id) == (False, False)
    store.claim(scan.scan_id, pid=1, host="h", process_create_time=None)
    assert store.heartbeat(scan.scan_id) == (True, False)
    assert store.request_cancel(scan.scan_id)
    assert store.heartbeat(scan.scan_id) == (True, True)


def test_unknown_scan(database_url: str) -> None:
    store = ScanStore(database_url)
    assert store.get(str(uuid.uuid4())) is None
    assert not store.claim(str(uuid.uuid4()), pid=1, host="h", process_create_time=None)
