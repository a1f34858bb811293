"""``bin/openshield scans trigger --all|--subscription A --subscription B --wait`` against the
emulator's estate, and ``bin/openshield schedules ...``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from tests.cli.conftest import Cli
from tests.fakeazure import estate as E
from tests.fakeazure import tenants as T
from tests.fakeazure.harness import Emulator, start_emulator

DENIED = "99999999-1111-4222-8333-444444444444"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The demo estate with the clean subscription Disabled and one more the principal cannot see."""
    tenant = E.demo_estate()
    tenant["subscriptions"][0]["state"] = "Disabled"
    tenant["subscriptions"].append({"subscriptionId": DENIED, "displayName": "Finance (no access)", "denied": True})
    root = tmp_path_factory.mktemp("estate-emu")
    path = root / "tenant.json"
    path.write_text(json.dumps(tenant))
    with start_emulator(root, tenant=str(path)) as emu:
        yield emu


def test_trigger_all_wait_scans_each_scannable_subscription(cli: Cli, emulator: Emulator) -> None:
    cli.extra = dict(emulator.env)
    done = cli.run("scans", "trigger", "--all", "--rules", "AZ-STOR-001", "--wait", "--json", timeout=240)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    by_sub = {e["subscription_id"]: e for e in body["scans"]}
    assert by_sub[T.SUBSCRIPTION_ID]["final_status"] == "completed"
    assert by_sub[E.DEMO_BAD_ID]["final_status"] == "completed"
    assert by_sub[E.DEMO_CLEAN_ID]["result"] == "skipped" and "Disabled" in by_sub[E.DEMO_CLEAN_ID]["error"]
    assert DENIED not in by_sub
    assert "completed" in done.stderr  # one progress line per subscription and change


def test_trigger_named_subscriptions_reports_the_denied_one(cli: Cli, emulator: Emulator) -> None:
    cli.extra = dict(emulator.env)
    done = cli.run("scans", "trigger", "--subscription", E.DEMO_BAD_ID, "--subscription", DENIED,
                   "--rules", "AZ-STOR-001", "--wait", timeout=240)
    assert done.returncode == 1, done.stderr  # the worst result: not visible
    assert f"{DENIED}: error: not visible" in done.stderr
    assert "score" in done.stderr


def test_schedules_add_list_pause_resume_remove(cli: Cli) -> None:
    cli.extra = {"OPENSHIELD_SCHEDULE_MIN_INTERVAL_SECONDS": "60"}
    added = cli.run("schedules", "add", "--all", "--cron", "30 1 * * *", "--timezone", "Europe/Paris", "--name", "nightly")
    assert added.returncode == 0, added.stderr
    schedule_id = added.stdout.strip()
    listed = json.loads(cli.run("schedules", "list", "--json").stdout)
    assert listed["schedules"][0]["id"] == schedule_id and listed["schedules"][0]["target"] == "all"
    assert cli.run("schedules", "pause", schedule_id).returncode == 0
    assert json.loads(cli.run("schedules", "list", "--json").stdout)["schedules"][0]["enabled"] is False
    assert "next run" in cli.run("schedules", "resume", schedule_id).stdout
    assert cli.run("schedules", "remove", schedule_id).returncode == 0
    assert cli.run("schedules", "remove", schedule_id).returncode == 5


@pytest.mark.parametrize("args, words", [
    (("--all", "--cron", "99 * * * *"), "invalid cron"),
    (("--all", "--cron", "0 1 * * *", "--timezone", "Atlantis/Capital"), "unknown time zone"),
    (("--all", "--every", "10"), "interval_seconds must be from 60"),
    (("--every", "600",), "--subscription ID or --all"),
])
def test_schedules_add_refuses_with_the_reason(cli: Cli, args: tuple[str, ...], words: str) -> None:
    cli.extra = {"OPENSHIELD_SCHEDULE_MIN_INTERVAL_SECONDS": "60"}
    done = cli.run("schedules", "add", *args)
    assert done.returncode == 2 and words in done.stderr, done.stderr


def test_scanner_run_all_subscriptions_in_the_foreground(cli: Cli, emulator: Emulator) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    done = subprocess.run([sys.executable, "-m", "scanner.run", "--all-subscriptions", "--rules", "AZ-STOR-001"],
                          env={**cli.env, **emulator.env, "OPENSHIELD_HOST_ID": cli.host}, cwd=REPO,
                          capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert f"{E.DEMO_CLEAN_ID} " in done.stdout and "subscription is Disabled" in done.stdout
    assert "2 completed, 0 failed, 0 cancelled" in done.stdout
    scans = [s for s in cli.store.list_scans(status=None, subscription_id=None, limit=10, offset=0)[1]]
    assert sorted(s.subscription_id for s in scans) == sorted([T.SUBSCRIPTION_ID, E.DEMO_BAD_ID])
    assert {s.trigger for s in scans} == {"cli"}
