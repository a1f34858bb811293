"""Start scans as detached processes and signal their process groups.

``launch(scan_id)`` takes one of this host's launch slots (``OPENSHIELD_MAX_CONCURRENT_SCANS``)
through the state module, then spawns ``python -m supervisor.monitor <scan_id>`` from a
background thread; the monitor detaches and becomes the parent of ``python -m scanner.run
<scan_id>`` (see ``supervisor.monitor`` for why). The call returns in about a millisecond: it
never waits for the process to start. The scan process records its own pid, host and create
time when it claims the record.

With no free slot the scan stays ``pending`` (phase ``queued``) and the supervisor launches it
when a slot frees, oldest first.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import psutil

from api.models.scan_state import ScanStore
from api.settings import Settings
from supervisor.monitor import EXIT_STATUS_FILE, KINDS, run_dir_in

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LaunchResult:
    launched: bool  # a slot was taken and the process is being started
    queued: bool  # no free slot: the supervisor starts it later


class Launcher:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.store = ScanStore(self.settings.database_url)

    def launch(self, scan_id: str) -> LaunchResult:
        """Start the scan now if this host has a free slot; otherwise leave it queued."""
        host = self.settings.host_id
        if not self.store.reserve_launch(scan_id, host=host, cap=self.settings.max_concurrent_scans):
            return LaunchResult(launched=False, queued=True)
        # fork + exec of the monitor costs ~5 ms of waiting; a web request should not pay it.
        # Not a daemon thread: a worker shutting down waits for its spawns to finish.
        threading.Thread(target=self._spawn_or_fail, args=(scan_id,), name=f"spawn-{scan_id[:8]}").start()
        return LaunchResult(launched=True, queued=False)

    def launch_enrichment(self, scan_id: str, run_id: int) -> None:
        """Start ``python -m scanner.enrich <scan_id>`` (under its monitor) for a recorded run.

        The run row was created by :meth:`api.models.enrichment_state.EnrichmentStore.start_run`
        with this host; the process claims it. Returns at once, like :meth:`launch`.
        """
        threading.Thread(target=self._spawn_enrichment_or_fail, args=(scan_id, run_id),
                         name=f"enrich-{scan_id[:8]}").start()

    def _spawn_enrichment_or_fail(self, scan_id: str, run_id: int) -> None:
        from api.models.enrichment_state import EnrichmentStore

        try:
            proc = self._spawn(scan_id, "enrich")
        except OSError as exc:
            log.exception("could not start the monitor for the enrichment of scan %s", scan_id)
            EnrichmentStore(self.settings.database_url).fail(
                run_id, f"could not start enrichment process: {exc.strerror or exc}", from_statuses=("pending",))
            return
        proc.wait()

    def _spawn_or_fail(self, scan_id: str) -> None:
        try:
            proc = self._spawn(scan_id)
        except OSError as exc:
            log.exception("could not start the monitor for scan %s", scan_id)
            self.store.fail(scan_id, f"could not start scan process: {exc.strerror or exc}", from_statuses=("pending",))
            return
        # The monitor's first process exits as soon as it has forked; reap it so it never
        # lingers as a zombie under this (web worker) process.
        proc.wait()

    def _spawn(self, scan_id: str, kind: str = "scan") -> "subprocess.Popen[bytes]":
        run_dir = run_dir_in(self.settings.data_dir, str(scan_id), kind)
        run_dir.mkdir(parents=True, exist_ok=True)
        # a previous attempt's exit status must not be read as this attempt's
        (run_dir / EXIT_STATUS_FILE).unlink(missing_ok=True)
        env = dict(os.environ)
        env["OPENSHIELD_DATA_DIR"] = str(self.settings.data_dir)
        env["DATABASE_URL"] = self.settings.database_url
        env["OPENSHIELD_HOST_ID"] = self.settings.host_id
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        with open(run_dir / KINDS[kind].log_name, "ab") as log_file:
            return subprocess.Popen(
                [sys.executable, "-m", "supervisor.monitor", "--kind", kind, str(scan_id)],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                close_fds=True,
                cwd=str(REPO_ROOT),
                env=env,
            )


# ----------------------------------------------------------------------- process checks
def process_matches(pid: int | None, create_time: float | None) -> bool:
    """Is ``pid`` alive and still the process that was recorded (same create time)?

    A pid whose create time differs belongs to another process (the pid was reused). A zombie
    counts as dead: it has exited, only its exit status is left.
    """
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if create_time is not None and abs(proc.create_time() - create_time) > 0.05:
            return False
        return True
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def signal_group(pid: int, sig: int) -> bool:
    """Send ``sig`` to the scan's process group (the scan is its group leader)."""
    try:
        os.killpg(pid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        log.warning("not allowed to signal process group %s", pid)
        return False


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"
