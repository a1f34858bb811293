"""Operator commands: ``token`` (:mod:`cli.tokens`), ``db upgrade``, ``scans ...`` (:mod:`cli.scans`) and
``supervisor status`` (:mod:`cli.supervisor_status`).

Exit codes are listed in :mod:`cli.output` and docs/operations.md (0 success, 1 failed,
2 usage error, 3 refused, 4 cancelled, 5 unknown scan, 141 output pipe closed).

Every command but ``token`` (minting) says on stderr which database it uses when ``DATABASE_URL`` does
not (:func:`store.settings.database_notice`), so a command that read ``./var/openshield.db``
while the API used another database is not taken for "no scans".

Commands import what they need inside their handler, so one command's dependencies (Flask for
``token``, Alembic for ``db upgrade``) do not slow down or break the others.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from store.settings import Settings


def _db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from store.migrate import upgrade

    settings = Settings.from_env()
    url = args.database_url or settings.database_url
    try:
        upgrade(url)
    except OperationalError as exc:
        print(f"error: cannot reach the database: {str(exc.orig).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"database schema is up to date ({_redact(url)})")
    return 0


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openshield", description="OpenShield operator commands.")
    sub = parser.add_subparsers(dest="group", required=True)

    from cli import tokens

    tokens.add_parser(sub)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="command", required=True)
    up = db_sub.add_parser("upgrade", help="apply pending migrations (DATABASE_URL)")
    up.add_argument("--database-url", help="override DATABASE_URL")
    up.set_defaults(func=_db_upgrade)

    from cli import scans, supervisor_status

    scans.add_parser(sub)
    supervisor_status.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code (``openshield`` and ``python -m cli`` pass it to ``sys.exit``).

    A reader that goes away early (``openshield scans list --json | head -1``) is not an error
    worth a traceback: the output is dropped and the exit code is 141 (128 + SIGPIPE), what a
    shell reports for a command stopped by a closed pipe. stdout is flushed here rather than at
    interpreter exit so that the broken pipe is noticed inside this handler.
    """
    from cli.output import EXIT_BROKEN_PIPE

    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again when it exits: point it at /dev/null so that nothing is
        # left to fail and no "Exception ignored" message follows.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    from sqlalchemy.exc import DBAPIError

    from cli.output import CliError, error, load_settings
    from store.settings import database_notice

    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "uses_database", True) and not getattr(args, "database_url", None):
            notice = database_notice(load_settings())
            if notice:
                print(notice, file=sys.stderr, flush=True)
        return int(args.func(args))
    except CliError as exc:
        error(str(exc))
        return exc.code
    except DBAPIError as exc:
        # the driver's first line says what is wrong (unreachable, no such table) without the URL's password
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        error(f"database error: {first} (is DATABASE_URL right, and the schema migrated? bin/openshield db upgrade)")
        return 1
