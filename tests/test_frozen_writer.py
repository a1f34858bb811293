"""Issue 12 §1 with real processes: a scan frozen (SIGSTOP) while it holds a database lock.

A stopped process keeps its locks: on SQLite the writer flock beside the database, on
PostgreSQL the row locks of its open transaction. Before the fix the supervisor, which wrote
its own heartbeat first and recorded ``failed`` before killing, waited on that lock for as
long as the scan stayed frozen, and on SQLite every trigger hung with it.

Each test freezes the scan at a moment it *is* holding the lock, found through the lock
holder (``/proc/locks`` for the flock, ``pg_locks`` for the transaction), never by sleeping
and hoping; then it asserts, on gunicorn + the supervisor + the emulator:

- within heartbeat timeout + 5 s the scan is ``failed`` with a message naming "no heartbeat"
  or "stopped", and its process group is gone;
- while it is frozen every trigger answers within 5 s (202, 409 or 503);
- afterwards triggers answer 202/409 again and the supervisor is alive.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import psutil
import psycopg
import pytest
import requests

from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import wait_for
from tests.stack import LiveStack

HEARTBEAT_TIMEOUT = 10
TRIGGER_BOUND_SECONDS = 5.0
# connections a test opened to watch locks, closed when it ends
stack_closers: list[Callable[[], None]] = []


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="large:400", any_subscription=True) as emu:
        yield emu


@pytest.fixture
def stack(database_url: str, data_dir: Path, emulator: Emulator) -> Iterator[LiveStack]:
    emulator.set_faults(latency_ms=250)  # a scan long enough to freeze in the middle
    live = LiveStack(database_url, data_dir, emulator, workers=1, threads=8, extra_env={
        "OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS": str(HEARTBEAT_TIMEOUT),
        # frequent beats: a scan spends more of its time inside a write, so freezing it there is quick
        "OPENSHIELD_HEARTBEAT_INTERVAL_SECONDS": "0.02",
        # triggers during the freeze stay queued instead of starting more scans
        "OPENSHIELD_MAX_CONCURRENT_SCANS": "1",
    })
    live.start()
    yield live
    live.stop()
    emulator.set_faults(latency_ms=0)


# ----------------------------------------------------------------- who holds the lock
def flock_holder(path: Path) -> int | None:
    """The pid holding an flock on ``path`` according to the kernel (``/proc/locks``)."""
    stat = os.stat(path)
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    with open("/proc/locks") as locks:
        for line in locks:
            fields = line.split()
            if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device:
                return int(fields[4])
    return None


def holds_sqlite_writer(stack: LiveStack) -> Callable[[int], bool]:
    path = Path(stack.database_url.removeprefix("sqlite:///") + ".writelock")
    return lambda pid: flock_holder(path) == pid


def holds_postgres_row_lock(stack: LiveStack) -> Callable[[int], bool]:
    """Does a session of ``pid`` hold a transaction with a write on ``scans``? Its sessions are
    found by their client ports (the process's TCP connections), whatever they are named."""
    admin = psycopg.connect(stack.database_url, autocommit=True)
    stack_closers.append(admin.close)

    def check(pid: int) -> bool:
        ports = [c.laddr.port for c in psutil.Process(pid).net_connections(kind="tcp") if c.laddr]
        if not ports:
            return False
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
            "WHERE a.client_port = ANY(%s) AND l.granted AND l.locktype = 'relation' "
            "AND l.relation = 'scans'::regclass AND l.mode = 'RowExclusiveLock'", (ports,)).fetchone()
        return bool(row and row[0])

    return check


def all_threads_stopped(pid: int) -> bool:
    """Has SIGSTOP reached every thread (a thread still running could finish its write)?"""
    try:
        return all(_thread_state(pid, tid) in ("T", "t") for tid in _thread_ids(pid))
    except OSError:
        return False


def _thread_ids(pid: int) -> list[int]:
    return [int(name) for name in os.listdir(f"/proc/{pid}/task")]


