"""Launch slots are given back when the run's process has exited, never when its row ends.

A row turns ``cancelled`` or ``failed`` while its process may still be starting (a cancelled
launch imports for a second before it learns it has nothing to do) or still exiting (a scan
that recorded ``failed`` still tears its interpreter down). Freeing the slot at that moment let
the next launch start beside it: 7 to 18 live ``scanner.run`` processes against a cap of 2 in a
cancel storm (issue 13). So a slot stays taken (``store.runs``: ``slot_released_at`` null) until
the host that ran the process sees it gone and its monitor confirm it, here.

Both the supervisor (every tick) and the launcher (when the host looks full) call
:func:`release_exited`; the release is a conditional UPDATE, so doing it twice is harmless. Only
the host that ran a process can see it, so each host releases only its own slots.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from store.clock import seconds_since
from store.runs import RunStore
from supervisor.kinds import RunKind
from supervisor.processes import process_matches
from supervisor.rundir import RunDir

log = logging.getLogger(__name__)

# How long a reserved launch may go without any sign of its monitor before the spawn is taken
# as never having happened (the same bound as the supervisor's launch timeout).
SPAWN_GRACE_SECONDS = 30.0


def process_exited(run: Any, run_dir: RunDir) -> bool:
    """Has the process this run was given exited, as far as this host can see?

    - It claimed the row (pid and create time known): that process is gone, and its monitor
      either recorded how it ended or is gone too (a foreground run has no monitor).
    - It never claimed (cancelled or failed while starting): its monitor recorded an exit after
      this launch, or the monitor died; with no monitor yet, the spawn may still be coming, so
      the slot is held until the spawn grace has passed.
    """
    if run.pid:
        if process_matches(run.pid, run.process_create_time):
            return False
        return run_dir.read_exit_status(pid=run.pid) is not None or not run_dir.monitor_alive()
    status = run_dir.read_exit_status()
    if status is not None and _after(status.get("ended_at"), run.launched_at):
        return True
    if run_dir.has_monitor():
        return not run_dir.monitor_alive()
    waited = seconds_since(run.launched_at)
    return waited is None or waited > SPAWN_GRACE_SECONDS


def release_exited(store: RunStore[Any], kind: RunKind, host: str, data_dir: Path) -> int:
    """Give back the slots of ``host``'s ended runs whose process has exited; how many."""
    released = 0
    for run in store.draining(host):
        key = getattr(run, store.key_name)
        if process_exited(run, RunDir(data_dir, run.scan_id, kind)) and store.release_slot(key, host):
            log.debug("%s %s: process exited; launch slot released", kind.noun, key)
            released += 1
    return released


def _after(ended_at: Any, launched_at: datetime | None) -> bool:
    """Is an exit record (``time.time()``) about this launch, not a previous attempt's?"""
    if launched_at is None or not isinstance(ended_at, (int, float)):
        return launched_at is None
    return float(ended_at) >= launched_at.timestamp()
