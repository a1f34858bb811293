"""CVE re-enrichment through real HTTP: gunicorn, the supervisor, the fake NVD.

The enrichment outlives the web server that started it, and concurrent requests for the same
scan get exactly one 202 (the database decides).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

from store.scans import ScanStore
from tests.enrich_helpers import seed_completed_scan
from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import wait_for
from tests.stack import LiveStack


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


@pytest.fixture
def stack(database_url: str, data_dir: Path, emulator: Emulator) -> Iterator[LiveStack]:
    emulator.set_nvd_faults(latency_ms=0, down=False, throttle_every=0, fail_every=0)
    emulator.reset_stats()
    live = LiveStack(database_url, data_dir, emulator,
                     extra_env={"NVD_RATE_LIMIT": "50/1", "NVD_RETRY_BACKOFF_SECONDS": "0.05"})
    live.start()
    yield live
    live.stop()
    emulator.set_nvd_faults(latency_ms=0)


def enrichment_done(stack: LiveStack, scan_id: str) -> dict[str, Any] | None:
    scan = stack.scan(scan_id)
    return scan if scan["cve_enrichment_status"] in ("COMPLETED", "FAILED") else None


def test_enrichment_survives_a_web_restart_and_shows_on_findings(stack: LiveStack) -> None:
    scan_id = seed_completed_scan(ScanStore(stack.database_url))
    stack.emulator.set_nvd_faults(latency_ms=400)  # five look-ups: about two seconds
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: stack.post(f"/api/scans/{scan_id}/enrich"), range(4)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [202, 409, 409, 409], [a.text for a in answers]
    accepted = next(a for a in answers if a.status_code == 202)
    assert accepted.headers["Location"] == f"/api/scans/{scan_id}"
    assert all(a.json()["scan_id"] == scan_id for a in answers)

    stack.kill_gunicorn()  # the web server goes away while NVD is being asked
    stack.start_gunicorn()
    # NVD without a key allows 5 requests per 30 s: a deadline, not a speed target
    scan = wait_for(lambda: enrichment_done(stack, scan_id), 120, interval=0.2, what="enrichment to end")
    assert scan["status"] == "completed"
    assert (scan["cve_enrichment_status"], scan["cve_enrichment_error"]) == ("COMPLETED", None)
    listed = stack.get(f"/api/findings?scan_id={scan_id}", role="reader").json()["findings"]
    k8s = [f for f in listed if (f["metadata"].get("software") or {}).get("product") == "kubernetes"]
    assert len(k8s) == 1 and k8s[0]["cvss_score"] == 8.8
    assert "CVE-2023-5528" in {r["id"] for r in k8s[0]["cve_references"]}


def test_enrich_refuses_a_running_scan_over_http(stack: LiveStack) -> None:
    store = ScanStore(stack.database_url)
    scan = store.create("11111111-2222-4333-8444-555555555555")  # pending (the supervisor may start it)
    response = stack.post(f"/api/scans/{scan.scan_id}/enrich")
    assert response.status_code == 409 and response.json()["scan_id"] == scan.scan_id
    assert stack.post(f"/api/scans/{scan.scan_id}/enrich", role="reader").status_code == 403
