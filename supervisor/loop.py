"""The supervisor: one per host, it keeps every scan honest.

Each tick (a quarter second) it looks at the scans of this host and:

- fails a scan whose process died without reporting, naming the exit code or signal (read from
  the monitor's ``exit_status.json``) or saying the process vanished;
- kills the process group of a scan that stopped heart-beating, and fails it;
- fails a scan over ``OPENSHIELD_SCAN_TIMEOUT_SECONDS`` (SIGTERM, grace, SIGKILL);
- sends SIGTERM to a scan whose cancel was requested (SIGKILL after the grace period);
- launches queued scans within the host's cap, oldest first;
- judges scans of other hosts by heartbeat age alone (it cannot see their pids);
- watches CVE re-enrichment processes the same way (:mod:`supervisor.enrichment_watch`).

A scan whose process is gone because the machine or container restarted under it (boot time or
PID 1 younger than the scan) is re-queued once instead of failed. Every status change goes
through :mod:`api.models.scan_state`, so the supervisor and a finishing scan never both win.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import psutil
from sqlalchemy.dialects import postgresql, sqlite

from api.models.base import utcnow
from api.models.db import session_scope
from api.models.scan import Scan
from api.models.scan_state import ScanStore
from api.models.supervisor_beat import SupervisorBeat, live_hosts
from api.settings import Settings
from supervisor.enrichment_watch import EnrichmentWatch
from supervisor.launcher import Launcher, process_matches, signal_group, signal_name
from supervisor.monitor import read_exit_status

log = logging.getLogger("supervisor")

TICK_SECONDS = 0.25
BEAT_SECONDS = 1.0
KILL_GRACE_SECONDS = 5.0
# how long a dead pid may wait for its monitor to write the exit status
EXIT_STATUS_GRACE_SECONDS = 1.0
# how long a reserved launch may take to claim its record
LAUNCH_TIMEOUT_SECONDS = 30.0


class AlreadyRunning(Exception):
    """Another supervisor holds this host's lock."""


@dataclass
class _Signalled:
    sig: int
    at: float
    reason: str
    pid: int | None = None
    create_time: float | None = None


