"""The scan process: ``python -m scanner.run <scan_id>`` or ``--subscription <id>``.

With a scan id it runs an existing ``pending`` record (what the launcher spawns), claiming it
with one conditional UPDATE so that two processes can never run the same scan. With
``--subscription`` it creates the record itself (``trigger=cli``) and runs it in the foreground
with a progress bar on a terminal.

Exit codes: 0 completed, 1 failed, 2 usage error, 3 scan not runnable (not pending, or the
subscription already has an active scan), 4 cancelled (through the database), 5 unknown scan,
128+N stopped by signal N (recorded as cancelled).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import traceback
import uuid
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Sequence

import psutil

from api.models.base import utcnow
from api.models.scan_state import ActiveScanExists, ScanStore
from api.settings import Settings

EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_RUNNABLE = 3
EXIT_CANCELLED = 4
EXIT_UNKNOWN_SCAN = 5

if TYPE_CHECKING:  # heavy imports stay lazy: usage errors must answer instantly
    from api.models.scan import Scan
    from scanner.azure.collector import ProgressCallback
    from scanner.inventory import Inventory, Needs
    from scanner.progress import ProgressReporter

log = logging.getLogger("scanner.run")


class SignalStop(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT so a blocked call unwinds at once."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def parse_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {value!r}") from None


def parse_rules(value: str) -> list[str]:
    return [r.strip().upper() for r in value.split(",") if r.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scanner.run",
        description="Run one OpenShield scan (an existing pending record, or a new one with --subscription).",
    )
    parser.add_argument("scan_id", nargs="?", type=parse_uuid, help="id of a pending scan record to run")
    parser.add_argument("--subscription", type=parse_uuid, help="create a scan of this subscription and run it")
    parser.add_argument("--rules", type=parse_rules, help="comma-separated rule ids (default: all)")
    parser.add_argument("--concurrency", type=int, default=None, help="parallel ARM requests (default 32)")
    parser.add_argument("--no-progress-bar", action="store_true", help="plain progress lines even on a terminal")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.scan_id) == bool(args.subscription):
        print("error: give either a scan id or --subscription", file=sys.stderr)
        return EXIT_USAGE
    if args.scan_id and args.rules:
        print("error: --rules only applies with --subscription (a scan record has its own rules)", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings.from_env()
    store = ScanStore(settings.database_url)

    from scanner.rules import select_rules  # imported here: usage errors above stay instant

    if args.subscription:
        try:
            select_rules(args.rules)
        except KeyError as exc:
            print(f"error: unknown rule ids: {exc.args[0]}", file=sys.stderr)
            return EXIT_USAGE
        from api.models.migrate import upgrade

        upgrade(settings.database_url)
        try:
            scan = store.create(args.subscription, trigger="cli", rules=args.rules)
        except ActiveScanExists as exc:
            print(f"error: subscription {args.subscription} already has an active scan {exc.scan_id}", file=sys.stderr)
            return EXIT_NOT_RUNNABLE
        scan_id = scan.scan_id
        print(f"scan {scan_id} created for subscription {args.subscription}", flush=True)
    else:
        scan_id = args.scan_id

    run_dir = settings.scan_dir(scan_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    _configure_logging(run_dir / "scan.log")
    return run_scan(store, settings, scan_id, run_dir, concurrency=args.concurrency,
                    use_bar=False if args.no_progress_bar else None)


def _configure_logging(path: Path) -> None:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def run_scan(store: ScanStore, settings: Settings, scan_id: str, run_dir: Path, *,
             concurrency: int | None = None, use_bar: bool | None = None) -> int:
    from scanner.progress import ProgressReporter

    stop = threading.Event()
    signalled: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Remembered as well as raised: raised inside an asyncio task the exception is caught
        # by the task, and the scan then stops through ``stop`` instead.
        signalled.append(signum)
        stop.set()
        raise SignalStop(signum)

    # Handlers first: the pid becomes visible at the claim, and an operator may signal it at once.
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    heartbeat: _Heartbeat | None = None
    reporter: ProgressReporter | None = None
    try:
        scan = store.get(scan_id)
        if scan is None:
            print(f"error: no scan {scan_id}", file=sys.stderr)
            return EXIT_UNKNOWN_SCAN
        me = psutil.Process()
        if not store.claim(scan_id, pid=me.pid, host=settings.host_id, process_create_time=me.create_time()):
            current = store.get(scan_id)
            status = current.status if current else "gone"
            print(f"error: scan {scan_id} is {status}; only a pending scan can be run", file=sys.stderr)
            return EXIT_NOT_RUNNABLE
        (run_dir / "pid").write_text(f"{me.pid}\n")
        log.info("scan %s claimed by pid %s on %s", scan_id, me.pid, settings.host_id)
        reporter = ProgressReporter(store, scan_id, run_dir, use_bar=use_bar)
        heartbeat = _Heartbeat(store, scan_id, reporter, stop, settings.heartbeat_interval_seconds)
        heartbeat.start()
        return _execute(store, settings, scan, scan_id, reporter, stop, concurrency, signalled)
    except SignalStop as exc:
        code = 128 + exc.signum
        message = _record_signal(store, scan_id, exc.signum)
        if reporter is not None:
            current = store.get(scan_id)
            reporter.final(current.status if current else "cancelled",
                           error_message=current.error_message if current else message)
        print(f"scan {scan_id}: {message}", file=sys.stderr, flush=True)
        _exit_now(code)
        return code  # pragma: no cover - _exit_now does not return
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)


def _record_signal(store: ScanStore, scan_id: str, signum: int) -> str:
    """Record a SIGTERM/SIGINT as ``cancelled`` (a no-op if the scan already ended)."""
    name = signal.Signals(signum).name
    current = store.get(scan_id)
    requested = current is not None and current.cancel_requested
    message = f"cancelled on request ({name})" if requested else f"cancelled by {name}"
    log.info("stopped: %s", message)
    store.cancel(scan_id, message, exit_code=128 + signum)
    return message


def _execute(store: ScanStore, settings: Settings, scan: "Scan", scan_id: str, reporter: "ProgressReporter",
             stop: threading.Event, concurrency: int | None, signalled: list[int]) -> int:
    from scanner.azure.collector import DEFAULT_CONCURRENCY, Cancelled, Collector
    from scanner.azure.errors import CollectionError
    from scanner.cve.scan_phase import EnrichmentStopped, enrich_rows
    from scanner.engine import ScanEngine, StopRequested, finding_row
    from scanner.rules import select_rules

    rules = select_rules(scan.rules)
    reporter.set_total_rules(len(rules))
    subscription_id = scan.subscription_id

    def collect(needs: Needs, on_progress: ProgressCallback, stop_event: threading.Event) -> Inventory:
        return Collector(subscription_id, needs, concurrency=concurrency or DEFAULT_CONCURRENCY,
                         on_progress=on_progress, stop=stop_event).collect()

    engine = ScanEngine(rules, collect, reporter, stop)
    try:
        result = engine.run()
    except (Cancelled, StopRequested):
        if signalled:
            raise SignalStop(signalled[0]) from None
        return _cancelled_by_request(store, scan_id, reporter)
    except CollectionError as exc:
        message = str(exc)
        log.error("collection failed: %s", message)
        store.fail(scan_id, message, exit_code=EXIT_FAILED)
        reporter.final("failed", error_message=message)
        print(f"scan {scan_id} failed: {message}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - record every failure, traceback to scan.log
        log.error("scan failed:\n%s", traceback.format_exc())
        message = f"internal error: {type(exc).__name__}: {exc}"
        store.fail(scan_id, message, exit_code=EXIT_FAILED)
        reporter.final("failed", error_message=message)
        print(f"scan {scan_id} failed: {message.splitlines()[0]}", file=sys.stderr, flush=True)
        return EXIT_FAILED

    detected_at = utcnow()
    rows = [finding_row(f, scan_id, subscription_id, detected_at) for f in result.findings]
    try:
        cve_status, cve_error = enrich_rows(rows, settings=settings, scan_id=scan_id, sink=reporter, stop=stop)
    except EnrichmentStopped:
        if signalled:
            raise SignalStop(signalled[0]) from None
        return _cancelled_by_request(store, scan_id, reporter)
    reporter.phase("saving")
    outcomes = [
        {
            "rule_id": o.rule_id,
            "status": o.status,
            "reason": o.reason,
            "evaluated_count": o.evaluated,
            "failed_count": o.failed,
            "not_evaluated_count": o.not_evaluated,
        }
        for o in result.outcomes
    ]
    if not store.complete_with_results(scan_id, findings=rows, outcomes=outcomes, score=result.score,
                                       cve_enrichment_status=cve_status, cve_enrichment_error=cve_error):
        current = store.get(scan_id)
        status = current.status if current else "gone"
        log.warning("scan finished but is already %s; results discarded", status)
        print(f"scan {scan_id} was {status} before it could be saved", file=sys.stderr, flush=True)
        return EXIT_CANCELLED if status == "cancelled" else EXIT_FAILED
    skipped = sum(1 for o in result.outcomes if o.status == "skipped")
    errored = sum(1 for o in result.outcomes if o.status == "error")
    reporter.final("completed", total_findings=len(rows), score=result.score, cve_enrichment_status=cve_status)
    log.info(
        "completed: %d resources, %d findings, score %s, %d rules skipped, %d errored, collect %.2fs, evaluate %.3fs",
        result.inventory.resource_count, len(rows), result.score, skipped, errored,
        result.collect_seconds, result.evaluate_seconds,
    )
    print(
        f"scan {scan_id} completed: {result.inventory.resource_count} resources, {len(rows)} findings, "
        f"score {result.score}, {skipped} rules skipped, {errored} errored, CVE enrichment {cve_status}"
        + (f" ({cve_error})" if cve_error else ""),
        flush=True,
    )
    return EXIT_COMPLETED


def _cancelled_by_request(store: ScanStore, scan_id: str, reporter: "ProgressReporter") -> int:
    current = store.get(scan_id)
    if current is not None and current.status == "running":
        store.cancel(scan_id, "cancelled on request", exit_code=EXIT_CANCELLED)
    current = store.get(scan_id)
    status = current.status if current else "cancelled"
    reporter.final(status)
    print(f"scan {scan_id} stopped: {status}", file=sys.stderr, flush=True)
    return EXIT_CANCELLED


def _exit_now(code: int) -> None:
    """Leave without waiting for worker threads stuck in network calls."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class _Heartbeat(threading.Thread):
    """Touches ``heartbeat_at`` and progress.json on a fixed beat, whatever the main thread does.

    It also notices, through the database, a cancel asked from another host or the scan being
    settled by the supervisor, and sets ``stop`` so the engine stops between rules.
    """

    def __init__(self, store: ScanStore, scan_id: str, reporter: "ProgressReporter", stop: threading.Event,
                 interval: float) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.store = store
        self.scan_id = scan_id
        self.reporter = reporter
        self.stop_scan = stop
        self.interval = interval
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            try:
                running, cancel_requested = self.store.heartbeat(self.scan_id)
                self.reporter.flush()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the beat
                log.warning("heartbeat failed", exc_info=True)
                continue
            if cancel_requested or not running:
                self.stop_scan.set()

    def stop(self) -> None:
        self._halt.set()


if __name__ == "__main__":
    sys.exit(main())
