"""``bin/openshield scans diff`` and ``bin/openshield mutes …`` (real command, both databases)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.api.test_results import HIGH_RULE, completed_scan, fail
from tests.cli.conftest import Cli

SUB2 = "66666666-7777-4888-9999-aaaaaaaaaaaa"


def test_scans_diff(cli: Cli) -> None:
    first = completed_scan(cli.store, [fail(HIGH_RULE.id, "a")])
    second = completed_scan(cli.store, [fail(HIGH_RULE.id, "b")])
    result = cli.run("scans", "diff", second, "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["against"] == first and [f["resource_name"] for f in body["new"]] == ["b"]
    text = cli.run("scans", "diff", second, "--against", first)
    assert "1 new, 1 resolved, 0 still failing, 0 muted" in text.stdout
    other = completed_scan(cli.store, [], sub=SUB2)
    refused = cli.run("scans", "diff", second, "--against", other)
    assert refused.returncode == 2 and "subscription" in refused.stderr
    assert cli.run("scans", "diff", second, "--against", "yesterday").returncode == 2


def test_mutes_add_list_remove_and_import(cli: Cli, tmp_path: Path) -> None:
    added = cli.run("mutes", "add", "--rule", HIGH_RULE.id, "--resource", "*/legacy*", "--tag", "env=lab",
                    "--justification", "lab only", "--author", "ops@example.com", "--json")
    assert added.returncode == 0, added.stderr
    mute = json.loads(added.stdout)
    assert mute["tags"] == {"env": "lab"} and mute["author"] == "ops@example.com"

    no_reason = cli.run("mutes", "add", "--rule", "*", "--resource", "x", "--justification", " ")
    assert no_reason.returncode == 2 and "justification is required" in no_reason.stderr
    everything = cli.run("mutes", "add", "--rule", "*", "--justification", "everything")
    assert everything.returncode == 2 and "force" in everything.stderr

    good = tmp_path / "mutes.yaml"
    good.write_text(
        "mutes:\n"
        f"  - rule_id: {HIGH_RULE.id}\n"
        "    resource: '*/storageAccounts/old*'\n"
        "    justification: 'Decommissioned in Q1; SEC-123'\n"
        "    expires_at: 2099-01-31T00:00:00Z\n"
        "  - rule_id: '*'\n"
        f"    subscription_id: {SUB2}\n"
        "    justification: sandbox subscription\n",
        encoding="utf-8")
    imported = cli.run("mutes", "import", str(good), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["count"] == 2

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"mutes:\n  - rule_id: {HIGH_RULE.id}\n    justification: ok\n  - rule_id: '*'\n", encoding="utf-8")
    refused = cli.run("mutes", "import", str(bad))
    assert refused.returncode == 2 and "entry 2: justification is required" in refused.stderr

    removed = cli.run("mutes", "remove", str(mute["id"]))
    assert removed.returncode == 0, removed.stderr
    assert cli.run("mutes", "remove", str(mute["id"])).returncode == 5
    listing = json.loads(cli.run("mutes", "list", "--history", "--json").stdout)
    # the bad file created nothing: 2 imported, the removed one gone from the list
    assert listing["count"] == 2
    assert [e["action"] for e in listing["history"]] == ["created", "created", "created", "deleted"]
    assert "Decommissioned in Q1" in cli.run("mutes", "list").stdout


def test_scans_export(cli: Cli, tmp_path: Path) -> None:
    scan_id = completed_scan(cli.store, [fail(HIGH_RULE.id, "=cmd|calc")])
    target = tmp_path / "out.csv"
    result = cli.run("scans", "export", scan_id, "--format", "csv", "-o", str(target))
    assert result.returncode == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    assert text.startswith("scan_id,") and "'=cmd|calc" in text
    stdout = cli.run("scans", "export", scan_id, "--format", "ocsf")
    assert json.loads(stdout.stdout)[0]["class_uid"] == 2004
    assert cli.run("scans", "export", scan_id, "--format", "pdf").returncode == 2
    pending = cli.store.create(SUB2)
    assert cli.run("scans", "export", pending.scan_id, "--format", "csv").returncode == 3


def test_trigger_wait_fail_on_is_the_ci_gate(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A real launched scan (no supervisor needed: the launcher starts it) of the large:300
    tenant, whose storage accounts fail AZ-STOR-001 (HIGH): --fail-on HIGH exits 6, and with
    every failure muted the same scan passes the gate."""
    from tests.fakeazure.harness import start_emulator
    from tests.processes import kill_scan_processes

    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="large:300", any_subscription=True) as emu:
        cli.env.update(emu.env)
        try:
            sub = str(uuid.uuid4())
            assert cli.run("scans", "trigger", "--fail-on", "HIGH").returncode == 2  # needs --wait
            gated = cli.run("scans", "trigger", "--subscription", sub, "--rules", "AZ-STOR-001", "--wait",
                            "--fail-on", "high", timeout=120)
            assert gated.returncode == 6, gated.stderr
            assert "gate failed (--fail-on HIGH)" in gated.stderr and "HIGH unmuted failure(s)" in gated.stderr
            muted = cli.run("mutes", "add", "--rule", "AZ-STOR-001", "--subscription", sub,
                            "--justification", "test")
            assert muted.returncode == 0, muted.stderr
            passed = cli.run("scans", "trigger", "--subscription", sub, "--rules", "AZ-STOR-001", "--wait",
                             "--fail-on", "HIGH", timeout=120)
            assert passed.returncode == 0, passed.stderr
            assert "gate passed" in passed.stderr
        finally:
            kill_scan_processes(cli.data_dir)
