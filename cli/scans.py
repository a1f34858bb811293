"""``bin/openshield scans ...``: list, show, ps, trigger, cancel, kill and logs, on the host.

These commands talk to the database (``DATABASE_URL``) and to this host's processes directly,
not to the HTTP API, so they work when the API is down and need no token. Status changes go
through :class:`api.models.scan_state.ScanStore`; signals through :mod:`supervisor.kill`. A
trigger launches through the same :class:`supervisor.launcher.Launcher` as the API
(``trigger=cli``), so the scan is supervised like any other.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from api.models.scan import STATUSES, TERMINAL_STATUSES, Scan
from api.models.scan_state import ActiveScanExists, ScanStore, elapsed_since
from api.settings import Settings
from cli.output import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    CliError,
    duration,
    load_settings,
    print_json,
    print_table,
)

LOG_FILE = "scan.log"
POLL_SECONDS = 0.5
FOLLOW_POLL_SECONDS = 0.25
# exit code of `scans trigger --wait` per final status
_WAIT_EXIT = {"completed": EXIT_OK, "failed": EXIT_FAILED, "cancelled": EXIT_CANCELLED}


def _context() -> tuple[Settings, ScanStore]:
    host = load_settings()
    return host, ScanStore(host.database_url)


def _uuid(raw: str) -> str:
    """A scan or subscription id in the API's canonical form (lower case 8-4-4-4-12)."""
    from api.validation import is_uuid

    if not is_uuid(raw):
        raise argparse.ArgumentTypeError(f"not a UUID (8-4-4-4-12 hexadecimal digits): {raw!r}")
    return raw.lower()


def _get(store: ScanStore, scan_id: str) -> Scan:
    scan = store.get(scan_id)
    if scan is None:
        raise CliError(f"scan {scan_id} not found", EXIT_NOT_FOUND)
    return scan


# ------------------------------------------------------------------------------ list / show
def _list(args: argparse.Namespace) -> int:
    _, store = _context()
    total, page = store.list_scans(status=args.status, subscription_id=args.subscription,
                                   limit=args.limit, offset=args.offset)
    if args.json:
        print_json({"count": total, "limit": args.limit, "offset": args.offset, "scans": [s.to_dict() for s in page]})
        return EXIT_OK
    rows = [[s.scan_id, s.subscription_id, s.status, s.phase, f"{s.progress}%", s.host, s.to_dict()["created_at"],
             _clip(s.error_message, 50)] for s in page]
    print_table(["scan_id", "subscription", "status", "phase", "progress", "host", "created", "error"], rows)
    if total > len(page) + args.offset:
        print(f"({len(page)} of {total}; --limit/--offset for more)", file=sys.stderr)
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    _, store = _context()
    view = store.view(args.scan_id)
    if view is None:
        raise CliError(f"scan {args.scan_id} not found", EXIT_NOT_FOUND)
    if args.json:
        print_json(view)
        return EXIT_OK
    outcomes = view.pop("rule_outcomes")
    width = max(len(k) for k in view)
    for key, value in view.items():
        shown = "-" if value is None else (",".join(value) if isinstance(value, list) else value)
        print(f"{key.ljust(width)}  {shown}")
    not_ok = [o for o in outcomes if o["status"] != "ok"]
    if outcomes:
        print(f"{'rule_outcomes'.ljust(width)}  {len(outcomes)} rules, {len(not_ok)} not ok")
        for o in not_ok:
            print(f"  {o['rule_id']}: {o['status']}: {o['reason']}")
    return EXIT_OK


def _clip(text: str | None, width: int) -> str | None:
    if text is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"


