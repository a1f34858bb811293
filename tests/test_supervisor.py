"""Scan processes and the supervisor, with real processes and real signals.

Each test launches scans through the launcher (as the API does), runs ``python -m supervisor``
as its own process, and checks what the database says within a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import psutil
import pytest
from sqlalchemy import update

from store.models import Scan
from store.db import session_scope
from store.scans import ScanStore
from store.settings import Settings
from supervisor.launcher import Launcher
from tests.conftest import scan_env
from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import (
    child_zombies,
    kill_scan_processes,
    start_supervisor,
    stop_process,
    wait_for,
)

TERMINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="large:600", any_subscription=True) as emu:
        yield emu


@dataclass
class Rig:
    env: dict[str, str]
    settings: Settings
    store: ScanStore
    launcher: Launcher
    data_dir: Path
    emulator: Emulator
    supervisor: subprocess.Popen[bytes] | None = None

    def start_supervisor(self) -> None:
        self.supervisor = start_supervisor(self.env, self.data_dir / "supervisor.log")
        wait_for(lambda: self._beat_seen(), 60, what="supervisor heartbeat")

    def _beat_seen(self) -> bool:
        from store.models import SupervisorBeat

        with session_scope(self.settings.database_url) as s:
            beat = s.get(SupervisorBeat, self.settings.host_id)
            return beat is not None and self.supervisor is not None and beat.pid == self.supervisor.pid

    def stop_supervisor(self) -> None:
        if self.supervisor is not None:
            stop_process(self.supervisor)
            self.supervisor = None

    def trigger(self, subscription: str | None = None) -> str:
        # the emulator serves its tenant under any subscription id (--any-subscription)
        scan = self.store.create(subscription or str(uuid.uuid4()), trigger="api")
        self.launcher.launch(scan.scan_id)
        return scan.scan_id

    def scan(self, scan_id: str) -> Scan:
        scan = self.store.get(scan_id)
        assert scan is not None
        return scan

    def wait_status(self, scan_id: str, statuses: tuple[str, ...], timeout: float) -> Scan:
        def reached() -> Scan | None:
            scan = self.scan(scan_id)
            return scan if scan.status in statuses else None

        return wait_for(reached, timeout, what=f"scan {scan_id} to reach {statuses}")

    def wait_running_pid(self, scan_id: str, timeout: float = 20) -> int:
        def running_pid() -> int | None:
            scan = self.scan(scan_id)
            return scan.pid if scan.status == "running" and scan.pid else None

        return wait_for(running_pid, timeout, what="scan to run")

    def supervisor_log(self) -> str:
        path = self.data_dir / "supervisor.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def rig(database_url: str, data_dir: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    host = f"test-{uuid.uuid4().hex[:8]}"
    extra = {**emulator.env, "OPENSHIELD_HOST_ID": host, "OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS": "30",
             "OPENSHIELD_SCAN_TIMEOUT_SECONDS": "600", "OPENSHIELD_MAX_CONCURRENT_SCANS": "4"}
    env = scan_env(database_url, data_dir, extra)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    emulator.set_faults(latency_ms=0, throttle_every=0, fail_every=0, forbid_graph=[])
    r = Rig(env, settings, ScanStore(database_url), Launcher(settings), data_dir, emulator)
    yield r
    r.stop_supervisor()
    kill_scan_processes(data_dir)
    emulator.set_faults(latency_ms=0)


def with_settings(rig: Rig, monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for key, value in env.items():
        rig.env[key] = value
        monkeypatch.setenv(key, value)
    rig.settings = Settings.from_env()
    rig.launcher = Launcher(rig.settings)


def slow(rig: Rig, latency_ms: int = 150) -> None:
    rig.emulator.set_faults(latency_ms=latency_ms)


def test_scan_runs_to_completion_under_supervision(rig: Rig) -> None:
    rig.start_supervisor()
    scan_id = rig.trigger()
    scan = rig.wait_status(scan_id, TERMINAL, 60)
    assert scan.status == "completed", scan.error_message
    assert scan.host == rig.settings.host_id and scan.pid and scan.process_create_time
    assert not child_zombies(os.getpid())


def test_kill_9_is_failed_naming_sigkill_within_2s(rig: Rig) -> None:
    rig.start_supervisor()
    slow(rig)
    scan_id = rig.trigger()
    pid = rig.wait_running_pid(scan_id)
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    scan = rig.wait_status(scan_id, TERMINAL, 5)
    elapsed = time.monotonic() - killed_at
    assert scan.status == "failed" and scan.error_message == "scan process killed by SIGKILL"
    assert elapsed <= 2.0, f"took {elapsed:.2f}s"
    assert scan.exit_code == -9
    wait_for(lambda: not psutil.pid_exists(pid), 30, what="no zombie left")
    assert not child_zombies(os.getpid())


def test_sigterm_from_an_operator_cancels(rig: Rig) -> None:
    rig.start_supervisor()
    slow(rig)
    scan_id = rig.trigger()
    pid = rig.wait_running_pid(scan_id)
    os.kill(pid, signal.SIGTERM)
    scan = rig.wait_status(scan_id, TERMINAL, 5)
    assert scan.status == "cancelled" and scan.error_message == "cancelled by SIGTERM"
    assert scan.exit_code == 128 + signal.SIGTERM
    wait_for(lambda: not psutil.pid_exists(pid), 30, what="scan process to exit")


def test_cancel_request_stops_a_running_scan(rig: Rig) -> None:
    rig.start_supervisor()
    slow(rig)
    scan_id = rig.trigger()
    pid = rig.wait_running_pid(scan_id)
    assert rig.store.request_cancel(scan_id)
    scan = rig.wait_status(scan_id, TERMINAL, 5)
    assert scan.status == "cancelled" and scan.error_message is not None
    assert scan.error_message.startswith("cancelled on request")
    wait_for(lambda: not psutil.pid_exists(pid), 30, what="scan process to exit")


def test_scan_killed_while_supervisor_down_is_failed_on_restart(rig: Rig) -> None:
    rig.start_supervisor()
    slow(rig)
    scan_id = rig.trigger()
    pid = rig.wait_running_pid(scan_id)
    rig.stop_supervisor()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not psutil.pid_exists(pid), 30, what="scan to die")
    assert rig.scan(scan_id).status == "running"  # nobody watching yet
    rig.start_supervisor()
    scan = rig.wait_status(scan_id, TERMINAL, 5)
    assert scan.status == "failed" and scan.error_message == "scan process killed by SIGKILL"


def test_supervisor_restart_leaves_a_live_scan_alone(rig: Rig) -> None:
    rig.start_supervisor()
    slow(rig, 30)
    scan_id = rig.trigger()
    rig.wait_running_pid(scan_id)
    rig.stop_supervisor()
    rig.start_supervisor()
    scan = rig.wait_status(scan_id, TERMINAL, 90)
    assert scan.status == "completed", scan.error_message


def test_hung_scan_is_killed_and_failed(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    with_settings(rig, monkeypatch, OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS="2")
    rig.start_supervisor()
    slow(rig)
    scan_id = rig.trigger()
    pid = rig.wait_running_pid(scan_id)
    os.kill(pid, signal.SIGSTOP)  # alive but silent: no heartbeat any more
    scan = rig.wait_status(scan_id, TERMINAL, 10)
    assert scan.status == "failed" and scan.error_message is not None
    assert scan.error_message.startswith("stopped reporting progress")
    wait_for(lambda: not psutil.pid_exists(pid), 30, what="hung scan to be killed")


def test_over_time_scan_is_killed_and_failed(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    with_settings(rig, monkeypatch, OPENSHIELD_SCAN_TIMEOUT_SECONDS="2")
    rig.start_supervisor()
    slow(rig)
    scan_id = rig.trigger()
    pid = rig.wait_running_pid(scan_id)
    scan = rig.wait_status(scan_id, TERMINAL, 10)
    assert scan.status == "failed" and scan.error_message == "timed out after 2 s"
    wait_for(lambda: not psutil.pid_exists(pid), 30, what="over-time scan to be stopped")


def test_recycled_pid_is_not_mistaken_for_the_scan(rig: Rig) -> None:
    """A running record whose pid now belongs to another process (other create time)."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        scan_id = str(uuid.uuid4())
        rig.store.create(str(uuid.uuid4()), scan_id=scan_id)
        rig.store.reserve_launch(scan_id, host=rig.settings.host_id, cap=10)
        real_create_time = psutil.Process(stranger.pid).create_time()
        assert rig.store.claim(scan_id, pid=stranger.pid, host=rig.settings.host_id,
                               process_create_time=real_create_time - 1000)
        rig.start_supervisor()
        scan = rig.wait_status(scan_id, TERMINAL, 5)
        assert scan.status == "failed" and "vanished" in (scan.error_message or "")
        assert stranger.poll() is None, "the supervisor signalled a process that is not the scan"
    finally:
        stranger.kill()
        stranger.wait()


