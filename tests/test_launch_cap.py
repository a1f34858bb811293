"""The per-host cap bounds live scan processes, not database rows (issue 13).

A cancel storm with real processes: ``python -m supervisor`` and the launcher (as the API calls
it), ``OPENSHIELD_MAX_CONCURRENT_SCANS=2``, scans of subscriptions the emulator does not know
(so the few that get to work fail fast), then every scan cancelled, oldest first, at the pace
of an operator's script. Meanwhile a sampler lists the host's live ``python -m scanner.run``
processes of these scans; no sample may exceed the cap. Cancelling or failing a row must not
free its slot while the process it was given is still starting or still exiting.

Nothing here is timed: the sampler only counts processes.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from store.scans import ScanStore
from store.settings import Settings
from supervisor.launcher import Launcher
from tests.conftest import empty_postgres, scan_env
from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import kill_scan_processes, start_supervisor, stop_process, wait_for

CAP = 2
TRIGGERS = 20
CANCEL_PACE_SECONDS = 0.1  # an operator's script: about 10 cancels a second
TERMINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    # no --any-subscription: every scan here names a subscription it does not know (404)
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="large:20") as emu:
        yield emu


def autogroup_nice(pid: int) -> int | None:
    """The nice value of a process's scheduler autogroup (its session), where the kernel has them."""
    try:
        return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def autogroups_enabled() -> bool:
    """Whether the kernel puts each new session in its own scheduler autogroup."""
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return False


class ScanProcessSampler(threading.Thread):
    """Counts live ``scanner.run`` processes of the given scans, per host, until stopped."""

    def __init__(self, scan_ids: set[str]) -> None:
        super().__init__(name="sampler", daemon=True)
        self.scan_ids = scan_ids
        self.halt = threading.Event()
        self.samples = 0
        self.peak: dict[str, int] = {}
        self.seen: set[int] = set()
        # (nice, (I/O class, level), the session's autogroup nice)
        self.priorities: set[tuple[int, tuple[int, int] | None, int | None]] = set()

    def live_by_host(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for proc in psutil.process_iter(["cmdline", "status"]):
            cmdline = proc.info["cmdline"] or []
            if proc.info["status"] == psutil.STATUS_ZOMBIE or "scanner.run" not in cmdline:
                continue
            if not self.scan_ids.intersection(cmdline):
                continue
            try:
                host = proc.environ().get("OPENSHIELD_HOST_ID", "?")
                ionice = proc.ionice() if hasattr(psutil, "IOPRIO_CLASS_BE") else None
                self.priorities.add((proc.nice(), (int(ionice[0]), int(ionice[1])) if ionice else None,
                                     autogroup_nice(proc.pid)))
            except psutil.Error:
                continue  # it ended between the listing and this look
            self.seen.add(proc.pid)
            counts[host] = counts.get(host, 0) + 1
        return counts

    def run(self) -> None:
        while not self.halt.is_set():
            for host, count in self.live_by_host().items():
                self.peak[host] = max(self.peak.get(host, 0), count)
            self.samples += 1
            self.halt.wait(0.01)


@dataclass
class StormHost:
    name: str
    data_dir: Path
    env: dict[str, str]
    launcher: Launcher
    supervisor: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.supervisor is not None:
            stop_process(self.supervisor)
            self.supervisor = None
        kill_scan_processes(self.data_dir)


@dataclass
class Storm:
    database_url: str
    emulator: Emulator
    root: Path
    hosts: list[StormHost] = field(default_factory=list)

    def add_host(self) -> StormHost:
        name = f"cap-{uuid.uuid4().hex[:8]}"
        data_dir = self.root / name
        data_dir.mkdir()
        env = scan_env(self.database_url, data_dir, {
            **self.emulator.env, "OPENSHIELD_HOST_ID": name, "OPENSHIELD_MAX_CONCURRENT_SCANS": str(CAP),
            "OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS": "30", "OPENSHIELD_SCAN_NICE": "10",
        })
        settings = dataclasses.replace(Settings.from_env(), data_dir=data_dir, database_url=self.database_url,
                                       max_concurrent_scans=CAP, host_id=name, scan_nice=10)
        host = StormHost(name, data_dir, env, Launcher(settings))
        host.supervisor = start_supervisor(env, data_dir / "supervisor.log")
        self.hosts.append(host)
        return host

    def run(self) -> ScanProcessSampler:
        """Trigger on every host in turn (as API workers would), then cancel everything."""
        store = ScanStore(self.database_url)
        scan_ids = [str(uuid.uuid4()) for _ in range(TRIGGERS * len(self.hosts))]
        sampler = ScanProcessSampler(set(scan_ids))
        sampler.start()
        try:
            for index, scan_id in enumerate(scan_ids):
                store.create(str(uuid.uuid4()), trigger="api", scan_id=scan_id)
                self.hosts[index % len(self.hosts)].launcher.launch(scan_id)
            for scan_id in scan_ids:  # oldest first: the launched ones, then the queued ones
                store.stop(scan_id)
                time.sleep(CANCEL_PACE_SECONDS)

            def settled() -> bool:
                return all(s.status in TERMINAL for s in map(store.get, scan_ids) if s is not None) \
                    and not sampler.live_by_host()

            wait_for(settled, 90, interval=0.1, what="every scan to end and its process to exit")
        finally:
            sampler.halt.set()
            sampler.join(10)
        return sampler

    def stop(self) -> None:
        for host in self.hosts:
            host.stop()


@pytest.fixture
def storm(database_url: str, tmp_path: Path, emulator: Emulator) -> Iterator[Storm]:
    s = Storm(database_url, emulator, tmp_path)
    yield s
    s.stop()


def test_cancel_storm_never_exceeds_the_cap_of_live_scan_processes(storm: Storm) -> None:
    host = storm.add_host()
    sampler = storm.run()
    assert sampler.seen, "no scan process was ever sampled: the storm did not launch anything"
    assert sampler.peak.get(host.name, 0) <= CAP, (
        f"{sampler.peak[host.name]} live scanner.run processes at once on {host.name} (cap {CAP}); "
        f"{len(sampler.seen)} processes seen over {sampler.samples} samples")
    # every scan process ran below the API: nice 10 (the default), best-effort I/O level 6, and
    # its session's autogroup at nice 10 too (else the nice value would weigh only inside it). The
    # test's own process may sit in the root autogroup (as under a container's init, where
    # /proc/<pid>/autogroup is empty), so whether to expect one is the kernel's switch, not ours.
    expected_io = (int(psutil.IOPRIO_CLASS_BE), 6) if hasattr(psutil, "IOPRIO_CLASS_BE") else None
    nice = max(10, os.getpriority(os.PRIO_PROCESS, 0))
    assert {(n, io) for n, io, _ in sampler.priorities} == {(nice, expected_io)}
    groups = {group for _, _, group in sampler.priorities}
    assert groups == {10} if autogroups_enabled() else groups <= {None, 10}, groups


@pytest.mark.postgres
def test_cancel_storm_on_two_hosts_keeps_each_host_within_its_cap(
        postgres_url: str, tmp_path: Path, emulator: Emulator) -> None:
    storm = Storm(postgres_url, emulator, tmp_path)
    try:
        hosts = [storm.add_host(), storm.add_host()]
        sampler = storm.run()
    finally:
        storm.stop()
        empty_postgres(postgres_url)
    assert sampler.seen
    for host in hosts:
        assert sampler.peak.get(host.name, 0) <= CAP, (
            f"{sampler.peak[host.name]} live scanner.run processes at once on {host.name} (cap {CAP}); "
            f"peaks {sampler.peak}")