# --------------------------------------------------------------------------------------- ps
def _ps(args: argparse.Namespace) -> int:
    from supervisor.launcher import process_matches

    settings, store = _context()
    active: list[Scan] = []
    for status in ("running", "pending"):
        active += store.list_scans(status=status, limit=500)[1]
    if args.this_host:
        active = [s for s in active if s.host == settings.host_id]
    entries = []
    for scan in active:
        local = scan.host == settings.host_id
        if not local or scan.pid is None:
            process = None  # another host's pid means nothing here; a queued scan has none
        else:
            process = "alive" if process_matches(scan.pid, scan.process_create_time) else "gone"
        entries.append({
            "scan_id": scan.scan_id, "subscription_id": scan.subscription_id, "status": scan.status,
            "phase": scan.phase, "progress": scan.progress, "pid": scan.pid, "host": scan.host,
            "this_host": local, "process": process,
            "runtime_seconds": _seconds(elapsed_since(scan.started_at)),
            "heartbeat_age_seconds": _seconds(elapsed_since(scan.heartbeat_at)),
            "cancel_requested": scan.cancel_requested,
        })
    if args.json:
        print_json({"host": settings.host_id, "count": len(entries), "scans": entries})
        return EXIT_OK
    rows = [[e["scan_id"], e["pid"], e["host"], e["status"], e["phase"], f"{e['progress']}%",
             duration(e["runtime_seconds"]), duration(e["heartbeat_age_seconds"]), e["process"]] for e in entries]
    print_table(["scan_id", "pid", "host", "status", "phase", "progress", "runtime", "heartbeat", "process"], rows)
    return EXIT_OK


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# ---------------------------------------------------------------------------------- trigger
def _trigger(args: argparse.Namespace) -> int:
    from supervisor.launcher import Launcher

    settings, store = _context()
    subscription = args.subscription or _default_subscription()
    rules = _check_rules(args.rules)
    try:
        scan = store.create(subscription, trigger="cli", rules=rules)
    except ActiveScanExists as exc:
        if args.json:
            print_json({"error": f"subscription {subscription} already has an active scan", "scan_id": exc.scan_id})
        raise CliError(f"subscription {subscription} already has an active scan {exc.scan_id}", EXIT_REFUSED) from None
    result = Launcher(settings).launch(scan.scan_id)
    message = "scan starting" if result.launched else (
        f"scan queued: this host already runs its maximum of {settings.max_concurrent_scans} concurrent scans")
    if not args.wait:
        if args.json:
            print_json({"scan_id": scan.scan_id, "status": "pending", "message": message})
        else:
            print(scan.scan_id)
            print(message, file=sys.stderr)
        return EXIT_OK
    print(f"scan {scan.scan_id}: {message}", file=sys.stderr, flush=True)
    final = _wait(store, scan.scan_id)
    if args.json:
        print_json(store.view(scan.scan_id))
    else:
        print(_summary(final))
    return _WAIT_EXIT[final.status]


def _default_subscription() -> str:
    raw = os.environ.get("AZURE_SUBSCRIPTION_ID", "").strip()
    if not raw:
        raise CliError("--subscription is required (AZURE_SUBSCRIPTION_ID is not set)", EXIT_USAGE)
    try:
        return _uuid(raw)
    except argparse.ArgumentTypeError:
        raise CliError("AZURE_SUBSCRIPTION_ID must be a subscription UUID", EXIT_USAGE) from None


def _check_rules(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    from scanner.rules import all_rules

    wanted = [r.strip().upper() for r in raw.split(",") if r.strip()]
    known = {rule.id for rule in all_rules()}
    unknown = [r for r in wanted if r not in known]
    if not wanted or unknown:
        raise CliError(f"unknown rule id(s): {', '.join(unknown)}" if unknown else "--rules is empty", EXIT_USAGE)
    if len(set(wanted)) != len(wanted):
        raise CliError("--rules repeats a rule id", EXIT_USAGE)
    return wanted


def _wait(store: ScanStore, scan_id: str) -> Scan:
    """Poll the scan until it is terminal: a tqdm bar on a terminal, plain lines otherwise."""
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=100, unit="%", file=sys.stderr, bar_format="{desc} {bar} {n:.0f}% [{elapsed}]")
    last: tuple[Any, ...] = ()
    try:
        while True:
            scan = _get(store, scan_id)
            state = (scan.status, scan.phase, scan.progress)
            if state != last:
                if bar is not None:
                    bar.set_description_str(f"{scan.status} {scan.phase}")
                    bar.update(scan.progress - bar.n)
                else:
                    print(f"{time.strftime('%H:%M:%S')} {scan.status} {scan.phase} {scan.progress}%",
                          file=sys.stderr, flush=True)
                last = state
            if scan.status in TERMINAL_STATUSES:
                return scan
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        raise CliError(f"stopped waiting; scan {scan_id} goes on (bin/openshield scans cancel {scan_id})",
                       EXIT_INTERRUPTED) from None
    finally:
        if bar is not None:
            bar.close()


