"""``bin/openshield scans ...``: list, show, ps, trigger, cancel, kill and logs, on the host.

These commands talk to the database (``DATABASE_URL``) and to this host's processes directly,
not to the HTTP API, so they work when the API is down and need no token. Status changes go
through :class:`store.scans.ScanStore`; signals through :mod:`supervisor.kill`. A
trigger launches through the same :class:`supervisor.launcher.Launcher` as the API
(``trigger=cli``), so the scan is supervised like any other.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from api.views import scan_detail_view, scan_view
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
from store import parsing
from store.clock import seconds_since
from store.models import Scan
from store.scans import ActiveScanExists, ScanStore
from store.settings import Settings
from store.status import STATUSES, TERMINAL, RunStatus, Trigger
from supervisor.kinds import SCAN
from supervisor.rundir import RunDir

POLL_SECONDS = 0.5
FOLLOW_POLL_SECONDS = 0.25
# exit code of `scans trigger --wait` per final status
_WAIT_EXIT = {RunStatus.COMPLETED: EXIT_OK, RunStatus.FAILED: EXIT_FAILED, RunStatus.CANCELLED: EXIT_CANCELLED}


def _context() -> tuple[Settings, ScanStore]:
    host = load_settings()
    return host, ScanStore(host.database_url)


def _uuid(raw: str) -> str:
    """A scan or subscription id in the API's canonical form (lower case 8-4-4-4-12)."""
    if not parsing.is_uuid(raw):
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
        print_json({"count": total, "limit": args.limit, "offset": args.offset, "scans": [scan_view(s) for s in page]})
        return EXIT_OK
    rows = [[s.scan_id, s.subscription_id, s.status, s.phase, f"{s.progress}%", s.host, scan_view(s)["created_at"],
             _clip(s.error_message, 50)] for s in page]
    print_table(["scan_id", "subscription", "status", "phase", "progress", "host", "created", "error"], rows)
    if total > len(page) + args.offset:
        print(f"({len(page)} of {total}; --limit/--offset for more)", file=sys.stderr)
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    _, store = _context()
    found = store.detail(args.scan_id)
    if found is None:
        raise CliError(f"scan {args.scan_id} not found", EXIT_NOT_FOUND)
    view = scan_detail_view(*found)
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
    """Active runs of every kind: scans, and CVE re-enrichments (``kind`` says which)."""
    from store.enrichment_runs import EnrichmentStore
    from supervisor.processes import process_matches

    settings, store = _context()
    runs: list[tuple[str, Any]] = [("scan", scan) for scan in store.active()]
    runs += [("enrich", run) for run in EnrichmentStore(settings.database_url).active()]
    if args.this_host:
        runs = [(kind, run) for kind, run in runs if run.host == settings.host_id]
    entries = []
    for kind, run in runs:
        local = run.host == settings.host_id
        if not local or run.pid is None:
            process = None  # another host's pid means nothing here; a queued run has none
        else:
            process = "alive" if process_matches(run.pid, run.process_create_time) else "gone"
        is_scan = kind == "scan"
        entries.append({
            "kind": kind, "scan_id": run.scan_id, "subscription_id": run.subscription_id if is_scan else None,
            "status": run.status, "phase": run.phase if is_scan else None,
            "progress": run.progress if is_scan else None, "pid": run.pid, "host": run.host,
            "this_host": local, "process": process,
            "runtime_seconds": _seconds(seconds_since(run.started_at)),
            "heartbeat_age_seconds": _seconds(seconds_since(run.heartbeat_at)),
            "cancel_requested": run.cancel_requested,
        })
    if args.json:
        print_json({"host": settings.host_id, "count": len(entries), "scans": entries})
        return EXIT_OK
    rows = [[e["scan_id"], e["kind"], e["pid"], e["host"], e["status"], e["phase"],
             None if e["progress"] is None else f"{e['progress']}%", duration(e["runtime_seconds"]),
             duration(e["heartbeat_age_seconds"]), e["process"]] for e in entries]
    print_table(["scan_id", "kind", "pid", "host", "status", "phase", "progress", "runtime", "heartbeat", "process"],
                rows)
    return EXIT_OK


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# ---------------------------------------------------------------------------------- trigger
def _trigger(args: argparse.Namespace) -> int:
    from supervisor.launcher import Launcher

    settings, store = _context()
    if args.all and args.subscription:
        raise CliError("give --all or --subscription, not both", EXIT_USAGE)
    rules = _check_rules(args.rules)
    if args.fail_on and not args.wait:
        raise CliError("--fail-on needs --wait (the gate judges the finished scan)", EXIT_USAGE)
    if args.all or len(args.subscription or []) > 1:  # the estate: one scan per subscription (cli/estate.py)
        if args.fail_on:
            raise CliError("--fail-on gates one subscription's scan: give a single --subscription", EXIT_USAGE)
        from cli.estate import trigger_many

        return trigger_many(args, settings, store, rules)
    subscription = args.subscription[0] if args.subscription else _default_subscription()
    try:
        scan = store.create(subscription, trigger=Trigger.CLI, rules=rules)
    except ActiveScanExists as exc:
        if args.json:
            print_json({"error": f"subscription {subscription} already has an active scan", "scan_id": exc.scan_id})
        raise CliError(f"subscription {subscription} already has an active scan {exc.scan_id}", EXIT_REFUSED) from None
    result = Launcher(settings).launch(scan.scan_id)
    message = "scan starting" if result.launched else (
        f"scan queued: this host already runs its maximum of {settings.max_concurrent_scans} concurrent scans")
    if not args.wait:
        if args.json:
            print_json({"scan_id": scan.scan_id, "status": RunStatus.PENDING, "message": message})
        else:
            print(scan.scan_id)
            print(message, file=sys.stderr)
        return EXIT_OK
    print(f"scan {scan.scan_id}: {message}", file=sys.stderr, flush=True)
    final = _wait(store, scan.scan_id)
    if args.json:
        found = store.detail(scan.scan_id)
        print_json(scan_detail_view(*found) if found else None)
    else:
        print(_summary(final))
    if final.status == RunStatus.COMPLETED and args.fail_on:
        from scanner.gate import gate

        return gate(settings.database_url, scan.scan_id, args.fail_on)
    return _WAIT_EXIT[final.status]


