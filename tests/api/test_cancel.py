"""POST /api/scans/<id>/cancel: at once when queued, by request when launched, 409 when over."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from store.scans import ScanStore
from tests.api.conftest import HOST, SUB, auth

UNKNOWN = "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f"


def cancel(client: FlaskClient, scan_id: str) -> tuple[int, dict]:
    response = client.post(f"/api/scans/{scan_id}/cancel", headers=auth("operator"))
    return response.status_code, response.get_json()


def test_a_queued_scan_is_cancelled_at_once(client: FlaskClient, store: ScanStore) -> None:
    scan = store.create(SUB)
    status, body = cancel(client, scan.scan_id)
    assert (status, body["scan_id"], body["status"]) == (200, scan.scan_id, "cancelled")
    record = store.get(scan.scan_id)
    assert record is not None
    assert (record.status, record.error_message, record.cancel_requested) == ("cancelled", "cancelled on request", True)
    assert record.completed_at is not None


def test_a_launched_but_unclaimed_scan_gets_a_cancel_request(client: FlaskClient, store: ScanStore) -> None:
    scan = store.create(SUB)
    assert store.reserve_launch(scan.scan_id, host=HOST, cap=2)
    status, body = cancel(client, scan.scan_id)
    assert status == 202
    assert body == {
        "scan_id": scan.scan_id,
        "status": "pending",
        "cancel_requested": True,
        "message": "cancellation requested; the scan stops within seconds",
    }
    record = store.get(scan.scan_id)
    assert record is not None and record.status == "pending" and record.cancel_requested is True


def test_a_running_scan_gets_a_cancel_request(client: FlaskClient, store: ScanStore) -> None:
    scan = store.create(SUB)
    assert store.claim(scan.scan_id, pid=999, host=HOST, process_create_time=None)
    status, body = cancel(client, scan.scan_id)
    assert status == 202 and body["status"] == "running" and body["cancel_requested"] is True
    record = store.get(scan.scan_id)
    assert record is not None and (record.status, record.cancel_requested) == ("running", True)
    # asking again is harmless
    assert cancel(client, scan.scan_id)[0] == 202


@pytest.mark.parametrize("final", ["completed", "failed", "cancelled"])
def test_a_finished_scan_is_409(client: FlaskClient, store: ScanStore, final: str) -> None:
    scan = store.create(SUB)
    assert store.claim(scan.scan_id, pid=999, host=HOST, process_create_time=None)
    if final == "completed":
        assert store.complete_with_results(scan.scan_id, findings=[], outcomes=[], score=100.0)
    elif final == "failed":
        assert store.fail(scan.scan_id, "process vanished")
    else:
        assert store.cancel(scan.scan_id, "cancelled by SIGTERM")
    status, body = cancel(client, scan.scan_id)
    assert status == 409
    assert body == {"error": f"scan is already {final}", "status": final}


def test_cancelling_an_unknown_scan_is_404(client: FlaskClient) -> None:
    status, body = cancel(client, UNKNOWN)
    assert status == 404 and body == {"error": f"scan {UNKNOWN} not found"}
