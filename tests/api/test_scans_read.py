"""GET /api/scans/<id> and GET /api/scans: the scan object, paging, filters, order."""

from __future__ import annotations

from flask.testing import FlaskClient

from store.scans import ScanStore
from tests.api.conftest import SUB, SUB2, auth

# Every field of the scan object in docs/api-reference.md (and the design's contract).
SCAN_FIELDS = {
    "scan_id", "subscription_id", "status", "phase", "error_message", "rules_completed", "total_rules",
    "progress", "resources_collected", "created_at", "started_at", "completed_at", "duration_seconds",
    "heartbeat_at", "pid", "host", "attempt", "cancel_requested", "exit_code", "total_findings", "score",
    "cve_enrichment_status", "cve_enrichment_error", "trigger", "rules",
}
UNKNOWN = "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f"


def test_unknown_scan_is_404(client: FlaskClient) -> None:
    response = client.get(f"/api/scans/{UNKNOWN}", headers=auth("reader"))
    assert response.status_code == 404
    assert response.get_json() == {"error": f"scan {UNKNOWN} not found"}


def test_a_pending_scan_has_every_field_and_no_outcomes(client: FlaskClient, store: ScanStore) -> None:
    scan = store.create(SUB, trigger="cli", rules=["AZ-STOR-001"])
    response = client.get(f"/api/scans/{scan.scan_id.upper()}", headers=auth("reader"))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == SCAN_FIELDS | {"rule_outcomes", "collection"}
    assert body["scan_id"] == scan.scan_id
    assert (body["status"], body["phase"], body["trigger"], body["rules"]) == ("pending", "queued", "cli", ["AZ-STOR-001"])
    assert body["cancel_requested"] is False and body["attempt"] == 1
    assert body["created_at"].endswith("Z") and body["started_at"] is None
    assert body["rule_outcomes"] == []


def test_a_completed_scan_carries_its_rule_outcomes(client: FlaskClient, store: ScanStore) -> None:
    scan = store.create(SUB)
    assert store.claim(scan.scan_id, pid=4242, host="h1", process_create_time=1.0)
    outcomes = [
        {"rule_id": "AZ-STOR-002", "status": "skipped", "reason": "403 on storage accounts",
         "evaluated_count": 0, "failed_count": 0, "not_evaluated_count": 3},
        {"rule_id": "AZ-STOR-001", "status": "ok", "reason": None,
         "evaluated_count": 3, "failed_count": 0, "not_evaluated_count": 0},
    ]
    assert store.complete_with_results(scan.scan_id, findings=[], outcomes=outcomes, score=97.5)
    body = client.get(f"/api/scans/{scan.scan_id}", headers=auth("reader")).get_json()
    assert (body["status"], body["phase"], body["progress"], body["score"]) == ("completed", "done", 100, 97.5)
    assert (body["pid"], body["host"], body["exit_code"]) == (4242, "h1", 0)
    assert body["completed_at"].endswith("Z") and body["duration_seconds"] >= 0
    assert [o["rule_id"] for o in body["rule_outcomes"]] == ["AZ-STOR-001", "AZ-STOR-002"]
    assert body["rule_outcomes"][1] == {"rule_id": "AZ-STOR-002", **{k: v for k, v in outcomes[0].items() if k != "rule_id"}}


def _history(store: ScanStore, subscription: str, count: int) -> list[str]:
    """``count`` finished scans then nothing active, oldest first."""
    ids = []
    for _ in range(count):
        scan = store.create(subscription)
        store.cancel(scan.scan_id, "cancelled on request")
        ids.append(scan.scan_id)
    return ids


def test_list_is_newest_first_with_total_count_and_paging(client: FlaskClient, store: ScanStore) -> None:
    ids = _history(store, SUB, 5)
    newest_first = list(reversed(ids))
    body = client.get("/api/scans", headers=auth("reader")).get_json()
    assert body["count"] == 5 and [s["scan_id"] for s in body["scans"]] == newest_first
    assert (body["limit"], body["offset"]) == (50, 0)
    assert set(body["scans"][0]) == SCAN_FIELDS
    page = client.get("/api/scans?limit=2&offset=2", headers=auth("reader")).get_json()
    assert page["count"] == 5 and [s["scan_id"] for s in page["scans"]] == newest_first[2:4]
    beyond = client.get("/api/scans?offset=10", headers=auth("reader")).get_json()
    assert beyond == {"count": 5, "limit": 50, "offset": 10, "scans": []}


def test_list_filters_by_status_and_subscription(client: FlaskClient, store: ScanStore) -> None:
    finished = _history(store, SUB, 2)
    active = store.create(SUB2).scan_id
    running = client.get("/api/scans?status=pending", headers=auth("reader")).get_json()
    assert running["count"] == 1 and running["scans"][0]["scan_id"] == active
    by_sub = client.get(f"/api/scans?subscription_id={SUB.upper()}", headers=auth("reader")).get_json()
    assert by_sub["count"] == 2 and {s["scan_id"] for s in by_sub["scans"]} == set(finished)
    both = client.get(f"/api/scans?subscription_id={SUB}&status=pending", headers=auth("reader")).get_json()
    assert both == {"count": 0, "limit": 50, "offset": 0, "scans": []}


def test_empty_list(client: FlaskClient) -> None:
    assert client.get("/api/scans", headers=auth("reader")).get_json() == {
        "count": 0, "limit": 50, "offset": 0, "scans": []
    }
