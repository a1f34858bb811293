"""``bin/openshield schedules list|add|remove|pause|resume``: recurring scans, in the database.

The supervisors fire them (``supervisor/schedules.py``); this command only changes rows.
Exit codes: 0 done, 2 usage (bad cron expression, time zone or interval: the reason is
printed), 5 unknown schedule.
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.output import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, CliError, load_settings, print_json, print_table
from store import parsing
from store.clock import iso
from store.models import Schedule
from store.schedules import ScheduleError, ScheduleStore, Timing, min_interval_seconds


def _store() -> ScheduleStore:
    return ScheduleStore(load_settings().database_url)


def _view(row: Schedule) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "target": row.subscription_id or "all",
            "interval_seconds": row.interval_seconds, "cron": row.cron, "timezone": row.timezone,
            "enabled": row.enabled, "rules": row.rules, "next_run_at": iso(row.next_run_at),
            "last_fired_at": iso(row.last_fired_at), "last_fired_by": row.last_fired_by,
            "last_scan_ids": row.last_scan_ids or [], "last_skipped": row.last_skipped or [],
            "last_error": row.last_error}


def _min_interval() -> int:
    try:
        return min_interval_seconds()
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def _list(args: argparse.Namespace) -> int:
    rows = _store().list()
    if args.json:
        print_json({"count": len(rows), "schedules": [_view(r) for r in rows]})
        return EXIT_OK
    print_table(["id", "name", "target", "when", "tz", "enabled", "next run", "last fired", "last"],
                [[r.id, r.name, r.subscription_id or "all",
                  r.cron or f"every {r.interval_seconds}s", r.timezone, "yes" if r.enabled else "paused",
                  iso(r.next_run_at), iso(r.last_fired_at),
                  r.last_error or (f"{len(r.last_scan_ids or [])} queued, {len(r.last_skipped or [])} skipped"
                                   if r.last_fired_at else None)] for r in rows])
    return EXIT_OK


def _add(args: argparse.Namespace) -> int:
    if bool(args.all) == bool(args.subscription):
        raise CliError("give --subscription ID or --all", EXIT_USAGE)
    if (args.every is None) == (args.cron is None):
        raise CliError("give --every SECONDS or --cron 'EXPR'", EXIT_USAGE)
    rules = None
    if args.rules:
        from scanner.rules import rule_ids

        try:
            rules = parsing.check_rule_ids(parsing.split_rule_ids(args.rules), rule_ids(), what="--rules")
        except ValueError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
    timing = Timing(args.every, args.cron, args.timezone)
    try:
        timing.check(_min_interval())
    except ScheduleError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    name = args.name or (args.subscription or "every subscription")
    row = _store().create(name=name, subscription_id=args.subscription, timing=timing, enabled=not args.paused,
                          rules=rules)
    if args.json:
        print_json(_view(row))
    else:
        print(row.id)
    return EXIT_OK


def _id(raw: str) -> str:
    try:
        return parsing.parse_uuid(raw, "schedule id")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _remove(args: argparse.Namespace) -> int:
    if not _store().delete(args.schedule_id):
        raise CliError(f"schedule {args.schedule_id} not found", EXIT_NOT_FOUND)
    return EXIT_OK


def _enable(enabled: bool) -> Any:
    def run(args: argparse.Namespace) -> int:
        row = _store().update(args.schedule_id, {"enabled": enabled}, min_interval=_min_interval())
        if row is None:
            raise CliError(f"schedule {args.schedule_id} not found", EXIT_NOT_FOUND)
        print(f"schedule {row.id} {'resumed; next run ' + str(iso(row.next_run_at)) if enabled else 'paused'}")
        return EXIT_OK
    return run


def _subscription(raw: str) -> str:
    try:
        return parsing.parse_uuid(raw, "--subscription")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: Any) -> None:
    schedules = sub.add_parser("schedules", help="recurring scans of one subscription or of every subscription")
    cmds = schedules.add_subparsers(dest="command", required=True)
    ls = cmds.add_parser("list", help="every schedule, with its next and last run")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    add = cmds.add_parser("add", help="a new schedule (prints its id)")
    add.add_argument("--subscription", type=_subscription, metavar="ID")
    add.add_argument("--all", action="store_true", help="every subscription the identity can see")
    add.add_argument("--every", type=int, metavar="SECONDS", help="interval (minimum 300 s by default)")
    add.add_argument("--cron", metavar="'M H DOM MON DOW'", help="five-field cron expression")
    add.add_argument("--timezone", default="UTC", help="IANA time zone for --cron (default UTC)")
    add.add_argument("--name")
    add.add_argument("--rules", metavar="AZ-STOR-001,...")
    add.add_argument("--paused", action="store_true", help="create it paused")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=_add)
    for name, func, text in (("remove", _remove, "delete a schedule"), ("pause", _enable(False), "stop firing it"),
                             ("resume", _enable(True), "fire it again (next run computed from now)")):
        cmd = cmds.add_parser(name, help=text)
        cmd.add_argument("schedule_id", type=_id)
        cmd.set_defaults(func=func)
