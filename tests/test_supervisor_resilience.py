"""Issue 12 §3, supervisor side: how long a dead run waits for its exit status, and what the
loop does while the database is unreachable. The supervisor runs in this process (its ticks
are called directly), over real run directories, real processes and a real database."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from store.migrate import upgrade
from store.scans import ScanStore
from store.settings import Settings
from supervisor.kinds import SCAN
from supervisor.loop import EXIT_STATUS_GRACE_SECONDS, StopFlag, Supervisor
from supervisor.rundir import RunDir
from tests.conftest import PG_ADMIN_URL
from tests.processes import wait_for

HOST = "resilience-test"


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    return dataclasses.replace(Settings.from_env(), database_url=database_url, data_dir=data_dir, host_id=HOST,
                               heartbeat_timeout_seconds=120)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing in for a run's monitor (still busy reaping its child)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait(10)


def running_scan_whose_process_died(settings: Settings) -> tuple[str, int, RunDir]:
    """A running scan of this host whose process has exited (it ran and was reaped)."""
    store = ScanStore(settings.database_url)
    scan = store.create(str(uuid.uuid4()))
    assert store.reserve_launch(scan.scan_id, host=HOST, cap=10)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(10)
    assert store.claim(scan.scan_id, pid=dead.pid, host=HOST, process_create_time=None)
    return scan.scan_id, dead.pid, RunDir(settings.data_dir, scan.scan_id, SCAN).create()


def tick_for(supervisor: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.tick()
        time.sleep(0.05)


def test_a_dead_run_waits_for_its_exit_status_as_long_as_its_monitor_lives(
        settings: Settings, sleeper: subprocess.Popen[bytes]) -> None:
    scan_id, pid, run_dir = running_scan_whose_process_died(settings)
    run_dir.write_monitor_pid(sleeper.pid)  # the monitor is alive, slow to write (a busy host)
    supervisor = Supervisor(settings)
    tick_for(supervisor, EXIT_STATUS_GRACE_SECONDS * 2.5)  # longer than the old fixed 1 s
    assert ScanStore(settings.database_url).get(scan_id).status == "running"  # type: ignore[union-attr]
    run_dir.write_exit_status(pid, -9)
    supervisor.tick()
    scan = ScanStore(settings.database_url).get(scan_id)
    assert scan is not None and scan.status == "failed"
    assert scan.error_message == "scan process killed by SIGKILL" and scan.exit_code == -9


def test_a_dead_run_whose_monitor_is_gone_too_is_failed_after_the_grace(
        settings: Settings, sleeper: subprocess.Popen[bytes]) -> None:
    scan_id, _pid, run_dir = running_scan_whose_process_died(settings)
    run_dir.write_monitor_pid(sleeper.pid)
    supervisor = Supervisor(settings)
    supervisor.tick()
    sleeper.kill()
    sleeper.wait(10)  # the monitor died without writing anything
    store = ScanStore(settings.database_url)
    scan = wait_for(lambda: (s := store.get(scan_id)) and s.status != "running" and s or supervisor.tick(),
                    EXIT_STATUS_GRACE_SECONDS + 10, what="the scan to be settled")
    assert scan.status == "failed"
    assert scan.error_message == "scan process vanished without reporting (exit status unknown)"


@pytest.mark.postgres
def test_database_down_logs_one_line_backs_off_and_one_line_when_back(
        data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    name = f"openshield_down_{uuid.uuid4().hex[:8]}"  # does not exist yet: the database is "down"
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    settings = dataclasses.replace(Settings.from_env(), database_url=url, data_dir=data_dir, host_id=HOST)
    supervisor = Supervisor(settings)
    ticks = 0
    real_tick = supervisor.tick

    def counted_tick() -> None:
        nonlocal ticks
        ticks += 1
        real_tick()

    supervisor.tick = counted_tick  # type: ignore[method-assign]
    stop = StopFlag()
    caplog.set_level(logging.INFO, logger="supervisor")
    loop = threading.Thread(target=supervisor.run_forever, args=(stop,), daemon=True)
    loop.start()
    try:
        down_for = 4.0
        time.sleep(down_for)  # the outage lasts this long; nothing is polled meanwhile
        down_ticks = ticks
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        upgrade(url)
        wait_for(lambda: any("reachable again" in r.getMessage() for r in caplog.records), 15,
                 what="the supervisor to notice the database is back")
    finally:
        stop.set()
        loop.join(15)
        from store.db import dispose_engines

        dispose_engines()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    lines = [r for r in caplog.records if r.name == "supervisor" and r.levelno >= logging.WARNING]
    print(f"{down_ticks} ticks in {down_for} s of outage; log: {[r.getMessage() for r in lines]}")
    unreachable = [r for r in lines if "database unreachable" in r.getMessage()]
    back = [r for r in lines if "reachable again" in r.getMessage()]
    assert len(unreachable) == 1 and len(back) == 1, [r.getMessage() for r in lines]
    assert all(r.exc_info is None for r in lines), "a traceback was logged"
    assert "\n" not in unreachable[0].getMessage()
    # backing off: 0.25, 0.5, 1, 2, 4 s apart instead of four ticks a second
    assert down_ticks <= 8, f"{down_ticks} attempts in {down_for} s"
