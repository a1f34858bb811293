"""The supervisor's watch over CVE re-enrichment processes (``python -m scanner.enrich``).

Same rules as for scans (see :mod:`supervisor.loop`), on ``enrichment_runs`` rows: a process of
this host that died without reporting is failed naming the signal or exit code from its
monitor's ``exit_status.json``; one that stopped heart-beating or ran past
``OPENSHIELD_SCAN_TIMEOUT_SECONDS`` is killed (its whole group) and failed; a launch never
claimed within 30 s is failed; runs of other hosts are judged by heartbeat age. A re-enrichment
is never re-run automatically: the operator asks again. Every change goes through
:mod:`api.models.enrichment_state`, so a finishing process and the supervisor never both win.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import datetime
from pathlib import Path

import psutil

from api.models.base import utcnow
from api.models.enrichment import EnrichmentRun
from api.models.enrichment_state import EnrichmentStore
from api.settings import Settings
from supervisor.launcher import process_matches, signal_group, signal_name
from supervisor.monitor import read_exit_status, run_dir_in

log = logging.getLogger("supervisor")

EXIT_STATUS_GRACE_SECONDS = 1.0
LAUNCH_TIMEOUT_SECONDS = 30.0


class EnrichmentWatch:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = EnrichmentStore(settings.database_url)
        self._dead_since: dict[int, float] = {}

    def tick(self) -> None:
        for run in self.store.active_on_host(self.settings.host_id):
            if run.status == "pending":
                self._check_pending(run)
            else:
                self._check_running(run)
        for run in self.store.active_elsewhere(self.settings.host_id):
            self._check_remote(run)

    def _run_dir(self, run: EnrichmentRun) -> Path:
        return run_dir_in(self.settings.data_dir, run.scan_id, "enrich")

    def _check_pending(self, run: EnrichmentRun) -> None:
        status = read_exit_status(self._run_dir(run))
        if status is not None:
            code = status.get("returncode")
            self._fail(run, f"enrichment process exited with code {code} before starting; see enrich.log",
                       code if isinstance(code, int) else None, ("pending",))
            return
        waited = _age(run.launched_at)
        if waited is not None and waited > LAUNCH_TIMEOUT_SECONDS:
            self._fail(run, f"enrichment process did not start within {int(LAUNCH_TIMEOUT_SECONDS)} s", None,
                       ("pending",))

    def _check_running(self, run: EnrichmentRun) -> None:
        if not process_matches(run.pid, run.process_create_time):
            self._settle_dead(run)
            return
        self._dead_since.pop(run.id, None)
        heartbeat_age = _age(run.heartbeat_at)
        runtime = _age(run.started_at)
        if heartbeat_age is not None and heartbeat_age > self.settings.heartbeat_timeout_seconds:
            message = f"enrichment stopped reporting progress (no heartbeat for {int(heartbeat_age)} s); process group killed"
        elif runtime is not None and runtime > self.settings.scan_timeout_seconds:
            message = f"enrichment timed out after {self.settings.scan_timeout_seconds} s; process group killed"
        else:
            return
        self._fail(run, message, -signal.SIGKILL, ("running",))
        if run.pid:
            signal_group(run.pid, signal.SIGKILL)

    def _settle_dead(self, run: EnrichmentRun) -> None:
        run_dir = self._run_dir(run)
        status = read_exit_status(run_dir)
        if status is not None and status.get("pid") != run.pid:
            status = None  # an earlier run's file
        if status is None:
            first = self._dead_since.setdefault(run.id, time.monotonic())
            if time.monotonic() - first < EXIT_STATUS_GRACE_SECONDS and _monitor_alive(run_dir):
                return  # its monitor is about to write how it ended
        code = status.get("returncode") if status is not None else None
        if status is None:
            message, exit_code = "enrichment process vanished without reporting (exit status unknown)", None
        elif isinstance(code, int) and code < 0:
            message, exit_code = f"enrichment process killed by {signal_name(-code)}", code
        else:
            message = f"enrichment process exited with code {code} without reporting; see enrich.log"
            exit_code = code if isinstance(code, int) else None
        self._fail(run, message, exit_code, ("running",))
        self._dead_since.pop(run.id, None)

    def _check_remote(self, run: EnrichmentRun) -> None:
        timeout = self.settings.heartbeat_timeout_seconds
        if run.status == "running":
            age = _age(run.heartbeat_at)
            if age is not None and age > timeout:
                self._fail(run, f"host {run.host} stopped reporting (no heartbeat for {int(age)} s)", None, ("running",))
        else:
            age = _age(run.launched_at)
            if age is not None and age > max(timeout, LAUNCH_TIMEOUT_SECONDS):
                self._fail(run, f"host {run.host} never started the enrichment", None, ("pending",))

    def _fail(self, run: EnrichmentRun, message: str, exit_code: int | None, from_statuses: tuple[str, ...]) -> None:
        if self.store.fail(run.id, message, exit_code=exit_code, from_statuses=from_statuses):
            log.warning("enrichment %s of scan %s (pid %s): %s", run.id, run.scan_id, run.pid, message)


def _monitor_alive(run_dir: Path) -> bool:
    try:
        pid = int((run_dir / "monitor.pid").read_text().strip())
    except (OSError, ValueError):
        return False
    return psutil.pid_exists(pid)


def _age(moment: datetime | None) -> float | None:
    return None if moment is None else (utcnow() - moment).total_seconds()
