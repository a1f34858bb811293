"""The supervisor: one per host, it keeps every supervised run honest (scans and CVE
re-enrichments alike; :mod:`supervisor.kinds` says how they differ, nothing here does).

Each tick (a quarter second) it looks at the runs of this host and:

- fails a run whose process died without reporting, naming the exit code or signal (read from
  the monitor's ``exit_status.json``) or saying the process vanished;
- kills the process group of a run that stopped heart-beating, and fails it;
- fails a run over ``OPENSHIELD_SCAN_TIMEOUT_SECONDS`` (SIGTERM, grace, SIGKILL);
- sends SIGTERM to a run whose cancel was requested (SIGKILL after the grace period);
- gives back the launch slots of ended runs whose process has exited (:mod:`supervisor.slots`:
  a slot is held until the process is gone, whatever the row says);
- launches queued runs within the host's cap, oldest first;
- judges runs of other hosts by heartbeat age alone (it cannot see their pids), once their
  own supervisor has gone silent.

A run whose process is gone because the machine or container restarted under it (boot time or
PID 1 younger than the run) is re-queued once instead of failed. Every status change is a named
transition of the run's store, so the supervisor and a finishing process never both win.

No run can hold the loop up. Every database wait is bounded (a lock that is not granted in
time fails the write), a hung run's process group is killed *before* its failure is recorded,
a record that could not be written is retried next tick, and the supervisor's own heartbeat is
written after the runs were looked at. On SQLite, a run of this host that is stopped (SIGSTOP,
a debugger) while it holds the database's writer lock is killed at once: everyone else's
writes wait for it. While the database is unreachable the loop logs one line, backs off up to
5 s between attempts, and logs one line when it answers again.
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
from typing import IO, Any, Callable

import psutil

from store import supervisors
from store.clock import seconds_since, utcnow
from store.db import sqlite_writer_lock_holder
from store.enrichment_runs import EnrichmentStore
from store.runs import RunStore, slots_taken
from store.scans import ScanStore
from store.settings import Settings
from store.retention import RetentionPolicy
from store.status import RunStatus
from supervisor.exit_codes import describe, signal_name
from supervisor.kinds import ENRICH, SCAN, RunKind
from supervisor.launcher import Launcher
from supervisor.outage import DATABASE_ERRORS, DatabaseOutage, describe as describe_db_error, is_busy
from supervisor.processes import process_matches, restarted_since, signal_group
from supervisor.retention import Retention
from supervisor.rundir import RunDir
from supervisor.schedules import ScheduleFirer

log = logging.getLogger("supervisor")

TICK_SECONDS = 0.25
BEAT_SECONDS = 1.0
KILL_GRACE_SECONDS = 5.0
# how long a dead pid may wait for its exit status once its monitor is gone too (the monitor
# writes the file, then exits); while the monitor lives the wait lasts as long as it does, up to
# the heartbeat timeout (a monitor stuck for that long will never write it)
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
class _Unrecorded:
    """A status change the database did not take yet (a lock wait ran out): retried next tick."""

    record: Callable[[], bool]
    message: str


# A run's process stopped by a signal or a debugger (psutil's names for Linux's T and t states).
_STOPPED_STATES = (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP)


@dataclass
class Supervisor:
    settings: Settings
    watched: tuple[Watched, ...] = field(init=False)
    launcher: Launcher = field(init=False)
    retention: Retention = field(init=False)
    _signalled: dict[tuple[str, Any], _Signalled] = field(default_factory=dict)
    _dead_since: dict[tuple[str, Any], float] = field(default_factory=dict)
    _unrecorded: dict[tuple[str, Any], _Unrecorded] = field(default_factory=dict)
    _monitor_gone_at: dict[tuple[str, Any], float] = field(default_factory=dict)
    # a write of this tick found the database busy: later writes of the tick wait for the next one
    _busy_this_tick: bool = False
    _lock_holder: int | None = None
    _last_beat: float = 0.0
    _lock_file: IO[str] | None = None
    _started_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        url = self.settings.database_url
        self.watched = (Watched(SCAN, ScanStore(url)), Watched(ENRICH, EnrichmentStore(url)))
        self.launcher = Launcher(self.settings)
        # retention (OPENSHIELD_RETENTION_*): old scans pruned in bounded passes, once a minute
        self.retention = Retention(url, self.settings.data_dir, RetentionPolicy.from_env())
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
        outage = DatabaseOutage(log)
        while not stop.is_set():
            started = time.monotonic()
            pause = TICK_SECONDS
            try:
                self.tick()
                outage.succeeded()
            except DATABASE_ERRORS as exc:
                if is_busy(exc):
                    log.warning("supervisor tick cut short: %s", describe_db_error(exc))
                else:
                    pause = outage.failed(exc)
            except Exception:  # noqa: BLE001 - a bug in one tick must not end supervision
                log.exception("supervisor tick failed")
            stop.wait(max(0.0, pause - (time.monotonic() - started)))
        log.info("supervisor stopping")

    def tick(self) -> None:
        # Reads first (they never wait for a lock), then kills, then writes: a run frozen while
        # it holds a lock must be killed before anything here waits for that lock.
        self._busy_this_tick = False
        self._lock_holder = sqlite_writer_lock_holder(self.settings.database_url)
        live: set[str] | None = None
        for watched in self.watched:
            local = watched.store.active_on_host(self.host)
            for run in local:
                self._guarded(self._check_local, watched, run)
            active = {watched.key(run) for run in local}
            self._finish_kills(watched, active)
            for ident in [i for i in self._unrecorded if i[0] == watched.kind.name and i[1] not in active]:
                del self._unrecorded[ident]  # settled by someone else meanwhile
            remote = watched.store.active_elsewhere(self.host)
            if remote and live is None:
                live = supervisors.live_hosts(self.settings.database_url)
            for run in remote:
                if run.host not in (live or set()):  # a live host's supervisor judges (and kills) its own
                    self._guarded(self._check_remote, watched, run)
        self._beat()
        if not self._busy_this_tick:
            self.schedules.tick()
            self.launcher.release_exited()
            self._launch_queued()
            self.retention.maybe_run()

    def _beat(self) -> None:
        """Say this supervisor is alive, even when a write of this tick found the database busy."""
        now = time.monotonic()
        if now - self._last_beat < BEAT_SECONDS:
            return
        try:
            supervisors.beat(self.settings.database_url, host=self.host, pid=os.getpid(), started_at=self._started_at)
            self._last_beat = now
        except DATABASE_ERRORS as exc:
            if not is_busy(exc):
                raise
            self._busy_this_tick = True
            log.warning("supervisor heartbeat not written (%s); trying again next tick", describe_db_error(exc))

    def _guarded(self, check: Callable[[Watched, Any], None], watched: Watched, run: Any) -> None:
        """One run's check; a lock wait that runs out there does not hold up the other runs."""
        try:
            check(watched, run)
        except DATABASE_ERRORS as exc:
            if not is_busy(exc):
                raise
            self._busy_this_tick = True
            log.warning("%s %s: database busy (%s); looking again next tick", watched.kind.noun, watched.key(run),
                        describe_db_error(exc))

    def _record(self, watched: Watched, run: Any, record: Callable[[], bool], message: str) -> None:
        """Write a status change now, or (the database busy) remember it for the next tick."""
        ident = (watched.kind.name, watched.key(run))
        self._unrecorded[ident] = _Unrecorded(record, message)
        if self._busy_this_tick:
            return  # a write already waited its full bound this tick
        try:
            won = record()
        except DATABASE_ERRORS as exc:
            if not is_busy(exc):
                raise
            self._busy_this_tick = True
            log.warning("%s %s: %s; not recorded yet (%s), retrying next tick", watched.kind.noun, ident[1],
                        message, describe_db_error(exc))
            return
        del self._unrecorded[ident]
        if won:
            log.warning("%s %s: %s", watched.kind.noun, ident[1], message)

    # ------------------------------------------------------------- local runs
    def _check_local(self, watched: Watched, run: Any) -> None:
        if run.status == RunStatus.PENDING:
            self._check_pending(watched, run)
            return
        ident = (watched.kind.name, watched.key(run))
        pending = self._unrecorded.get(ident)
        if pending is not None:
            # the process was signalled already; only its record is missing
            if process_matches(run.pid, run.process_create_time):
                self._escalate(watched, run)
            self._record(watched, run, pending.record, pending.message)
            if ident not in self._unrecorded:
                self._dead_since.pop(ident, None)
                self._monitor_gone_at.pop(ident, None)
            return
        if not process_matches(run.pid, run.process_create_time):
            self._settle_dead(watched, run)
            return
        self._dead_since.pop(ident, None)
        key = watched.key(run)
        if run.pid == self._lock_holder and _stopped(run.pid):
            # Everyone's writes queue behind it, the supervisor's too: no waiting for the heartbeat.
            message = "stopped (SIGSTOP or a debugger) while holding the database write lock; process group killed"
            self._send(watched, run, signal.SIGKILL, "stopped holding the write lock")
            self._record(watched, run, lambda: watched.store.fail_running(key, message, exit_code=-signal.SIGKILL),
                         message)
            return
        if self._escalate(watched, run):
            return
        heartbeat_age = seconds_since(run.heartbeat_at)
        runtime = seconds_since(run.started_at)
        if heartbeat_age is not None and heartbeat_age > self.settings.heartbeat_timeout_seconds:
            message = f"stopped reporting progress (no heartbeat for {int(heartbeat_age)} s); process group killed"
            # Kill first: a run frozen inside a write holds the very lock the record needs.
            self._send(watched, run, signal.SIGKILL, "hung")
            self._record(watched, run, lambda: watched.store.fail_running(key, message, exit_code=-signal.SIGKILL),
                         message)
        elif runtime is not None and runtime > self.settings.scan_timeout_seconds:
            message = f"timed out after {self.settings.scan_timeout_seconds} s"
            # Recorded before SIGTERM, or the run would record "cancelled by SIGTERM" first. If the
            # record has to wait for the next tick, SIGTERM goes now anyway (SIGKILL after the grace).
            self._record(watched, run, lambda: watched.store.fail_running(key, message), message)
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
            self._send(watched, run, signal.SIGKILL, sent.reason)
            if sent.reason == "cancel":
                key, message = watched.key(run), "cancelled on request (killed after ignoring SIGTERM)"
                self._record(watched, run, lambda: watched.store.cancel_running(key, message, exit_code=-signal.SIGKILL),
                             message)
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
        if status is None and not self._exit_status_overdue(ident, run_dir):
            return  # its monitor is about to write how it ended
        message, exit_code = _death_message(watched.kind, status)
        self._record(watched, run, lambda: watched.store.fail_running(key, message, exit_code=exit_code),
                     f"{message} (pid {run.pid})")
        if ident not in self._unrecorded:
            self._forget(ident)

    def _exit_status_overdue(self, ident: tuple[str, Any], run_dir: RunDir) -> bool:
        """Has a dead run's monitor had its chance to write the exit status?

        It has as long as it lives (on a busy host reaping and writing can take seconds; giving
        it one second made SIGKILLed runs "vanished"), up to the heartbeat timeout, and then
        :data:`EXIT_STATUS_GRACE_SECONDS` more once it is gone.
        """
        now = time.monotonic()
        first = self._dead_since.setdefault(ident, now)
        if now - first > self.settings.heartbeat_timeout_seconds:
            return True
        if run_dir.monitor_alive():
            self._monitor_gone_at.pop(ident, None)
            return False
        gone_at = self._monitor_gone_at.setdefault(ident, now)
        return now - gone_at >= EXIT_STATUS_GRACE_SECONDS

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
        self._monitor_gone_at.pop(ident, None)

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
                if slots_taken(self.settings.database_url, self.host) >= self.settings.max_concurrent_scans:
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


def _stopped(pid: int) -> bool:
    """Is the process stopped (SIGSTOP, SIGTSTP, a debugger), so it cannot let go of a lock?"""
    try:
        return psutil.Process(pid).status() in _STOPPED_STATES
    except psutil.Error:
        return False


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
