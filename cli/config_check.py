"""``openshield config check``: every setting the server needs, checked before anything starts.

``startup.sh`` runs it before migrating: a missing ``JWT_SECRET`` used to surface only after the
database was migrated and the supervisor started, as a traceback from every gunicorn worker.
Now the start stops at once with one line naming everything that is missing or malformed, and
exit code 1. (The demo's public secret is never offered here: it is for ``bin/demo`` only.)
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Mapping

# Settings (store.settings.Settings) that must be positive integers; checked one by one, so
# that every wrong one is named rather than the first.
_POSITIVE_INTEGERS = ("OPENSHIELD_MAX_CONCURRENT_SCANS", "OPENSHIELD_SCAN_TIMEOUT_SECONDS",
                      "OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS")
# Integers that startup.sh hands to gunicorn.
_SERVER_INTEGERS = (("PORT", 1, 65535), ("GUNICORN_WORKERS", 1, None), ("GUNICORN_THREADS", 1, None))


def problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """What is wrong with the configuration in ``environ`` (the process environment), one short
    phrase per setting; empty when the server can start."""
    env = os.environ if environ is None else environ
    found: list[str] = []

    def check(step: Callable[[], object]) -> None:
        try:
            step()
        except (ValueError, RuntimeError) as exc:
            found.append(str(exc).strip().splitlines()[0])

    check(lambda: _jwt_secret(env))
    check(lambda: _auth(env))
    for name in _POSITIVE_INTEGERS:
        check(lambda name=name: _positive_integer(env, name))  # type: ignore[misc]
    check(lambda: _settings(env))
    check(lambda: _database_timeouts(env))
    check(lambda: _database_url(env))
    check(lambda: _default_subscription(env))
    check(lambda: _nvd(env))
    for name, low, high in _SERVER_INTEGERS:
        check(lambda name=name, low=low, high=high: _integer(env, name, low, high))  # type: ignore[misc]
    return list(dict.fromkeys(found))  # a setting named twice (by two checks) is listed once


def _jwt_secret(env: Mapping[str, str]) -> None:
    from api.auth import MIN_SECRET_BYTES

    secret = env.get("JWT_SECRET", "")
    if not secret:
        raise ValueError("JWT_SECRET is not set (for example: openssl rand -hex 32)")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes")


def _auth(env: Mapping[str, str]) -> None:
    """Revocation, Entra ID and Easy Auth settings, read as the API reads them at start-up."""
    from api.auth.config import AuthConfig

    AuthConfig.from_env(env)


def _settings(env: Mapping[str, str]) -> None:
    from store.settings import Settings

    raw = env.get("OPENSHIELD_HEARTBEAT_INTERVAL_SECONDS", "").strip()
    if raw:
        try:
            interval = float(raw)
        except ValueError:
            raise ValueError(f"OPENSHIELD_HEARTBEAT_INTERVAL_SECONDS must be a number, got {raw!r}") from None
        if not 0 < interval < float("inf"):
            raise ValueError(f"OPENSHIELD_HEARTBEAT_INTERVAL_SECONDS must be positive, got {raw!r}")
    _with_environ(env, Settings.from_env)


def _positive_integer(env: Mapping[str, str], name: str) -> None:
    raw = env.get(name, "").strip()
    if not raw:
        return
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")


def _database_timeouts(env: Mapping[str, str]) -> None:
    from store.settings import DatabaseTimeouts

    DatabaseTimeouts.from_env(env)


def _database_url(env: Mapping[str, str]) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from store.db import normalise_url

    raw = env.get("DATABASE_URL", "")
    if not raw:
        return  # the SQLite file in the data directory
    try:
        backend = make_url(normalise_url(raw)).get_backend_name()
    except ArgumentError:
        raise ValueError("DATABASE_URL is not a database URL (postgresql://user:pass@host/db or sqlite:///path)") \
            from None
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"DATABASE_URL must be a PostgreSQL or SQLite URL, not {backend}")


def _default_subscription(env: Mapping[str, str]) -> None:
    from store.parsing import default_subscription

    _with_environ(env, default_subscription)


def _nvd(env: Mapping[str, str]) -> None:
    from scanner.cve.settings import NvdSettings

    _with_environ(env, NvdSettings.from_env)


def _integer(env: Mapping[str, str], name: str, low: int, high: int | None) -> None:
    raw = env.get(name, "").strip()
    if not raw:
        return
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be a whole number {bound}, got {raw!r}")


def _with_environ(env: Mapping[str, str], read: Callable[[], object]) -> object:
    """Run a reader of ``os.environ`` against ``env`` (the readers take no mapping)."""
    if env is os.environ:
        return read()
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return read()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run(args: argparse.Namespace) -> int:
    found = problems()
    if found:
        print(f"error: cannot start: {'; '.join(found)}", file=sys.stderr)
        return 1
    if not args.quiet:
        print("configuration ok")
    return 0


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    config = sub.add_parser("config", help="check the server's settings")
    config_sub = config.add_subparsers(dest="command", required=True)
    check = config_sub.add_parser(
        "check", help="check every setting; one line naming what is missing or wrong (exit 1)",
        description="Check every setting the API, the supervisor and scans read from the environment, "
                    "without touching the database. Prints one line naming every problem and exits 1, "
                    "or prints 'configuration ok'.")
    check.add_argument("--quiet", action="store_true", help="print nothing when the configuration is fine")
    check.set_defaults(func=_run, uses_database=False)