def _summary(scan: Scan) -> str:
    if scan.status == "completed":
        return f"scan {scan.scan_id} completed: {scan.total_findings} findings, score {scan.score}"
    return f"scan {scan.scan_id} {scan.status}: {scan.error_message}"


# ----------------------------------------------------------------------------------- cancel
def _cancel(args: argparse.Namespace) -> int:
    _, store = _context()
    outcome = store.stop(args.scan_id)
    if outcome is None:
        raise CliError(f"scan {args.scan_id} not found", EXIT_NOT_FOUND)
    if outcome == "cancelled_now":
        answer = {"scan_id": args.scan_id, "status": "cancelled", "message": "cancelled (it had not started)"}
    elif outcome == "requested":
        answer = {"scan_id": args.scan_id, "status": _get(store, args.scan_id).status, "cancel_requested": True,
                  "message": "cancellation requested; the supervisor stops it within seconds"}
    elif outcome in TERMINAL_STATUSES:
        if args.json:
            print_json({"error": f"scan is already {outcome}", "scan_id": args.scan_id, "status": outcome})
        raise CliError(f"scan {args.scan_id} is already {outcome}", EXIT_REFUSED)
    else:
        raise CliError(f"scan {args.scan_id} kept changing state; retry", EXIT_FAILED)
    if args.json:
        print_json(answer)
    else:
        print(f"scan {args.scan_id}: {answer['message']}")
    return EXIT_OK


# ------------------------------------------------------------------------------------- kill
def _kill(args: argparse.Namespace) -> int:
    from supervisor.kill import KillRefused, find_scan_process, kill_scan

    target = args.target.strip()
    if not target.isdigit():
        try:
            target = _uuid(target)
        except argparse.ArgumentTypeError:
            raise CliError(f"give a scan id (UUID) or a pid, not {args.target!r}", EXIT_USAGE) from None
    settings, store = _context()
    try:
        scan = find_scan_process(store, settings.host_id, target)
    except LookupError as exc:
        raise CliError(str(exc), EXIT_NOT_FOUND) from None
    except KillRefused as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    result = kill_scan(scan, force=args.force, grace_seconds=args.grace)
    if args.json:
        print_json({"scan_id": result.scan_id, "pid": result.pid, "signals": list(result.signals),
                    "exited": result.exited})
    else:
        sent = " then ".join(result.signals) or "no signal (the process group was already gone)"
        state = "it has exited" if result.exited else "it is still running"
        print(f"scan {result.scan_id}: sent {sent} to process group {result.pid}; {state}")
    if args.force and not result.exited:
        return EXIT_FAILED
    return EXIT_OK


# ------------------------------------------------------------------------------------- logs
def _logs(args: argparse.Namespace) -> int:
    from api.routes.scans import tail_lines

    if args.follow and args.json:
        raise CliError("--follow and --json do not go together", EXIT_USAGE)
    settings, store = _context()
    scan = _get(store, args.scan_id)
    path = settings.scan_dir(args.scan_id) / LOG_FILE
    if not path.exists() and scan.host not in (None, settings.host_id):
        raise CliError(f"the log of scan {args.scan_id} is on host {scan.host}; run this there", EXIT_FAILED)
    lines, truncated = tail_lines(path, args.lines)
    if args.json:
        print_json({"scan_id": args.scan_id, "lines": lines, "truncated": truncated})
        return EXIT_OK
    for line in lines:
        print(line)
    sys.stdout.flush()
    if args.follow:
        return _follow(store, args.scan_id, path)
    return EXIT_OK


