"""Retention: old scans are pruned in bounded passes, never an active scan, never the last N
completed of a subscription (so never its latest), never a scan being re-enriched; their rows
and run directories go (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from store.clock import utcnow
from store.db import get_engine, read_scope
from store.models import Finding, ResultRow, Scan
from store.retention import RetentionPolicy, prunable_scan_ids
from store.scans import ScanStore
from supervisor.retention import Retention
from tests.api.test_results import HIGH_RULE, completed_scan, fail, result

SUB_A = "11111111-2222-4333-8444-555555555555"
SUB_B = "66666666-7777-4888-9999-aaaaaaaaaaaa"


def age(url: str, scan_id: str, days: float) -> None:
    """Backdate a scan (the test's only direct write: time cannot be waited for)."""
    then = utcnow() - timedelta(days=days)
    with get_engine(url).begin() as conn:
        conn.execute(update(Scan).where(Scan.scan_id == scan_id).values(created_at=then, completed_at=then))


def test_what_is_kept_and_what_goes(database_url: str, tmp_path: Path) -> None:
    store = ScanStore(database_url)
    # subscription A: 5 completed scans 200..160 days old, then a recent one
    old_a = []
    for n in range(5):
        scan_id = completed_scan(store, [fail(HIGH_RULE.id, f"a{n}")], [result(HIGH_RULE.id, "ok")], sub=SUB_A)
        age(database_url, scan_id, 200 - 10 * n)
        old_a.append(scan_id)
    recent_a = completed_scan(store, [], sub=SUB_A)
    # subscription B: an ancient completed scan (its latest: kept), an old failed one, and a
    # running one created long ago (active: never touched)
    only_b = completed_scan(store, [fail(HIGH_RULE.id, "b")], sub=SUB_B)
    age(database_url, only_b, 400)
    failed_b = store.create(SUB_B)
    assert store.claim(failed_b.scan_id, pid=1, host="h", process_create_time=None)
    assert store.fail_running(failed_b.scan_id, "boom", exit_code=1)
    age(database_url, failed_b.scan_id, 300)
    running = store.create(SUB_B)
    assert store.claim(running.scan_id, pid=1, host="h", process_create_time=None)
    age(database_url, running.scan_id, 500)

    data_dir = tmp_path / "data"
    for scan_id in old_a + [only_b, failed_b.scan_id, running.scan_id]:
        (data_dir / "scans" / scan_id).mkdir(parents=True)

    policy = RetentionPolicy(days=90, scans_per_subscription=3)
    # bounded passes, oldest first
    job = Retention(database_url, data_dir, policy, max_scans=2)
    assert job.run_once() == [failed_b.scan_id, old_a[0]]
    assert job.run_once() == [old_a[1], old_a[2]]
    assert job.run_once() == []

    remaining = {s.scan_id for s in store.list_scans(limit=100)[1]}
    assert remaining == {recent_a, old_a[3], old_a[4], only_b, running.scan_id}
    with read_scope(database_url) as session:
        for table in (Finding, ResultRow):
            left = session.scalars(select(table.scan_id).distinct()).all()
            assert set(left) <= remaining
        assert session.scalar(select(func.count()).select_from(ResultRow)) == 2  # old_a[3], old_a[4]
    assert sorted(p.name for p in (data_dir / "scans").iterdir()) == sorted(
        [old_a[3], old_a[4], only_b, running.scan_id])


def test_policy_from_the_environment() -> None:
    assert RetentionPolicy.from_env({}) == RetentionPolicy(days=90, scans_per_subscription=10)
    assert RetentionPolicy.from_env({"OPENSHIELD_RETENTION_DAYS": "30",
                                     "OPENSHIELD_RETENTION_SCANS_PER_SUBSCRIPTION": "2"}) == RetentionPolicy(30, 2)
    for name, value in (("OPENSHIELD_RETENTION_DAYS", "0"), ("OPENSHIELD_RETENTION_DAYS", "ninety"),
                        ("OPENSHIELD_RETENTION_SCANS_PER_SUBSCRIPTION", "0")):
        with pytest.raises(ValueError, match=name):
            RetentionPolicy.from_env({name: value})


def test_nothing_recent_is_prunable(database_url: str) -> None:
    store = ScanStore(database_url)
    for _ in range(3):
        completed_scan(store, [], sub=SUB_A)
    assert prunable_scan_ids(database_url, RetentionPolicy(days=1, scans_per_subscription=1)) == []