def _fail_on(raw: str) -> str:
    from scanner.gate import parse_severity

    try:
        return parse_severity(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _default_subscription() -> str:
    try:
        subscription = parsing.default_subscription()
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if subscription is None:
        raise CliError("--subscription is required (AZURE_SUBSCRIPTION_ID is not set)", EXIT_USAGE)
    return subscription


def _check_rules(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    from scanner.rules import rule_ids

    try:
        return parsing.check_rule_ids(parsing.split_rule_ids(raw), rule_ids(), what="--rules")
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


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
            if scan.status in TERMINAL:
                return scan
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        raise CliError(f"stopped waiting; scan {scan_id} goes on (bin/openshield scans cancel {scan_id})",
                       EXIT_INTERRUPTED) from None
    finally:
        if bar is not None:
            bar.close()


def _summary(scan: Scan) -> str:
    if scan.status == RunStatus.COMPLETED:
        return f"scan {scan.scan_id} completed: {scan.total_findings} findings, score {scan.score}"
    return f"scan {scan.scan_id} {scan.status}: {scan.error_message}"


# ----------------------------------------------------------------------------------- cancel
def _cancel(args: argparse.Namespace) -> int:
    _, store = _context()
    outcome = store.stop(args.scan_id)
    if outcome is None:
        raise CliError(f"scan {args.scan_id} not found", EXIT_NOT_FOUND)
    if outcome == "cancelled_now":
        answer = {"scan_id": args.scan_id, "status": RunStatus.CANCELLED, "message": "cancelled (it had not started)"}
    elif outcome == "requested":
        answer = {"scan_id": args.scan_id, "status": _get(store, args.scan_id).status, "cancel_requested": True,
                  "message": "cancellation requested; the supervisor stops it within seconds"}
    elif outcome in TERMINAL:
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
    from supervisor.kill import KillRefused, KillResult, find_run_process, kill_all, kill_run

    settings, _ = _context()
    results: list[KillResult]
    if args.all:
        if args.target is not None:
            raise CliError("give a target or --all, not both", EXIT_USAGE)
        results = kill_all(settings, force=args.force, grace_seconds=args.grace)
    else:
        if args.target is None:
            raise CliError("give a scan id or a pid (or --all)", EXIT_USAGE)
        target = args.target.strip()
        if not target.isdigit():
            try:
                target = _uuid(target)
            except argparse.ArgumentTypeError:
                raise CliError(f"give a scan id (UUID) or a pid, not {args.target!r}", EXIT_USAGE) from None
        try:
            run = find_run_process(settings.database_url, settings.host_id, target)
        except LookupError as exc:
            raise CliError(str(exc), EXIT_NOT_FOUND) from None
        except KillRefused as exc:
            raise CliError(str(exc), EXIT_REFUSED) from None
        results = [kill_run(run, force=args.force, grace_seconds=args.grace)]
    answers = [{"kind": r.kind, "scan_id": r.scan_id, "pid": r.pid, "signals": list(r.signals), "exited": r.exited}
               for r in results]
    if args.json:
        print_json({"killed": answers} if args.all else answers[0])
    else:
        for r in results:
            sent = " then ".join(r.signals) or "no signal (the process group was already gone)"
            state = "it has exited" if r.exited else "it is still running"
            what = "scan" if r.kind == SCAN.name else "enrichment of scan"
            print(f"{what} {r.scan_id}: sent {sent} to process group {r.pid}; {state}")
        if args.all and not results:
            print(f"no live scan or enrichment process on this host ({settings.host_id})")
    if args.force and not all(r.exited for r in results):
        return EXIT_FAILED
    return EXIT_OK


# ------------------------------------------------------------------------------------- logs
def _logs(args: argparse.Namespace) -> int:
    if args.follow and args.json:
        raise CliError("--follow and --json do not go together", EXIT_USAGE)
    settings, store = _context()
    scan = _get(store, args.scan_id)
    run_dir = RunDir(settings.data_dir, args.scan_id, SCAN)
    if not run_dir.log_path.exists() and scan.host not in (None, settings.host_id):
        raise CliError(f"the log of scan {args.scan_id} is on host {scan.host}; run this there", EXIT_FAILED)
    lines, truncated = run_dir.tail(args.lines)
    if args.json:
        print_json({"scan_id": args.scan_id, "lines": lines, "truncated": truncated})
        return EXIT_OK
    for line in lines:
        print(line)
    sys.stdout.flush()
    if args.follow:
        return _follow(store, args.scan_id, run_dir)
    return EXIT_OK


def _follow(store: ScanStore, scan_id: str, run_dir: RunDir) -> int:
    """Print what the log gains until the scan is terminal (and its last words are written)."""
    path = run_dir.log_path
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
            if ended_at is None and _get(store, scan_id).status in TERMINAL:
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


def _bounded(name: str, low: int, high: int) -> Any:
    def parse(raw: str) -> int:
        try:
            return parsing.bounded_int(raw.strip(), name, low, high)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_parser(sub: Any) -> None:
    from supervisor.kill import DEFAULT_GRACE_SECONDS

    scans = sub.add_parser("scans", help="list, inspect, start and stop scans (database and local processes)")
    cmds = scans.add_subparsers(dest="command", required=True)

    ls = cmds.add_parser("list", help="scans, newest first")
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--subscription", type=_uuid, metavar="ID")
    ls.add_argument("--limit", type=_bounded("--limit", 1, 500), default=50)
    ls.add_argument("--offset", type=_bounded("--offset", 0, 999_999_999), default=0)
    ls.add_argument("--json", action="store_true", help="the API's {count, limit, offset, scans} object")
    ls.set_defaults(func=_list)

    show = cmds.add_parser("show", help="one scan with its rule outcomes")
    show.add_argument("scan_id", type=_uuid)
    show.add_argument("--json", action="store_true", help="the API's scan object")
    show.set_defaults(func=_show)

    ps = cmds.add_parser("ps", help="active scans and CVE enrichments: pid, host, phase, progress, runtime, "
                                    "heartbeat age")
    ps.add_argument("--this-host", action="store_true", help="only runs of this host (OPENSHIELD_HOST_ID)")
    ps.add_argument("--json", action="store_true")
    ps.set_defaults(func=_ps)

    trigger = cmds.add_parser("trigger", help="create a scan (trigger=cli) and launch it like the API does")
    trigger.add_argument("--subscription", type=_uuid, metavar="ID", action="append",
                         help="default: AZURE_SUBSCRIPTION_ID; repeat it for several subscriptions (one scan each)")
    trigger.add_argument("--all", action="store_true",
                         help="every subscription the identity can see (Disabled ones are skipped)")
    trigger.add_argument("--rules", metavar="AZ-STOR-001,...", help="comma-separated rule ids (default: all)")
    trigger.add_argument("--wait", action="store_true",
                         help="follow the scan to its end (progress bar on a terminal); exit code = its status")
    trigger.add_argument("--json", action="store_true")
    trigger.add_argument("--fail-on", type=_fail_on, metavar="SEVERITY",
                         help="with --wait, the CI gate: exit 6 when the completed scan has an unmuted "
                              "failure at or above SEVERITY")
    trigger.set_defaults(func=_trigger)

    cancel = cmds.add_parser("cancel", help="cancel a queued scan, or ask a running one to stop")
    cancel.add_argument("scan_id", type=_uuid)
    cancel.add_argument("--json", action="store_true")
    cancel.set_defaults(func=_cancel)

    kill = cmds.add_parser("kill", help="SIGTERM a scan's (or its enrichment's) process group on this host "
                                        "(--force: then SIGKILL)")
    kill.add_argument("target", metavar="SCAN_ID|PID", nargs="?")
    kill.add_argument("--all", action="store_true",
                      help="every live scan and enrichment process of this host (what bin/demo --stop does)")
    kill.add_argument("--force", action="store_true", help="SIGKILL the group if it is still alive after --grace")
    kill.add_argument("--grace", type=_grace, default=DEFAULT_GRACE_SECONDS, metavar="SECONDS",
                      help=f"wait before SIGKILL with --force (default {DEFAULT_GRACE_SECONDS:g})")
    kill.add_argument("--json", action="store_true")
    kill.set_defaults(func=_kill)

    logs = cmds.add_parser("logs", help="the end of a scan's scan.log (on the host that ran it)")
    logs.add_argument("scan_id", type=_uuid)
    logs.add_argument("-n", "--lines", type=_bounded("--lines", 1, 5000), default=50)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until the scan ends")
    logs.add_argument("--json", action="store_true", help="{scan_id, lines, truncated}")
    logs.set_defaults(func=_logs)

    from cli import results  # scans diff, scans export: the results commands (cli/results.py)

    results.add_scan_commands(cmds)
