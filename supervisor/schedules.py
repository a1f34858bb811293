"""Firing due schedules, from every host's supervisor loop (``Supervisor.tick``).

Each check (at most once a second) reads the due schedules and tries to advance each one's
``next_run_at`` (:meth:`store.schedules.ScheduleStore.claim_due`): the database lets exactly one
host win a due time, so two supervisors never fire it twice. The winner then

- for one subscription: queues its scan (``trigger = "schedule"``, the schedule's id) or, when
  the subscription still has an active scan, records it skipped with that scan's id;
- for every subscription: starts ``python -m scanner.run --all-subscriptions --enqueue-only
  --schedule-id <id>`` (detached, logging to ``<data>/schedules/<id>.log``), because listing the
  subscriptions is an Azure call that belongs to the scanner, not to the supervisor. That process
  queues the scans and records what it did on the schedule.

Queued scans are launched like any other: oldest first, within each host's cap.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from store.models import Schedule
from store.scans import ScanStore
from store.schedules import FireResult, ScheduleStore
from store.settings import Settings
from store.status import Trigger

log = logging.getLogger("openshield.supervisor")

CHECK_SECONDS = 1.0
CODE_ROOT = Path(__file__).resolve().parents[1]


def fire_subscription(url: str, row: Schedule) -> FireResult:
    """Queue the schedule's one subscription, or record why not."""
    assert row.subscription_id is not None
    result = FireResult()
    for made in ScanStore(url).create_many([row.subscription_id], trigger=Trigger.SCHEDULE, rules=row.rules,
                                           schedule_id=row.id):
        if made.created and made.scan_id:
            result.scan_ids.append(made.scan_id)
        else:
            result.skipped.append({"subscription_id": made.subscription_id,
                                   "reason": f"already has an active scan {made.scan_id}"})
    return result


@dataclass
class ScheduleFirer:
    settings: Settings
    _last_check: float = 0.0
    _children: list["subprocess.Popen[bytes]"] = field(default_factory=list)

    def tick(self) -> list[str]:
        """Fire what is due (at most once per ``CHECK_SECONDS``); the ids this host fired.

        Never raises: a schedule problem (even the database down) must not keep the supervisor's
        tick from reaping and launching scans; it is logged and tried again next time."""
        now = time.monotonic()
        if now - self._last_check < CHECK_SECONDS:
            return []
        self._last_check = now
        self._children = [c for c in self._children if c.poll() is None]
        try:
            return self._fire_due()
        except Exception:  # noqa: BLE001
            log.exception("checking schedules failed; trying again in %s s", CHECK_SECONDS)
            return []

    def _fire_due(self) -> list[str]:
        store = ScheduleStore(self.settings.database_url)
        fired = []
        for row in store.due():
            if not store.claim_due(row, host=self.settings.host_id):
                continue  # another host fired this due time
            fired.append(row.id)
            try:
                if row.subscription_id is not None:
                    result = fire_subscription(self.settings.database_url, row)
                    store.record(row.id, result)
                    log.info("schedule %s fired: %s queued, %s skipped", row.id, len(result.scan_ids),
                             len(result.skipped))
                else:
                    self._children.append(self._spawn_estate(row))
                    log.info("schedule %s fired: listing every subscription", row.id)
            except Exception as exc:  # noqa: BLE001 - one schedule's failure must not stop the others
                log.exception("schedule %s could not fire", row.id)
                store.record(row.id, FireResult(error=f"could not fire: {exc}"))
        return fired

    def _spawn_estate(self, row: Schedule) -> "subprocess.Popen[bytes]":
        directory = self.settings.data_dir / "schedules"
        directory.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(OPENSHIELD_DATA_DIR=str(self.settings.data_dir), DATABASE_URL=self.settings.database_url,
                   OPENSHIELD_HOST_ID=self.settings.host_id)
        with open(directory / f"{row.id}.log", "ab") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "scanner.run", "--all-subscriptions", "--enqueue-only", "--schedule-id", row.id],
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                close_fds=True, cwd=str(CODE_ROOT), env=env)
        # reap it when it ends, so it never lingers as a zombie of the supervisor
        threading.Thread(target=proc.wait, name=f"schedule-{row.id[:8]}", daemon=True).start()
        return proc
