"""``python -m scanner.run --all-subscriptions``: scan every subscription the identity sees.

Each subscription is still its own scan and its own process. This command lists the
subscriptions, queues one scan each (Disabled ones are skipped, busy ones keep their active
scan), then launches them through the supervisor's launcher, at most the host's cap at a time,
and prints one progress line per subscription whenever its status or phase changes, until all
have ended. Exit code: the worst result (0 all completed, 1 one failed, 4 one cancelled;
3 when nothing could be queued).

``--enqueue-only`` queues and exits (what a schedule targeting every subscription runs, with
``--schedule-id``: the scans get ``trigger = "schedule"`` and the outcome is recorded on the
schedule).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

from scanner.azure.subscriptions import DiscoveryError, list_subscriptions
from scanner.estate import EnqueueResult, enqueue
from store.parsing import parse_uuid, split_rule_ids
from store.scans import ScanStore
from store.schedules import FireResult, ScheduleStore
from store.settings import Settings, database_notice
from store.status import TERMINAL, RunStatus, Trigger
from supervisor.exit_codes import ExitCode
from supervisor.launcher import Launcher

POLL_SECONDS = 1.0
_WORST = {RunStatus.COMPLETED: ExitCode.COMPLETED, RunStatus.CANCELLED: ExitCode.CANCELLED,
          RunStatus.FAILED: ExitCode.FAILED}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scanner.run --all-subscriptions",
                                     description="Scan every subscription the identity can see.")
    parser.add_argument("--all-subscriptions", action="store_true", required=True)
    parser.add_argument("--rules", type=split_rule_ids, metavar="AZ-STOR-001,...", help="rule ids (default: all)")
    parser.add_argument("--enqueue-only", action="store_true", help="queue the scans and exit (schedules)")
    parser.add_argument("--schedule-id", help="the schedule firing this run (with --enqueue-only)")
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    schedule_id = None
    if args.schedule_id:
        try:
            schedule_id = parse_uuid(args.schedule_id, "--schedule-id")
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return ExitCode.USAGE
    settings = Settings.from_env()
    notice = database_notice(settings)
    if notice:
        print(notice, file=sys.stderr, flush=True)
    store = ScanStore(settings.database_url)
    try:
        visible = list_subscriptions()
    except DiscoveryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if schedule_id:
            ScheduleStore(settings.database_url).record(schedule_id, FireResult(error=str(exc)))
        return ExitCode.FAILED
    result = enqueue(store, visible, wanted=None, trigger=Trigger.SCHEDULE if schedule_id else Trigger.CLI,
                     rules=args.rules, schedule_id=schedule_id)
    for entry in result.entries:
        what = {"created": f"scan {entry.scan_id} queued", "active": f"skipped: {entry.reason}",
                "skipped": f"skipped: {entry.reason}", "error": f"error: {entry.reason}"}[entry.outcome]
        print(f"{entry.subscription_id} {entry.display_name or ''}: {what}", flush=True)
    if schedule_id:
        ScheduleStore(settings.database_url).record(schedule_id, _fire_result(result, empty=not visible))
    if not result.created:
        print("nothing to scan" + ("" if visible else ": the identity can see no subscriptions"), file=sys.stderr)
        return ExitCode.NOT_RUNNABLE
    if args.enqueue_only:
        return ExitCode.COMPLETED
    return _run(store, Launcher(settings), [e.scan_id for e in result.created if e.scan_id])


def _fire_result(result: EnqueueResult, *, empty: bool) -> FireResult:
    fired = FireResult(scan_ids=[e.scan_id for e in result.created if e.scan_id])
    fired.skipped = [{"subscription_id": e.subscription_id, "reason": e.reason or e.outcome}
                     for e in result.entries if e.outcome != "created"]
    if empty:
        fired.error = "the identity can see no subscriptions"
    return fired


def _run(store: ScanStore, launcher: Launcher, scan_ids: list[str]) -> int:
    """Launch within the cap as slots free up; one line per change; the worst exit code."""
    seen: dict[str, tuple[str, str]] = {}
    waiting = list(scan_ids)
    while True:
        while waiting:
            current = store.get(waiting[0])
            if current is None or current.status != RunStatus.PENDING or current.host is not None:
                waiting.pop(0)  # started by a supervisor, or settled meanwhile
                continue
            if not launcher.launch(waiting[0]).launched:
                break  # the host is full: try again when a scan ends
            waiting.pop(0)
        rows = [store.get(s) for s in scan_ids]
        done = 0
        for row in rows:
            if row is None:
                continue
            state = (row.status, row.phase)
            if seen.get(row.scan_id) != state:
                seen[row.scan_id] = state
                extra = f" score {row.score}" if row.status == RunStatus.COMPLETED else (
                    f" ({row.error_message})" if row.error_message else f" {row.progress}%")
                print(f"{row.subscription_id} {row.scan_id} {row.status} {row.phase}{extra}", flush=True)
            done += row.status in TERMINAL
        if done == len(scan_ids):
            break
        time.sleep(POLL_SECONDS)
    finals = [r.status for r in rows if r is not None]
    print(f"{finals.count(RunStatus.COMPLETED)} completed, {finals.count(RunStatus.FAILED)} failed, "
          f"{finals.count(RunStatus.CANCELLED)} cancelled", flush=True)
    return max((_WORST.get(RunStatus(s), ExitCode.FAILED) for s in finals), default=ExitCode.COMPLETED)
