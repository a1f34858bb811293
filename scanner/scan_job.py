"""One claimed scan's work: collect → evaluate → enrich → save, and the status it ends in.

Runs inside :class:`supervisor.worker.Worker` (which claimed the record and beats for it). Every
way the work can end is recorded here through :class:`store.scans.ScanStore`: ``completed``
with its results in one transaction, ``failed`` with a short reason (the traceback goes to
scan.log), or ``cancelled`` when a cancel was requested. A signal is re-raised for the worker,
which records it the one way every kind of run does.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
import traceback

from store.clock import utcnow
from store.mutes import MuteStore
from store.scans import ScanStore
from store.settings import Settings
from store.status import RunStatus
from scanner.azure.collector import DEFAULT_CONCURRENCY, Cancelled, Collector, ProgressCallback
from scanner.azure.errors import CollectionError
from scanner.cve.scan_phase import EnrichmentStopped, enrich_rows
from scanner.engine import ScanEngine, ScanResult, StopRequested
from scanner.inventory import Inventory, Needs
from scanner.progress import ProgressReporter
from scanner.results import apply_mutes, finding_rows, outcome_rows, result_rows, score_without, summary
from scanner.rules import all_rules, select_rules
from supervisor.exit_codes import ExitCode
from supervisor.worker import Worker

log = logging.getLogger("scanner.run")


class ScanJob:
    def __init__(self, store: ScanStore, settings: Settings, scan_id: str, reporter: ProgressReporter,
                 worker: Worker, concurrency: int | None = None) -> None:
        self.store = store
        self.settings = settings
        self.scan_id = scan_id
        self.reporter = reporter
        self.worker = worker
        self.concurrency = concurrency or DEFAULT_CONCURRENCY

    def run(self) -> int:
        scan = self.store.get(self.scan_id)
        assert scan is not None, "a claimed scan has a record"
        rules = select_rules(scan.rules)
        self.reporter.set_total_rules(len(rules))
        subscription_id = scan.subscription_id

        def collect(needs: Needs, on_progress: ProgressCallback, stop: threading.Event) -> Inventory:
            return Collector(subscription_id, needs, concurrency=self.concurrency, on_progress=on_progress,
                             stop=stop).collect()

        # The engine ends its evaluating phase with everything the scan holds (the inventory:
        # ~10^6 objects at large:10000, and every verdict) frozen out of the cyclic collector:
        # it lives until the results are saved and holds no garbage cycles worth hunting, and
        # unfrozen the collector would walk it over and over while the ~70,000 result rows are
        # built and stored (measured: twice the time to build them, issue 17). Refcounting still
        # frees it all; thawed here, however the scan ends.
        try:
            try:
                result = ScanEngine(rules, collect, self.reporter, self.worker.stop, freeze_after=True).run()
            except (Cancelled, StopRequested):
                return self._stopped()
            except CollectionError as exc:
                log.error("collection failed: %s", exc)
                return self._failed(str(exc))
            except Exception as exc:  # noqa: BLE001 - record every failure, traceback to scan.log
                log.error("scan failed:\n%s", traceback.format_exc())
                return self._failed(f"internal error: {type(exc).__name__}: {exc}")
            return self._save(result, subscription_id)
        finally:
            gc.unfreeze()

    def _save(self, result: ScanResult, subscription_id: str) -> int:
        started = time.monotonic()
        rows = finding_rows(result, self.scan_id, subscription_id, utcnow())
        # mutes in force now: a mute created later applies from the next scan, an expired one no more
        muted = apply_mutes(rows, MuteStore(self.store.url).active(subscription_id), result.inventory)
        result.score = score_without(result, {r.id: r.severity for r in all_rules()}, muted)
        others = result_rows(result)
        rows_seconds = time.monotonic() - started
        started = time.monotonic()
        try:
            cve_status, cve_error = enrich_rows(rows, settings=self.settings, scan_id=self.scan_id, sink=self.reporter,
                                                stop=self.worker.stop)
        except EnrichmentStopped:
            return self._stopped()
        enrich_seconds = time.monotonic() - started
        self.reporter.phase("saving")
        started = time.monotonic()
        if not self.store.complete_with_results(self.scan_id, findings=rows, results=others,
                                                outcomes=outcome_rows(result),
                                                score=result.score, cve_enrichment_status=cve_status,
                                                cve_enrichment_error=cve_error):
            current = self.store.get(self.scan_id)
            status = current.status if current else "gone"
            log.warning("scan finished but is already %s; results discarded", status)
            _say(f"scan {self.scan_id} was {status} before it could be saved")
            return ExitCode.CANCELLED if status == RunStatus.CANCELLED else ExitCode.FAILED
        self.reporter.final(RunStatus.COMPLETED, total_findings=len(rows), score=result.score,
                            cve_enrichment_status=cve_status)
        store_seconds = time.monotonic() - started
        line = summary(result, len(rows))
        # the phases' wall times, for tests/bench/bench_collect.py (issue 17: evaluation's share)
        log.info("completed: %s, collect %.2fs, evaluate %.3fs, rows %.3fs, enrich %.3fs, store %.3fs, "
                 "evaluate CPU %.3fs", line, result.collect_seconds, result.evaluate_seconds, rows_seconds,
                 enrich_seconds, store_seconds, result.evaluate_cpu_seconds)
        _say(f"scan {self.scan_id} completed: {line}, CVE enrichment {cve_status}"
             + (f" ({cve_error})" if cve_error else ""), err=False)
        return ExitCode.COMPLETED

    def _failed(self, message: str) -> int:
        self.store.fail_running(self.scan_id, message, exit_code=ExitCode.FAILED)
        self.reporter.final(RunStatus.FAILED, error_message=message)
        _say(f"scan {self.scan_id} failed: {message.splitlines()[0]}")
        return ExitCode.FAILED

    def _stopped(self) -> int:
        """The work noticed ``stop``: a signal (the worker records it) or a cancel request."""
        self.worker.raise_if_signalled()
        self.store.cancel_running(self.scan_id, "cancelled on request", exit_code=ExitCode.CANCELLED)
        current = self.store.get(self.scan_id)
        status = current.status if current else RunStatus.CANCELLED
        self.reporter.final(status)
        _say(f"scan {self.scan_id} stopped: {status}")
        return ExitCode.CANCELLED


def _say(line: str, err: bool = True) -> None:
    print(line, file=sys.stderr if err else sys.stdout, flush=True)
