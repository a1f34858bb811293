"""What the supervisor, the launcher and ``bin/openshield`` know about OS processes: is a
recorded pid still that process, signal a run's process group, did the machine restart.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

import psutil

log = logging.getLogger(__name__)

# psutil create times of one process agree to about a hundredth of a second
_CREATE_TIME_TOLERANCE = 0.05


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
        if create_time is not None and abs(proc.create_time() - create_time) > _CREATE_TIME_TOLERANCE:
            return False
        return True
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def own_identity() -> tuple[int, float]:
    """This process's pid and create time, as a run records them when it claims its row."""
    me = psutil.Process()
    return me.pid, me.create_time()


def signal_group(pid: int, sig: int) -> bool:
    """Send ``sig`` to a run's process group (the run's process leads its own group)."""
    try:
        os.killpg(pid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        log.warning("not allowed to signal process group %s", pid)
        return False


def restarted_since(moment: datetime | None) -> bool:
    """Did the machine boot, or the container's PID 1 start, after ``moment``?"""
    if moment is None:
        return False
    started = moment.timestamp()
    try:
        pid1 = psutil.Process(1).create_time()
    except (psutil.Error, OSError):
        pid1 = 0.0
    return psutil.boot_time() > started or pid1 > started
