"""The estate API: discovery (cached, refreshable), many-subscription triggers, score history."""

from __future__ import annotations

import threading

from flask import Flask
from flask.testing import FlaskClient

from api.estate import install_lister
from scanner.azure.subscriptions import DiscoveredSubscription, DiscoveryError
from store.scans import ScanStore
from store.status import RunStatus
from tests.api.conftest import SUB, SUB2, FakeLauncher, auth
from supervisor.launcher import LaunchResult

SUB3 = "77777777-1111-4222-8333-444444444444"
DENIED = "88888888-1111-4222-8333-444444444444"
VISIBLE = [
    DiscoveredSubscription(SUB, "Contoso Production", "Enabled"),
    DiscoveredSubscription(SUB2, "Contoso Shared", "Warned"),
    DiscoveredSubscription(SUB3, "Old Sandbox", "Disabled"),
]


class CountingLister:
    def __init__(self, value: list[DiscoveredSubscription]) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> list[DiscoveredSubscription]:
        self.calls += 1
        return list(self.value)


def _with(app: Flask, value: list[DiscoveredSubscription]) -> CountingLister:
    lister = CountingLister(value)
    install_lister(app, lister)
    return lister


def test_subscriptions_list_cached_and_refreshable(app: Flask, client: FlaskClient, store: ScanStore) -> None:
    lister = _with(app, VISIBLE)
    scan = store.create(SUB)
    first = client.get("/api/subscriptions", headers=auth("reader"))
    assert first.status_code == 200
    body = first.get_json()
    assert body["count"] == 3
    rows = {r["subscription_id"]: r for r in body["subscriptions"]}
    assert rows[SUB]["active_scan"]["scan_id"] == scan.scan_id
    assert rows[SUB3]["scannable"] is False and rows[SUB3]["state"] == "Disabled"
    assert rows[SUB2]["latest_scan"] is None
    client.get("/api/subscriptions", headers=auth("reader"))
    assert lister.calls == 1
    client.get("/api/subscriptions?refresh=true", headers=auth("reader"))
    assert lister.calls == 2


def test_subscriptions_discovery_failure_is_502(app: Flask, client: FlaskClient) -> None:
    def broken() -> list[DiscoveredSubscription]:
        raise DiscoveryError("could not list subscriptions: Azure authentication failed: invalid client secret")

    install_lister(app, broken)
    resp = client.get("/api/subscriptions", headers=auth("reader"))
    assert resp.status_code == 502 and "invalid client secret" in resp.get_json()["error"]


def test_trigger_all_creates_one_entry_per_subscription(app: Flask, client: FlaskClient, store: ScanStore,
                                                        launcher: FakeLauncher) -> None:
    _with(app, VISIBLE)
    active = store.create(SUB2)
    resp = client.post("/api/scans/trigger", json={"all": True}, headers=auth())
    assert resp.status_code == 202
    entries = {e["subscription_id"]: e for e in resp.get_json()["scans"]}
    assert entries[SUB]["result"] == "created" and entries[SUB]["status_url"] == f"/api/scans/{entries[SUB]['scan_id']}"
    assert entries[SUB2]["http_status"] == 409 and entries[SUB2]["scan_id"] == active.scan_id
    assert entries[SUB3]["result"] == "skipped" and "Disabled" in entries[SUB3]["error"]
    assert launcher.calls == [entries[SUB]["scan_id"]]
    assert store.get(entries[SUB]["scan_id"]).status == RunStatus.PENDING


def test_trigger_listed_subscriptions_reports_a_denied_one(app: Flask, client: FlaskClient) -> None:
    _with(app, VISIBLE)
    resp = client.post("/api/scans/trigger", json={"subscription_ids": [SUB, DENIED]}, headers=auth())
    assert resp.status_code == 202
    entries = {e["subscription_id"]: e for e in resp.get_json()["scans"]}
    assert entries[SUB]["result"] == "created"
    assert entries[DENIED]["result"] == "error" and "not visible" in entries[DENIED]["error"]


