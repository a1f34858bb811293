"""The scan process: ``python -m scanner.run <scan_id>`` or ``--subscription <id>``.

With a scan id it runs an existing ``pending`` record (what the launcher spawns), claiming it
with one conditional UPDATE so that two processes can never run the same scan. With
``--subscription`` it creates the record itself (``trigger=cli``) and runs it in the foreground
with a progress bar on a terminal.

The process scaffold (claim, pid file, heartbeat, signals, logging) is
:class:`supervisor.worker.Worker`, shared with CVE re-enrichment; the work itself is
:class:`scanner.scan_job.ScanJob`. Exit codes are :class:`supervisor.exit_codes.ExitCode`:
0 completed, 1 failed, 2 usage error, 3 not runnable (not pending, or the subscription already
has an active scan), 4 cancelled, 5 unknown scan, 128+N stopped by signal N.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from store.parsing import check_rule_ids, parse_uuid, split_rule_ids
from store.scans import ActiveScanExists, ScanStore
from store.settings import Settings, database_notice
from store.status import RunStatus, Trigger
from supervisor.exit_codes import ExitCode
from supervisor.kinds import SCAN
from supervisor.rundir import RunDir
from supervisor.worker import Worker, configure_logging

log = logging.getLogger("scanner.run")

# what --concurrency defaults to (scanner.azure.collector.DEFAULT_CONCURRENCY, not imported
# here: usage errors must answer before the Azure SDKs load)
DEFAULT_CONCURRENCY = 64


def _uuid(raw: str) -> str:
    try:
        return parse_uuid(raw, "the id")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scanner.run",
        description="Run one OpenShield scan (an existing pending record, or a new one with --subscription).",
    )
    parser.add_argument("scan_id", nargs="?", type=_uuid, help="id of a pending scan record to run")
    parser.add_argument("--subscription", type=_uuid, help="create a scan of this subscription and run it")
    parser.add_argument("--rules", type=split_rule_ids, metavar="AZ-STOR-001,...",
                        help="comma-separated rule ids (default: all)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help=f"parallel ARM requests (default {DEFAULT_CONCURRENCY})")
    parser.add_argument("--no-progress-bar", action="store_true", help="plain progress lines even on a terminal")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.scan_id) == bool(args.subscription):
        print("error: give either a scan id or --subscription", file=sys.stderr)
        return ExitCode.USAGE
    if args.scan_id and args.rules is not None:
        print("error: --rules only applies with --subscription (a scan record has its own rules)", file=sys.stderr)
        return ExitCode.USAGE
    settings = Settings.from_env()
    store = ScanStore(settings.database_url)

    if args.subscription:
        from scanner.rules import rule_ids  # imported here: usage errors above stay instant

        if args.rules is not None:
            try:
                check_rule_ids(args.rules, rule_ids(), what="--rules")
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return ExitCode.USAGE
        from store.migrate import upgrade

        notice = database_notice(settings)
        if notice:
            print(notice, file=sys.stderr, flush=True)
        upgrade(settings.database_url)
        try:
            scan = store.create(args.subscription, trigger=Trigger.CLI, rules=args.rules,
                                launched_by=settings.host_id)
        except ActiveScanExists as exc:
            print(f"error: subscription {args.subscription} already has an active scan {exc.scan_id}", file=sys.stderr)
            return ExitCode.NOT_RUNNABLE
        scan_id = scan.scan_id
        print(f"scan {scan_id} created for subscription {args.subscription}", flush=True)
    else:
        scan_id = args.scan_id

    run_dir = RunDir(settings.data_dir, scan_id, SCAN).create()
    configure_logging(run_dir)
    return run_scan(store, settings, scan_id, run_dir, concurrency=args.concurrency,
                    use_bar=False if args.no_progress_bar else None)


def run_scan(store: ScanStore, settings: Settings, scan_id: str, run_dir: RunDir, *,
             concurrency: int | None = None, use_bar: bool | None = None) -> int:
    """Claim the scan record and run it to a terminal status; the exit code."""
    from scanner.progress import ProgressReporter

    worker = Worker(store, run_dir, settings.heartbeat_interval_seconds)
    reporter: list[ProgressReporter] = []

    def claim(pid: int, create_time: float) -> str | None:
        if store.get(scan_id) is None:
            print(f"error: no scan {scan_id}", file=sys.stderr)
            raise _UnknownScan()
        if not store.claim(scan_id, pid=pid, host=settings.host_id, process_create_time=create_time):
            current = store.get(scan_id)
            print(f"error: scan {scan_id} is {current.status if current else 'gone'}; only a pending scan can be run",
                  file=sys.stderr)
            return None
        log.info("scan %s claimed by pid %s on %s", scan_id, pid, settings.host_id)
        reporter.append(ProgressReporter(store, scan_id, run_dir, use_bar=use_bar))
        return scan_id

    def work(key: str) -> int:
        from scanner.scan_job import ScanJob

        return ScanJob(store, settings, key, reporter[0], worker, concurrency).run()

    def after_signal(message: str) -> None:
        if reporter:
            current = store.get(scan_id)
            reporter[0].final(current.status if current else RunStatus.CANCELLED,
                              error_message=current.error_message if current else message)

    try:
        return worker.run(claim, work, on_signal_recorded=after_signal,
                          on_beat=lambda: reporter[0].flush() if reporter else None)
    except _UnknownScan:
        return ExitCode.UNKNOWN_SCAN


class _UnknownScan(Exception):
    """No record with that id: exit 5 rather than 3."""


if __name__ == "__main__":
    sys.exit(main())
