"""The supervisor's share of retention (:mod:`store.retention` decides what goes): every
``interval`` seconds, one bounded pass deletes old scans from the database and removes their run
directories on this host, plus run directories left here by scans another host already pruned
(only directories untouched for longer than the retention period, so nothing in use is removed).
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from store.parsing import is_uuid
from store.retention import RetentionPolicy, existing_scan_ids, prune

log = logging.getLogger("supervisor.retention")

INTERVAL_SECONDS = 60.0
MAX_SCANS_PER_PASS = 20
MAX_DIRS_PER_SWEEP = 200


@dataclass
class Retention:
    database_url: str
    data_dir: Path
    policy: RetentionPolicy
    interval: float = INTERVAL_SECONDS
    max_scans: int = MAX_SCANS_PER_PASS
    _next: float = field(default=0.0)

    def maybe_run(self) -> None:
        """Called every tick; does a pass when one is due (the first one at start-up)."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.interval
        self.run_once()

    def run_once(self) -> list[str]:
        deleted = prune(self.database_url, self.policy, max_scans=self.max_scans)
        for scan_id in deleted:
            shutil.rmtree(self.data_dir / "scans" / scan_id, ignore_errors=True)
        if deleted:
            log.info("retention: pruned %d scan(s) older than %d days", len(deleted), self.policy.days)
        self._sweep()
        return deleted

    def _sweep(self) -> None:
        root = self.data_dir / "scans"
        if not root.is_dir():
            return
        cutoff = time.time() - self.policy.days * 86400
        stale = []
        for entry in root.iterdir():
            if len(stale) >= MAX_DIRS_PER_SWEEP:
                break
            if entry.is_dir() and is_uuid(entry.name) and entry.stat().st_mtime < cutoff:
                stale.append(entry.name)
        for scan_id in set(stale) - existing_scan_ids(self.database_url, stale):
            shutil.rmtree(root / scan_id, ignore_errors=True)
