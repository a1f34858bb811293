"""Schedules fire exactly once per due time across hosts, catch up once, skip busy subscriptions."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from store.schedules import ScheduleError, ScheduleStore, Timing
from store.scans import ScanStore
from store.settings import Settings
from store.status import Trigger
from supervisor.schedules import ScheduleFirer

SUB = "11111111-2222-4333-8444-555555555555"


def _settings(url: str, tmp_path: Path, host: str) -> Settings:
    return dataclasses.replace(Settings.from_env(), database_url=url, data_dir=tmp_path / host, host_id=host)


def _due_schedule(url: str, *, overdue: timedelta, interval: int = 600) -> str:
    store = ScheduleStore(url)
    row = store.create(name="t", subscription_id=SUB, timing=Timing(interval, None))
    from sqlalchemy import update

    from store.db import session_scope
    from store.models import Schedule

    with session_scope(url) as session:
        session.execute(update(Schedule).where(Schedule.id == row.id)
                        .values(next_run_at=datetime.now(timezone.utc) - overdue))
    return row.id


def test_two_supervisors_racing_fire_one_scan(database_url: str, tmp_path: Path) -> None:
    schedule_id = _due_schedule(database_url, overdue=timedelta(seconds=1))
    firers = [ScheduleFirer(_settings(database_url, tmp_path, f"host-{i}")) for i in range(2)]
    barrier = threading.Barrier(2)
    fired: list[list[str]] = []

    def go(firer: ScheduleFirer) -> None:
        barrier.wait()
        fired.append(firer.tick())

    threads = [threading.Thread(target=go, args=(f,)) for f in firers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(f) for f in fired) == [0, 1]
    _, scans = ScanStore(database_url).list_scans(status=None, subscription_id=None, limit=10, offset=0)
    assert len(scans) == 1 and scans[0].trigger == Trigger.SCHEDULE and scans[0].schedule_id == schedule_id
    row = ScheduleStore(database_url).get(schedule_id)
    assert row is not None and row.last_scan_ids == [scans[0].scan_id]
    assert row.next_run_at > datetime.now(timezone.utc)


def test_catch_up_after_three_missed_intervals_fires_once(database_url: str, tmp_path: Path) -> None:
    schedule_id = _due_schedule(database_url, overdue=timedelta(seconds=3 * 600 + 5))
    before = ScheduleStore(database_url).get(schedule_id)
    firer = ScheduleFirer(_settings(database_url, tmp_path, "h"))
    assert firer.tick() == [schedule_id]
    firer._last_check = 0.0
    assert firer.tick() == []  # the missed slots are not fired one by one
    after = ScheduleStore(database_url).get(schedule_id)
    assert after is not None and before is not None
    assert after.next_run_at == before.next_run_at + timedelta(seconds=4 * 600)  # stays on its grid
    _, scans = ScanStore(database_url).list_scans(status=None, subscription_id=None, limit=10, offset=0)
    assert len(scans) == 1


def test_busy_subscription_is_skipped_with_the_reason(database_url: str, tmp_path: Path) -> None:
    busy = ScanStore(database_url).create(SUB)
    schedule_id = _due_schedule(database_url, overdue=timedelta(seconds=1))
    ScheduleFirer(_settings(database_url, tmp_path, "h")).tick()
    row = ScheduleStore(database_url).get(schedule_id)
    assert row is not None and row.last_scan_ids == []
    assert row.last_skipped == [{"subscription_id": SUB, "reason": f"already has an active scan {busy.scan_id}"}]


def test_paused_schedule_does_not_fire(database_url: str, tmp_path: Path) -> None:
    schedule_id = _due_schedule(database_url, overdue=timedelta(seconds=1))
    ScheduleStore(database_url).update(schedule_id, {"enabled": False}, min_interval=60)
    assert ScheduleFirer(_settings(database_url, tmp_path, "h")).tick() == []


def test_cron_in_a_time_zone_is_due_at_local_time() -> None:
    timing = Timing(None, "0 2 * * *", "Europe/Berlin").check(300)
    after = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert timing.next_after(after) == datetime(2026, 7, 2, 0, 0, tzinfo=timezone.utc)  # 02:00 CEST
    winter = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert timing.next_after(winter) == datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)  # 02:00 CET


@pytest.mark.parametrize("timing, words", [
    (Timing(None, "*/1 * * * *"), "more often"),
    (Timing(None, "0 0 31 2 *"), "invalid cron"),
    (Timing(60, None, "Nowhere/City"), "unknown time zone"),
])
def test_timing_refused_with_the_reason(timing: Timing, words: str) -> None:
    with pytest.raises(ScheduleError, match=words):
        timing.check(300)
