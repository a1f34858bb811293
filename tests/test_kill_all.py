"""``openshield scans kill --all`` (what ``bin/demo --stop`` runs) ends every process of the
host's runs, including a run that already ended in the database while its process lives on."""

from __future__ import annotations

import dataclasses
import subprocess
import uuid
from pathlib import Path

import psutil

from store.scans import ScanStore
from store.settings import Settings
from supervisor.kill import kill_all
from tests.processes import wait_for

HOST = "kill-all-test-host"


def test_kill_all_ends_the_process_of_a_run_that_ended_while_it_lives(database_url: str, data_dir: Path) -> None:
    """A scan cancelled or failed while its process is still exiting (or still importing) keeps
    its launch slot; it must not be invisible to ``kill --all``."""
    settings = dataclasses.replace(Settings.from_env(), database_url=database_url, data_dir=data_dir, host_id=HOST)
    store = ScanStore(database_url)
    stand_in = subprocess.Popen(["sleep", "300"], start_new_session=True)  # the scan's process
    try:
        scan = store.create(str(uuid.uuid4()))
        assert store.reserve_launch(scan.scan_id, host=HOST, cap=2)
        assert store.claim(scan.scan_id, pid=stand_in.pid, host=HOST,
                           process_create_time=psutil.Process(stand_in.pid).create_time())
        assert store.cancel(scan.scan_id, "cancelled on request")  # the row ended; the process did not
        results = kill_all(settings, force=True, grace_seconds=2)
        assert [(r.scan_id, r.pid) for r in results] == [(scan.scan_id, stand_in.pid)]
        wait_for(lambda: stand_in.poll() is not None, 30, what="the run's process to end")
    finally:
        if stand_in.poll() is None:
            stand_in.kill()
        stand_in.wait()
