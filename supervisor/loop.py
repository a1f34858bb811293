"""The supervisor: one per host, it keeps every supervised run honest (scans and CVE
re-enrichments alike; :mod:`supervisor.kinds` says how they differ, nothing here does).

Each tick (a quarter second) it looks at the runs of this host and:

- fails a run whose process died without reporting, naming the exit code or signal (read from
  the monitor's ``exit_status.json``) or saying the process vanished;
- kills the process group of a run that stopped heart-beating, and fails it;
- fails a run over ``OPENSHIELD_SCAN_TIMEOUT_SECONDS`` (SIGTERM, grace, SIGKILL);
- sends SIGTERM to a run whose cancel was requested (SIGKILL after the grace period);
- launches queued runs within the host's cap, oldest first;
- judges runs of other hosts by heartbeat age alone (it cannot see their pids), once their
  own supervisor has gone silent.

A run whose process is gone because the machine or container restarted under it (boot time or
PID 1 younger than the run) is re-queued once instead of failed. Every status change is a named
transition of the run's store, so the supervisor and a finishing process never both win.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from store import supervisors
from store.clock import seconds_since, utcnow
from store.enrichment_runs import EnrichmentStore
from store.runs import RunStore, active_runs_on_host
from store.scans import ScanStore
from store.settings import Settings
from store.status import RunStatus
from supervisor.exit_codes import describe, signal_name
from supervisor.kinds import ENRICH, SCAN, RunKind
from supervisor.launcher import Launcher
from supervisor.processes import process_matches, restarted_since, signal_group
from supervisor.rundir import RunDir
from supervisor.schedules import ScheduleFirer

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


@dataclass(frozen=True)
class Watched:
    """One kind of run and the store that holds its rows."""

    kind: RunKind
    store: RunStore[Any]

    def key(self, run: Any) -> Any:
        return getattr(run, self.store.key_name)

    def run_dir(self, settings: Settings, run: Any) -> RunDir:
        return RunDir(settings.data_dir, run.scan_id, self.kind)


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
    watched: tuple[Watched, ...] = field(init=False)
    launcher: Launcher = field(init=False)
    _signalled: dict[tuple[str, Any], _Signalled] = field(default_factory=dict)
    _dead_since: dict[tuple[str, Any], float] = field(default_factory=dict)
    _last_beat: float = 0.0
    _lock_file: IO[str] | None = None
    _started_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        url = self.settings.database_url
        self.watched = (Watched(SCAN, ScanStore(url)), Watched(ENRICH, EnrichmentStore(url)))
        self.launcher = Launcher(self.settings)
        self.schedules = ScheduleFirer(self.settings)  # due schedules, fired once across hosts

    @property
    def host(self) -> str:
        return self.settings.host_id

    # ------------------------------------------------------------------ running
    def acquire_lock(self) -> None:
        """One supervisor per host and data directory (a second one exits at once)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.settings.data_dir / f"supervisor-{_safe(self.host)}.lock"
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunning(f"another supervisor already runs for host {self.host} ({path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    def run_forever(self, stop: "StopFlag") -> None:
        log.info("supervisor started: host %s, pid %s, cap %s, run timeout %ss, heartbeat timeout %ss",
                 self.host, os.getpid(), self.settings.max_concurrent_scans,
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
            supervisors.beat(self.settings.database_url, host=self.host, pid=os.getpid(), started_at=self._started_at)
            self._last_beat = now
        live: set[str] | None = None
        for watched in self.watched:
            local = watched.store.active_on_host(self.host)
            for run in local:
                self._check_local(watched, run)
            self._finish_kills(watched, {watched.key(run) for run in local})
            remote = watched.store.active_elsewhere(self.host)
            if remote and live is None:
                live = supervisors.live_hosts(self.settings.database_url)
            for run in remote:
                if run.host not in (live or set()):  # a live host's supervisor judges (and kills) its own
                    self._check_remote(watched, run)
        self.schedules.tick()
        self._launch_queued()

    # ------------------------------------------------------------- local runs
    def _check_local(self, watched: Watched, run: Any) -> None:
        if run.status == RunStatus.PENDING:
            self._check_pending(watched, run)
            return
        ident = (watched.kind.name, watched.key(run))
        if not process_matches(run.pid, run.process_create_time):
            self._settle_dead(watched, run)
            return
        self._dead_since.pop(ident, None)
        if self._escalate(watched, run):
            return
        heartbeat_age = seconds_since(run.heartbeat_at)
        runtime = seconds_since(run.started_at)
        key = watched.key(run)
        if heartbeat_age is not None and heartbeat_age > self.settings.heartbeat_timeout_seconds:
            message = f"stopped reporting progress (no heartbeat for {int(heartbeat_age)} s); process group killed"
            if watched.store.fail_running(key, message, exit_code=-signal.SIGKILL):
                log.warning("%s %s: %s", watched.kind.noun, key, message)
            self._send(watched, run, signal.SIGKILL, "hung")
        elif runtime is not None and runtime > self.settings.scan_timeout_seconds:
            message = f"timed out after {self.settings.scan_timeout_seconds} s"
            if watched.store.fail_running(key, message):
                log.warning("%s %s: %s", watched.kind.noun, key, message)
            self._send(watched, run, signal.SIGTERM, "timeout")
        elif run.cancel_requested:
            self._send(watched, run, signal.SIGTERM, "cancel")

    def _escalate(self, watched: Watched, run: Any) -> bool:
        """SIGKILL a group that ignored our SIGTERM for the grace period."""
        sent = self._signalled.get((watched.kind.name, watched.key(run)))
        if sent is None:
            return False
        if sent.sig == signal.SIGTERM and time.monotonic() - sent.at > KILL_GRACE_SECONDS:
            log.warning("%s %s ignored SIGTERM (%s) for %ss: SIGKILL", watched.kind.noun, watched.key(run),
                        sent.reason, KILL_GRACE_SECONDS)
            if sent.reason == "cancel":
                watched.store.cancel_running(watched.key(run), "cancelled on request (killed after ignoring SIGTERM)",
                                             exit_code=-signal.SIGKILL)
            self._send(watched, run, signal.SIGKILL, sent.reason)
        return True

    def _send(self, watched: Watched, run: Any, sig: int, reason: str) -> None:
        ident = (watched.kind.name, watched.key(run))
        sent = self._signalled.get(ident)
        if sent is not None and sent.sig == sig:
            return
        if run.pid and process_matches(run.pid, run.process_create_time):
            signal_group(run.pid, sig)
            log.info("%s %s: sent %s to process group %s (%s)", watched.kind.noun, ident[1], signal_name(sig),
                     run.pid, reason)
        self._signalled[ident] = _Signalled(sig, time.monotonic(), reason, run.pid, run.process_create_time)

    def _finish_kills(self, watched: Watched, active: set[Any]) -> None:
        """Follow up signals sent to runs already recorded as failed (timeout, hung).

        Their rows are terminal, so the per-run checks no longer see them; a process that
        ignores SIGTERM (stuck in a C call) must still get SIGKILL after the grace period.
        """
        for ident, sent in list(self._signalled.items()):
            if ident[0] != watched.kind.name or ident[1] in active:
                continue
            if not process_matches(sent.pid, sent.create_time):
                del self._signalled[ident]
            elif sent.sig == signal.SIGTERM and time.monotonic() - sent.at > KILL_GRACE_SECONDS and sent.pid:
                log.warning("%s %s ignored SIGTERM (%s) for %ss: SIGKILL", watched.kind.noun, ident[1], sent.reason,
                            KILL_GRACE_SECONDS)
                signal_group(sent.pid, signal.SIGKILL)
                sent.sig, sent.at = signal.SIGKILL, time.monotonic()

    def _settle_dead(self, watched: Watched, run: Any) -> None:
        """The running run's process is gone: fail it (or re-queue it after a restart)."""
        key, noun = watched.key(run), watched.kind.noun
        ident = (watched.kind.name, key)
        run_dir = watched.run_dir(self.settings, run)
        status = run_dir.read_exit_status(pid=run.pid)
        if status is None and restarted_since(run.started_at):
            reason = "the machine restarted during the run"
            if watched.store.requeue(key, from_host=self.host, reason=reason + "; re-queued"):
                log.warning("%s %s: %s; re-queued (attempt %s)", noun, key, reason, run.attempt + 1)
            else:
                watched.store.fail_running(key, reason + " (already retried once)")
            self._forget(ident)
            return
        if status is None:
            first = self._dead_since.setdefault(ident, time.monotonic())
            if time.monotonic() - first < EXIT_STATUS_GRACE_SECONDS and run_dir.monitor_alive():
                return  # its monitor is about to write how it ended
        message, exit_code = _death_message(watched.kind, status)
        if watched.store.fail_running(key, message, exit_code=exit_code):
            log.warning("%s %s (pid %s): %s", noun, key, run.pid, message)
        self._forget(ident)

    def _check_pending(self, watched: Watched, run: Any) -> None:
        """A run this host reserved a slot for, whose process has not claimed it yet."""
        key, kind = watched.key(run), watched.kind
        if run.cancel_requested:
            # a cancelled record can no longer be claimed, so cancelling it here is safe
            watched.store.cancel_queued(key)
            return
        run_dir = watched.run_dir(self.settings, run)
        status = run_dir.read_exit_status()
        if status is not None:
            code = status.get("returncode")
            watched.store.fail_unstarted(
                key, f"{kind.noun} process {describe(code) if isinstance(code, int) else 'ended'} before starting; "
                     f"see {kind.log_name}",
                exit_code=code if isinstance(code, int) else None)
            return
        waited = seconds_since(run.launched_at)
        if waited is None or waited <= LAUNCH_TIMEOUT_SECONDS:
            return
        if not run_dir.has_monitor():
            # the process that reserved the slot died before spawning: queue the run again
            # (claims are conditional, so a late spawn could never run it twice)
            if watched.store.release_launch(key, self.host):
                log.warning("%s %s: launch never happened; re-queued", kind.noun, key)
            return
        watched.store.fail_unstarted(key, f"{kind.noun} process did not start within {int(LAUNCH_TIMEOUT_SECONDS)} s")

    def _forget(self, ident: tuple[str, Any]) -> None:
        self._signalled.pop(ident, None)
        self._dead_since.pop(ident, None)

    # ------------------------------------------------------------ other hosts
    def _check_remote(self, watched: Watched, run: Any) -> None:
        """A run of a host whose supervisor is silent: settle it once its heartbeat is stale.

        Only the owning host can see or kill the process, so while that host's supervisor beats
        it is left alone (failing a hung run here would leave its process running there). A
        running run is failed; a launch that never claimed its record never ran, so it goes
        back to the queue (claims are conditional: a late process on the silent host and a new
        launch here cannot both run it).
        """
        timeout = self.settings.heartbeat_timeout_seconds
        key = watched.key(run)
        if run.status == RunStatus.RUNNING:
            age = seconds_since(run.heartbeat_at)
            if age is not None and age > timeout:
                if watched.store.fail_running(key, f"host {run.host} stopped reporting (no heartbeat for {int(age)} s)"):
                    log.warning("%s %s: host %s stopped reporting; failed", watched.kind.noun, key, run.host)
        else:
            age = seconds_since(run.launched_at)
            if age is not None and age > timeout and run.host is not None:
                if watched.store.release_launch(key, run.host):
                    log.warning("%s %s: host %s never started it; re-queued", watched.kind.noun, key, run.host)

    # ----------------------------------------------------------------- launches
    def _launch_queued(self) -> None:
        """Queued runs of every kind, scans first, each oldest first, while this host has slots."""
        for watched in self.watched:
            for run in watched.store.queued():
                result = self.launcher.launch_run(watched.kind, watched.key(run), run.scan_id)
                if result.launched:
                    log.info("launched queued %s %s", watched.kind.noun, watched.key(run))
                    continue
                if active_runs_on_host(self.settings.database_url, self.host) >= self.settings.max_concurrent_scans:
                    return  # no free slot: the rest stay queued, oldest first
                # another host (or an API worker) took this one first


class StopFlag:
    """Set by SIGTERM/SIGINT; the loop finishes its tick and exits."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> None:
        self._event.wait(seconds)


def _death_message(kind: RunKind, status: dict[str, Any] | None) -> tuple[str, int | None]:
    if status is None:
        return f"{kind.noun} process vanished without reporting (exit status unknown)", None
    code = status.get("returncode")
    if isinstance(code, int) and code < 0:
        return f"{kind.noun} process {describe(code)}", code
    return (f"{kind.noun} process exited with code {code} without reporting; see {kind.log_name}",
            code if isinstance(code, int) else None)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
