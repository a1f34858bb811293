"""Start supervised runs (scans, CVE re-enrichments) as detached processes.

``launch(scan_id)`` and ``launch_enrichment(scan_id, run_id)`` take one of this host's launch
slots (``OPENSHIELD_MAX_CONCURRENT_SCANS``, shared by both kinds) through the run's store,
then spawn ``python -m supervisor.monitor --kind <kind> <scan_id>`` from a background thread;
the monitor detaches and becomes the parent of the run's process (see
:mod:`supervisor.monitor` for why). The call returns in about a millisecond: it never waits
for the process to start. The process records its own pid, host and create time when it
claims its record.

A slot is held until the run's process has exited (:mod:`supervisor.slots`), not until its row
ends: when the host looks full, the launcher first gives back the slots of ended runs whose
process this host has seen exit, then tries once more. With no free slot the run stays queued
(``pending``, no host) and the supervisor launches it when a slot frees, oldest first. If the
monitor cannot be spawned the run is failed with the reason (and its slot given back: no
process was started); if the launcher itself fails, the row stays queued and the supervisor
tries again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.enrichment_runs import EnrichmentStore
from store.runs import RunStore
from store.scans import ScanStore
from store.settings import Settings
from supervisor.kinds import ENRICH, SCAN, RunKind
from supervisor.rundir import RunDir
from supervisor.slots import release_exited

log = logging.getLogger(__name__)

# The directory holding the packages. The monitor is started from it, as gunicorn is: ``python
# -m`` puts the working directory first on ``sys.path``, so the run imports the very code that
# launched it, whether the package is installed or run from a checkout.
CODE_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LaunchResult:
    launched: bool  # a slot was taken and the process is being started
    queued: bool  # no free slot: the supervisor starts it later


class Launcher:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.stores: dict[str, RunStore[Any]] = {
            SCAN.name: ScanStore(self.settings.database_url),
            ENRICH.name: EnrichmentStore(self.settings.database_url),
        }

    def launch(self, scan_id: str) -> LaunchResult:
        """Start the scan now if this host has a free slot; otherwise leave it queued."""
        return self.launch_run(SCAN, scan_id, scan_id)

    def launch_enrichment(self, scan_id: str, run_id: int) -> LaunchResult:
        """Start the queued re-enrichment ``run_id`` of ``scan_id`` now if a slot is free."""
        return self.launch_run(ENRICH, run_id, scan_id)

    def launch_run(self, kind: RunKind, key: Any, scan_id: str) -> LaunchResult:
        store = self.stores[kind.name]
        if not self._reserve(store, key) and not (self.release_exited() and self._reserve(store, key)):
            return LaunchResult(launched=False, queued=True)
        # fork + exec of the monitor costs ~5 ms of waiting; a web request should not pay it.
        # Not a daemon thread: a worker shutting down waits for its spawns to finish.
        threading.Thread(target=self._spawn_or_fail, args=(kind, key, scan_id),
                         name=f"spawn-{kind.name}-{scan_id[:8]}").start()
        return LaunchResult(launched=True, queued=False)

    def _reserve(self, store: RunStore[Any], key: Any) -> bool:
        return store.reserve_launch(key, host=self.settings.host_id, cap=self.settings.max_concurrent_scans)

    def release_exited(self) -> int:
        """Give back this host's slots held by ended runs whose process has exited; how many."""
        return sum(release_exited(self.stores[kind.name], kind, self.settings.host_id, self.settings.data_dir)
                   for kind in (SCAN, ENRICH))

    def _spawn_or_fail(self, kind: RunKind, key: Any, scan_id: str) -> None:
        try:
            proc = self._spawn(kind, scan_id)
        except OSError as exc:
            log.exception("could not start the monitor for %s %s", kind.noun, scan_id)
            store = self.stores[kind.name]
            store.fail_unstarted(key, f"could not start {kind.noun} process: {exc.strerror or exc}")
            store.release_slot(key, self.settings.host_id)  # no process was started: nothing to wait for
            return
        # The monitor's first process exits as soon as it has forked; reap it so it never
        # lingers as a zombie under this (web worker) process.
        proc.wait()

    def _spawn(self, kind: RunKind, scan_id: str) -> "subprocess.Popen[bytes]":
        run_dir = RunDir(self.settings.data_dir, scan_id, kind).create()
        # a previous attempt's monitor and exit status must not be read as this attempt's
        run_dir.clear_attempt()
        env = dict(os.environ)
        env["OPENSHIELD_DATA_DIR"] = str(self.settings.data_dir)
        env["DATABASE_URL"] = self.settings.database_url
        env["OPENSHIELD_HOST_ID"] = self.settings.host_id
        env["OPENSHIELD_SCAN_NICE"] = str(self.settings.scan_nice)  # the monitor applies it
        with run_dir.open_log() as log_file:
            return subprocess.Popen(
                [sys.executable, "-m", "supervisor.monitor", "--kind", kind.name, scan_id],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                close_fds=True,
                cwd=str(CODE_ROOT),
                env=env,
            )
