"""Launch slot accounting (issue 13): a slot is held from reservation until the host has seen the
run's process exit, whatever the row's status says; per host; shared by scans and enrichments.

Database tests run on SQLite and PostgreSQL; the process checks use real processes of this test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import psutil
from sqlalchemy import update

from store.db import session_scope
from store.enrichment_runs import EnrichmentStore
from store.models import Scan
from store.runs import slots_taken
from store.scans import ScanStore
from store.status import RunStatus
from supervisor.kinds import ENRICH, SCAN
from supervisor.rundir import RunDir
from supervisor.slots import SPAWN_GRACE_SECONDS, process_exited, release_exited

HOST = "slot-host"


def queued(store: ScanStore) -> str:
    return store.create(str(uuid.uuid4())).scan_id


def test_a_cancelled_or_failed_launch_keeps_its_slot_until_released(database_url: str) -> None:
    store = ScanStore(database_url)
    first, second, third = queued(store), queued(store), queued(store)
    assert store.reserve_launch(first, host=HOST, cap=2)
    assert store.reserve_launch(second, host=HOST, cap=2)
    assert not store.reserve_launch(third, host=HOST, cap=2)

    store.request_cancel(first)
    assert store.cancel_queued(first)  # the row is terminal; its process may still be starting
    assert store.fail_unstarted(second, "process exited before starting")
    assert slots_taken(database_url, HOST) == 2
    assert not store.reserve_launch(third, host=HOST, cap=2)

    assert store.release_slot(first, HOST)
    assert not store.release_slot(first, HOST)  # once
    assert slots_taken(database_url, HOST) == 1
    assert store.reserve_launch(third, host=HOST, cap=2)


def test_an_active_run_cannot_give_its_slot_back(database_url: str) -> None:
    store = ScanStore(database_url)
    scan_id = queued(store)
    assert store.reserve_launch(scan_id, host=HOST, cap=1)
    assert not store.release_slot(scan_id, HOST)
    assert store.claim(scan_id, pid=os.getpid(), host=HOST, process_create_time=None)
    assert not store.release_slot(scan_id, HOST)
    assert slots_taken(database_url, HOST) == 1


def test_slots_are_per_host_and_released_only_by_their_host(database_url: str) -> None:
    store = ScanStore(database_url)
    on_a, on_b = queued(store), queued(store)
    assert store.reserve_launch(on_a, host="host-a", cap=1)
    assert store.reserve_launch(on_b, host="host-b", cap=1)
    assert store.fail_unstarted(on_a, "gone")
    assert not store.release_slot(on_a, "host-b")
    assert store.draining("host-a")[0].scan_id == on_a
    assert store.draining("host-b") == []
    assert (slots_taken(database_url, "host-a"), slots_taken(database_url, "host-b")) == (1, 1)


def test_scans_and_enrichment_runs_share_the_slots(database_url: str) -> None:
    scans, runs = ScanStore(database_url), EnrichmentStore(database_url)
    done = queued(scans)
    assert scans.claim(done, pid=os.getpid(), host="elsewhere", process_create_time=None)
    assert scans.complete_with_results(done, findings=[], outcomes=[], score=100.0)
    run = runs.start_run(done)
    assert runs.reserve_launch(run.id, host=HOST, cap=1)
    assert not scans.reserve_launch(queued(scans), host=HOST, cap=1)
    assert runs.cancel_queued(run.id)
    assert slots_taken(database_url, HOST) == 1
    assert runs.release_slot(run.id, HOST)
    assert slots_taken(database_url, HOST) == 0


def test_a_requeued_run_takes_a_fresh_slot(database_url: str) -> None:
    store = ScanStore(database_url)
    scan_id = queued(store)
    assert store.reserve_launch(scan_id, host=HOST, cap=1)
    assert store.claim(scan_id, pid=os.getpid(), host=HOST, process_create_time=None)
    assert store.requeue(scan_id, from_host=HOST, reason="the machine restarted")
    assert slots_taken(database_url, HOST) == 0
    assert store.reserve_launch(scan_id, host=HOST, cap=1)
    assert slots_taken(database_url, HOST) == 1


# ------------------------------------------------------------------ process checks (this host)
def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def _ended_run(store: ScanStore, data_dir: Path, *, claimed_by: subprocess.Popen[bytes] | None) -> tuple[Scan, RunDir]:
    scan_id = queued(store)
    assert store.reserve_launch(scan_id, host=HOST, cap=10)
    if claimed_by is not None:
        create_time = psutil.Process(claimed_by.pid).create_time()
        assert store.claim(scan_id, pid=claimed_by.pid, host=HOST, process_create_time=create_time)
        assert store.fail_running(scan_id, "failed on its own")
    else:
        assert store.fail_unstarted(scan_id, "cancelled while starting")
    scan = store.get(scan_id)
    assert scan is not None
    return scan, RunDir(data_dir, scan_id, SCAN).create()


def test_a_claimed_process_holds_its_slot_while_it_lives(database_url: str, data_dir: Path) -> None:
    store = ScanStore(database_url)
    proc = _sleeper()
    try:
        scan, run_dir = _ended_run(store, data_dir, claimed_by=proc)
        assert not process_exited(scan, run_dir)
        assert release_exited(store, SCAN, HOST, data_dir) == 0
        proc.kill()
        proc.wait(10)
        assert process_exited(scan, run_dir)  # no monitor (a foreground run): the process is all
        assert release_exited(store, SCAN, HOST, data_dir) == 1
        assert slots_taken(database_url, HOST) == 0
    finally:
        proc.kill()
        proc.wait(10)


def test_an_unclaimed_launch_waits_for_its_monitor(database_url: str, data_dir: Path) -> None:
    store = ScanStore(database_url)
    scan, run_dir = _ended_run(store, data_dir, claimed_by=None)
    # no monitor yet: the spawn may still be coming
    assert not process_exited(scan, run_dir)
    monitor = _sleeper()  # stands for a live monitor whose child is still starting
    try:
        run_dir.write_monitor_pid(monitor.pid)
        assert not process_exited(scan, run_dir)
        run_dir.write_exit_status(None, 3)  # the monitor saw its child exit (claim refused)
        assert process_exited(scan, run_dir)
    finally:
        monitor.kill()
        monitor.wait(10)


def test_a_previous_attempts_exit_status_is_not_this_launchs(database_url: str, data_dir: Path) -> None:
    store = ScanStore(database_url)
    scan, run_dir = _ended_run(store, data_dir, claimed_by=None)
    run_dir.write_exit_status(None, 1)
    old = run_dir.read_exit_status()
    assert old is not None and scan.launched_at is not None
    old["ended_at"] = scan.launched_at.timestamp() - 60
    (run_dir.path / "exit_status.json").write_text(json.dumps(old))
    assert not process_exited(scan, run_dir)


def test_a_launch_with_no_monitor_after_the_grace_is_released(database_url: str, data_dir: Path) -> None:
    store = ScanStore(database_url)
    scan, run_dir = _ended_run(store, data_dir, claimed_by=None)
    assert scan.launched_at is not None
    with session_scope(database_url) as session:
        session.execute(update(Scan).where(Scan.scan_id == scan.scan_id)
                        .values(launched_at=scan.launched_at - timedelta(seconds=SPAWN_GRACE_SECONDS + 5)))
    scan = store.get(scan.scan_id)
    assert scan is not None and process_exited(scan, run_dir)


def test_enrichment_run_dirs_are_checked_under_their_kind(database_url: str, data_dir: Path) -> None:
    scans, runs = ScanStore(database_url), EnrichmentStore(database_url)
    done = queued(scans)
    assert scans.claim(done, pid=os.getpid(), host="elsewhere", process_create_time=None)
    assert scans.complete_with_results(done, findings=[], outcomes=[], score=100.0)
    run = runs.start_run(done)
    assert runs.reserve_launch(run.id, host=HOST, cap=1)
    assert runs.cancel_queued(run.id)
    assert release_exited(runs, ENRICH, HOST, data_dir) == 0  # no monitor yet, within the grace
    RunDir(data_dir, done, ENRICH).create().write_exit_status(None, 3)
    assert release_exited(runs, ENRICH, HOST, data_dir) == 1
    assert slots_taken(database_url, HOST) == 0
