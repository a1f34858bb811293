"""Helpers for tests that run real processes: polling with deadlines, supervisors, scans."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, TypeVar

import psutil

from tests.conftest import REPO

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float, interval: float = 0.05, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T = check()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
        last = check()
    return last


def start_supervisor(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "supervisor"], cwd=REPO, env=env, stdout=log, stderr=log,
                                start_new_session=True)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def kill_scan_processes(data_dir: Path) -> None:
    """End every scan and monitor process a test left behind (found through its run dirs)."""
    pid_files = [p for pattern in ("scans/*/pid", "scans/*/monitor.pid", "scans/*/enrich/pid", "scans/*/enrich/monitor.pid")
                 for p in data_dir.glob(pattern)]
    for pid_file in pid_files:
        try:
            pid = int(pid_file.read_text().strip())
            proc = psutil.Process(pid)
            if str(data_dir) in " ".join(proc.environ().get(k, "") for k in ("OPENSHIELD_DATA_DIR",)):
                proc.kill()
        except (ValueError, OSError, psutil.Error):
            continue


def is_zombie_or_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def child_zombies(pid: int) -> list[int]:
    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True) if c.status() == psutil.STATUS_ZOMBIE]
    except psutil.NoSuchProcess:
        return []
