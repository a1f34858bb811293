"""Queue scans for several subscriptions at once: the API's many-subscription trigger,
``python -m scanner.run --all-subscriptions`` and schedules that target every subscription.

One rule for all three: a subscription the identity cannot see is an error with its reason, a
Disabled (or Deleted) one is skipped with its state, one with an active scan keeps that scan,
and every row that can be created is created in one transaction
(:meth:`store.scans.ScanStore.create_many`). Launching is the launcher's and the supervisors'
business (oldest first, per-host cap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from scanner.azure.subscriptions import DiscoveredSubscription
from store.scans import ScanStore


@dataclass(frozen=True)
class Entry:
    """One subscription's outcome. ``outcome``: ``created`` (``scan_id`` new), ``active``
    (``scan_id`` is the scan already running), ``skipped`` (not scannable) or ``error``."""

    subscription_id: str
    outcome: str
    scan_id: str | None = None
    reason: str | None = None
    display_name: str | None = None


@dataclass
class EnqueueResult:
    entries: list[Entry] = field(default_factory=list)

    @property
    def created(self) -> list[Entry]:
        return [e for e in self.entries if e.outcome == "created"]


NOT_VISIBLE = "not visible to the identity (no role on it, or it does not exist)"


def enqueue(store: ScanStore, visible: Iterable[DiscoveredSubscription], *, wanted: list[str] | None,
            trigger: str, rules: list[str] | None = None, schedule_id: str | None = None) -> EnqueueResult:
    """Queue one scan per wanted subscription (``wanted`` None = every visible one)."""
    by_id = {s.subscription_id.lower(): s for s in visible}
    targets = list(by_id) if wanted is None else list(dict.fromkeys(w.lower() for w in wanted))
    entries: dict[str, Entry] = {}
    creatable: list[str] = []
    for sub in targets:
        found = by_id.get(sub)
        if found is None:
            entries[sub] = Entry(sub, "error", reason=NOT_VISIBLE)
        elif not found.scannable:
            entries[sub] = Entry(sub, "skipped", reason=f"subscription is {found.state}; not scanned",
                                 display_name=found.display_name)
        else:
            creatable.append(sub)
    for made in store.create_many(creatable, trigger=trigger, rules=rules, schedule_id=schedule_id):
        name = by_id[made.subscription_id].display_name
        if made.created:
            entries[made.subscription_id] = Entry(made.subscription_id, "created", made.scan_id, display_name=name)
        else:
            entries[made.subscription_id] = Entry(made.subscription_id, "active", made.scan_id,
                                                  reason=f"already has an active scan {made.scan_id}",
                                                  display_name=name)
    return EnqueueResult([entries[s] for s in targets])
