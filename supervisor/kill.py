"""Find a supervised run's process on this host and stop its process group
(``bin/openshield scans kill``, and ``bin/demo --stop`` through ``scans kill --all``).

An operator names a scan id or a pid. Only a live process that this host recorded as an active
run (same pid *and* create time) is ever signalled: a pid that belongs to anything else (a
reused pid, the supervisor, gunicorn, a run of another host) is refused, because signalling the
wrong process group is worse than doing nothing. A scan id names the scan's own process, or,
for a completed scan, its running CVE re-enrichment.

The signal alone decides the outcome, recorded by the usual owners: a run that receives
SIGTERM records ``cancelled by SIGTERM`` itself; after SIGKILL the supervisor records
``failed`` (``… process killed by SIGKILL``). Nothing here changes a run's status.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from typing import Any

from store.enrichment_runs import EnrichmentStore
from store.scans import ScanStore
from store.settings import Settings
from store.status import ACTIVE
from supervisor.exit_codes import signal_name
from supervisor.kinds import ENRICH, SCAN, RunKind
from supervisor.processes import process_matches, signal_group
from supervisor.rundir import RunDir

# How long `--force` waits after SIGTERM before SIGKILL (the supervisor's own grace period).
DEFAULT_GRACE_SECONDS = 5.0
# After SIGKILL, how long to wait for the process to disappear before reporting.
KILL_CONFIRM_SECONDS = 5.0


class KillRefused(Exception):
    """The target is not a live run process of this host; the message says why."""


@dataclass(frozen=True)
class LiveRun:
    """An active run of this host whose recorded process is alive."""

    kind: RunKind
    scan_id: str
    pid: int
    create_time: float | None
    status: str

    def alive(self) -> bool:
        return process_matches(self.pid, self.create_time)


@dataclass(frozen=True)
class KillResult:
    kind: str
    scan_id: str
    pid: int
    signals: tuple[str, ...]  # what was sent, in order
    exited: bool  # the process was gone when we stopped looking


def _runs_of_host(url: str, host: str) -> list[tuple[RunKind, Any]]:
    """Runs of ``host`` that may have a process: active, or ended with their launch slot still
    held (a run failed or cancelled while its process was starting or exiting is still one)."""
    return [(SCAN, r) for r in ScanStore(url).maybe_alive_on_host(host)] + \
           [(ENRICH, r) for r in EnrichmentStore(url).maybe_alive_on_host(host)]


def live_runs(url: str, host: str) -> list[LiveRun]:
    """Every active run of ``host`` whose recorded process is alive (scans and enrichments)."""
    found = []
    for kind, run in _runs_of_host(url, host):
        if run.pid and process_matches(run.pid, run.process_create_time):
            found.append(LiveRun(kind, run.scan_id, run.pid, run.process_create_time, run.status))
    return found


def find_run_process(url: str, host: str, target: str) -> LiveRun:
    """The live run of ``host`` that ``target`` (a scan id or a pid) names, or :class:`KillRefused`."""
    if target.isdigit():
        pid = int(target)
        for run in live_runs(url, host):
            if run.pid == pid:
                return run
        raise KillRefused(f"pid {pid} is not a running scan or enrichment of host {host}; refusing to signal it")
    scan = ScanStore(url).get(target)
    if scan is None:
        raise LookupError(f"scan {target} not found")
    candidates: list[tuple[RunKind, Any]] = [(SCAN, scan)] if scan.status in ACTIVE else []
    candidates += [(ENRICH, r) for r in EnrichmentStore(url).runs_for_scan(target) if r.status in ACTIVE]
    if not candidates:
        raise KillRefused(f"scan {target} is already {scan.status}")
    kind, run = candidates[0]
    what = f"scan {target}" if kind is SCAN else f"the enrichment of scan {target}"
    if run.host != host:
        where = f"on host {run.host}" if run.host else "queued (no process yet)"
        raise KillRefused(f"{what} is {where}, not on this host ({host}); use 'scans cancel'")
    if not run.pid or not process_matches(run.pid, run.process_create_time):
        raise KillRefused(f"{what} has no live process on this host; use 'scans cancel'")
    return LiveRun(kind, run.scan_id, run.pid, run.process_create_time, run.status)


def kill_run(run: LiveRun, *, force: bool, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> KillResult:
    """SIGTERM the run's process group; with ``force``, SIGKILL it if still alive after the grace period."""
    sent = [signal_name(signal.SIGTERM)] if signal_group(run.pid, signal.SIGTERM) else []
    if not force:
        return _result(run, sent, _gone_within([run], 0.5))
    if _gone_within([run], grace_seconds):
        return _result(run, sent, True)
    if signal_group(run.pid, signal.SIGKILL):
        sent.append(signal_name(signal.SIGKILL))
    return _result(run, sent, _gone_within([run], KILL_CONFIRM_SECONDS))


def starting_runs(settings: Settings) -> list[LiveRun]:
    """Processes of runs this host launched that have not claimed their record (yet, or ever: a
    run failed as "did not start" while its process was still importing).

    Their pid is not in the database, but their monitor (whose pid is in the run directory)
    is their parent: its children are they.
    """
    import psutil

    found = []
    for kind, run in _runs_of_host(settings.database_url, settings.host_id):
        if run.pid is not None:
            continue  # claimed: its process is the recorded pid (live_runs)
        run_dir = RunDir(settings.data_dir, run.scan_id, kind)
        monitor = run_dir.read_monitor_pid()
        if monitor is None or not run_dir.monitor_alive():
            continue
        try:
            children = psutil.Process(monitor).children()
        except psutil.Error:
            continue
        for child in children:
            try:
                found.append(LiveRun(kind, run.scan_id, child.pid, child.create_time(), run.status))
            except psutil.Error:
                continue
    return found


def kill_all(settings: Settings, *, force: bool, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> list[KillResult]:
    """SIGTERM every live run of this host at once (claimed or still starting), then (``force``)
    SIGKILL what outlives the grace period."""
    found = live_runs(settings.database_url, settings.host_id) + starting_runs(settings)
    runs = list({run.pid: run for run in found}.values())
    sent: dict[int, list[str]] = {run.pid: [] for run in runs}
    for run in runs:
        if signal_group(run.pid, signal.SIGTERM):
            sent[run.pid].append(signal_name(signal.SIGTERM))
    _gone_within(runs, grace_seconds if force else 0.5)
    if force:
        for run in runs:
            if run.alive() and signal_group(run.pid, signal.SIGKILL):
                sent[run.pid].append(signal_name(signal.SIGKILL))
        _gone_within(runs, KILL_CONFIRM_SECONDS)
    return [_result(run, sent[run.pid], not run.alive()) for run in runs]


def _result(run: LiveRun, sent: list[str], exited: bool) -> KillResult:
    return KillResult(run.kind.name, run.scan_id, run.pid, tuple(sent), exited)


def _gone_within(runs: list[LiveRun], seconds: float) -> bool:
    """Poll until every process is gone (or a zombie awaiting its monitor), up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while any(run.alive() for run in runs):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
