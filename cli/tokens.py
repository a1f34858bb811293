"""``openshield token``: mint a service token, revoke one, list the revocations.

- ``openshield token --role R [--ttl S] [--subject S] [--json]`` prints a bearer token signed
  with this host's ``JWT_SECRET`` (no database needed). ``--json`` adds its ``jti``.
- ``openshield token revoke <jti or token> [--reason TEXT]`` records the revocation in the
  database; every API worker refuses the token within ``OPENSHIELD_REVOCATION_CACHE_SECONDS``.
  Given the token itself (what a leak usually hands you), its ``jti``, subject and expiry are
  read from it after checking its signature with ``JWT_SECRET``.
- ``openshield token revoked [--all] [--json]`` lists revocations whose token could still be
  presented (``--all``: expired ones too).

Signing and verification are :mod:`api.auth`, the same code the API uses, so a token from here
is accepted exactly when the server would accept it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from cli.output import EXIT_USAGE, CliError, load_settings, print_json, print_table
from store.clock import iso

# What docs/api-reference.md promises: tokens last one hour unless told otherwise.
DEFAULT_TOKEN_TTL_SECONDS = 3600


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    token = sub.add_parser(
        "token", help="print an API bearer token signed with JWT_SECRET; revoke tokens",
        description="Print a JWT for the API, signed with JWT_SECRET (the public demo secret when "
                    "OPENSHIELD_DEMO=1 and JWT_SECRET is unset); 'token revoke' and 'token revoked' "
                    "manage revocations.",
    )
    token.add_argument("--role", choices=("reader", "operator"),
                       help="reader: read scans; operator: also trigger and cancel scans and read logs "
                            "(required to mint a token)")
    token.add_argument("--ttl", type=_positive_seconds, default=DEFAULT_TOKEN_TTL_SECONDS, metavar="SECONDS",
                       help=f"lifetime in seconds (default {DEFAULT_TOKEN_TTL_SECONDS})")
    token.add_argument("--subject", type=_non_empty, metavar="S",
                       help="the token's 'sub' claim: who it is for (default 'openshield')")
    token.add_argument("--json", action="store_true", help='print {"token", "role", "expires_at", "jti"} as JSON')
    token.set_defaults(func=_mint, uses_database=False, token_parser=token)

    actions = token.add_subparsers(dest="action", required=False, metavar="{revoke,revoked}")
    revoke = actions.add_parser("revoke", help="refuse a token from now on (by its jti, or the token itself)")
    revoke.add_argument("token_id", type=_non_empty, metavar="JTI_OR_TOKEN",
                        help="the token's jti (openshield token --json prints it) or the whole token")
    revoke.add_argument("--reason", type=_non_empty, metavar="TEXT", help="why (kept with the revocation)")
    revoke.add_argument("--json", action="store_true", help='print {"jti", "revoked", "expires_at"} as JSON')
    revoke.set_defaults(func=_revoke, uses_database=True)

    revoked = actions.add_parser("revoked", help="list revoked tokens")
    revoked.add_argument("--all", action="store_true", help="include revocations of tokens that have expired")
    revoked.add_argument("--json", action="store_true", help="print a JSON list")
    revoked.set_defaults(func=_list, uses_database=True)


def _mint(args: argparse.Namespace) -> int:
    from api.auth import DEMO_JWT_SECRET, issue_token_with_id, secret_from_env

    if args.role is None:
        args.token_parser.error("the following arguments are required: --role")
    try:
        secret = secret_from_env()
    except RuntimeError as exc:
        print(f"error: cannot sign a token: {exc}", file=sys.stderr)
        return 1
    if secret == DEMO_JWT_SECRET:
        print("warning: OPENSHIELD_DEMO=1 and no JWT_SECRET: signing with the public demo secret; "
              "only a demo server accepts this token", file=sys.stderr)
    extra = {"subject": args.subject} if args.subject is not None else {}
    token, claims = issue_token_with_id(secret, args.role, ttl_seconds=args.ttl, **extra)
    if not args.json:
        print(token)
        return 0
    expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print_json({"token": token, "role": args.role, "expires_at": expires_at, "jti": claims["jti"]})
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from store.revocations import revoke

    jti, subject, expires_at = _identify(args.token_id)
    added = revoke(load_settings().database_url, jti, expires_at=expires_at, subject=subject, reason=args.reason)
    if args.json:
        print_json({"jti": jti, "revoked": True, "already_revoked": not added, "expires_at": iso(expires_at)})
    else:
        print(f"token {jti} {'revoked' if added else 'was already revoked'}")
    return 0  # revoking twice is not an error: the token is refused either way


def _identify(raw: str) -> tuple[str, str | None, datetime | None]:
    """(jti, subject, expiry) of a jti or of a whole token (its signature checked with JWT_SECRET)."""
    if raw.count(".") != 2:
        return raw, None, None
    import jwt

    from api.auth import ALGORITHM, secret_from_env

    try:
        secret = secret_from_env()
    except RuntimeError as exc:
        raise CliError(f"cannot read the token: {exc}") from None
    try:
        claims = jwt.decode(raw, secret, algorithms=[ALGORITHM], options={"verify_exp": False, "verify_nbf": False,
                                                                           "verify_iat": False, "verify_sub": False,
                                                                           "verify_jti": False})
    except jwt.InvalidTokenError:
        raise CliError("that token is not signed with this JWT_SECRET (pass its jti instead)", EXIT_USAGE) from None
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise CliError("that token has no jti; revoke it with OPENSHIELD_TOKENS_NOT_BEFORE", EXIT_USAGE)
    subject = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    exp = claims.get("exp")
    expires_at = None
    if isinstance(exp, int) and not isinstance(exp, bool) and 0 <= exp <= 253_402_300_799:
        expires_at = datetime.fromtimestamp(exp, tz=timezone.utc)
    return jti, subject, expires_at


def _list(args: argparse.Namespace) -> int:
    from store.revocations import list_revocations

    rows = list_revocations(load_settings().database_url, include_expired=args.all)
    if args.json:
        print_json([{"jti": r.jti, "revoked_at": iso(r.revoked_at), "expires_at": iso(r.expires_at),
                     "subject": r.subject, "reason": r.reason} for r in rows])
        return 0
    print_table(["JTI", "REVOKED", "EXPIRES", "SUBJECT", "REASON"],
                [[r.jti, r.revoked_at, r.expires_at, r.subject, r.reason] for r in rows])
    return 0


def _positive_seconds(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, not {raw!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    return value


def _non_empty(raw: str) -> str:
    if not raw.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return raw
