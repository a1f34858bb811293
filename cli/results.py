"""``bin/openshield scans diff|export`` and ``bin/openshield mutes list|add|remove|import``.

Like the other commands they read and write the database directly (no API, no token). The
author of a mute change made here is ``--author``, or ``cli:<login name>``. Mutes are
validated by :func:`store.mutes.parse_mute`, the same parser as ``POST /api/mutes``; an import
file is checked whole before any mute is created, so a bad entry creates nothing.

Import file format (YAML; documented in docs/operations.md)::

    mutes:
      - rule_id: AZ-STOR-001            # or "*"
        resource: "*/storageAccounts/legacy*"   # glob over resource ids, case-insensitive
        subscription_id: 11111111-2222-4333-8444-555555555555   # optional
        tags: {env: lab}                 # optional: the resource must carry all of them
        justification: "Decommissioned in Q1; ticket SEC-123"  # required
        expires_at: 2027-01-31T00:00:00Z # optional, with a timezone
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from api.views import diff_view
from cli.output import EXIT_NOT_FOUND, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, CliError, load_settings, print_json, print_table
from store.diff import PREVIOUS, DiffError, scan_diff
from store.mutes import MuteSpec, MuteStore, parse_mute

_DIFF_EXIT = {404: EXIT_NOT_FOUND, 409: EXIT_REFUSED, 400: EXIT_USAGE}


def _url() -> str:
    return load_settings().database_url


def _uuid_or_previous(raw: str) -> str:
    from cli.scans import _uuid

    return PREVIOUS if raw == PREVIOUS else _uuid(raw)


# --------------------------------------------------------------------------------- diff
def _diff(args: argparse.Namespace) -> int:
    try:
        changes = scan_diff(_url(), args.scan_id, args.against)
    except DiffError as exc:
        raise CliError(str(exc), _DIFF_EXIT.get(exc.status, EXIT_USAGE)) from None
    view = diff_view(changes)
    if args.json:
        print_json(view)
        return EXIT_OK
    print(f"scan {view['scan_id']} against {view['against'] or '(no earlier completed scan)'}: "
          f"{len(view['new'])} new, {len(view['resolved'])} resolved, {view['still_failing']} still failing, "
          f"{view['muted']} muted")
    rows = [["new", f["severity"], f["rule_id"], f["resource_id"], f["muted"]] for f in view["new"]]
    rows += [["resolved", f["severity"], f["rule_id"], f["resource_id"], f["muted"]] for f in view["resolved"]]
    if rows:
        print_table(["change", "severity", "rule", "resource", "muted"], rows)
    return EXIT_OK


# ------------------------------------------------------------------------------- export
def _export(args: argparse.Namespace) -> int:
    import sys

    from scanner.exports import ExportError, check_exportable, exporter

    url = _url()
    try:
        check_exportable(url, args.scan_id)
    except ExportError as exc:
        raise CliError(str(exc), EXIT_NOT_FOUND if exc.status == 404 else EXIT_REFUSED) from None
    chunks = exporter(args.format)(url, args.scan_id)
    if args.output in (None, "-"):
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return EXIT_OK
    target = Path(args.output)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
        partial.replace(target)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror}") from None
    print(f"{target}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------------- mutes
def _author(args: argparse.Namespace) -> str:
    return args.author or f"cli:{getpass.getuser()}"


def _known_rules() -> frozenset[str]:
    from scanner.rules import rule_ids

    return frozenset(rule_ids())


def _parse(body: dict[str, Any], where: str = "") -> MuteSpec:
    try:
        return parse_mute(body, _known_rules())
    except ValueError as exc:
        raise CliError(f"{where}{exc}", EXIT_USAGE) from None


def _mutes_list(args: argparse.Namespace) -> int:
    store = MuteStore(_url())
    mutes = store.list(include_deleted=args.deleted)
    if args.json:
        answer: dict[str, Any] = {"count": len(mutes), "mutes": mutes}
        if args.history:
            answer["history"] = store.history()
        print_json(answer)
        return EXIT_OK
    print_table(["id", "rule", "resource", "subscription", "expires", "expired", "author", "justification"],
                [[m["id"], m["rule_id"], m["resource"], m["subscription_id"], m["expires_at"], m["expired"],
                  m["author"], m["justification"]] for m in mutes])
    if args.history:
        print()
        print_table(["at", "action", "mute", "actor"],
                    [[e["at"], e["action"], e["mute_id"], e["actor"]] for e in store.history()])
    return EXIT_OK


def _tag(raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--tag wants NAME=VALUE, not {raw!r}")
    return name, value


def _mutes_add(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"rule_id": args.rule, "resource": args.resource, "justification": args.justification}
    if args.subscription:
        body["subscription_id"] = args.subscription
    if args.tag:
        body["tags"] = dict(args.tag)
    if args.expires:
        body["expires_at"] = args.expires
    if args.force:
        body["force"] = True
    mute = MuteStore(_url()).create(_parse(body), _author(args))
    if args.json:
        print_json(mute)
    else:
        print(mute["id"])
    return EXIT_OK


def _mutes_remove(args: argparse.Namespace) -> int:
    deleted = MuteStore(_url()).delete(args.mute_id, _author(args))
    if deleted is None:
        raise CliError(f"mute {args.mute_id} not found", EXIT_NOT_FOUND)
    if args.json:
        print_json(deleted)
    else:
        print(f"mute {args.mute_id} removed (applies no more from the next scan)")
    return EXIT_OK


def load_mute_file(path: Path) -> list[dict[str, Any]]:
    """The entries of a mute file: a YAML mapping with a ``mutes`` list (or a bare list)."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", EXIT_USAGE) from None
    except yaml.YAMLError as exc:
        raise CliError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}", EXIT_USAGE) from None
    entries = document.get("mutes") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise CliError(f"{path}: expected a 'mutes:' list of mappings (see docs/operations.md)", EXIT_USAGE)
    return entries


