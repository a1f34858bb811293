"""Configuration from the environment, with defaults that make the demo work.

One place reads the environment so that the API, the scanner and the supervisor agree on
paths and limits.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


SCAN_NICE_VARIABLE = "OPENSHIELD_SCAN_NICE"
DEFAULT_SCAN_NICE = 10
MAX_NICE = 19


def scan_nice(environ: dict[str, str] | None = None) -> int:
    """``OPENSHIELD_SCAN_NICE``: the CPU nice value of scan and enrichment processes, 0-19
    (0: same priority as the API; default 10). See :mod:`supervisor.priority`."""
    raw = ((os.environ if environ is None else environ).get(SCAN_NICE_VARIABLE) or "").strip()
    if not raw:
        return DEFAULT_SCAN_NICE
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{SCAN_NICE_VARIABLE} must be an integer 0-{MAX_NICE}, got {raw!r}") from None
    if not 0 <= value <= MAX_NICE:
        raise ValueError(f"{SCAN_NICE_VARIABLE} must be an integer 0-{MAX_NICE}, got {value}")
    return value


COLLECT_ARG_VARIABLE = "OPENSHIELD_COLLECT_ARG"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def collect_arg(environ: dict[str, str] | None = None) -> bool:
    """``OPENSHIELD_COLLECT_ARG`` (default on): scans read the children Azure Resource Graph
    indexes (VM extensions, App Service ``config/web``, SQL databases) with a few ARG queries;
    ``0`` reads each per parent from ARM instead (ARG lags ARM by seconds to minutes; see
    :mod:`scanner.azure.resourcegraph`)."""
    raw = ((os.environ if environ is None else environ).get(COLLECT_ARG_VARIABLE) or "").strip().lower()
    if not raw or raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{COLLECT_ARG_VARIABLE} must be 1 or 0, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    max_concurrent_scans: int
    scan_timeout_seconds: int
    heartbeat_timeout_seconds: int
    heartbeat_interval_seconds: float
    host_id: str
    scan_nice: int = DEFAULT_SCAN_NICE

    @classmethod
    def from_env(cls) -> "Settings":
        data_dir = Path(os.environ.get("OPENSHIELD_DATA_DIR") or "./var").resolve()
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'openshield.db'}"
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            max_concurrent_scans=_int("OPENSHIELD_MAX_CONCURRENT_SCANS", 2),
            scan_timeout_seconds=_int("OPENSHIELD_SCAN_TIMEOUT_SECONDS", 3600),
            heartbeat_timeout_seconds=_int("OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS", 120),
            heartbeat_interval_seconds=float(os.environ.get("OPENSHIELD_HEARTBEAT_INTERVAL_SECONDS") or 2.0),
            host_id=os.environ.get("OPENSHIELD_HOST_ID") or socket.gethostname(),
            scan_nice=scan_nice(),
        )



def database_notice(settings: Settings, environ: dict[str, str] | None = None) -> str | None:
    """One line saying which database is used when ``DATABASE_URL`` does not say it.

    A shell scan or a CLI command that silently wrote to ``./var/openshield.db`` while the API
    read another database looked like a lost scan; saying so up front avoids the hunt.
    """
    env = os.environ if environ is None else environ
    if env.get("DATABASE_URL"):
        return None
    return f"using {settings.database_url} (DATABASE_URL is not set)"


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long any database wait may last, so a process frozen while it holds a lock (a
    debugger, a swap storm, ``kill -STOP``) cannot block the API, the supervisor or other runs.

    ``lock_seconds`` bounds the SQLite writer lock and PostgreSQL's ``lock_timeout``: a wait
    beyond it fails (the API answers 503 with ``Retry-After``). It stays below 5 s so that a
    trigger always gets an answer within 5 s. ``statement_seconds`` is PostgreSQL's
    ``statement_timeout``: no single statement runs longer.
    """

    lock_seconds: float = 3.0
    statement_seconds: float = 30.0
    # Scan and enrichment processes wait longer for their own writes (nobody waits on their
    # answer; on an overloaded host another run's large write can outlast 3 s), still bounded.
    run_lock_seconds: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "DatabaseTimeouts":
        env = os.environ if environ is None else environ
        return cls(
            lock_seconds=_positive_float(env, "OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS", cls.lock_seconds),
            statement_seconds=_positive_float(env, "OPENSHIELD_DB_STATEMENT_TIMEOUT_SECONDS", cls.statement_seconds),
            run_lock_seconds=_positive_float(env, "OPENSHIELD_RUN_DB_LOCK_TIMEOUT_SECONDS", cls.run_lock_seconds),
        )

    def for_process(self, is_run: bool) -> "DatabaseTimeouts":
        """The bounds this process uses: a supervised run waits ``run_lock_seconds`` for locks."""
        return dataclasses.replace(self, lock_seconds=self.run_lock_seconds) if is_run else self