def _thread_state(pid: int, tid: int) -> str:
    with open(f"/proc/{pid}/task/{tid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def freeze_while_holding(pid: int, holds: Callable[[int], bool], timeout: float = 60) -> int:
    """SIGSTOP ``pid``; if it does not hold the lock, SIGCONT and try again. Returns the attempts."""
    deadline = time.monotonic() + timeout
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: all_threads_stopped(pid), 5, interval=0.001, what="the scan to stop")
        if holds(pid):
            return attempts
        os.kill(pid, signal.SIGCONT)
        wait_for(lambda: not all_threads_stopped(pid), 5, interval=0.001, what="the scan to continue")
    raise AssertionError(f"never caught the scan holding the lock in {attempts} attempts")


# ----------------------------------------------------------------------------- checks
def timed_trigger(stack: LiveStack, subscription: str) -> tuple[int, float]:
    started = time.monotonic()
    try:
        response = requests.post(stack.url + "/api/scans/trigger", json={"subscription_id": subscription},
                                 headers=stack.headers(), timeout=TRIGGER_BOUND_SECONDS + 10)
    except requests.Timeout:
        return 0, time.monotonic() - started
    elapsed = time.monotonic() - started
    if response.status_code == 503:
        assert response.headers.get("Retry-After") and "error" in response.json()
    return response.status_code, elapsed


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return all(p.status() == psutil.STATUS_ZOMBIE for p in psutil.process_iter() if _pgid(p.pid) == pgid)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def test_a_scan_frozen_inside_a_write_is_failed_and_killed_and_never_blocks_triggers(
        stack: LiveStack, database_url: str) -> None:
    subscription = str(uuid.uuid4())
    response = stack.post("/api/scans/trigger", {"subscription_id": subscription})
    assert response.status_code == 202, response.text
    scan_id = response.json()["scan_id"]
    pid = wait_for(lambda: (s := stack.scan(scan_id))["status"] == "running" and s["pid"], 30, what="scan running")

    holds = holds_sqlite_writer(stack) if database_url.startswith("sqlite") else holds_postgres_row_lock(stack)
    try:
        attempts = freeze_while_holding(int(pid), holds)
        frozen_at = time.monotonic()
        print(f"froze the scan inside a write after {attempts} attempt(s) (load {os.getloadavg()[0]:.2f})")

        answers: list[tuple[int, float]] = []
        deadline = frozen_at + HEARTBEAT_TIMEOUT + 5
        scan = stack.scan(scan_id)
        while scan["status"] == "running" and time.monotonic() < deadline:
            answers.append(timed_trigger(stack, subscription))  # same subscription: 409 (or 503)
            answers.append(timed_trigger(stack, str(uuid.uuid4())))  # another one: 202 (or 503)
            scan = stack.scan(scan_id)
        ended_after = time.monotonic() - frozen_at
        print(f"frozen scan settled after {ended_after:.1f} s ({scan['error_message']}); trigger answers {answers} "
              f"(load {os.getloadavg()[0]:.2f})")

        assert scan["status"] == "failed", f"still {scan['status']} {ended_after:.1f} s after the freeze"
        assert ended_after <= HEARTBEAT_TIMEOUT + 5
        message = scan["error_message"] or ""
        assert "no heartbeat" in message or "stopped" in message, message
        assert all(code in (202, 409, 503) and elapsed <= TRIGGER_BOUND_SECONDS for code, elapsed in answers), answers
        wait_for(lambda: group_gone(int(pid)), 5, what="the frozen scan's process group to be gone")

        # the database is free again: triggers are decided, the supervisor beats
        code, elapsed = timed_trigger(stack, subscription)
        assert code in (202, 409) and elapsed <= TRIGGER_BOUND_SECONDS
        code, _ = timed_trigger(stack, str(uuid.uuid4()))
        assert code == 202
        wait_for(lambda: requests.get(stack.url + "/health", timeout=5).json()["supervisor"]["alive"], 15,
                 what="the supervisor to report alive")
    finally:
        try:
            os.killpg(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
        while stack_closers:
            stack_closers.pop()()
