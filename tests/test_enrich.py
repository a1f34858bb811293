"""CVE enrichment end to end with real processes against the emulator's fake NVD.

Re-enrichments are started as the API starts them (a run row, then the real launcher), watched
by a real ``python -m supervisor``; findings are seeded as the version rules store them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import psutil
import pytest
from sqlalchemy import select

from store.models import EnrichmentRun, Finding
from store.db import read_scope
from store.enrichment_runs import EnrichmentStore
from store.scans import ScanStore
from store.settings import Settings
from scanner.cve.scan_phase import enrich_rows
from supervisor.launcher import Launcher
from tests.conftest import REPO, scan_env
from tests.enrich_helpers import DEMO_SOFTWARE, finding_row, seed_completed_scan
from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import kill_scan_processes, start_supervisor, stop_process, wait_for

EXPECTED = {
    "kubernetes": {"CVE-2023-5528", "CVE-2023-3676", "CVE-2023-3955", "CVE-2024-3177"},
    "postgresql": {"CVE-2023-5869", "CVE-2023-5868", "CVE-2023-39417", "CVE-2022-2625"},
    "mysql": {"CVE-2023-21980", "CVE-2023-21912", "CVE-2023-22028"},
    "python": {"CVE-2023-24329", "CVE-2022-45061", "CVE-2020-10735"},
    "node.js": {"CVE-2022-32212", "CVE-2023-23918", "CVE-2021-22931", "CVE-2021-44531"},
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


@dataclass
class Rig:
    env: dict[str, str]
    settings: Settings
    scans: ScanStore
    runs: EnrichmentStore
    data_dir: Path
    nvd: Emulator
    supervisor: subprocess.Popen[bytes] | None = None

    def enrich(self, scan_id: str) -> int:
        """What POST /api/scans/<id>/enrich does."""
        run = self.runs.start_run(scan_id)
        Launcher(self.settings).launch_enrichment(scan_id, run.id)
        return run.id

    def wait_run(self, run_id: int, timeout: float = 30) -> EnrichmentRun:
        def ended() -> EnrichmentRun | None:
            run = self.runs.get(run_id)
            return run if run is not None and run.status in ("completed", "failed", "cancelled") else None

        return wait_for(ended, timeout, what=f"enrichment run {run_id} to end")

    def findings(self, scan_id: str) -> list[Finding]:
        with read_scope(self.settings.database_url) as session:
            return list(session.scalars(select(Finding).where(Finding.scan_id == scan_id).order_by(Finding.id)))

    def log(self, scan_id: str) -> str:
        path = self.data_dir / "scans" / scan_id / "enrich" / "enrich.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def rig(database_url: str, data_dir: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    host = f"test-{uuid.uuid4().hex[:8]}"
    extra = {**emulator.env, "OPENSHIELD_HOST_ID": host, "OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS": "30",
             "NVD_RATE_LIMIT": "50/1", "NVD_RETRY_BACKOFF_SECONDS": "0.05", "NVD_MAX_ATTEMPTS": "3",
             "NVD_TIMEOUT_SECONDS": "10"}
    env = scan_env(database_url, data_dir, extra)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    emulator.set_nvd_faults(latency_ms=0, throttle_every=0, fail_every=0, down=False, page_size=2000,
                            rate_limit="", keyed_rate_limit="")
    emulator.reset_stats()
    settings = Settings.from_env()
    r = Rig(env, settings, ScanStore(database_url), EnrichmentStore(database_url), data_dir, emulator)
    r.supervisor = start_supervisor(env, data_dir / "supervisor.log")
    yield r
    stop_process(r.supervisor)
    kill_scan_processes(data_dir)
    emulator.set_nvd_faults(latency_ms=0, down=False)


def software_product(finding: Finding) -> str | None:
    software = (finding.details or {}).get("software")
    return software["product"] if software else None


def test_reenrichment_attaches_cves_and_the_cache_serves_the_next_scan(rig: Rig) -> None:
    first = seed_completed_scan(rig.scans)
    run = rig.wait_run(rig.enrich(first))
    assert run.status == "completed", (run.error_message, rig.log(first))
    assert run.findings_enriched == len(DEMO_SOFTWARE) and run.exit_code == 0
    scan = rig.scans.get(first)
    assert scan is not None and scan.status == "completed"
    assert (scan.cve_enrichment_status, scan.cve_enrichment_error) == ("COMPLETED", None)
    for finding in rig.findings(first):
        product = software_product(finding)
        if product is None:
            assert finding.cve_references is None and finding.cvss_score is None
            continue
        assert {r["id"] for r in finding.cve_references or []} == EXPECTED[product], product
        assert finding.cvss_score == max(r["cvss_score"] for r in finding.cve_references or [])
        assert finding.exploit_available is False
    assert len(rig.nvd.nvd_requests()) == len(DEMO_SOFTWARE)

    # a second scan of the same software: every answer comes from the cache
    second = seed_completed_scan(rig.scans)
    run = rig.wait_run(rig.enrich(second))
    assert run.status == "completed", run.error_message
    assert len(rig.nvd.nvd_requests()) == len(DEMO_SOFTWARE)
    assert "0 NVD requests, 5 cache hits" in rig.log(second)
    k8s = next(f for f in rig.findings(second) if software_product(f) == "kubernetes")
    assert k8s.cvss_score == 8.8


def test_nvd_down_fails_enrichment_and_keeps_the_scan_completed(rig: Rig) -> None:
    scan_id = seed_completed_scan(rig.scans)
    rig.nvd.set_nvd_faults(down=True)
    run = rig.wait_run(rig.enrich(scan_id))
    message = "NVD unavailable: HTTP 503 (Service Unavailable) (after 3 attempts)"
    assert (run.status, run.error_message, run.exit_code) == ("failed", message, 1)
    scan = rig.scans.get(scan_id)
    assert scan is not None and scan.status == "completed" and scan.total_findings == len(DEMO_SOFTWARE) + 1
    assert (scan.cve_enrichment_status, scan.cve_enrichment_error) == ("FAILED", message)
    assert len(rig.findings(scan_id)) == len(DEMO_SOFTWARE) + 1
    assert all(f.cve_references is None for f in rig.findings(scan_id))


def test_throttled_nvd_is_retried_to_completion(rig: Rig) -> None:
    scan_id = seed_completed_scan(rig.scans)
    rig.nvd.set_nvd_faults(throttle_every=3, fail_every=4)  # never 3 failures in a row
    run = rig.wait_run(rig.enrich(scan_id))
    assert run.status == "completed", run.error_message
    statuses = [r["status"] for r in rig.nvd.nvd_requests()]
    assert 403 in statuses and 503 in statuses and statuses.count(200) == len(DEMO_SOFTWARE)


def _running_pid(rig: Rig, run_id: int) -> int:
    def pid() -> int | None:
        run = rig.runs.get(run_id)
        return run.pid if run is not None and run.status == "running" and run.pid else None

    return wait_for(pid, 60, what="enrichment process to claim its run")


def test_kill_9_of_an_enrichment_is_failed_by_the_supervisor(rig: Rig) -> None:
    scan_id = seed_completed_scan(rig.scans)
    rig.nvd.set_nvd_faults(latency_ms=3000)  # keeps the process busy in a request
    run_id = rig.enrich(scan_id)
    pid = _running_pid(rig, run_id)
    os.kill(pid, signal.SIGKILL)
    run = rig.wait_run(run_id, timeout=10)
    assert (run.status, run.error_message, run.exit_code) == ("failed", "enrichment process killed by SIGKILL", -9)
    scan = rig.scans.get(scan_id)
    assert scan is not None and scan.status == "completed"
    assert (scan.cve_enrichment_status, scan.cve_enrichment_error) == ("FAILED", "enrichment process killed by SIGKILL")
    wait_for(lambda: not psutil.pid_exists(pid), 30, what="no zombie left")


def test_sigterm_stops_an_enrichment_and_says_so(rig: Rig) -> None:
    scan_id = seed_completed_scan(rig.scans)
    rig.nvd.set_nvd_faults(latency_ms=3000)
    run_id = rig.enrich(scan_id)
    pid = _running_pid(rig, run_id)
    os.kill(pid, signal.SIGTERM)
    run = rig.wait_run(run_id, timeout=10)
    # one SIGTERM policy for every kind of run: cancelled, naming the signal
    assert (run.status, run.error_message, run.exit_code) == ("cancelled", "cancelled by SIGTERM", 128 + signal.SIGTERM)
    scan = rig.scans.get(scan_id)
    assert scan is not None and (scan.cve_enrichment_status, scan.cve_enrichment_error) == (
        "FAILED", "cancelled by SIGTERM")


def test_enrich_process_without_a_pending_run_exits_3(rig: Rig) -> None:
    scan_id = seed_completed_scan(rig.scans)
    result = subprocess.run([sys.executable, "-m", "scanner.enrich", scan_id], cwd=REPO, env=rig.env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3 and "no pending enrichment" in result.stderr


# ------------------------------------------------------------------------- the scan's phase
class Sink:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def phase(self, name: str) -> None:
        self.events.append(name)

    def enriching(self, done: int, total: int, percent: int) -> None:
        self.events.append((done, total, percent))


def _rows() -> list[dict[str, Any]]:
    rows = [finding_row("s", "sub", rule, rtype, product, {"software": {"vendor": v, "product": product, "version": ver}})
            for rule, rtype, v, product, ver in DEMO_SOFTWARE]
    return rows + [finding_row("s", "sub", "AZ-STOR-001", "t", "store", {})]


def test_scan_phase_fills_rows_and_reports_progress(rig: Rig) -> None:
    rows, sink = _rows(), Sink()
    status = enrich_rows(rows, settings=rig.settings, scan_id=str(uuid.uuid4()), sink=sink, stop=threading.Event())
    assert status == ("COMPLETED", None)
    assert sink.events[0] == "enriching" and sink.events[-1] == (5, 5, 99)
    assert {r["id"] for r in rows[0]["cve_references"]} == EXPECTED["kubernetes"]
    assert rows[-1]["cve_references"] is None


def test_scan_phase_failure_and_skips(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    rig.nvd.set_nvd_faults(down=True)
    rows = _rows()
    status, error = enrich_rows(rows, settings=rig.settings, scan_id="x", sink=Sink(), stop=threading.Event())
    assert status == "FAILED" and error is not None and error.startswith("NVD unavailable: HTTP 503")
    assert all(r["cve_references"] is None for r in rows)
    no_software = [finding_row("s", "sub", "AZ-STOR-001", "t", "store", {})]
    assert enrich_rows(no_software, settings=rig.settings, scan_id="x", sink=Sink(), stop=threading.Event()) == (
        "SKIPPED", None)
    monkeypatch.setenv("OPENSHIELD_CVE_ENRICHMENT", "0")
    assert enrich_rows(_rows(), settings=rig.settings, scan_id="x", sink=Sink(), stop=threading.Event()) == (
        "SKIPPED", None)
    assert len(rig.nvd.nvd_requests()) == 3  # only the failing attempts


def test_a_demo_scan_records_its_enrichment_status(rig: Rig) -> None:
    """A real scan of the demo tenant; with the version rules, its outdated software carries CVE ids."""
    result = subprocess.run([sys.executable, "-m", "scanner.run", "--subscription", rig.env["AZURE_SUBSCRIPTION_ID"],
                             "--no-progress-bar"], cwd=REPO, env=rig.env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    scan = rig.scans.get(result.stdout.split()[1])
    assert scan is not None and scan.status == "completed"
    software = [f for f in rig.findings(scan.scan_id) if software_product(f)]
    assert software, "the demo tenant's outdated software (AKS, PostgreSQL, MySQL, App Service stacks) gave no finding"
    assert scan.cve_enrichment_status == "COMPLETED", scan.cve_enrichment_error
    for finding in software:
        product = software_product(finding)
        assert product is not None
        if product in EXPECTED:
            assert EXPECTED[product] <= {r["id"] for r in finding.cve_references or []}, product
