"""Where a running scan reports progress: the database, ``progress.json`` and the terminal.

Database writes are throttled (progress events can arrive hundreds of times a second while
collecting); phase changes and the last rule's completion always go through. ``progress.json`` is
replaced atomically (write a temp file, then rename) so a reader never sees half a file, at most
every ``FILE_WRITE_INTERVAL`` apart from those forced writes: with 160 rules finishing within half
a second, a write per rule cost more wall time than evaluating them (measured: ~3 ms per
write-and-rename on the shared machine's file system, issue 17).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from store.clock import iso, utcnow
from store.scans import ScanStore
from store.status import RunStatus
from supervisor.rundir import RunDir

if TYPE_CHECKING:  # a type only: the scan process loads the collector (aiohttp, the SDKs) after its claim
    from scanner.azure.collector import CollectProgress

DB_WRITE_INTERVAL = 0.5
FILE_WRITE_INTERVAL = 0.2
PLAIN_LINE_INTERVAL = 5.0


class ProgressReporter:
    """Implements ``scanner.engine.ProgressSink`` for one scan."""

    def __init__(self, store: ScanStore, scan_id: str, run_dir: RunDir, out: TextIO | None = None,
                 use_bar: bool | None = None) -> None:
        self.store = store
        self.scan_id = scan_id
        self.run_dir = run_dir
        self.out = out or sys.stdout
        self.use_bar = self.out.isatty() if use_bar is None else use_bar
        self._lock = threading.Lock()
        self.state: dict[str, Any] = {
            "scan_id": scan_id,
            "pid": os.getpid(),
            "status": RunStatus.RUNNING,
            "phase": "starting",
            "progress": 0,
            "rules_completed": 0,
            "total_rules": 0,
            "resources_collected": 0,
            "fetches_done": 0,
            "fetches_total": 0,
        }
        self._last_db = 0.0
        self._last_file = 0.0
        self._last_line = 0.0
        self._bar: Any = None

    # --------------------------------------------------------------- ProgressSink
    def phase(self, name: str) -> None:
        with self._lock:
            self.state["phase"] = name
        self._close_bar()
        self._line(f"phase: {name}", force=True)
        self.flush(force=True)

    def collecting(self, event: CollectProgress, percent: int) -> None:
        with self._lock:
            self.state.update(
                progress=percent,
                resources_collected=event.resources_listed,
                fetches_done=event.done,
                fetches_total=event.total,
            )
        if self.use_bar:
            self._bar_update(event.done, event.total, "collecting")
        else:
            self._line(f"collecting: {event.resources_listed} resources listed, {event.done}/{event.total} details fetched")
        self.flush()

    def rule_done(self, completed: int, total: int, percent: int) -> None:
        with self._lock:
            self.state.update(rules_completed=completed, total_rules=total, progress=percent)
        if self.use_bar:
            self._bar_update(completed, total, "evaluating")
        else:
            self._line(f"evaluating: {completed}/{total} rules", force=completed == total)
        self.flush(force=completed == total)

    def enriching(self, done: int, total: int, percent: int) -> None:
        """CVE look-ups: ``done`` of ``total`` distinct software versions."""
        with self._lock:
            self.state.update(progress=percent, cve_lookups_done=done, cve_lookups_total=total)
        self._line(f"enriching: {done}/{total} software versions looked up in NVD", force=True)
        self.flush(force=True)

    # ------------------------------------------------------------------ outputs
    def set_total_rules(self, total: int) -> None:
        with self._lock:
            self.state["total_rules"] = total
        self.flush(force=True)

    def flush(self, force: bool = False) -> None:
        """Write progress.json and the database row (each throttled unless ``force``)."""
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_file < FILE_WRITE_INTERVAL:
                return
            self._last_file = now
            snapshot = dict(self.state)
            due = force or now - self._last_db >= DB_WRITE_INTERVAL
            if due:
                self._last_db = now
        snapshot["updated_at"] = iso(utcnow())
        self.run_dir.write_progress(snapshot)
        if due and snapshot["status"] == RunStatus.RUNNING:
            self.store.progress(
                self.scan_id,
                phase=snapshot["phase"],
                progress=snapshot["progress"],
                rules_completed=snapshot["rules_completed"],
                total_rules=snapshot["total_rules"],
                resources_collected=snapshot["resources_collected"],
            )

    def final(self, status: str, **extra: Any) -> None:
        """Last progress.json (after the database has the terminal status)."""
        self._close_bar()
        with self._lock:
            self.state.update(status=status, **extra)
            snapshot = dict(self.state)
        snapshot["updated_at"] = iso(utcnow())
        self.run_dir.write_progress(snapshot)

    # ------------------------------------------------------------------- terminal
    def _line(self, text: str, force: bool = False) -> None:
        if self.use_bar and not force:
            return
        now = time.monotonic()
        if force or now - self._last_line >= PLAIN_LINE_INTERVAL:
            self._last_line = now
            print(text, file=self.out, flush=True)

    def _bar_update(self, done: int, total: int, label: str) -> None:
        from tqdm import tqdm  # only on a terminal

        if self._bar is None or self._bar.desc != label:
            self._close_bar()
            self._bar = tqdm(total=total, desc=label, file=self.out, unit="item", dynamic_ncols=True)
        if total != self._bar.total:
            self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
