"""Operator commands: ``token``, ``db upgrade``, ``scans ...`` (:mod:`cli.scans`) and
``supervisor status`` (:mod:`cli.supervisor_status`).

Exit codes are listed in :mod:`cli.output` and docs/operations.md (0 success, 1 failed,
2 usage error, 3 refused, 4 cancelled, 5 unknown scan, 141 output pipe closed).

Every command but ``token`` says on stderr which database it uses when ``DATABASE_URL`` does
not (:func:`store.settings.database_notice`), so a command that read ``./var/openshield.db``
while the API used another database is not taken for "no scans".

Commands import what they need inside their handler, so one command's dependencies (Flask for
``token``, Alembic for ``db upgrade``) do not slow down or break the others.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from typing import Sequence

from store.settings import Settings

# What docs/api-reference.md promises: tokens last one hour unless told otherwise.
DEFAULT_TOKEN_TTL_SECONDS = 3600


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


def _token(args: argparse.Namespace) -> int:
    """Print a bearer token signed with this host's ``JWT_SECRET``.

    It signs with :func:`api.auth.issue_token` and :func:`api.auth.secret_from_env`, the same
    code the API verifies with, so a token from here is accepted exactly when the server
    would accept it. Only the token goes to stdout, so ``TOKEN=$(bin/openshield token ...)``
    works; warnings go to stderr.
    """
    import jwt

    from api.auth import ALGORITHM, DEMO_JWT_SECRET, issue_token, secret_from_env

    try:
        secret = secret_from_env()
    except RuntimeError as exc:
        print(f"error: cannot sign a token: {exc}", file=sys.stderr)
        return 1
    if secret == DEMO_JWT_SECRET:
        print("warning: OPENSHIELD_DEMO=1 and no JWT_SECRET: signing with the public demo secret; "
              "only a demo server accepts this token", file=sys.stderr)
    extra = {"subject": args.subject} if args.subject is not None else {}
    token = issue_token(secret, args.role, ttl_seconds=args.ttl, **extra)
    if not args.json:
        print(token)
        return 0
    # Read the expiry back from the token itself, so the printed time is the one it carries.
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM])
    expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps({"token": token, "role": args.role, "expires_at": expires_at}))
    return 0


def _positive_seconds(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, not {raw!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    return value


def _subject(raw: str) -> str:
    if not raw.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return raw


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openshield", description="OpenShield operator commands.")
    sub = parser.add_subparsers(dest="group", required=True)

    token = sub.add_parser(
        "token", help="print an API bearer token signed with JWT_SECRET",
        description="Print a JWT for the API, signed with JWT_SECRET (the public demo secret when "
                    "OPENSHIELD_DEMO=1 and JWT_SECRET is unset).",
    )
    token.add_argument("--role", required=True, choices=("reader", "operator"),
                       help="reader: read scans; operator: also trigger and cancel scans and read logs")
    token.add_argument("--ttl", type=_positive_seconds, default=DEFAULT_TOKEN_TTL_SECONDS, metavar="SECONDS",
                       help=f"lifetime in seconds (default {DEFAULT_TOKEN_TTL_SECONDS})")
    token.add_argument("--subject", type=_subject, metavar="S",
                       help="the token's 'sub' claim: who it is for (default 'openshield')")
    token.add_argument("--json", action="store_true", help='print {"token", "role", "expires_at"} as JSON')
    token.set_defaults(func=_token, uses_database=False)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="command", required=True)
    up = db_sub.add_parser("upgrade", help="apply pending migrations (DATABASE_URL)")
    up.add_argument("--database-url", help="override DATABASE_URL")
    up.set_defaults(func=_db_upgrade)

    from cli import scans, schedules, supervisor_status

    scans.add_parser(sub)
    schedules.add_parser(sub)
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
