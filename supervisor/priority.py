"""Scan and enrichment processes run at a lower CPU and I/O priority than the API and the
supervisor.

A scan starting up spends about a second of CPU on imports and TLS; with two cores (an App
Service B1/B2/P1v3), several of them at the same priority as gunicorn made trigger p99 grow from
10 ms to 44-324 ms (issue 13). The monitor lowers its own priority before it starts the run, so
the run inherits it from its first instruction (nice and I/O priority survive fork and exec):

- CPU: nice ``OPENSHIELD_SCAN_NICE`` (default 10; 0 leaves it alone). Under contention a nice-10
  process gets about a tenth of the CPU a nice-0 one gets, and all of an idle machine, so scans
  are not slower on a quiet host.
- Autogroup: where the kernel groups processes by session for scheduling
  (``/proc/sys/kernel/sched_autogroup_enabled``, on by default in most distributions), a nice
  value only weighs against processes of the same session, and the run leads a session of its
  own: measured here, a nice-10 busy loop in a new session got *more* CPU than a nice-0 one. So
  the run's session gets the same nice value (``/proc/self/autogroup``), written in the child
  right after its ``setsid`` (:func:`lower_session_priority`, the monitor's ``preexec_fn``).
- I/O: best-effort class at the level Linux derives from that nice value ((nice + 20) / 5,
  6 for nice 10), where the platform has I/O priorities (psutil, Linux). Not the idle class: a
  scan holding the SQLite writer lock must still reach the disk, or the API would wait on it.

Raising a nice value needs no privilege; lowering one back does, so this never lowers it.
Standard library, psutil and ``store.settings`` only: the monitor imports this.
"""

from __future__ import annotations

import errno
import os
import time
from typing import Callable

import psutil

from store.settings import DEFAULT_SCAN_NICE, scan_nice


def io_level(nice: int) -> int:
    """The best-effort I/O level (0 highest, 7 lowest) Linux derives from a nice value."""
    return min(7, max(0, (nice + 20) // 5))


def run_nice() -> int:
    """``OPENSHIELD_SCAN_NICE`` as the monitor sees it (the launcher passes the value it
    validated, so a bad one here only falls back to the default)."""
    try:
        return scan_nice()
    except ValueError:
        return DEFAULT_SCAN_NICE


def lower_priority(nice: int) -> list[str]:
    """Lower this process's CPU and I/O priority (its children inherit both); what was done.

    Never raises: a platform without I/O priorities, or a container that forbids them, leaves
    the run at the priority it has, and the returned notes say so for the run's log.
    """
    notes: list[str] = []
    if nice <= 0:
        return notes
    try:
        current = os.getpriority(os.PRIO_PROCESS, 0)
        if current < nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        notes.append(f"nice {max(current, nice)}")
    except OSError as exc:
        notes.append(f"nice unchanged ({exc.strerror or exc})")
    try:
        if hasattr(psutil, "IOPRIO_CLASS_BE"):
            psutil.Process().ionice(psutil.IOPRIO_CLASS_BE, value=io_level(nice))
            notes.append(f"I/O best-effort {io_level(nice)}")
    except (OSError, psutil.Error) as exc:
        notes.append(f"I/O priority unchanged ({exc})")
    return notes


AUTOGROUP = "/proc/self/autogroup"
# Linux lets an unprivileged process set an autogroup's nice once per 100 ms, system-wide.
_AUTOGROUP_TRIES = 10
_AUTOGROUP_PAUSE = 0.025


def lower_session_priority(nice: int) -> str | None:
    """Give this process's session (its scheduler autogroup) the nice value ``nice``.

    Called in the run's process between fork and exec, right after its ``setsid``, so it must
    not raise and must not allocate much: it returns a note when the value could not be set
    (None when it was, or when there are no autogroups).
    """
    if nice <= 0 or not os.path.exists(AUTOGROUP):
        return None
    for _ in range(_AUTOGROUP_TRIES):
        try:
            with open(AUTOGROUP, "w") as handle:
                handle.write(str(nice))
            return None
        except OSError as exc:
            if exc.errno != errno.EAGAIN:  # EAGAIN: another process set one within 100 ms
                return f"session (autogroup) priority unchanged ({exc.strerror or exc})"
            time.sleep(_AUTOGROUP_PAUSE)
    return "session (autogroup) priority unchanged (busy)"


def session_priority_hook(nice: int) -> Callable[[], None]:
    """A ``preexec_fn`` that lowers the new session's priority, writing any failure to stderr."""

    def hook() -> None:
        try:
            note = lower_session_priority(nice)
        except Exception as exc:  # noqa: BLE001 - never stop the exec over a priority
            note = f"session (autogroup) priority unchanged ({exc})"
        if note:
            os.write(2, f"monitor: {note}\n".encode())

    return hook
