"""``python -m scanner.enrich <scan_id>``: re-enrich a completed scan's findings with CVEs.

What ``POST /api/scans/<scan_id>/enrich`` launches (through the same launcher and monitor as a
scan). It claims the scan's pending enrichment run recorded for this host (one conditional
UPDATE; a second process loses and exits 3), heart-beats while it works, looks up the CVEs of
the software the stored findings name, and stores them, the run's ``completed`` status and the
scan's ``cve_enrichment_status`` in one transaction. Re-collection is never needed: everything
comes from the stored findings.

NVD failing → the run and the scan's enrichment are ``FAILED`` with a short reason, the
findings keep what they had. SIGTERM/SIGINT → ``FAILED`` naming the signal. SIGKILL → the
supervisor records it from the monitor's exit status.

Exit codes: 0 completed, 1 failed, 2 usage error, 3 nothing to claim, 128+N stopped by signal N.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import traceback
import uuid
from types import FrameType
from typing import Sequence

import psutil

from api.models.enrichment_state import CveUpdate, EnrichmentStore
from api.settings import Settings

EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_RUNNABLE = 3

log = logging.getLogger("scanner.enrich")


class SignalStop(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m scanner.enrich <scan_id>", file=sys.stderr)
        return EXIT_USAGE
    try:
        scan_id = str(uuid.UUID(args[0]))
    except ValueError:
        print(f"error: not a UUID: {args[0]!r}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings.from_env()
    from supervisor.monitor import run_dir_in

    run_dir = run_dir_in(settings.data_dir, scan_id, "enrich")
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "enrich.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().handlers[:] = [handler]
    logging.getLogger().setLevel(logging.INFO)
    return run(settings, scan_id, run_dir)


def run(settings: Settings, scan_id: str, run_dir: "os.PathLike[str] | str") -> int:
    store = EnrichmentStore(settings.database_url)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        raise SignalStop(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    beat: _Heartbeat | None = None
    run_id: int | None = None
    try:
        me = psutil.Process()
        run_id = store.claim(scan_id, pid=me.pid, host=settings.host_id, process_create_time=me.create_time())
        if run_id is None:
            print(f"error: scan {scan_id} has no pending enrichment for host {settings.host_id}", file=sys.stderr)
            return EXIT_NOT_RUNNABLE
        with open(os.path.join(run_dir, "pid"), "w") as handle:
            handle.write(f"{me.pid}\n")
        log.info("enrichment %s of scan %s claimed by pid %s on %s", run_id, scan_id, me.pid, settings.host_id)
        beat = _Heartbeat(store, run_id, stop, settings.heartbeat_interval_seconds)
        beat.start()
        return _enrich(store, settings, scan_id, run_id, stop)
    except SignalStop as exc:
        name = signal.Signals(exc.signum).name
        if run_id is not None:
            store.fail(run_id, f"enrichment stopped by {name}", exit_code=128 + exc.signum)
        log.info("stopped by %s", name)
        logging.shutdown()
        os._exit(128 + exc.signum)
    finally:
        if beat is not None:
            beat.halt.set()
        for s, h in previous.items():
            signal.signal(s, h)


def _enrich(store: EnrichmentStore, settings: Settings, scan_id: str, run_id: int, stop: threading.Event) -> int:
    from scanner.cve.enricher import build_client, lookup
    from scanner.cve.matching import Software
    from scanner.cve.nvd import NvdError
    from scanner.cve.ratelimit import Stopped
    from scanner.cve.settings import NvdSettings

    try:
        nvd = NvdSettings.from_env()
    except ValueError as exc:
        store.fail(run_id, f"CVE enrichment is misconfigured: {exc}", exit_code=EXIT_FAILED)
        return EXIT_FAILED
    try:
        targets = [(fid, sw) for fid, metadata in store.software_findings(scan_id)
                   if (sw := Software.from_metadata(metadata)) is not None]
        client = build_client(nvd, settings.database_url, settings.data_dir, stop)
        found = lookup(client, [sw for _, sw in targets],
                       lambda done, total: log.info("looked up %d of %d software versions", done, total))
        updates = [CveUpdate(fid, *found[sw]) for fid, sw in targets]
    except NvdError as exc:
        message = str(exc)
        log.error("enrichment failed: %s", message)
        store.fail(run_id, message, exit_code=EXIT_FAILED)
        print(f"enrichment of scan {scan_id} failed: {message}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    except Stopped:
        store.fail(run_id, "enrichment stopped", exit_code=EXIT_FAILED)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - record every failure, traceback to enrich.log
        log.error("enrichment failed:\n%s", traceback.format_exc())
        message = f"internal error: {type(exc).__name__}: {exc}"
        store.fail(run_id, message, exit_code=EXIT_FAILED)
        return EXIT_FAILED
    if not store.complete(run_id, updates, skipped=not targets):
        log.warning("enrichment finished but the run was already settled; nothing stored")
        return EXIT_FAILED
    log.info("completed: %d findings enriched, %d NVD requests, %d cache hits", len(updates),
             client.requests_sent, client.cache_hits)
    print(f"enrichment of scan {scan_id} completed: {len(updates)} findings, {client.requests_sent} NVD requests, "
          f"{client.cache_hits} cache hits", flush=True)
    return EXIT_COMPLETED


class _Heartbeat(threading.Thread):
    """Touches the run's ``heartbeat_at``; stops the work if the run was settled elsewhere."""

    def __init__(self, store: EnrichmentStore, run_id: int, stop: threading.Event, interval: float) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.store = store
        self.run_id = run_id
        self.stop_work = stop
        self.interval = interval
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            try:
                if not self.store.heartbeat(self.run_id):
                    self.stop_work.set()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the beat
                log.warning("heartbeat failed", exc_info=True)


if __name__ == "__main__":
    sys.exit(main())