def _mutes_import(args: argparse.Namespace) -> int:
    entries = load_mute_file(Path(args.file))
    specs = [_parse(entry, f"{args.file}: entry {n}: ") for n, entry in enumerate(entries, start=1)]
    if args.dry_run:
        print(f"{len(specs)} mutes valid; nothing created (--dry-run)")
        return EXIT_OK
    store = MuteStore(_url())
    created = [store.create(spec, _author(args)) for spec in specs]
    if args.json:
        print_json({"count": len(created), "mutes": created})
    else:
        print(f"{len(created)} mutes created: {', '.join(str(m['id']) for m in created)}")
    return EXIT_OK


def _positive_id(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"not a mute id: {raw!r}")
    return int(raw)


# ------------------------------------------------------------------------------- parsers
def add_scan_commands(cmds: Any) -> None:
    """``scans diff`` (and later ``scans export``) under ``bin/openshield scans``."""
    from cli.scans import _uuid

    diff = cmds.add_parser("diff", help="failures new and resolved since another completed scan")
    diff.add_argument("scan_id", type=_uuid)
    diff.add_argument("--against", type=_uuid_or_previous, default=PREVIOUS, metavar="SCAN_ID|previous",
                      help="a completed scan of the same subscription (default: the previous one)")
    diff.add_argument("--json", action="store_true", help="the API's diff object")
    diff.set_defaults(func=_diff)

    from scanner.exports import FORMATS

    export = cmds.add_parser("export", help="a completed scan's results as CSV, JSON-OCSF or the HTML report")
    export.add_argument("scan_id", type=_uuid)
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    export.set_defaults(func=_export)


def add_parser(sub: Any) -> None:
    mutes = sub.add_parser("mutes", help="accepted risks: failures they match are muted from the next scan on")
    cmds = mutes.add_subparsers(dest="mutes_command", required=True)

    ls = cmds.add_parser("list", help="mutes, oldest first")
    ls.add_argument("--history", action="store_true", help="also every change (who, when, what)")
    ls.add_argument("--deleted", action="store_true", help="also removed mutes")
    ls.add_argument("--json", action="store_true", help="the API's {count, mutes[, history]} object")
    ls.set_defaults(func=_mutes_list)

    add = cmds.add_parser("add", help="accept a risk")
    add.add_argument("--rule", required=True, metavar="RULE_ID|*")
    add.add_argument("--resource", default="*", metavar="GLOB", help="glob over resource ids (default *)")
    add.add_argument("--subscription", metavar="ID")
    add.add_argument("--tag", type=_tag, action="append", metavar="NAME=VALUE")
    add.add_argument("--justification", required=True)
    add.add_argument("--expires", metavar="ISO8601", help="e.g. 2027-01-31T00:00:00Z")
    add.add_argument("--force", action="store_true", help="allow a mute that matches every failure")
    add.add_argument("--author", help="default cli:<login name>")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=_mutes_add)

    rm = cmds.add_parser("remove", help="stop accepting a risk (kept in the history)")
    rm.add_argument("mute_id", type=_positive_id)
    rm.add_argument("--author", help="default cli:<login name>")
    rm.add_argument("--json", action="store_true")
    rm.set_defaults(func=_mutes_remove)

    imp = cmds.add_parser("import", help="create the mutes of a YAML file (all or none)")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="validate only")
    imp.add_argument("--author", help="default cli:<login name>")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=_mutes_import)
