"""``python -m scanner.enrich <scan_id>``: re-enrich a completed scan's findings with CVEs.

What ``POST /api/scans/<scan_id>/enrich`` launches, through the same launcher, monitor and
in-process scaffold (:class:`supervisor.worker.Worker`) as a scan: it claims the scan's queued
enrichment run (one conditional UPDATE; a second process loses and exits 3), heart-beats while
it works, looks up the CVEs of the software the stored findings name, and stores them, the
run's ``completed`` status and the scan's ``cve_enrichment_status`` in one transaction.
Re-collection is never needed: everything comes from the stored findings.

NVD failing → the run and the scan's enrichment are ``FAILED`` with a short reason, the
findings keep what they had. SIGTERM/SIGINT → ``cancelled`` naming the signal, like a scan.
SIGKILL → the supervisor records it from the monitor's exit status.

Exit codes: :class:`supervisor.exit_codes.ExitCode` (0 completed, 1 failed, 2 usage error,
3 nothing to claim, 128+N stopped by signal N).
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Sequence

from store.enrichment_runs import CveUpdate, EnrichmentStore
from store.settings import Settings
from supervisor.exit_codes import ExitCode, scan_id_argument
from supervisor.kinds import ENRICH
from supervisor.rundir import RunDir
from supervisor.worker import Worker, configure_logging

log = logging.getLogger("scanner.enrich")


def main(argv: Sequence[str] | None = None) -> int:
    scan_id = scan_id_argument(sys.argv[1:] if argv is None else argv, "usage: python -m scanner.enrich <scan_id>")
    settings = Settings.from_env()
    run_dir = RunDir(settings.data_dir, scan_id, ENRICH).create()
    configure_logging(run_dir)
    return run(settings, scan_id, run_dir)


def run(settings: Settings, scan_id: str, run_dir: RunDir) -> int:
    store = EnrichmentStore(settings.database_url)
    worker = Worker(store, run_dir, settings.heartbeat_interval_seconds)

    def claim(pid: int, create_time: float) -> int | None:
        run_id = store.claim(scan_id, pid=pid, host=settings.host_id, process_create_time=create_time)
        if run_id is None:
            print(f"error: scan {scan_id} has no pending enrichment for host {settings.host_id}", file=sys.stderr)
        else:
            log.info("enrichment %s of scan %s claimed by pid %s on %s", run_id, scan_id, pid, settings.host_id)
        return run_id

    return worker.run(claim, lambda run_id: _enrich(store, settings, scan_id, run_id, worker))


def _enrich(store: EnrichmentStore, settings: Settings, scan_id: str, run_id: int, worker: Worker) -> int:
    from scanner.cve.enricher import build_client, lookup
    from scanner.cve.matching import Software
    from scanner.cve.nvd import NvdError
    from scanner.cve.ratelimit import Stopped
    from scanner.cve.settings import NvdSettings

    try:
        nvd = NvdSettings.from_env()
    except ValueError as exc:
        return _failed(store, run_id, scan_id, f"CVE enrichment is misconfigured: {exc}")
    try:
        targets = [(fid, sw) for fid, metadata in store.software_findings(scan_id)
                   if (sw := Software.from_metadata(metadata)) is not None]
        client = build_client(nvd, settings.database_url, settings.data_dir, worker.stop)
        found = lookup(client, [sw for _, sw in targets],
                       lambda done, total: log.info("looked up %d of %d software versions", done, total))
        updates = [CveUpdate(fid, *found[sw]) for fid, sw in targets]
    except NvdError as exc:
        log.error("enrichment failed: %s", exc)
        return _failed(store, run_id, scan_id, str(exc))
    except Stopped:
        worker.raise_if_signalled()
        store.cancel_running(run_id, "cancelled on request", exit_code=ExitCode.CANCELLED)
        return ExitCode.CANCELLED
    except Exception as exc:  # noqa: BLE001 - record every failure, traceback to enrich.log
        log.error("enrichment failed:\n%s", traceback.format_exc())
        return _failed(store, run_id, scan_id, f"internal error: {type(exc).__name__}: {exc}")
    if not store.complete(run_id, updates, skipped=not targets):
        log.warning("enrichment finished but the run was already settled; nothing stored")
        return ExitCode.FAILED
    log.info("completed: %d findings enriched, %d NVD requests, %d cache hits", len(updates),
             client.requests_sent, client.cache_hits)
    print(f"enrichment of scan {scan_id} completed: {len(updates)} findings, {client.requests_sent} NVD requests, "
          f"{client.cache_hits} cache hits", flush=True)
    return ExitCode.COMPLETED


def _failed(store: EnrichmentStore, run_id: int, scan_id: str, message: str) -> int:
    store.fail_running(run_id, message, exit_code=ExitCode.FAILED)
    print(f"enrichment of scan {scan_id} failed: {message.splitlines()[0]}", file=sys.stderr, flush=True)
    return ExitCode.FAILED


if __name__ == "__main__":
    sys.exit(main())
