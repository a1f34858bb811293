"""Configuration from the environment, with defaults that make the demo work.

One place reads the environment so that the API, the scanner and the supervisor agree on
paths and limits.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


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
