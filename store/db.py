"""Engine and session setup for SQLite (default) and PostgreSQL (psycopg 3).

SQLite runs in WAL mode with a busy timeout so that the API, the supervisor and several scan
processes can share one file; PostgreSQL URLs are normalised to the psycopg 3 driver.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
READONLY_OPTION = "openshield_readonly"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` -> ``postgresql+psycopg://``."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions start (so BEGIN IMMEDIATE works).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    # Writers queue on a lock before asking SQLite for its write lock. SQLite's own busy
    # handler waits by sleeping in growing steps (up to 100 ms), which gave triggers a p99 of
    # hundreds of milliseconds with a few writers; a lock hands over at once. The lock is a
    # thread lock inside the process plus an flock on a file beside the database across
    # processes (gunicorn workers, the supervisor, scans).
    database = engine.url.database
    writer = _WriterLock(Path(database + ".writelock") if database and database != ":memory:" else None)

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
        conn.info["openshield_writer"] = True

    def _on_end(conn: Any) -> None:
        if conn.info.pop("openshield_writer", False):
            writer.release()

    event.listen(engine, "commit", _on_end)
    event.listen(engine, "rollback", _on_end)


class _WriterLock:
    """Serialises SQLite write transactions across threads and processes, without sleeping."""

    def __init__(self, path: Path | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._fd is None and self._path is not None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


def get_engine(url: str) -> Engine:
    """One engine per URL per process (engines own connection pools)."""
    url = normalise_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            )
            _configure_sqlite(engine)
        else:
            # No pre-ping: it doubled the round trips of every short request. A connection the
            # server dropped fails one request (503, retry) and SQLAlchemy then invalidates the pool;
            # recycling before typical idle cut-offs (Azure Database for PostgreSQL) avoids most.
            engine = create_engine(url, pool_recycle=240, pool_size=5, max_overflow=10)
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
