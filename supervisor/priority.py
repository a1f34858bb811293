"""Scan and enrichment processes run at a lower CPU and I/O priority than the API and the
supervisor.

A scan starting up spends about a second of CPU on imports and TLS; with two cores (an App
Service B1/B2/P1v3), several of them at the same priority as gunicorn made trigger p99 grow from
10 ms to 44-324 ms (issue 13). The monitor lowers its own priority before it starts the run, so
the run inherits it from its first instruction (nice and I/O priority survive fork and exec):

- CPU: nice ``OPENSHIELD_SCAN_NICE`` (default 10; 0 leaves it alone). Under contention a nice-10
  process gets about a tenth of the CPU a nice-0 one gets, and all of an idle machine, so scans
  are not slower on a quiet host.
- I/O: best-effort class at the level Linux derives from that nice value ((nice + 20) / 5,
  6 for nice 10), where the platform has I/O priorities (psutil, Linux). Not the idle class: a
  scan holding the SQLite writer lock must still reach the disk, or the API would wait on it.

Raising a nice value needs no privilege; lowering one back does, so this never lowers it.
Standard library, psutil and ``store.settings`` only: the monitor imports this.
"""

from __future__ import annotations

import os

import psutil

from store.settings import DEFAULT_SCAN_NICE, scan_nice


def io_level(nice: int) -> int:
    """The best-effort I/O level (0 highest, 7 lowest) Linux derives from a nice value."""
    return min(7, max(0, (nice + 20) // 5))


def lower_run_priority() -> list[str]:
    """Lower this process to the priority ``OPENSHIELD_SCAN_NICE`` asks for (what the monitor does;
    the launcher passes the value it validated, so a bad one here only falls back to the default)."""
    try:
        nice = scan_nice()
    except ValueError:
        nice = DEFAULT_SCAN_NICE
    return lower_priority(nice)


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