def test_trigger_all_with_no_visible_subscription_is_422(app: Flask, client: FlaskClient) -> None:
    _with(app, [])
    resp = client.post("/api/scans/trigger", json={"all": True}, headers=auth())
    assert resp.status_code == 422 and "Reader" in resp.get_json()["error"]


def test_trigger_many_validation(app: Flask, client: FlaskClient) -> None:
    _with(app, VISIBLE)
    for body, words in (({"all": True, "subscription_ids": [SUB]}, "not both"), ({"all": False}, "all must be true"),
                        ({"subscription_ids": []}, "non-empty"), ({"subscription_ids": ["nope"]}, "UUID"),
                        ({"all": True, "extra": 1}, "unknown field")):
        resp = client.post("/api/scans/trigger", json=body, headers=auth())
        assert resp.status_code == 400 and words in resp.get_json()["error"], body


def test_trigger_many_stops_launching_when_the_host_is_full(app: Flask, client: FlaskClient,
                                                            launcher: FakeLauncher) -> None:
    _with(app, VISIBLE[:2])
    launcher.result = LaunchResult(launched=False, queued=True)
    resp = client.post("/api/scans/trigger", json={"all": True}, headers=auth())
    assert resp.status_code == 202 and resp.get_json()["created"] == 2 and resp.get_json()["started"] == 0
    assert len(launcher.calls) == 1


def test_concurrent_many_triggers_create_one_scan_per_subscription(app: Flask, store: ScanStore) -> None:
    _with(app, VISIBLE[:2])
    results: list[int] = []

    def go() -> None:
        resp = app.test_client().post("/api/scans/trigger", json={"all": True}, headers=auth())
        results.append(resp.status_code)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [202] * 4
    _, scans = store.list_scans(status=None, subscription_id=None, limit=100, offset=0)
    assert sorted(s.subscription_id for s in scans) == sorted([SUB, SUB2])


def test_score_history_one_point_per_completed_scan(client: FlaskClient, store: ScanStore) -> None:
    for _ in range(2):
        scan = store.create(SUB)
        assert store.claim(scan.scan_id, pid=1, host="h", process_create_time=None)
        assert store.complete_with_results(scan.scan_id, findings=[], outcomes=[], score=80.0)
    store.create(SUB2)  # pending: no point
    resp = client.get(f"/api/score/history?subscription_id={SUB}&days=7", headers=auth("reader"))
    body = resp.get_json()
    assert resp.status_code == 200 and body["count"] == 2 and body["points"][0]["score"] == 80.0
    assert client.get("/api/score/history?days=0", headers=auth("reader")).status_code == 400


def _completed(store: ScanStore, sub: str, score: float, evaluated: int) -> str:
    scan = store.create(sub)
    assert store.claim(scan.scan_id, pid=1, host="h", process_create_time=None)
    outcome = {"rule_id": "AZ-STOR-001", "status": "ok", "reason": None, "evaluated_count": evaluated,
               "failed_count": 0, "not_evaluated_count": 0}
    assert store.complete_with_results(scan.scan_id, findings=[], outcomes=[outcome], score=score)
    return scan.scan_id


def test_estate_score_is_weighted_by_evaluated_resources(client: FlaskClient, store: ScanStore) -> None:
    _completed(store, SUB, 90.0, 300)
    small = _completed(store, SUB2, 30.0, 3)
    body = client.get("/api/score", headers=auth("reader")).get_json()
    assert body["overall_score"] == 60.0  # the plain mean, unchanged
    assert body["estate"]["score"] == round((90 * 300 + 30 * 3) / 303, 1)
    assert body["estate"]["evaluated"] == 303 and body["estate"]["subscriptions"] == 2
    assert {s["scan_id"]: s["evaluated"] for s in body["subscriptions"]}[small] == 3
    compliance = client.get("/api/compliance/cis", headers=auth("reader")).get_json()
    assert sorted(r["subscription_id"] for r in compliance["by_subscription"]) == sorted([SUB, SUB2])
