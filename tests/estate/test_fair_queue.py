"""Fair queueing of a many-subscription trigger across hosts: oldest first, at most the cap per
host, each queued scan taken by exactly one host (the supervisor's launch loop, without processes)."""

from __future__ import annotations

import threading
import uuid

from store.runs import slots_taken
from store.scans import ScanStore

CAP = 2


def _take_queued(store: ScanStore, host: str, taken: list[tuple[str, str]]) -> None:
    """What ``Supervisor._launch_queued`` does: oldest first until the host is full (a run another
    host took first is passed over)."""
    for run in store.queued():
        if store.reserve_launch(run.scan_id, host=host, cap=CAP):
            taken.append((host, run.scan_id))
        elif slots_taken(store.url, host) >= CAP:
            return


def test_three_hosts_take_the_oldest_within_their_caps(database_url: str) -> None:
    store = ScanStore(database_url)
    subs = [str(uuid.uuid4()) for _ in range(40)]
    made = store.create_many(subs[:20])
    made += store.create_many(subs[20:])  # a later batch: newer created_at
    assert all(m.created for m in made) and len(made) == 40
    taken: list[tuple[str, str]] = []
    barrier = threading.Barrier(3)

    def host(name: str) -> None:
        barrier.wait()
        _take_queued(store, name, taken)

    threads = [threading.Thread(target=host, args=(f"host-{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hosts = [h for h, _ in taken]
    assert sorted(hosts.count(f"host-{i}") for i in range(3)) == [CAP] * 3  # nobody starves, nobody over cap
    ids = [s for _, s in taken]
    assert len(set(ids)) == len(ids) == 3 * CAP  # each taken once
    oldest = {m.scan_id for m in made[:20]}
    assert set(ids) <= oldest  # the first batch goes first


def test_many_trigger_keeps_one_active_scan_per_subscription(database_url: str) -> None:
    store = ScanStore(database_url)
    subs = [str(uuid.uuid4()) for _ in range(5)]
    first = store.create_many(subs + subs[:2])  # repeated ids are collapsed
    assert len(first) == 5 and all(m.created for m in first)
    again = store.create_many(subs)
    assert not any(m.created for m in again)
    assert [m.scan_id for m in again] == [m.scan_id for m in first]  # each names the active scan
