"""Find a scan's process on this host and stop its process group (``bin/openshield scans kill``).

An operator names a scan id or a pid. Only a live process that this host recorded as an active
scan (same pid *and* create time) is ever signalled: a pid that belongs to anything else (a
reused pid, the supervisor, gunicorn, a scan of another host) is refused, because signalling the
wrong process group is worse than doing nothing.

The signal alone decides the outcome, recorded by the usual owners: a scan that receives
SIGTERM records ``cancelled by SIGTERM`` itself; after SIGKILL the supervisor records
``failed`` (``scan process killed by SIGKILL``). Nothing here changes a scan's status.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

from api.models.scan import Scan
from api.models.scan_state import ScanStore
from supervisor.launcher import process_matches, signal_group

# How long `--force` waits after SIGTERM before SIGKILL (the supervisor's own grace period).
DEFAULT_GRACE_SECONDS = 5.0
# After SIGKILL, how long to wait for the process to disappear before reporting.
KILL_CONFIRM_SECONDS = 5.0


class KillRefused(Exception):
    """The target is not a live scan process of this host; the message says why."""


@dataclass(frozen=True)
class KillResult:
    scan_id: str
    pid: int
    signals: tuple[str, ...]  # what was sent, in order
    exited: bool  # the process was gone when we stopped looking


def find_scan_process(store: ScanStore, host: str, target: str) -> Scan:
    """The active scan of ``host`` that ``target`` (a scan id or a pid) names, or :class:`KillRefused`."""
    if target.isdigit():
        pid = int(target)
        for scan in store.active_on_host(host):
            if scan.pid == pid and process_matches(scan.pid, scan.process_create_time):
                return scan
        raise KillRefused(f"pid {pid} is not a running scan of host {host}; refusing to signal it")
    scan = store.get(target)
    if scan is None:
        raise LookupError(f"scan {target} not found")
    if scan.status not in ("pending", "running"):
        raise KillRefused(f"scan {target} is already {scan.status}")
    if scan.host != host:
        where = f"on host {scan.host}" if scan.host else "queued (no process yet)"
        raise KillRefused(f"scan {target} is {where}, not on this host ({host}); use 'scans cancel'")
    if not scan.pid or not process_matches(scan.pid, scan.process_create_time):
        raise KillRefused(f"scan {target} has no live process on this host; use 'scans cancel'")
    return scan


def kill_scan(scan: Scan, *, force: bool, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> KillResult:
    """SIGTERM the scan's process group; with ``force``, SIGKILL it if still alive after the grace period."""
    assert scan.pid is not None
    pid, created = scan.pid, scan.process_create_time
    sent = ["SIGTERM"] if signal_group(pid, signal.SIGTERM) else []
    if not force:
        return KillResult(scan.scan_id, pid, tuple(sent), exited=_gone_within(pid, created, 0.5))
    if _gone_within(pid, created, grace_seconds):
        return KillResult(scan.scan_id, pid, tuple(sent), exited=True)
    if signal_group(pid, signal.SIGKILL):
        sent.append("SIGKILL")
    return KillResult(scan.scan_id, pid, tuple(sent), exited=_gone_within(pid, created, KILL_CONFIRM_SECONDS))


def _gone_within(pid: int, create_time: float | None, seconds: float) -> bool:
    """Poll until the process is gone (or a zombie awaiting its monitor), up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while process_matches(pid, create_time):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
