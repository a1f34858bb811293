"""Scale-out: two hosts (two supervisors with their own host id and data directory) on one PostgreSQL.

Forty queued scans are claimed by whichever supervisor gets there first; each must run exactly
once (one launch, one claim, on one host) and end terminal. Then one host vanishes (its
supervisor, monitors and scans SIGKILLed, as when an App Service instance is taken away) and
the other host must settle that host's scans once their heartbeat is older than
``OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS``, and run what is still queued.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from store.clock import utcnow
from store.models import Scan
from store.scans import ScanStore
from tests.conftest import empty_postgres, scan_env
from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import kill_scan_processes, start_supervisor, stop_process, wait_for

TERMINAL = ("completed", "failed", "cancelled")
HEARTBEAT_TIMEOUT = 8
CLAIM_MARKER = "claimed by pid"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="large:40", any_subscription=True) as emu:
        yield emu


@pytest.fixture
def pg(postgres_url: str) -> Iterator[str]:
    yield postgres_url
    empty_postgres(postgres_url)


@dataclass
class Host:
    name: str
    data_dir: Path
    env: dict[str, str]
    supervisor: subprocess.Popen[bytes] | None = None
    killed: bool = field(default=False)

    def start(self) -> None:
        self.supervisor = start_supervisor(self.env, self.data_dir / "supervisor.log")

    def stop(self) -> None:
        if self.supervisor is not None:
            stop_process(self.supervisor)
            self.supervisor = None
        kill_scan_processes(self.data_dir)

    def vanish(self) -> None:
        """SIGKILL every process of this host (supervisor, monitors, scans, launches in flight).

        They are found by their environment (``OPENSHIELD_HOST_ID``), as an instance being taken
        away ends them all: pid files alone would miss a scan that has not written its own yet.
        """
        assert self.supervisor is not None
        os.killpg(self.supervisor.pid, signal.SIGKILL)
        self.supervisor.wait(10)
        self.supervisor = None
        for _ in range(3):  # again: a process may have been forked while we looked
            for proc in psutil.process_iter():
                try:
                    if proc.environ().get("OPENSHIELD_HOST_ID") == self.name:
                        proc.kill()
                except psutil.Error:
                    continue
        self.killed = True

    def claims(self, scan_id: str) -> int:
        log = self.data_dir / "scans" / scan_id / "scan.log"
        return log.read_text(errors="replace").count(CLAIM_MARKER) if log.exists() else 0

    def launched(self, scan_id: str) -> bool:
        return (self.data_dir / "scans" / scan_id).exists()


def _is(pid: int, create_time: float | None) -> bool:
    try:
        return create_time is None or abs(psutil.Process(pid).create_time() - create_time) < 0.05
    except psutil.Error:
        return False


@pytest.fixture
def hosts(pg: str, tmp_path: Path, emulator: Emulator) -> Iterator[tuple[Host, Host]]:
    made = []
    for name in ("host-a", "host-b"):
        data_dir = tmp_path / name
        data_dir.mkdir()
        env = scan_env(pg, data_dir, {
            **emulator.env, "OPENSHIELD_HOST_ID": f"{name}-{uuid.uuid4().hex[:6]}",
            "OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS": str(HEARTBEAT_TIMEOUT),
            "OPENSHIELD_MAX_CONCURRENT_SCANS": "3",
        })
        made.append(Host(env["OPENSHIELD_HOST_ID"], data_dir, env))
    emulator.set_faults(latency_ms=0)
    yield made[0], made[1]
    for host in made:
        host.stop()
    emulator.set_faults(latency_ms=0)


def _queue(store: ScanStore, count: int, rules: list[str] | None) -> list[str]:
    return [store.create(str(uuid.uuid4()), trigger="api", rules=rules).scan_id for _ in range(count)]


def _all_terminal(store: ScanStore, scan_ids: list[str], timeout: float) -> dict[str, Scan]:
    def done() -> dict[str, Scan] | None:
        scans = {sid: store.get(sid) for sid in scan_ids}
        if all(s is not None and s.status in TERMINAL for s in scans.values()):
            return scans  # type: ignore[return-value]
        return None

    return wait_for(done, timeout, interval=0.5, what=f"{len(scan_ids)} scans to end")


def test_two_hosts_run_40_queued_scans_exactly_once_then_one_host_vanishes(
        pg: str, hosts: tuple[Host, Host], emulator: Emulator) -> None:
    store = ScanStore(pg)
    a, b = hosts

    # ---- 40 queued scans, two supervisors competing for them
    batch = _queue(store, 40, ["AZ-STOR-001"])
    started = time.monotonic()
    a.start()
    b.start()
    scans = _all_terminal(store, batch, 240)
    batch_seconds = time.monotonic() - started
    by_host = {a.name: 0, b.name: 0}
    for scan_id, scan in scans.items():
        assert scan.status == "completed", (scan_id, scan.error_message)
        assert scan.host in by_host and scan.attempt == 1 and scan.trigger == "api"
        runner, other = (a, b) if scan.host == a.name else (b, a)
        assert runner.claims(scan_id) == 1, f"scan {scan_id} claimed {runner.claims(scan_id)} times"
        assert not other.launched(scan_id), f"scan {scan_id} was also launched on {other.name}"
        log = (runner.data_dir / "scans" / scan_id / "scan.log").read_text()
        assert "only a pending scan can be run" not in log  # no second process ever tried
        by_host[scan.host] += 1
    assert all(count > 0 for count in by_host.values()), by_host  # both hosts took part

    # ---- host B vanishes while it runs scans
    emulator.set_faults(latency_ms=400)  # scans of every rule now take a while
    second = _queue(store, 8, None)
    # a launch slot taken by a host that vanished before it could start the scan
    ghost = store.create(str(uuid.uuid4()), trigger="api", rules=["AZ-STOR-001"]).scan_id
    assert store.reserve_launch(ghost, host="ghost-host", cap=1)
    second.append(ghost)

    def b_running() -> list[Scan]:
        return [s for s in store.active_on_host(b.name) if s.status == "running" and s.pid]

    wait_for(b_running, 60, interval=0.2, what=f"{b.name} to run scans")
    b.vanish()
    killed_at = utcnow()
    left = store.active_on_host(b.name)
    orphaned = [s.scan_id for s in left if s.status == "running"]
    unstarted = [s.scan_id for s in left if s.status == "pending"] + [ghost]
    assert orphaned

    emulator.set_faults(latency_ms=0)  # let host A finish the rest quickly
    scans = _all_terminal(store, second, 150)
    for scan_id in orphaned:
        scan = scans[scan_id]
        assert scan.status == "failed" and scan.host == b.name and scan.attempt == 1
        assert scan.error_message is not None and scan.error_message.startswith(f"host {b.name} "), scan.error_message
        assert scan.completed_at is not None
        # judged by heartbeat age alone: never before the timeout has passed
        assert _seconds(killed_at, scan.completed_at) >= HEARTBEAT_TIMEOUT - 2
        assert b.claims(scan_id) <= 1 and not a.launched(scan_id)
    for scan_id in unstarted:  # never ran: back to the queue, then run by A, still attempt 1
        scan = scans[scan_id]
        assert scan.status == "completed" and scan.host == a.name, (scan_id, scan.host, scan.error_message)
        assert a.claims(scan_id) == 1 and b.claims(scan_id) == 0 and scan.attempt == 1
    for scan_id in set(second) - set(orphaned):
        scan = scans[scan_id]
        assert scan.status == "completed", (scan_id, scan.host, scan.error_message)
        runner = a if scan.host == a.name else b
        assert runner.claims(scan_id) == 1
    assert any(scans[s].host == a.name for s in second)  # A picked up what was still queued
    print(f"\n40 scans on 2 hosts (cap 3 each) in {batch_seconds:.1f} s; "
          f"scans per host {by_host}; orphaned on {b.name}: {len(orphaned)} running, {len(unstarted)} unstarted; "
          f"running ones settled after "
          f"{[round(_seconds(killed_at, scans[s].completed_at), 1) for s in orphaned]} s "  # type: ignore[arg-type]
          f"(heartbeat timeout {HEARTBEAT_TIMEOUT} s): {sorted({scans[s].error_message for s in orphaned})}")


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def test_a_hung_scan_of_a_live_host_is_left_to_that_host(pg: str, hosts: tuple[Host, Host],
                                                         emulator: Emulator) -> None:
    """Only the owning host can kill a hung process: the other host must not settle it first."""
    store = ScanStore(pg)
    a, b = hosts
    emulator.set_faults(latency_ms=400)
    a.start()
    b.start()
    scan_id = _queue(store, 1, None)[0]

    def running() -> Scan | None:
        scan = store.get(scan_id)
        return scan if scan is not None and scan.status == "running" and scan.pid else None

    scan = wait_for(running, 60, interval=0.2, what="the scan to run")
    runner = a if scan.host == a.name else b
    assert scan.pid is not None
    os.kill(scan.pid, signal.SIGSTOP)  # hung: no heartbeat, cannot act on SIGTERM
    try:
        ended = _all_terminal(store, [scan_id], HEARTBEAT_TIMEOUT + 30)[scan_id]
        assert ended.status == "failed"
        assert ended.error_message is not None and ended.error_message.startswith("stopped reporting progress"), \
            ended.error_message  # the owner's verdict, not "host ... stopped reporting"
        wait_for(lambda: not _is(scan.pid, scan.process_create_time) or _zombie(scan.pid), 30,  # type: ignore[arg-type]
                 what="the hung process to be killed by its host's supervisor")
    finally:
        _kill_quietly(scan.pid)
    assert runner.claims(scan_id) == 1


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def test_instances_starting_together_all_migrate_a_fresh_database() -> None:
    """Every instance's startup.sh runs `db upgrade` at once against one new PostgreSQL database."""
    import psycopg

    from tests.cli.conftest import OPENSHIELD
    from tests.conftest import PG_ADMIN_URL

    name = f"openshield_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "DATABASE_URL": f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"}
        procs = [subprocess.Popen([OPENSHIELD, "db", "upgrade"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = [(proc.wait(60), proc.stderr.read() if proc.stderr else "") for proc in procs]
        assert all(code == 0 for code, _ in results), results
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"scans", "findings", "supervisor_heartbeats", "alembic_version"} <= tables
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_one_active_scan_per_subscription_across_hosts(pg: str, hosts: tuple[Host, Host],
                                                       emulator: Emulator) -> None:
    """Triggers of one subscription from both hosts at once: the database lets exactly one win."""
    from tests.cli.conftest import OPENSHIELD

    # The winner's scan must stay active until the last trigger process has tried (they start
    # seconds apart on a busy machine); the fixture kills it afterwards.
    emulator.set_faults(latency_ms=3000)
    store = ScanStore(pg)
    subscription = str(uuid.uuid4())
    procs = [subprocess.Popen([OPENSHIELD, "scans", "trigger", "--subscription", subscription,
                               "--rules", "AZ-STOR-001"], env=host.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for host in hosts for _ in range(3)]
    results = [(proc.wait(60), proc.stdout.read() if proc.stdout else "", proc.stderr.read() if proc.stderr else "")
               for proc in procs]
    winners = [out.strip() for code, out, _ in results if code == 0]
    assert len(winners) == 1, results
    losers = [err for code, _, err in results if code != 0]
    assert all(code in (0, 3) for code, _, _ in results), results
    assert all(winners[0] in err for err in losers), results  # each loser is told which scan is active
    scans = store.list_scans(subscription_id=subscription)[1]
    assert [s.scan_id for s in scans] == winners and scans[0].status in ("pending", "running")
