"""Operator commands. Today: ``db upgrade``; the scan commands come with the lifecycle work.

Exit codes: 0 success, 1 the operation failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from api.settings import Settings


def _db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from api.models.migrate import upgrade

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
    parser = argparse.ArgumentParser(prog="bin/openshield", description="OpenShield operator commands.")
    sub = parser.add_subparsers(dest="group", required=True)
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="command", required=True)
    up = db_sub.add_parser("upgrade", help="apply pending migrations (DATABASE_URL)")
    up.add_argument("--database-url", help="override DATABASE_URL")
    up.set_defaults(func=_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
