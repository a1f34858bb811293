"""POST /api/scans/<scan_id>/enrich and the CVE fields of findings (fake launcher: no processes)."""

from __future__ import annotations

from flask.testing import FlaskClient

from store.enrichment_runs import CveUpdate, EnrichmentStore
from store.scans import ScanStore
from tests.api.conftest import HOST, SUB, FakeLauncher, auth
from tests.enrich_helpers import seed_completed_scan

UNKNOWN = "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f"


def enrich(client: FlaskClient, scan_id: str, role: str = "operator"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/scans/{scan_id}/enrich", headers=auth(role))


def test_enrich_accepts_and_launches(client: FlaskClient, store: ScanStore, launcher: FakeLauncher) -> None:
    scan_id = seed_completed_scan(store)
    response = enrich(client, scan_id.upper())
    assert response.status_code == 202
    assert response.headers["Location"] == f"/api/scans/{scan_id}"
    assert response.get_json() == {"scan_id": scan_id, "cve_enrichment_status": "PENDING",
                                   "message": "CVE enrichment starting"}
    runs = EnrichmentStore(store.url).runs_for_scan(scan_id)
    assert len(runs) == 1 and runs[0].status == "pending" and runs[0].host is None  # the (fake) launcher reserves
    assert launcher.enrich_calls == [(scan_id, runs[0].id)]
    scan = client.get(f"/api/scans/{scan_id}", headers=auth("reader")).get_json()
    assert scan["status"] == "completed" and scan["cve_enrichment_status"] == "PENDING"
    assert scan["cve_enrichment_error"] is None


def test_one_active_enrichment_per_scan(client: FlaskClient, store: ScanStore, launcher: FakeLauncher) -> None:
    scan_id = seed_completed_scan(store)
    assert enrich(client, scan_id).status_code == 202
    again = enrich(client, scan_id)
    assert again.status_code == 409
    assert again.get_json() == {"error": "a CVE enrichment of this scan is already running", "scan_id": scan_id}
    assert len(launcher.enrich_calls) == 1
    # once it ends, another may start
    enrichments = EnrichmentStore(store.url)
    run = enrichments.runs_for_scan(scan_id)[0]
    assert enrichments.fail(run.id, "test")
    assert enrich(client, scan_id).status_code == 202


def test_only_a_completed_scan_can_be_enriched(client: FlaskClient, store: ScanStore) -> None:
    pending = store.create(SUB)
    response = enrich(client, pending.scan_id)
    assert response.status_code == 409
    assert response.get_json() == {"error": "scan is pending; only a completed scan can be enriched",
                                   "scan_id": pending.scan_id}


def test_unknown_bad_id_and_roles(client: FlaskClient, store: ScanStore) -> None:
    assert enrich(client, UNKNOWN).status_code == 404
    assert enrich(client, UNKNOWN).get_json() == {"error": f"scan {UNKNOWN} not found"}
    assert enrich(client, "not-a-uuid").status_code == 400
    scan_id = seed_completed_scan(store)
    assert enrich(client, scan_id, role="reader").status_code == 403
    assert client.post(f"/api/scans/{scan_id}/enrich").status_code == 401
    assert EnrichmentStore(store.url).runs_for_scan(scan_id) == []


def test_a_launch_failure_leaves_the_run_queued_for_the_supervisor(client: FlaskClient, store: ScanStore,
                                                                   launcher: FakeLauncher) -> None:
    """The same policy as a scan's: the row is committed, so the supervisor starts it later."""
    scan_id = seed_completed_scan(store)
    launcher.error = RuntimeError("fork failed")
    response = enrich(client, scan_id)
    assert response.status_code == 202
    assert response.get_json()["message"] == "CVE enrichment accepted but not started yet; the supervisor will start it"
    runs = EnrichmentStore(store.url).runs_for_scan(scan_id)
    assert [(r.status, r.host) for r in runs] == [("pending", None)]
    scan = store.get(scan_id)
    assert scan is not None and scan.cve_enrichment_status == "PENDING" and scan.cve_enrichment_error is None
    launcher.error = None
    assert enrich(client, scan_id).status_code == 409  # still queued: one active enrichment per scan


def test_findings_carry_cve_fields(client: FlaskClient, store: ScanStore) -> None:
    scan_id = seed_completed_scan(store, other_findings=1)
    listed = client.get(f"/api/findings?scan_id={scan_id}", headers=auth("reader")).get_json()["findings"]
    assert all(f["cve_references"] is None and f["cvss_score"] is None and f["exploit_available"] is False
               for f in listed)
    keys = list(listed[0])
    # the CVE fields follow detected_at (the results fields of issue 15 come after them)
    start = keys.index("detected_at") + 1
    assert keys[start:start + 3] == ["cve_references", "cvss_score", "exploit_available"]
    target = next(f for f in listed if f["rule_id"] == "AZ-AKS-007")
    enrichments = EnrichmentStore(store.url)
    run = enrichments.start_run(scan_id)
    assert enrichments.claim(scan_id, pid=1, host=HOST, process_create_time=None) == run.id
    refs = [{"id": "CVE-2023-5528", "cvss_score": 8.8, "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
             "published": "2023-11-14T00:00:00.000Z"}]
    assert enrichments.complete(run.id, [CveUpdate(target["id"], refs, 8.8, True)])
    one = client.get(f"/api/findings/{target['id']}", headers=auth("reader")).get_json()
    assert one["cve_references"] == refs and one["cvss_score"] == 8.8 and one["exploit_available"] is True
    scan = client.get(f"/api/scans/{scan_id}", headers=auth("reader")).get_json()
    assert scan["cve_enrichment_status"] == "COMPLETED"
