"""``python -m scanner.run`` as a real process against the emulator's demo tenant."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select

from store.models import Finding, RuleOutcome
from store.db import session_scope
from store.scans import ScanStore
from scanner.rules import all_rules
from scanner.rules.support.helpers import SUBSCRIPTION_TYPE
from tests.conftest import REPO, scan_env
from tests.fakeazure.harness import Emulator, start_emulator


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


def run_scanner(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner.run", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_standalone_demo_scan_completes_with_findings_from_every_rule(
    emulator: Emulator, database_url: str, data_dir: Path
) -> None:
    env = scan_env(database_url, data_dir, emulator.env)
    result = run_scanner(["--subscription", emulator.env["AZURE_SUBSCRIPTION_ID"]], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed" in result.stdout
    scan_id = result.stdout.split()[1]
    scan = ScanStore(database_url).get(scan_id)
    assert scan is not None and scan.status == "completed" and scan.trigger == "cli"
    assert scan.phase == "done" and scan.progress == 100
    assert scan.rules_completed == scan.total_rules == len(all_rules())
    assert scan.resources_collected >= 50 and scan.score is not None and 0 <= scan.score <= 100
    with session_scope(database_url) as session:
        findings = session.scalars(select(Finding).where(Finding.scan_id == scan_id)).all()
        outcomes = {o.rule_id: o for o in session.scalars(select(RuleOutcome).where(RuleOutcome.scan_id == scan_id))}
    assert scan.total_findings == len(findings)
    fired = {f.rule_id for f in findings}
    # AZ-MON-016 (no Application Insights) is one verdict on the subscription and the primary demo
    # needs components for AZ-MON-012/013: it fails in the demo's bad subscription instead
    # (tests/test_collect_destinations.py)
    missing = sorted({r.id for r in all_rules()} - fired - {"AZ-MON-016"})
    assert not missing, f"rules without a finding on the demo tenant: {missing}"
    assert all(o.status == "ok" for o in outcomes.values()), {k: o.reason for k, o in outcomes.items() if o.status != "ok"}
    # every rule also saw at least one compliant resource, except subscription-level rules: their
    # one verdict on the subscription fails on the demo (their compliant cases are unit-tested)
    single = {f.rule_id for f in findings if f.resource_type == SUBSCRIPTION_TYPE}
    assert single == {"AZ-IAM-011", "AZ-MON-001", "AZ-MON-002", "AZ-MON-003", "AZ-MON-004", "AZ-MON-005",
                      "AZ-MON-007", "AZ-MON-008", "AZ-MON-009", *(f"AZ-DEF-00{n}" for n in range(1, 9)),
                      "AZ-DEF-009", "AZ-DEF-010", "AZ-DEF-011", "AZ-DEF-012", "AZ-NET-012", "AZ-IAM-025"}
    # tenant-wide Entra ID policies: one verdict on the one tenant, violated on the demo
    tenant_wide = {f"AZ-IAM-0{n}" for n in range(13, 22)} | {"AZ-IAM-023", "AZ-IAM-024", "AZ-IAM-026", "AZ-MON-017",
                                                            "AZ-MON-018"}
    assert all(outcomes[r].evaluated_count == outcomes[r].failed_count == 1 for r in tenant_wide)
    single |= tenant_wide
    assert all(outcomes[r].evaluated_count == outcomes[r].failed_count == 1 for r in single)
    assert all(o.evaluated_count > o.failed_count for k, o in outcomes.items() if k not in single), {
        k: (o.evaluated_count, o.failed_count) for k, o in outcomes.items() if o.evaluated_count <= o.failed_count
    }
    run_dir = data_dir / "scans" / scan_id
    progress = json.loads((run_dir / "progress.json").read_text())
    assert progress["status"] == "completed" and progress["rules_completed"] == len(all_rules())
    assert (run_dir / "scan.log").stat().st_size > 0
    # a completed scan cannot be run again
    again = run_scanner([scan_id], env)
    assert again.returncode == 3 and "completed" in again.stderr


def test_selected_rules_only(emulator: Emulator, database_url: str, data_dir: Path) -> None:
    env = scan_env(database_url, data_dir, emulator.env)
    emulator.reset_stats()
    result = run_scanner(["--subscription", emulator.env["AZURE_SUBSCRIPTION_ID"], "--rules", "AZ-STOR-001,az-net-001"], env)
    assert result.returncode == 0, result.stderr
    scan = ScanStore(database_url).get(result.stdout.split()[1])
    assert scan is not None and scan.total_rules == 2 and scan.rules == ["AZ-STOR-001", "AZ-NET-001"]
    routes = emulator.stats()["by_route"]
    # only what the two rules need was fetched: no Graph, no children, no role assignments
    assert not any(k.startswith("graph.") for k in routes), routes
    assert "arm.child.get" not in routes and "arm.roleAssignments" not in routes


def test_wrong_secret_fails_the_scan_with_a_clear_message(emulator: Emulator, database_url: str, data_dir: Path) -> None:
    env = scan_env(database_url, data_dir, {**emulator.env, "AZURE_CLIENT_SECRET": "wrong-secret-value"})
    result = run_scanner(["--subscription", emulator.env["AZURE_SUBSCRIPTION_ID"]], env)
    assert result.returncode == 1
    scan_id = result.stdout.split()[1]
    scan = ScanStore(database_url).get(scan_id)
    assert scan is not None and scan.status == "failed"
    assert scan.error_message == "Azure authentication failed: invalid client secret"
    log = (data_dir / "scans" / scan_id / "scan.log").read_text()
    assert "wrong-secret-value" not in log and "wrong-secret-value" not in result.stderr


def test_refusals_have_distinct_exit_codes(database_url: str, data_dir: Path) -> None:
    env = scan_env(database_url, data_dir)
    assert run_scanner(["not-a-uuid"], env).returncode == 2
    assert run_scanner([str(uuid.uuid4())], env).returncode == 5
    assert run_scanner(["--subscription", str(uuid.uuid4()), "--rules", "AZ-NOPE-001"], env).returncode == 2
    store = ScanStore(database_url)
    scan = store.create(str(uuid.uuid4()))
    store.cancel(scan.scan_id, "cancelled on request")
    refused = run_scanner([scan.scan_id], env)
    assert refused.returncode == 3 and "cancelled" in refused.stderr


def test_sigterm_while_collecting_is_cancelled_by_sigterm(emulator: Emulator, database_url: str, data_dir: Path) -> None:
    import signal

    from tests.processes import wait_for

    env = scan_env(database_url, data_dir, emulator.env)
    emulator.set_faults(latency_ms=300)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "scanner.run", "--subscription", emulator.env["AZURE_SUBSCRIPTION_ID"]],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        store = ScanStore(database_url)

        def collecting() -> str | None:
            assert proc.poll() is None, f"the scan ended before collecting: {proc.communicate()}"
            scan = store.get(store.active_scan_id(emulator.env["AZURE_SUBSCRIPTION_ID"]) or str(uuid.uuid4()))
            return scan.scan_id if scan is not None and scan.phase == "collecting" else None

        # a deadline, not a speed target: on a loaded machine the imports alone take seconds
        scan_id = wait_for(collecting, 90, what="scan to be collecting")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        emulator.set_faults(latency_ms=0)
    assert proc.returncode == 128 + signal.SIGTERM, err
    scan = store.get(scan_id)
    assert scan is not None and scan.status == "cancelled" and scan.error_message == "cancelled by SIGTERM"
    assert "never awaited" not in (data_dir / "scans" / scan_id / "scan.log").read_text() + err
