"""Engine and session setup for SQLite (default) and PostgreSQL (psycopg 3).

SQLite runs in WAL mode with a busy timeout so that the API, the supervisor and several scan
processes can share one file; PostgreSQL URLs are normalised to the psycopg 3 driver.

Every lock wait is bounded (``OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS``; PostgreSQL also gets
``statement_timeout``): a process frozen while it holds a lock makes others fail fast with
:class:`DatabaseBusy` or a driver error, never wait with it.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from store.settings import DatabaseTimeouts

READONLY_OPTION = "openshield_readonly"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
# set by a supervised run's process (scan, enrichment): its lock waits use the run bound
_run_process = False


def serve_as_run() -> None:
    """This process is a supervised run: wait up to ``OPENSHIELD_RUN_DB_LOCK_TIMEOUT_SECONDS``
    (not the API's few seconds) for database locks. Engines built before are rebuilt."""
    global _run_process
    if not _run_process:
        _run_process = True
        dispose_engines()


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` -> ``postgresql+psycopg://``."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _configure_sqlite(engine: Engine, timeouts: DatabaseTimeouts) -> None:
    busy_ms = int(timeouts.lock_seconds * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions start (so BEGIN IMMEDIATE works).
        dbapi_conn.isolation_level = None
        dbapi_conn.writer = writer
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    # Writers queue on a lock before asking SQLite for its write lock. SQLite's own busy
    # handler waits by sleeping in growing steps (up to 100 ms), which gave triggers a p99 of
    # hundreds of milliseconds with a few writers; a lock hands over at once. The lock is a
    # thread lock inside the process plus an flock on a file beside the database across
    # processes (gunicorn workers, the supervisor, scans). Both waits are bounded.
    database = engine.url.database
    writer = WriterLock(writer_lock_path(database), timeouts.lock_seconds)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades to a
        # writer can fail with "database is locked" without honouring busy_timeout. Readers
        # (read_scope) run without a transaction so API reads never queue behind each other.
        if conn.get_execution_options().get(READONLY_OPTION, False):
            return  # autocommit reads: each SELECT sees a consistent WAL snapshot, no BEGIN round trip
        writer.acquire()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise
        # released by the connection itself once its COMMIT or ROLLBACK has completed
        conn.connection.dbapi_connection.holds_writer = True


class DatabaseBusy(Exception):
    """A database lock was not granted within ``OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS``.

    Raised instead of waiting without bound behind a process that holds the lock and does not
    let go (stopped, hung); the API answers it with 503 and ``Retry-After``.
    """

    def __init__(self, message: str, holder_pid: int | None = None) -> None:
        super().__init__(message)
        self.holder_pid = holder_pid


class _WriterConnection(sqlite3.Connection):
    """A pysqlite connection that gives the writer lock back only after its COMMIT or ROLLBACK
    has really completed.

    SQLAlchemy's ``commit``/``rollback`` events fire *before* the DBAPI call, so releasing there
    let another writer in while this COMMIT was still running ("database is locked").
    """

    writer: "WriterLock | None" = None
    holds_writer: bool = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release_when_done()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release_when_done()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release_when_done(closed=True)

    def _release_when_done(self, closed: bool = False) -> None:
        # A COMMIT that failed leaves the transaction open: keep the lock until its ROLLBACK.
        if self.holds_writer and self.writer is not None and (closed or not self.in_transaction):
            self.holds_writer = False
            self.writer.release()


def writer_lock_path(database: str | None) -> Path | None:
    """The file whose flock serialises writers of an SQLite database (None in memory)."""
    return Path(database + ".writelock") if database and database != ":memory:" else None


# The holder's pid, fixed width at the start of the lock file (rewritten, never truncated).
_PID_RECORD_BYTES = 16


class WriterLock:
    """Serialises SQLite write transactions across threads and processes, with a bounded wait.

    An uncontended flock is taken at once. A contended one is waited for by a helper thread in
    a blocking ``flock`` on a descriptor of its own, so the lock is handed over the moment its
    holder lets go (polling with sleeps doubled p99 under contention, see docs/benchmarks.md),
    while the caller waits at most ``timeout`` seconds: a holder that never lets go (a process
    stopped with SIGSTOP inside a write) costs a :class:`DatabaseBusy`, never a hang. A wait
    given up on finishes harmlessly later (the helper releases what it gets). The holder
    writes its pid at the start of the lock file, so the error, the supervisor and an operator
    can name it.
    """

    def __init__(self, path: Path | None, timeout: float) -> None:
        self._thread_lock = threading.Lock()
        self._path = path
        self._timeout = timeout
        self._fd: int | None = None
        self._fd_pid = 0  # a descriptor inherited through fork shares its flock: reopen per process
        self._held: int | None = None  # the descriptor holding the flock now
        self._held_is_waiters = False  # a helper's descriptor: closed on release

    def acquire(self) -> None:
        deadline = time.monotonic() + self._timeout
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise DatabaseBusy(f"database busy: no write lock within {self._timeout:g} s (held in this process)",
                               os.getpid())
        try:
            fd = self._descriptor()
            if fd is not None:
                self._flock_until(fd, deadline)
                os.pwrite(self._held, f"{os.getpid()}\n".encode().ljust(_PID_RECORD_BYTES), 0)  # type: ignore[arg-type]
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        try:
            held, self._held = self._held, None
            if held is not None and self._fd_pid == os.getpid():
                if self._held_is_waiters:
                    os.close(held)  # closing its only descriptor drops the flock
                else:
                    fcntl.flock(held, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _descriptor(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._fd_pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._fd_pid = os.getpid()
        return self._fd

    def _flock_until(self, fd: int, deadline: float) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._held, self._held_is_waiters = fd, False
            return
        except BlockingIOError:
            pass
        waiter = _FlockWaiter(self._path)  # type: ignore[arg-type]
        if waiter.granted.wait(max(0.0, deadline - time.monotonic())) or not waiter.abandon():
            self._held, self._held_is_waiters = waiter.fd, True
            return
        holder = writer_lock_holder(self._path)
        who = f" (held by pid {holder})" if holder else ""
        raise DatabaseBusy(f"database busy: no write lock within {self._timeout:g} s{who}", holder)


class _FlockWaiter:
    """A blocking flock in a daemon thread, on its own descriptor, that can be given up on."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.granted = threading.Event()
        self._decided = threading.Lock()
        self._abandoned = False
        threading.Thread(target=self._wait, name="writer-lock-wait", daemon=True).start()

    def _wait(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:
            os.close(self.fd)
            return
        with self._decided:
            if self._abandoned:
                os.close(self.fd)  # nobody wants it any more: let the next writer in
                return
            self.granted.set()

    def abandon(self) -> bool:
        """Give up the wait; False when the lock was granted meanwhile (the caller holds it)."""
        with self._decided:
            if self.granted.is_set():
                return False
            self._abandoned = True
            return True


def writer_lock_holder(path: Path | None) -> int | None:
    """The pid that holds the SQLite writer lock now, or None when nobody does.

    ``/proc/locks`` says who holds the flock right now; where it cannot be read, the pid the
    holder wrote into the lock file is the best guess (it may name the last holder).
    """
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    try:
        with open("/proc/locks") as locks:
            lines = locks.readlines()
    except OSError:
        return _recorded_holder(path)
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in lines:
        fields = line.split()
        # "3: FLOCK  ADVISORY  WRITE 4242 00:2f:1234 0 EOF"; waiters are listed as "3: -> FLOCK ..."
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device and fields[4].isdigit():
            return int(fields[4])
    return None


def _recorded_holder(path: Path) -> int | None:
    try:
        text_ = path.read_bytes()[:_PID_RECORD_BYTES].decode(errors="replace").strip()
    except OSError:
        return None
    return int(text_) if text_.isdigit() else None


def sqlite_writer_lock_holder(url: str) -> int | None:
    """For an SQLite URL, who holds its writer lock now (None for PostgreSQL or when free)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    return writer_lock_holder(writer_lock_path(parsed.database))


def _configure_postgresql(engine: Engine, timeouts: DatabaseTimeouts) -> None:
    """Bound every wait of every session: ``lock_timeout`` (row and table locks, advisory
    locks) and ``statement_timeout``, so a client frozen inside a transaction fails others'
    writes after a few seconds instead of blocking them for as long as it stays frozen. Each
    session is also named after its process, so ``pg_stat_activity`` tells whose transaction
    holds a lock."""
    name_it = "application_name" not in engine.url.query

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute(
                "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                (f"{int(timeouts.lock_seconds * 1000)}ms", f"{int(timeouts.statement_seconds * 1000)}ms"),
            )
            if name_it:
                cur.execute("SELECT set_config('application_name', %s, false)", (application_name(),))
        dbapi_conn.commit()


def application_name(pid: int | None = None) -> str:
    """How a process's PostgreSQL sessions are named (``pg_stat_activity.application_name``)."""
    return f"openshield pid {os.getpid() if pid is None else pid}"


@contextmanager
def unbounded_waits(conn: Connection) -> Iterator[Connection]:
    """Lift the lock and statement timeouts on one PostgreSQL connection for a block.

    For schema migrations only: a second instance waits for the first one's migration (an
    advisory lock held as long as the migration runs), and DDL on a large table may outlast
    the statement timeout. The bounds come back before the connection returns to the pool.
    """
    if conn.dialect.name != "postgresql":
        yield conn
        return
    settings = "SELECT set_config('lock_timeout', :lock, false), set_config('statement_timeout', :stmt, false)"
    previous = conn.execute(text("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")).one()
    conn.execute(text(settings), {"lock": "0", "stmt": "0"})
    conn.commit()  # session settings outlive the transaction; the caller starts with none open
    try:
        yield conn
    finally:
        conn.execute(text(settings), {"lock": previous[0], "stmt": previous[1]})
        conn.commit()


def get_engine(url: str) -> Engine:
    """One engine per URL per process (engines own connection pools)."""
    url = normalise_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        parsed = make_url(url)
        timeouts = DatabaseTimeouts.from_env().for_process(_run_process)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args={"timeout": timeouts.lock_seconds, "check_same_thread": False,
                              "factory": _WriterConnection},
            )
            _configure_sqlite(engine, timeouts)
        else:
            # No pre-ping: it doubled the round trips of every short request. A connection the
            # server dropped fails one request (503, retry) and SQLAlchemy then invalidates the pool;
            # recycling before typical idle cut-offs (Azure Database for PostgreSQL) avoids most.
            engine = create_engine(url, pool_recycle=240, pool_size=5, max_overflow=10)
            _configure_postgresql(engine, timeouts)
        _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pool (after fork, or in tests between databases)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _factories.clear()
        _readers.clear()


_factories: dict[tuple[str, bool], sessionmaker[Session]] = {}


def session_factory(url: str, readonly: bool = False) -> sessionmaker[Session]:
    """A cached sessionmaker per URL (building one costs more than a simple query)."""
    key = (url, readonly)
    factory = _factories.get(key)
    if factory is None:
        engine = read_scope_engine(url) if readonly else get_engine(url)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        _factories[key] = factory
    return factory


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope(url: str) -> Iterator[Session]:
    """A session for reads only: no write lock on SQLite. Closing it ends the transaction and
    detaches the objects with their loaded state (a rollback would expire them)."""
    session = session_factory(url, readonly=True)()
    try:
        yield session
    finally:
        session.close()


_readers: dict[str, Engine] = {}


def read_scope_engine(url: str) -> Engine:
    """The engine that read-only work should connect through (no transaction, no write lock on SQLite)."""
    engine = _readers.get(url)
    if engine is None:
        engine = _readers[url] = get_engine(url).execution_options(**{READONLY_OPTION: True})
    return engine
