"""Discovery through the real SubscriptionClient against the emulator, and a schedule over every
subscription fired by the supervisor's hook (which starts ``scanner.run --all-subscriptions
--enqueue-only``)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import update

from scanner.azure.endpoints import AzureEndpoints
from scanner.azure.subscriptions import DiscoveryError, list_subscriptions
from store.clock import utcnow
from store.db import session_scope
from store.models import Schedule
from store.scans import ScanStore
from store.schedules import ScheduleStore, Timing
from store.settings import Settings
from store.status import Trigger
from supervisor.schedules import ScheduleFirer
from tests.fakeazure import estate as E
from tests.fakeazure import tenants as T
from tests.fakeazure.harness import Emulator, start_emulator, wait_until

DENIED = "99999999-1111-4222-8333-444444444444"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    tenant = E.demo_estate()
    tenant["subscriptions"][0]["state"] = "Disabled"
    tenant["subscriptions"].append({"subscriptionId": DENIED, "displayName": "Finance", "denied": True})
    root = tmp_path_factory.mktemp("discovery-emu")
    (root / "tenant.json").write_text(json.dumps(tenant))
    with start_emulator(root, tenant=str(root / "tenant.json"), subscription_page_size=2) as emu:
        yield emu


@pytest.fixture
def azure_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)


def test_list_subscriptions_pages_and_hides_the_denied_one(azure_env: None) -> None:
    found = {s.subscription_id: s for s in list_subscriptions()}
    assert set(found) == {T.SUBSCRIPTION_ID, E.DEMO_CLEAN_ID, E.DEMO_BAD_ID}  # two pages of 2
    assert found[E.DEMO_CLEAN_ID].state == "Disabled" and not found[E.DEMO_CLEAN_ID].scannable
    assert found[E.DEMO_BAD_ID].state == "Warned" and found[E.DEMO_BAD_ID].scannable


def test_discovery_failure_is_short_and_without_the_secret(azure_env: None) -> None:
    endpoints = dataclasses.replace(AzureEndpoints.from_env(), client_secret="wrong-secret-value")
    with pytest.raises(DiscoveryError) as caught:
        list_subscriptions(endpoints)
    assert "invalid client secret" in str(caught.value) and "wrong-secret-value" not in str(caught.value)


def test_schedule_over_every_subscription_queues_the_scannable_ones(
        azure_env: None, database_url: str, tmp_path: Path) -> None:
    busy = ScanStore(database_url).create(E.DEMO_BAD_ID)
    row = ScheduleStore(database_url).create(name="all", subscription_id=None, timing=Timing(3600, None))
    with session_scope(database_url) as session:
        session.execute(update(Schedule).where(Schedule.id == row.id).values(next_run_at=utcnow() - timedelta(seconds=1)))
    settings = dataclasses.replace(Settings.from_env(), database_url=database_url, data_dir=tmp_path, host_id="h")
    assert ScheduleFirer(settings).tick() == [row.id]

    def recorded() -> Schedule | None:
        got = ScheduleStore(database_url).get(row.id)
        return got if got is not None and (got.last_scan_ids or got.last_skipped or got.last_error) else None

    fired = wait_until(recorded, timeout=60, interval=0.2)
    assert fired.last_error is None, (tmp_path / "schedules" / f"{row.id}.log").read_text()
    assert len(fired.last_scan_ids) == 1
    scan = ScanStore(database_url).get(fired.last_scan_ids[0])
    assert scan is not None and scan.subscription_id == T.SUBSCRIPTION_ID
    assert (scan.trigger, scan.schedule_id) == (Trigger.SCHEDULE, row.id)
    reasons = {s["subscription_id"]: s["reason"] for s in fired.last_skipped}
    assert "Disabled" in reasons[E.DEMO_CLEAN_ID]
    assert busy.scan_id in reasons[E.DEMO_BAD_ID]