def test_machine_restart_requeues_once(rig: Rig) -> None:
    """A running scan older than the machine's boot: everything went down together."""
    scan_id = str(uuid.uuid4())
    rig.store.create(str(uuid.uuid4()), scan_id=scan_id)
    rig.store.reserve_launch(scan_id, host=rig.settings.host_id, cap=10)
    rig.store.claim(scan_id, pid=2**22 - 3, host=rig.settings.host_id, process_create_time=1.0)
    long_ago = datetime(2000, 1, 1, tzinfo=timezone.utc)
    with session_scope(rig.settings.database_url) as s:
        s.execute(update(Scan).where(Scan.scan_id == scan_id).values(started_at=long_ago, heartbeat_at=long_ago))
    rig.start_supervisor()
    scan = rig.wait_status(scan_id, TERMINAL, 60)
    assert scan.status == "completed" and scan.attempt == 2 and scan.trigger == "retry"


def test_concurrency_cap_queues_then_runs(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    with_settings(rig, monkeypatch, OPENSHIELD_MAX_CONCURRENT_SCANS="1")
    slow(rig, 10)
    ids = [rig.trigger() for _ in range(3)]
    queued = [rig.scan(i) for i in ids[1:]]
    assert all(s.status == "pending" and s.phase == "queued" and s.host is None for s in queued)
    rig.start_supervisor()
    peak = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        scans = [rig.scan(i) for i in ids]
        peak = max(peak, sum(1 for s in scans if s.status == "running"))
        if all(s.status in TERMINAL for s in scans):
            break
        time.sleep(0.05)
    scans = [rig.scan(i) for i in ids]
    assert [s.status for s in scans] == ["completed"] * 3, [s.error_message for s in scans]
    assert peak == 1
    # oldest first
    assert scans[0].started_at < scans[1].started_at < scans[2].started_at  # type: ignore[operator]


def test_pending_cancel_before_launch(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    with_settings(rig, monkeypatch, OPENSHIELD_MAX_CONCURRENT_SCANS="1")
    slow(rig)
    first = rig.trigger()
    second = rig.trigger()
    assert rig.scan(second).phase == "queued"
    assert rig.store.cancel_queued(second)
    rig.start_supervisor()
    rig.wait_running_pid(first)
    assert rig.store.request_cancel(first)
    assert rig.wait_status(first, TERMINAL, 5).status == "cancelled"
    assert rig.scan(second).status == "cancelled" and rig.scan(second).started_at is None


def test_over_time_scan_that_ignores_sigterm_is_killed_after_grace(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    with_settings(rig, monkeypatch, OPENSHIELD_SCAN_TIMEOUT_SECONDS="2")
    rig.start_supervisor()
    slow(rig)
    scan_id = rig.trigger()
    pid = rig.wait_running_pid(scan_id)
    os.kill(pid, signal.SIGSTOP)  # a stopped process cannot act on SIGTERM; SIGKILL still works
    scan = rig.wait_status(scan_id, TERMINAL, 10)
    assert scan.status == "failed" and scan.error_message == "timed out after 2 s"
    assert psutil.pid_exists(pid)  # SIGTERM did nothing
    wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, 60,
             what="SIGKILL after the grace period")
