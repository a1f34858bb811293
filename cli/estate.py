"""``bin/openshield scans trigger --all | --subscription A --subscription B [--wait]``.

Lists the subscriptions the identity can see (ARM), queues one scan per wanted subscription in
one transaction (:func:`scanner.estate.enqueue`: Disabled ones are skipped, busy ones keep their
active scan, invisible ones are errors), launches them on this host within its cap (the
supervisors start the rest as slots free up) and, with ``--wait``, prints a line per
subscription whenever its scan changes, until every scan has ended.

Exit code: the worst (highest) of each subscription's: 0 completed / queued / skipped as
Disabled, 1 failed or not visible, 3 already had an active scan, 4 cancelled.
"""

from __future__ import annotations

import argparse
import sys
import time

from cli.output import EXIT_CANCELLED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, CliError, print_json
from scanner.estate import Entry, enqueue
from store.scans import ScanStore
from store.settings import Settings
from store.status import TERMINAL, RunStatus, Trigger

POLL_SECONDS = 1.0
_ENTRY_EXIT = {"created": EXIT_OK, "skipped": EXIT_OK, "error": EXIT_FAILED, "active": EXIT_REFUSED}
_FINAL_EXIT = {RunStatus.COMPLETED: EXIT_OK, RunStatus.FAILED: EXIT_FAILED, RunStatus.CANCELLED: EXIT_CANCELLED}


def trigger_many(args: argparse.Namespace, settings: Settings, store: ScanStore, rules: list[str] | None) -> int:
    from scanner.azure.subscriptions import DiscoveryError, list_subscriptions
    from supervisor.launcher import Launcher

    try:
        visible = list_subscriptions()
    except DiscoveryError as exc:
        raise CliError(str(exc), EXIT_FAILED) from None
    wanted = None if args.all else list(args.subscription)
    if wanted is None and not visible:
        raise CliError("the identity can see no subscriptions: give it the Reader role on them "
                       "(or on a management group above them)", EXIT_REFUSED)
    result = enqueue(store, visible, wanted=wanted, trigger=Trigger.CLI, rules=rules)
    launcher = Launcher(settings)
    for entry in result.created:
        if entry.scan_id is None or not launcher.launch(entry.scan_id).launched:
            break  # this host is full: the supervisors launch the rest, oldest first
    if args.json and not args.wait:
        print_json({"count": len(result.entries), "scans": [_entry_json(e) for e in result.entries]})
    else:
        for entry in result.entries:
            print(_entry_line(entry), file=sys.stderr if args.wait else sys.stdout, flush=True)
    codes = [_ENTRY_EXIT[e.outcome] for e in result.entries if e.outcome != "created"]
    if not args.wait:
        return max(codes, default=EXIT_OK)
    finals = _wait_all(store, [e.scan_id for e in result.created if e.scan_id])
    if args.json:
        print_json({"count": len(result.entries), "scans": [
            {**_entry_json(e), "final_status": finals.get(e.scan_id or "")} for e in result.entries]})
    codes += [_FINAL_EXIT.get(RunStatus(s), EXIT_FAILED) for s in finals.values()]
    return max(codes, default=EXIT_OK)


def _entry_json(entry: Entry) -> dict[str, object]:
    return {"subscription_id": entry.subscription_id, "display_name": entry.display_name,
            "result": entry.outcome, "scan_id": entry.scan_id, "error": entry.reason}


def _entry_line(entry: Entry) -> str:
    name = f" ({entry.display_name})" if entry.display_name else ""
    if entry.outcome == "created":
        return f"{entry.subscription_id}{name}: scan {entry.scan_id} queued"
    return f"{entry.subscription_id}{name}: {entry.outcome}: {entry.reason}"


def _wait_all(store: ScanStore, scan_ids: list[str]) -> dict[str, str]:
    """Poll until every scan is terminal; one line per change; final statuses by scan id."""
    last: dict[str, tuple[object, ...]] = {}
    try:
        while True:
            rows = [row for row in (store.get(s) for s in scan_ids) if row is not None]
            for row in rows:
                state = (row.status, row.phase, row.progress)
                if last.get(row.scan_id) != state:
                    last[row.scan_id] = state
                    tail = (f" score {row.score}, {row.total_findings} findings" if row.status == RunStatus.COMPLETED
                            else f" {row.error_message}" if row.error_message else "")
                    print(f"{time.strftime('%H:%M:%S')} {row.subscription_id} {row.status} {row.phase} "
                          f"{row.progress}%{tail}", file=sys.stderr, flush=True)
            if all(row.status in TERMINAL for row in rows):
                return {row.scan_id: row.status for row in rows}
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        raise CliError("stopped waiting; the scans go on (bin/openshield scans ps)", EXIT_INTERRUPTED) from None
