"""POST /api/scans/trigger: record a pending scan, ask the launcher, answer 202 at once."""

from __future__ import annotations

import threading
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from store.scans import ScanStore
from scanner.rules import all_rules
from supervisor.launcher import LaunchResult
from tests.api.conftest import SUB, SUB2, FakeLauncher, auth


def trigger(client: FlaskClient, body: object) -> tuple[int, dict]:
    response = client.post("/api/scans/trigger", json=body, headers=auth("operator"))
    return response.status_code, response.get_json()


def test_trigger_answers_202_with_location_and_records_a_pending_scan(
    client: FlaskClient, store: ScanStore, launcher: FakeLauncher
) -> None:
    response = client.post("/api/scans/trigger", json={"subscription_id": SUB}, headers=auth())
    assert response.status_code == 202
    body = response.get_json()
    scan_id = body["scan_id"]
    assert body == {
        "scan_id": scan_id,
        "status": "pending",
        "status_url": f"/api/scans/{scan_id}",
        "message": "scan starting",
    }
    assert response.headers["Location"] == f"/api/scans/{scan_id}"
    assert launcher.calls == [scan_id]
    scan = store.get(scan_id)
    assert scan is not None
    assert (scan.status, scan.phase, scan.trigger, scan.subscription_id, scan.rules) == (
        "pending", "queued", "api", SUB, None
    )


def test_trigger_stores_the_selected_rules(client: FlaskClient, store: ScanStore) -> None:
    rule_ids = [rule.id for rule in all_rules()[:2]]
    status, body = trigger(client, {"subscription_id": SUB, "rules": rule_ids})
    assert status == 202
    scan = store.get(body["scan_id"])
    assert scan is not None and scan.rules == rule_ids


def test_trigger_normalises_the_subscription_to_lower_case(client: FlaskClient, store: ScanStore) -> None:
    status, body = trigger(client, {"subscription_id": SUB2.upper()})
    assert status == 202
    scan = store.get(body["scan_id"])
    assert scan is not None and scan.subscription_id == SUB2


def test_subscription_defaults_to_azure_subscription_id(
    monkeypatch: pytest.MonkeyPatch, make_app: Callable[[], Flask], store: ScanStore
) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB2)
    status, body = trigger(make_app().test_client(), {})
    assert status == 202
    scan = store.get(body["scan_id"])
    assert scan is not None and scan.subscription_id == SUB2


def test_an_explicit_subscription_wins_over_the_default(
    monkeypatch: pytest.MonkeyPatch, make_app: Callable[[], Flask], store: ScanStore
) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB2)
    status, body = trigger(make_app().test_client(), {"subscription_id": SUB})
    assert status == 202
    assert store.get(body["scan_id"]).subscription_id == SUB  # type: ignore[union-attr]


def test_second_trigger_for_a_subscription_is_409_naming_the_active_scan(
    client: FlaskClient, launcher: FakeLauncher
) -> None:
    _, first = trigger(client, {"subscription_id": SUB})
    status, body = trigger(client, {"subscription_id": SUB.upper()})
    assert status == 409
    assert body["scan_id"] == first["scan_id"]
    assert SUB in body["error"]
    assert launcher.calls == [first["scan_id"]], "a refused trigger must not launch anything"
    # another subscription is independent
    assert trigger(client, {"subscription_id": SUB2})[0] == 202


def test_fifty_concurrent_triggers_have_exactly_one_winner(
    app: Flask, store: ScanStore, launcher: FakeLauncher
) -> None:
    headers = auth()
    barrier = threading.Barrier(50)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/scans/trigger", json={"subscription_id": SUB}, headers=headers)
        with lock:
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(code for code, _ in results)
    assert statuses == [202] + [409] * 49
    winner = next(body["scan_id"] for code, body in results if code == 202)
    assert all(body["scan_id"] == winner for code, body in results if code == 409)
    assert launcher.calls == [winner]
    count, scans = store.list_scans(subscription_id=SUB)
    assert count == 1 and scans[0].scan_id == winner


def test_a_full_host_queues_the_scan(client: FlaskClient, launcher: FakeLauncher) -> None:
    launcher.result = LaunchResult(launched=False, queued=True)
    status, body = trigger(client, {"subscription_id": SUB})
    assert status == 202 and body["status"] == "pending"
    assert body["message"].startswith("scan queued")


def test_a_launcher_crash_leaves_the_scan_queued_for_the_supervisor(
    client: FlaskClient, launcher: FakeLauncher, store: ScanStore
) -> None:
    launcher.error = RuntimeError("boom")
    status, body = trigger(client, {"subscription_id": SUB})
    assert status == 202
    assert "supervisor" in body["message"]
    assert store.get(body["scan_id"]).status == "pending"  # type: ignore[union-attr]