@dataclass
class Supervisor:
    settings: Settings
    store: ScanStore = field(init=False)
    launcher: Launcher = field(init=False)
    enrichments: EnrichmentWatch = field(init=False)
    _signalled: dict[str, _Signalled] = field(default_factory=dict)
    _dead_since: dict[str, float] = field(default_factory=dict)
    _last_beat: float = 0.0
    _lock_file: IO[str] | None = None
    _started_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        self.store = ScanStore(self.settings.database_url)
        self.launcher = Launcher(self.settings)
        self.enrichments = EnrichmentWatch(self.settings)

    # ------------------------------------------------------------------ running
    def acquire_lock(self) -> None:
        """One supervisor per host and data directory (a second one exits at once)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.settings.data_dir / f"supervisor-{_safe(self.settings.host_id)}.lock"
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunning(f"another supervisor already runs for host {self.settings.host_id} ({path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    def run_forever(self, stop: "StopFlag") -> None:
        log.info("supervisor started: host %s, pid %s, cap %s, scan timeout %ss, heartbeat timeout %ss",
                 self.settings.host_id, os.getpid(), self.settings.max_concurrent_scans,
                 self.settings.scan_timeout_seconds, self.settings.heartbeat_timeout_seconds)
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a database blip must not end supervision
                log.exception("supervisor tick failed")
            stop.wait(max(0.0, TICK_SECONDS - (time.monotonic() - started)))
        log.info("supervisor stopping")

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._last_beat >= BEAT_SECONDS:
            self._beat()
            self._last_beat = now
        local = self.store.active_on_host(self.settings.host_id)
        for scan in local:
            self._check_local(scan)
        self._finish_kills({scan.scan_id for scan in local})
        remote = self.store.active_elsewhere(self.settings.host_id)
        if remote:
            alive = live_hosts(self.settings.database_url)
            for scan in remote:
                if scan.host not in alive:  # a live host's supervisor judges (and can kill) its own scans
                    self._check_remote(scan)
        self._launch_queued()
        self.enrichments.tick()  # CVE re-enrichment processes (supervisor.enrichment_watch)

    # ------------------------------------------------------------- local scans
    def _check_local(self, scan: Scan) -> None:
        if scan.status == "pending":
            self._check_pending(scan)
            return
        alive = process_matches(scan.pid, scan.process_create_time)
        if not alive:
            self._settle_dead(scan)
            return
        self._dead_since.pop(scan.scan_id, None)
        runtime = _age(scan.started_at)
        heartbeat_age = _age(scan.heartbeat_at)
        if self._escalate(scan):
            return
        if heartbeat_age is not None and heartbeat_age > self.settings.heartbeat_timeout_seconds:
            message = f"stopped reporting progress (no heartbeat for {int(heartbeat_age)} s); process group killed"
            if self.store.fail(scan.scan_id, message, from_statuses=("running",)):
                log.warning("scan %s: %s", scan.scan_id, message)
            self._send(scan, signal.SIGKILL, "hung")
        elif runtime is not None and runtime > self.settings.scan_timeout_seconds:
            message = f"timed out after {self.settings.scan_timeout_seconds} s"
            if self.store.fail(scan.scan_id, message, from_statuses=("running",)):
                log.warning("scan %s: %s", scan.scan_id, message)
            self._send(scan, signal.SIGTERM, "timeout")
        elif scan.cancel_requested:
            self._send(scan, signal.SIGTERM, "cancel")

    def _escalate(self, scan: Scan) -> bool:
        """SIGKILL a group that ignored our SIGTERM for the grace period."""
        sent = self._signalled.get(scan.scan_id)
        if sent is None:
            return False
        if sent.sig == signal.SIGTERM and time.monotonic() - sent.at > KILL_GRACE_SECONDS:
            log.warning("scan %s ignored SIGTERM (%s) for %ss: SIGKILL", scan.scan_id, sent.reason, KILL_GRACE_SECONDS)
            if sent.reason == "cancel":
                self.store.cancel(scan.scan_id, "cancelled on request (killed after ignoring SIGTERM)",
                                  exit_code=-signal.SIGKILL)
            self._send(scan, signal.SIGKILL, sent.reason)
        return True

    def _send(self, scan: Scan, sig: int, reason: str) -> None:
        sent = self._signalled.get(scan.scan_id)
        if sent is not None and sent.sig == sig:
            return
        if scan.pid and process_matches(scan.pid, scan.process_create_time):
            signal_group(scan.pid, sig)
            log.info("scan %s: sent %s to process group %s (%s)", scan.scan_id, signal_name(sig), scan.pid, reason)
        self._signalled[scan.scan_id] = _Signalled(sig, time.monotonic(), reason, scan.pid, scan.process_create_time)

    def _finish_kills(self, active: set[str]) -> None:
        """Follow up signals sent to scans already recorded as failed (timeout, hung).

        Their rows are terminal, so the per-scan checks no longer see them; a process that
        ignores SIGTERM (stuck in a C call) must still get SIGKILL after the grace period.
        """
        for scan_id, sent in list(self._signalled.items()):
            if scan_id in active:
                continue
            if not process_matches(sent.pid, sent.create_time):
                del self._signalled[scan_id]
            elif sent.sig == signal.SIGTERM and time.monotonic() - sent.at > KILL_GRACE_SECONDS and sent.pid:
                log.warning("scan %s ignored SIGTERM (%s) for %ss: SIGKILL", scan_id, sent.reason, KILL_GRACE_SECONDS)
                signal_group(sent.pid, signal.SIGKILL)
                sent.sig, sent.at = signal.SIGKILL, time.monotonic()

    def _settle_dead(self, scan: Scan) -> None:
        """The running scan's process is gone: fail it (or re-queue it after a restart)."""
        run_dir = self.settings.scan_dir(scan.scan_id)
        status = read_exit_status(run_dir)
        if status is not None and status.get("pid") != scan.pid:
            status = None  # another attempt's file
        if status is None and self._restarted_since(scan.started_at):
            reason = "the machine restarted during the scan"
            if self.store.requeue(scan.scan_id, from_host=self.settings.host_id, reason=reason + "; re-queued"):
                log.warning("scan %s: %s; re-queued (attempt %s)", scan.scan_id, reason, scan.attempt + 1)
            else:
                self.store.fail(scan.scan_id, reason + " (already retried once)", from_statuses=("running",))
            self._forget(scan.scan_id)
            return
        if status is None:
            first = self._dead_since.setdefault(scan.scan_id, time.monotonic())
            if time.monotonic() - first < EXIT_STATUS_GRACE_SECONDS and self._monitor_alive(run_dir):
                return  # its monitor is about to write how it ended
        message, exit_code = _death_message(status)
        if self.store.fail(scan.scan_id, message, exit_code=exit_code, from_statuses=("running",)):
            log.warning("scan %s (pid %s): %s", scan.scan_id, scan.pid, message)
        self._forget(scan.scan_id)

    def _check_pending(self, scan: Scan) -> None:
        """A scan this host reserved a slot for, whose process has not claimed it yet."""
        if scan.cancel_requested:
            # a cancelled record can no longer be claimed, so cancelling it here is safe
            self.store.cancel(scan.scan_id, "cancelled on request", from_statuses=("pending",))
            return
        run_dir = self.settings.scan_dir(scan.scan_id)
        status = read_exit_status(run_dir)
        if status is not None:
            code = status.get("returncode")
            self.store.fail(scan.scan_id, f"scan process exited with code {code} before starting; see scan.log",
                            exit_code=code if isinstance(code, int) else None, from_statuses=("pending",))
            return
        waited = _age(scan.launched_at)
        if waited is None or waited <= LAUNCH_TIMEOUT_SECONDS:
            return
        if not (run_dir / "monitor.pid").exists():
            # the process that reserved the slot died before spawning: queue the scan again
            # (claims are conditional, so a late spawn could never run it twice)
            if self.store.release_launch(scan.scan_id, self.settings.host_id):
                log.warning("scan %s: launch never happened; re-queued", scan.scan_id)
            return
        self.store.fail(scan.scan_id, f"scan process did not start within {int(LAUNCH_TIMEOUT_SECONDS)} s",
                        from_statuses=("pending",))

    def _monitor_alive(self, run_dir: Path) -> bool:
        try:
            pid = int((run_dir / "monitor.pid").read_text().strip())
        except (OSError, ValueError):
            return False
        return psutil.pid_exists(pid)

    def _restarted_since(self, moment: datetime | None) -> bool:
        """Did the machine boot, or the container's PID 1 start, after ``moment``?"""
        if moment is None:
            return False
        started = moment.timestamp()
        try:
            pid1 = psutil.Process(1).create_time()
        except (psutil.Error, OSError):
            pid1 = 0.0
        return psutil.boot_time() > started or pid1 > started

    def _forget(self, scan_id: str) -> None:
        self._signalled.pop(scan_id, None)
        self._dead_since.pop(scan_id, None)

    # ------------------------------------------------------------ other hosts
    def _check_remote(self, scan: Scan) -> None:
        """A scan of a host whose supervisor is silent: settle it once its heartbeat is stale.

        Only the owning host can see or kill the process, so while that host's supervisor beats
        it is left alone (failing a hung scan here would leave its process running there). A
        running scan is failed; a launch that never claimed its record never ran, so it goes
        back to the queue (claims are conditional: a late process on the silent host and a new
        launch here cannot both run it).
        """
        timeout = self.settings.heartbeat_timeout_seconds
        if scan.status == "running":
            age = _age(scan.heartbeat_at)
            if age is not None and age > timeout:
                if self.store.fail(scan.scan_id, f"host {scan.host} stopped reporting (no heartbeat for {int(age)} s)",
                                   from_statuses=("running",)):
                    log.warning("scan %s: host %s stopped reporting; failed", scan.scan_id, scan.host)
        else:
            age = _age(scan.launched_at)
            if age is not None and age > timeout and scan.host is not None:
                if self.store.release_launch(scan.scan_id, scan.host):
                    log.warning("scan %s: host %s never started it; re-queued", scan.scan_id, scan.host)

    # ----------------------------------------------------------------- launches
    def _launch_queued(self) -> None:
        for scan in self.store.queued():
            result = self.launcher.launch(scan.scan_id)
            if result.queued:
                if self.store.count_active(self.settings.host_id) >= self.settings.max_concurrent_scans:
                    break  # no free slot: the rest stay queued, oldest first
                continue  # another host (or an API worker) took this one first
            if result.launched:
                log.info("launched queued scan %s", scan.scan_id)

    # ----------------------------------------------------------------- liveness
    def _beat(self) -> None:
        now = utcnow()
        values = {"host": self.settings.host_id, "pid": os.getpid(), "started_at": self._started_at, "last_seen": now}
        with session_scope(self.settings.database_url) as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            stmt = insert(SupervisorBeat).values(**values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[SupervisorBeat.host],
                set_={"pid": values["pid"], "started_at": values["started_at"], "last_seen": now},
            )
            session.execute(stmt)


class StopFlag:
    """Set by SIGTERM/SIGINT; the loop finishes its tick and exits."""

    def __init__(self) -> None:
        import threading

        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> None:
        self._event.wait(seconds)


def _death_message(status: dict[str, object] | None) -> tuple[str, int | None]:
    if status is None:
        return "scan process vanished without reporting (exit status unknown)", None
    code = status.get("returncode")
    if isinstance(code, int) and code < 0:
        return f"scan process killed by {signal_name(-code)}", code
    return f"scan process exited with code {code} without reporting; see scan.log", code if isinstance(code, int) else None


def _age(moment: datetime | None) -> float | None:
    return None if moment is None else (utcnow() - moment).total_seconds()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
