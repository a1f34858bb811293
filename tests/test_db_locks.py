"""Bounded lock waits (issue 12 §1): no database wait lasts longer than
``OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS``, whoever holds the lock and however long.

The holders are real processes: a Python process inside an SQLite write transaction (it holds
the writer flock), or a PostgreSQL session holding a row lock. Each test waits until the lock
is really held (``/proc/locks`` or ``pg_locks``), never by sleeping.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from store.db import (
    DatabaseBusy,
    dispose_engines,
    session_scope,
    sqlite_writer_lock_holder,
    writer_lock_path,
)
from store.scans import ScanStore
from store.settings import DatabaseTimeouts
from tests.conftest import REPO
from tests.processes import wait_for

SUB = "11111111-2222-4333-8444-555555555555"
LOCK_TIMEOUT = 0.5

# A process that opens a write transaction (taking the writer lock) and stays in it.
HOLD_SQLITE_WRITE = """
import sys, time
from sqlalchemy import text
from store.db import session_scope
with session_scope(sys.argv[1]) as session:
    session.execute(text("UPDATE scans SET progress = progress"))
    print("holding", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def short_lock_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Engines built from here on wait at most LOCK_TIMEOUT seconds for a lock."""
    monkeypatch.setenv("OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS", str(LOCK_TIMEOUT))
    dispose_engines()
    yield
    dispose_engines()


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def hold_sqlite_writer(url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_SQLITE_WRITE, url], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL)
    wait_for(lambda: sqlite_writer_lock_holder(url) == proc.pid or proc.poll() is not None, 20,
             what="the holder to take the writer lock")
    assert proc.poll() is None, "the lock holder exited"
    return proc


def end(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(10)


def sqlite_url(tmp_path: Path) -> str:
    from store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'openshield.db'}"
    upgrade(url)
    return url


def test_timeouts_come_from_the_environment_and_refuse_nonsense() -> None:
    assert DatabaseTimeouts.from_env({}) == DatabaseTimeouts(3.0, 30.0)
    assert DatabaseTimeouts.from_env({"OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS": "1.5",
                                      "OPENSHIELD_DB_STATEMENT_TIMEOUT_SECONDS": "90"}) == DatabaseTimeouts(1.5, 90.0)
    # a scan or enrichment process waits longer for its own writes (nobody waits on its answer)
    run = DatabaseTimeouts.from_env({"OPENSHIELD_RUN_DB_LOCK_TIMEOUT_SECONDS": "20"})
    assert (run.for_process(True).lock_seconds, run.for_process(False).lock_seconds) == (20.0, 3.0)
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ValueError, match="OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS"):
            DatabaseTimeouts.from_env({"OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS": bad})


def test_sqlite_write_behind_a_frozen_holder_fails_within_the_bound_naming_it(
        tmp_path: Path, short_lock_timeout: None) -> None:
    url = sqlite_url(tmp_path)
    scan = ScanStore(url).create(SUB)
    holder = hold_sqlite_writer(url)
    try:
        os.kill(holder.pid, signal.SIGSTOP)  # frozen inside its write, as a debugger would leave it
        # the holder wrote its pid into the lock file
        assert writer_lock_path(str(sqlite_path(url))).read_bytes().split()[0] == str(holder.pid).encode()
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match=f"held by pid {holder.pid}") as caught:
            ScanStore(url).request_cancel(scan.scan_id)
        waited = time.monotonic() - started
        print(f"write behind a frozen holder failed after {waited:.2f} s (bound {LOCK_TIMEOUT} s, "
              f"load {os.getloadavg()[0]:.2f})")
        assert caught.value.holder_pid == holder.pid
        assert waited < LOCK_TIMEOUT + 10  # bounded (margin for a loaded machine): before the fix it never returned
        # reads never wait for the writer lock
        assert ScanStore(url).get(scan.scan_id) is not None
    finally:
        end(holder)
    # the lock dies with its holder (the kernel drops it as the process is torn down); the next
    # write goes through (the failed one left no debris)
    wait_for(lambda: sqlite_writer_lock_holder(url) is None, 30, what="the killed holder's lock to go")
    assert ScanStore(url).request_cancel(scan.scan_id)


def test_sqlite_writer_lock_is_held_until_commit_and_rollback_have_completed(tmp_path: Path) -> None:
    """SQLAlchemy's ``commit`` event fires before the COMMIT: releasing there let another
    writer in while the COMMIT still ran. Look at the lock from another descriptor at the very
    moment SQLite starts executing COMMIT / ROLLBACK."""
    url = sqlite_url(tmp_path)
    lock_path = writer_lock_path(str(sqlite_path(url)))
    seen: dict[str, bool] = {}

    def lock_is_free() -> bool:
        fd = os.open(lock_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)  # closing drops a lock taken here
        return True

    def trace(statement: str) -> None:
        if statement in ("COMMIT", "ROLLBACK"):
            seen[statement] = lock_is_free()

    for ending in ("COMMIT", "ROLLBACK"):
        try:
            with session_scope(url) as session:
                session.connection().connection.dbapi_connection.set_trace_callback(trace)  # type: ignore[union-attr]
                session.execute(text("UPDATE scans SET progress = progress"))
                if ending == "ROLLBACK":
                    raise LookupError("roll back")
        except LookupError:
            pass
        assert seen.get(ending) is False, f"the writer lock was free while {ending} ran"
        assert lock_is_free(), f"the writer lock was kept after {ending}"


@pytest.mark.postgres
def test_postgresql_sessions_carry_lock_and_statement_timeouts(postgres_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("OPENSHIELD_DB_STATEMENT_TIMEOUT_SECONDS", "20")
    dispose_engines()
    try:
        with session_scope(postgres_url) as session:
            assert session.scalar(text("SHOW lock_timeout")) == "1500ms"
            assert session.scalar(text("SHOW statement_timeout")) == "20s"
            assert session.scalar(text("SELECT current_setting('application_name')")) == f"openshield pid {os.getpid()}"
    finally:
        dispose_engines()


@pytest.mark.postgres
def test_postgresql_write_behind_a_held_row_lock_fails_within_the_bound(
        postgres_url: str, short_lock_timeout: None) -> None:
    from tests.conftest import empty_postgres

    scan = ScanStore(postgres_url).create(SUB)
    holder = psycopg.connect(postgres_url)  # a client that stopped inside its transaction
    try:
        holder.execute("UPDATE scans SET progress = progress WHERE scan_id = %s", (scan.scan_id,))
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught:
            ScanStore(postgres_url).request_cancel(scan.scan_id)
        waited = time.monotonic() - started
        print(f"row-lock wait failed after {waited:.2f} s (bound {LOCK_TIMEOUT} s, load {os.getloadavg()[0]:.2f})")
        assert getattr(caught.value.orig, "sqlstate", None) == "55P03"  # lock_not_available
        assert waited < LOCK_TIMEOUT + 2
    finally:
        holder.close()
    assert ScanStore(postgres_url).request_cancel(scan.scan_id)
    empty_postgres(postgres_url)