def _follow(store: ScanStore, scan_id: str, path: Path) -> int:
    """Print what the log gains until the scan is terminal (and its last words are written)."""
    offset = path.stat().st_size if path.exists() else 0
    ended_at: float | None = None
    try:
        while True:
            if path.exists():
                with open(path, "rb") as handle:
                    handle.seek(offset)
                    data = handle.read()
                if data:
                    offset += len(data)
                    sys.stdout.write(data.decode("utf-8", "replace"))
                    sys.stdout.flush()
            if ended_at is None and _get(store, scan_id).status in TERMINAL_STATUSES:
                ended_at = time.monotonic()
            # a scan's process may write its last lines just after its status changes
            if ended_at is not None and time.monotonic() - ended_at > 1.0:
                return EXIT_OK
            time.sleep(FOLLOW_POLL_SECONDS)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


# ----------------------------------------------------------------------------------- parser
def _grace(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {raw!r}") from None
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError("must be from 0 to 600 seconds")
    return value


def _bounded(low: int, high: int) -> Any:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {raw!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}")
        return value

    return parse


def add_parser(sub: Any) -> None:
    from supervisor.kill import DEFAULT_GRACE_SECONDS

    scans = sub.add_parser("scans", help="list, inspect, start and stop scans (database and local processes)")
    cmds = scans.add_subparsers(dest="command", required=True)

    ls = cmds.add_parser("list", help="scans, newest first")
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--subscription", type=_uuid, metavar="ID")
    ls.add_argument("--limit", type=_bounded(1, 500), default=50)
    ls.add_argument("--offset", type=_bounded(0, 999_999_999), default=0)
    ls.add_argument("--json", action="store_true", help="the API's {count, limit, offset, scans} object")
    ls.set_defaults(func=_list)

    show = cmds.add_parser("show", help="one scan with its rule outcomes")
    show.add_argument("scan_id", type=_uuid)
    show.add_argument("--json", action="store_true", help="the API's scan object")
    show.set_defaults(func=_show)

    ps = cmds.add_parser("ps", help="active scans: pid, host, phase, progress, runtime, heartbeat age")
    ps.add_argument("--this-host", action="store_true", help="only scans of this host (OPENSHIELD_HOST_ID)")
    ps.add_argument("--json", action="store_true")
    ps.set_defaults(func=_ps)

    trigger = cmds.add_parser("trigger", help="create a scan (trigger=cli) and launch it like the API does")
    trigger.add_argument("--subscription", type=_uuid, metavar="ID", help="default: AZURE_SUBSCRIPTION_ID")
    trigger.add_argument("--rules", metavar="AZ-STOR-001,...", help="comma-separated rule ids (default: all)")
    trigger.add_argument("--wait", action="store_true",
                         help="follow the scan to its end (progress bar on a terminal); exit code = its status")
    trigger.add_argument("--json", action="store_true")
    trigger.set_defaults(func=_trigger)

    cancel = cmds.add_parser("cancel", help="cancel a queued scan, or ask a running one to stop")
    cancel.add_argument("scan_id", type=_uuid)
    cancel.add_argument("--json", action="store_true")
    cancel.set_defaults(func=_cancel)

    kill = cmds.add_parser("kill", help="SIGTERM a scan's process group on this host (--force: then SIGKILL)")
    kill.add_argument("target", metavar="SCAN_ID|PID")
    kill.add_argument("--force", action="store_true", help="SIGKILL the group if it is still alive after --grace")
    kill.add_argument("--grace", type=_grace, default=DEFAULT_GRACE_SECONDS, metavar="SECONDS",
                      help=f"wait before SIGKILL with --force (default {DEFAULT_GRACE_SECONDS:g})")
    kill.add_argument("--json", action="store_true")
    kill.set_defaults(func=_kill)

    logs = cmds.add_parser("logs", help="the end of a scan's scan.log (on the host that ran it)")
    logs.add_argument("scan_id", type=_uuid)
    logs.add_argument("-n", "--lines", type=_bounded(1, 5000), default=50)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until the scan ends")
    logs.add_argument("--json", action="store_true", help="{scan_id, lines, truncated}")
    logs.set_defaults(func=_logs)
