"""Every evaluated resource has a result: FAIL (findings), PASS and NOT_EVALUATED (compact
rows), the finding key, and first_seen_at / new across scans (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from scanner.rules import all_rules
from store.clock import utcnow
from store.db import read_scope
from store.models import ResultRow
from store.scans import ScanStore
from tests.api.conftest import SUB, auth

RULES = {r.id: r for r in all_rules()}
HIGH_RULE = next(r for r in RULES.values() if r.severity == "HIGH")
LOW_RULE = next(r for r in RULES.values() if r.severity == "LOW")


def rid(name: str, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/{name}"


def fail(rule_id: str, name: str, sub: str = SUB) -> dict[str, Any]:
    rule = RULES[rule_id]
    return {
        "scan_id": "", "subscription_id": sub, "rule_id": rule_id, "rule_name": rule.title,
        "severity": rule.severity, "category": rule.category, "resource_id": rid(name, sub),
        "resource_name": name, "resource_type": "Microsoft.Storage/storageAccounts", "description": "d",
        "remediation": "r", "frameworks": {}, "metadata": {}, "detected_at": utcnow(),
    }


def result(rule_id: str, name: str, status: str = "PASS", detail: str | None = None) -> dict[str, Any]:
    return {"rule_id": rule_id, "status": status, "resource_id": rid(name), "resource_name": name,
            "resource_type": "Microsoft.Storage/storageAccounts", "location": "westeurope", "detail": detail}


def completed_scan(store: ScanStore, fails: list[dict[str, Any]], results: list[dict[str, Any]] = (),
                   sub: str = SUB) -> str:
    scan = store.create(sub)
    assert store.claim(scan.scan_id, pid=1, host="h", process_create_time=None)
    rows = [{**f, "scan_id": scan.scan_id} for f in fails]
    assert store.complete_with_results(scan.scan_id, findings=rows, outcomes=[], score=50.0, results=list(results))
    return scan.scan_id


def get(client: FlaskClient, url: str) -> tuple[int, Any]:
    response = client.get(url, headers=auth("reader"))
    return response.status_code, response.get_json()


def test_failures_by_default_and_status_selects_the_other_results(client: FlaskClient, store: ScanStore) -> None:
    scan_id = completed_scan(store, [fail(HIGH_RULE.id, "bad")],
                             [result(HIGH_RULE.id, "good"), result(LOW_RULE.id, "locked", "NOT_EVALUATED", "403")])
    status, body = get(client, "/api/findings")
    assert status == 200 and [f["resource_name"] for f in body["findings"]] == ["bad"]
    (bad,) = body["findings"]
    assert bad["status"] == "FAIL" and bad["finding_key"] == f"{HIGH_RULE.id}|{rid('bad').lower()}"
    assert bad["muted"] is False and bad["mute_id"] is None

    status, body = get(client, f"/api/findings?status=pass&scan_id={scan_id}")
    assert status == 200 and body["count"] == 1
    (good,) = body["findings"]
    # the compact row gets its rule's metadata from the catalogue, not from a copy per row
    assert good["status"] == "PASS" and good["id"] is None and good["rule_name"] == HIGH_RULE.title
    assert good["severity"] == "HIGH" and good["remediation"] == HIGH_RULE.remediation
    assert good["location"] == "westeurope" and good["subscription_id"] == SUB and good["detected_at"]
    assert good["finding_key"] == f"{HIGH_RULE.id}|{rid('good').lower()}"

    _, body = get(client, "/api/findings?status=NOT_EVALUATED")
    assert [(f["resource_name"], f["description"]) for f in body["findings"]] == [("locked", "403")]
    # severity and category filter PASS rows through the catalogue
    _, body = get(client, "/api/findings?status=PASS&severity=LOW")
    assert body["count"] == 0
    _, body = get(client, "/api/findings?status=PASS&severity=HIGH")
    assert body["count"] == 1


def test_pass_rows_are_compact(store: ScanStore) -> None:
    scan_id = completed_scan(store, [], [result(HIGH_RULE.id, f"ok{i}") for i in range(5)])
    with read_scope(store.url) as session:
        assert session.scalar(select(func.count()).select_from(ResultRow).where(ResultRow.scan_id == scan_id)) == 5
    assert not {"rule_name", "description", "remediation", "frameworks", "severity"} & set(ResultRow.__table__.c.keys())


def test_bad_status_and_muted_filters_are_refused(client: FlaskClient, store: ScanStore) -> None:
    status, body = get(client, "/api/findings?status=MAYBE")
    assert status == 400 and "status must be one of PASS, FAIL, NOT_EVALUATED" in body["error"]
    status, body = get(client, "/api/findings?status=PASS&muted=true")
    assert status == 400 and "FAIL" in body["error"]
    status, body = get(client, "/api/findings?muted=perhaps")
    assert status == 400
    status, body = get(client, "/api/findings?status=PASS&new=true")
    assert status == 400 and body["error"] == "new applies to FAIL results only"
    status, body = get(client, "/api/findings/groups?new=yes")
    assert status == 400 and body["error"] == "new must be true or false"


def test_new_selects_failures_new_since_the_previous_scan(client: FlaskClient, store: ScanStore) -> None:
    completed_scan(store, [fail(HIGH_RULE.id, "old")])
    second = completed_scan(store, [fail(HIGH_RULE.id, "old"), fail(HIGH_RULE.id, "fresh"), fail(LOW_RULE.id, "fresh2")])
    _, body = get(client, f"/api/findings?scan_id={second}&new=true&sort=resource")
    assert [f["resource_name"] for f in body["findings"]] == ["fresh", "fresh2"] and body["count"] == 2
    _, body = get(client, f"/api/findings?scan_id={second}&new=FALSE")
    assert [f["resource_name"] for f in body["findings"]] == ["old"]
    _, body = get(client, f"/api/findings/groups?scan_id={second}&new=true")
    assert {g["rule_id"]: g["failed"] for g in body["groups"]} == {HIGH_RULE.id: 1, LOW_RULE.id: 1}


def test_first_seen_and_new_follow_the_key_across_scans(client: FlaskClient, store: ScanStore) -> None:
    first = completed_scan(store, [fail(HIGH_RULE.id, "old")])
    # the id's case changes between scans: the key does not
    renamed = fail(HIGH_RULE.id, "old")
    renamed["resource_id"] = renamed["resource_id"].upper().replace("SUBSCRIPTIONS", "subscriptions")
    second = completed_scan(store, [renamed, fail(HIGH_RULE.id, "fresh")])
    _, body = get(client, f"/api/findings?scan_id={first}")
    (old_first,) = body["findings"]
    assert old_first["new"] is True
    _, body = get(client, f"/api/findings?scan_id={second}")
    by_name = {f["resource_name"]: f for f in body["findings"]}
    assert by_name["old"]["new"] is False and by_name["old"]["first_seen_at"] == old_first["first_seen_at"]
    assert by_name["fresh"]["new"] is True and by_name["fresh"]["first_seen_at"] > old_first["first_seen_at"]
    # a break (fixed in between) starts the clock again
    third = completed_scan(store, [fail(HIGH_RULE.id, "fresh")])
    fourth = completed_scan(store, [fail(HIGH_RULE.id, "old"), fail(HIGH_RULE.id, "fresh")])
    _, body = get(client, f"/api/findings?scan_id={fourth}")
    by_name = {f["resource_name"]: f for f in body["findings"]}
    assert by_name["old"]["new"] is True and by_name["old"]["first_seen_at"] > old_first["first_seen_at"]
    assert by_name["fresh"]["new"] is False
    assert third
