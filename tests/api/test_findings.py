"""GET /api/findings and GET /api/findings/<id>: current-posture semantics, filters, order, paging.

Scans and their results are seeded through ScanStore exactly as a scan process stores them
(create, claim, complete_with_results), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.views import finding_view
from store.models import Finding
from store.clock import utcnow
from store.db import read_scope
from store.scans import ScanStore
from scanner.rules import all_rules
from tests.api.conftest import SUB, SUB2, auth

RULES = all_rules()
RULE_A, RULE_B = RULES[0].id, RULES[1].id
CATEGORIES = sorted({r.category for r in RULES})
CAT_X, CAT_Y = CATEGORIES[0], CATEGORIES[1]
UNKNOWN_SCAN = "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f"


def finding(rule_id: str, severity: str, resource: str, category: str = CAT_X) -> dict[str, Any]:
    """A finding as the scanner describes it (scan and subscription are added by ``seed``)."""
    return {"rule_id": rule_id, "severity": severity, "resource": resource, "category": category}


def seed(
    store: ScanStore,
    subscription: str,
    findings: Iterable[dict[str, Any]] = (),
    *,
    outcomes: Iterable[dict[str, Any]] = (),
    score: float | None = 80.0,
) -> str:
    """One completed scan of ``subscription`` with these findings and rule outcomes."""
    scan = store.create(subscription)
    assert store.claim(scan.scan_id, pid=1, host="h", process_create_time=None)
    rows = [
        {
            "scan_id": scan.scan_id, "subscription_id": subscription, "rule_id": f["rule_id"],
            "rule_name": f"title of {f['rule_id']}", "severity": f["severity"], "category": f["category"],
            "resource_id": f"/subscriptions/{subscription}/resourceGroups/rg/providers/x/{f['resource']}",
            "resource_name": f["resource"], "resource_type": "Microsoft.Storage/storageAccounts",
            "description": "d", "remediation": "r", "frameworks": {"CIS": ["3.1"]},
            "metadata": {"resource": f["resource"]}, "detected_at": utcnow(),
        }
        for f in findings
    ]
    assert store.complete_with_results(scan.scan_id, findings=rows, outcomes=list(outcomes), score=score)
    return scan.scan_id


def get(client: FlaskClient, url: str, role: str = "reader") -> tuple[int, Any]:
    response = client.get(url, headers=auth(role))
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def names(body: dict[str, Any]) -> list[str]:
    return [f["resource_name"] for f in body["findings"]]


# ------------------------------------------------------------------------- current posture
def test_without_scan_id_only_the_latest_completed_scan_of_each_subscription_counts(
    client: FlaskClient, store: ScanStore
) -> None:
    old = seed(store, SUB, [finding(RULE_A, "HIGH", "fixed-since")])
    new = seed(store, SUB, [finding(RULE_A, "HIGH", "sub1-now")])
    other = seed(store, SUB2, [finding(RULE_B, "LOW", "sub2-now")])
    # a later scan that failed has no results and does not displace the completed one
    failed = store.create(SUB)
    store.fail(failed.scan_id, "boom")
    store.create(SUB2)  # still pending

    status, body = get(client, "/api/findings")
    assert status == 200
    assert body["count"] == 2 and sorted(names(body)) == ["sub1-now", "sub2-now"]
    assert {f["scan_id"] for f in body["findings"]} == {new, other}

    _, history = get(client, f"/api/findings?scan_id={old}")
    assert names(history) == ["fixed-since"] and history["findings"][0]["scan_id"] == old


def test_subscription_filter_picks_that_subscriptions_latest_scan(client: FlaskClient, store: ScanStore) -> None:
    seed(store, SUB, [finding(RULE_A, "HIGH", "old")])
    seed(store, SUB, [finding(RULE_A, "HIGH", "new")])
    seed(store, SUB2, [finding(RULE_A, "HIGH", "elsewhere")])
    _, body = get(client, f"/api/findings?subscription_id={SUB.upper()}")
    assert names(body) == ["new"] and body["findings"][0]["subscription_id"] == SUB


def test_scan_id_of_a_scan_without_findings_is_an_empty_list_and_unknown_scan_is_404(
    client: FlaskClient, store: ScanStore
) -> None:
    clean = seed(store, SUB)
    pending = store.create(SUB2).scan_id
    for scan_id in (clean, pending):
        assert get(client, f"/api/findings?scan_id={scan_id}") == (
            200, {"count": 0, "limit": 100, "offset": 0, "findings": []}
        )
    assert get(client, f"/api/findings?scan_id={UNKNOWN_SCAN}") == (404, {"error": f"scan {UNKNOWN_SCAN} not found"})


def test_empty_database(client: FlaskClient) -> None:
    assert get(client, "/api/findings") == (200, {"count": 0, "limit": 100, "offset": 0, "findings": []})


# --------------------------------------------------------------------------- shape and order
def test_a_finding_has_the_shape_of_finding_to_dict(client: FlaskClient, store: ScanStore, settings: Any) -> None:
    seed(store, SUB, [finding(RULE_A, "HIGH", "acct")])
    _, body = get(client, "/api/findings")
    with read_scope(settings.database_url) as session:
        stored = session.scalars(select(Finding)).one()
    assert body["findings"] == [finding_view(stored)]
    assert list(body["findings"][0]) == list(finding_view(stored))  # same field order
    assert body["findings"][0]["metadata"] == {"resource": "acct"}
    assert body["findings"][0]["detected_at"].endswith("Z")


def test_order_is_severity_then_rule_then_resource(client: FlaskClient, store: ScanStore) -> None:
    rule_1, rule_2 = sorted([RULE_A, RULE_B])
    seed(store, SUB, [
        finding(rule_1, "INFO", "i"),
        finding(rule_2, "HIGH", "h2-b"),
        finding(rule_1, "LOW", "l"),
        finding(rule_2, "HIGH", "h2-a"),
        finding(rule_1, "HIGH", "h1"),
        finding(rule_2, "CRITICAL", "c"),
        finding(rule_1, "MEDIUM", "m"),
    ])
    _, body = get(client, "/api/findings")
    assert names(body) == ["c", "h1", "h2-a", "h2-b", "m", "l", "i"]


def test_paging_keeps_the_total_and_the_order(client: FlaskClient, store: ScanStore) -> None:
    seed(store, SUB, [finding(RULE_A, "HIGH", f"r{i:02d}") for i in range(7)])
    _, first = get(client, "/api/findings?limit=3")
    _, second = get(client, "/api/findings?limit=3&offset=3")
    _, last = get(client, "/api/findings?limit=3&offset=6")
    assert (first["count"], first["limit"], first["offset"]) == (7, 3, 0)
    assert names(first) + names(second) + names(last) == [f"r{i:02d}" for i in range(7)]
    assert get(client, "/api/findings?offset=50")[1] == {"count": 7, "limit": 100, "offset": 50, "findings": []}
    assert get(client, "/api/findings?limit=1000")[1]["count"] == 7


# ------------------------------------------------------------------------------------ filters
def test_filters_combine(client: FlaskClient, store: ScanStore) -> None:
    scan = seed(store, SUB, [
        finding(RULE_A, "HIGH", "a-high-x", CAT_X),
        finding(RULE_A, "LOW", "a-low-y", CAT_Y),
        finding(RULE_B, "HIGH", "b-high-y", CAT_Y),
    ])
    seed(store, SUB2, [finding(RULE_B, "HIGH", "sub2", CAT_Y)])

    def listed(query: str) -> list[str]:
        status, body = get(client, f"/api/findings?{query}")
        assert status == 200 and body["count"] == len(body["findings"])
        return sorted(names(body))

    assert listed("severity=high") == ["a-high-x", "b-high-y", "sub2"]  # case-insensitive in
    assert {f["severity"] for f in get(client, "/api/findings?severity=hIgH")[1]["findings"]} == {"HIGH"}
    assert listed(f"category={CAT_Y}") == ["a-low-y", "b-high-y", "sub2"]
    assert listed(f"rule_id={RULE_A}") == ["a-high-x", "a-low-y"]
    assert listed(f"subscription_id={SUB2}") == ["sub2"]
    assert listed(f"scan_id={scan.upper()}") == ["a-high-x", "a-low-y", "b-high-y"]
    assert listed(f"severity=HIGH&category={CAT_Y}&subscription_id={SUB}") == ["b-high-y"]
    assert listed(f"scan_id={scan}&subscription_id={SUB2}") == []
    assert listed("severity=CRITICAL") == []


# --------------------------------------------------------------------------------- one finding
def test_one_finding_by_id(client: FlaskClient, store: ScanStore) -> None:
    seed(store, SUB, [finding(RULE_A, "HIGH", "acct")])
    listed = get(client, "/api/findings")[1]["findings"][0]
    assert get(client, f"/api/findings/{listed['id']}") == (200, listed)
    missing = listed["id"] + 1000
    assert get(client, f"/api/findings/{missing}") == (404, {"error": f"finding {missing} not found"})
    # beyond the 32-bit id column: unknown, not a database error
    assert get(client, "/api/findings/99999999999")[0] == 404
    assert get(client, "/api/findings/" + "9" * 5000)[0] == 404
    assert get(client, "/api/findings/0")[0] == 404


def test_findings_of_older_scans_stay_reachable_by_id(client: FlaskClient, store: ScanStore) -> None:
    old = seed(store, SUB, [finding(RULE_A, "HIGH", "old")])
    seed(store, SUB, [])
    old_finding = get(client, f"/api/findings?scan_id={old}")[1]["findings"][0]
    assert get(client, f"/api/findings/{old_finding['id']}") == (200, old_finding)


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", "1e3", "%201", "١٢"])
def test_a_finding_id_that_is_not_an_integer_is_400(offline_client: FlaskClient, raw: str) -> None:
    assert get(offline_client, f"/api/findings/{raw}") == (400, {"error": "finding id must be a positive integer"})


# -------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("severity=urgent", "severity must be one of CRITICAL, HIGH, MEDIUM, LOW, INFO"),
        ("severity=", "severity must be one of"),
        ("category=nope", "category must be one of"),
        ("rule_id=AZ-NOPE-999", "unknown rule id: AZ-NOPE-999"),
        ("scan_id=not-a-uuid", "scan_id must be a UUID"),
        ("subscription_id=123", "subscription_id must be a UUID"),
        ("limit=0", "limit must be an integer from 1 to 1000"),
        ("limit=1001", "limit must be an integer from 1 to 1000"),
        ("limit=ten", "limit must be an integer from 1 to 1000"),
        ("offset=-1", "offset must be an integer from 0 to"),
        ("sevrity=HIGH", "unknown query parameter(s): sevrity; allowed: severity, category, rule_id"),
        ("severity=HIGH&severity=LOW", "query parameter(s) given more than once: severity"),
        ("limit=5&limit=5", "query parameter(s) given more than once: limit"),
    ],
)
def test_bad_query_is_400(offline_client: FlaskClient, query: str, message: str) -> None:
    status, body = get(offline_client, f"/api/findings?{query}")
    assert status == 400 and body["error"].startswith(message), body


# ------------------------------------------------------------------------------------- auth
@pytest.mark.parametrize("url", ["/api/findings", "/api/findings/1"])
def test_a_token_is_needed_and_reader_is_enough(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    assert client.get(url, headers=auth("reader")).status_code in (200, 404)
    assert client.get(url, headers=auth("operator")).status_code in (200, 404)
