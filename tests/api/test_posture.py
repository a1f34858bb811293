"""GET /api/score, GET /api/compliance/<framework>, GET /api/rules.

Expected compliance figures are derived from the live catalogue (rules are added while this
suite exists), but every rule's outcome and its contribution are spelt out here, so the test
states the counting rules rather than re-running the implementation.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from api.compliance import ControlTally, natural_key, tally_controls
from store.scans import ScanStore
from scanner.rules import all_rules
from tests.api.conftest import SUB, SUB2, auth
from tests.api.test_findings import RULE_A, RULE_B, finding, get, seed

RULES = all_rules()
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")


def outcome(rule_id: str, status: str = "ok", evaluated: int = 0, failed: int = 0, not_evaluated: int = 0) -> dict[str, Any]:
    return {"rule_id": rule_id, "status": status, "reason": None if status == "ok" else "why",
            "evaluated_count": evaluated, "failed_count": failed, "not_evaluated_count": not_evaluated}


# -------------------------------------------------------------------------------------- score
def test_score_reports_the_latest_completed_scan_per_subscription(client: FlaskClient, store: ScanStore) -> None:
    seed(store, SUB, [finding(RULE_A, "CRITICAL", "old")], score=10.0)
    new = seed(store, SUB, [finding(RULE_A, "HIGH", "a"), finding(RULE_B, "HIGH", "b"),
                            finding(RULE_B, "LOW", "c")], score=70.0)
    other = seed(store, SUB2, [], score=95.0)
    store.create(SUB)  # an active scan changes nothing

    status, body = get(client, "/api/score")
    assert status == 200
    assert [s["subscription_id"] for s in body["subscriptions"]] == [SUB, SUB2]
    first, second = body["subscriptions"]
    assert list(first) == ["subscription_id", "scan_id", "score", "completed_at", "total_findings", "findings_by_severity",
                           "evaluated"]
    assert (first["scan_id"], first["score"], first["total_findings"]) == (new, 70.0, 3)
    assert first["findings_by_severity"] == {"CRITICAL": 0, "HIGH": 2, "MEDIUM": 0, "LOW": 1, "INFO": 0}
    assert first["completed_at"].endswith("Z")
    assert (second["scan_id"], second["total_findings"]) == (other, 0)
    assert second["findings_by_severity"] == dict.fromkeys(SEVERITIES, 0)
    assert body["overall_score"] == 82.5

    _, only = get(client, f"/api/score?subscription_id={SUB2.upper()}")
    assert [s["scan_id"] for s in only["subscriptions"]] == [other] and only["overall_score"] == 95.0


def test_scans_without_a_score_do_not_count_in_the_mean(client: FlaskClient, store: ScanStore) -> None:
    seed(store, SUB, score=None)
    _, body = get(client, "/api/score")
    assert body["subscriptions"][0]["score"] is None and body["overall_score"] is None
    seed(store, SUB2, score=60.0)
    assert get(client, "/api/score")[1]["overall_score"] == 60.0


def test_score_with_no_completed_scan(client: FlaskClient, store: ScanStore) -> None:
    scan = store.create(SUB)
    store.cancel(scan.scan_id, "cancelled on request")
    status, body = get(client, "/api/score")
    assert (status, body["subscriptions"], body["overall_score"]) == (200, [], None)
    assert (body["estate"]["score"], body["estate"]["evaluated"]) == (None, 0)


@pytest.mark.parametrize(
    ("query", "message"),
    [("subscription_id=x", "subscription_id must be a UUID"), ("scan_id=" + SUB, "unknown query parameter(s): scan_id"),
     (f"subscription_id={SUB}&subscription_id={SUB}", "query parameter(s) given more than once")],
)
def test_score_bad_query_is_400(offline_client: FlaskClient, query: str, message: str) -> None:
    status, body = get(offline_client, f"/api/score?{query}")
    assert status == 400 and body["error"].startswith(message)


# ------------------------------------------------------------------------- compliance (unit)
def test_control_status_rules() -> None:
    def tally(*outcomes: dict[str, Any] | None) -> ControlTally:
        t = ControlTally(control="1.1", rules=["R"])
        for o in outcomes:
            t.add(o)
        return t

    failed = tally(outcome("R", evaluated=5, failed=2, not_evaluated=1))
    assert (failed.passed, failed.failed, failed.not_evaluated, failed.status) == (3, 2, 1, "failed")
    passed = tally(outcome("R", evaluated=4), outcome("R", "skipped"))
    assert (passed.passed, passed.failed, passed.not_evaluated, passed.status) == (4, 0, 1, "passed")
    # skipped or errored: its not-evaluated resources, or 1 for the whole rule; never a pass
    skipped = tally(outcome("R", "skipped", not_evaluated=3), outcome("R", "error"), None)
    assert (skipped.passed, skipped.failed, skipped.not_evaluated, skipped.status) == (0, 0, 5, "not_evaluated")
    # ran fine but found nothing to judge: no evidence either way
    empty = tally(outcome("R"))
    assert (empty.passed, empty.failed, empty.not_evaluated, empty.status) == (0, 0, 0, "not_evaluated")
    assert tally(outcome("R", "error", evaluated=1, failed=1)).status == "failed"  # a finding is never hidden


def test_tally_sums_every_rule_of_a_control_over_every_scan() -> None:
    controls = {"2.10": ["B", "A"], "2.2": ["A"], "10.1": ["C"]}
    outcomes = {("s1", "A"): outcome("A", evaluated=2), ("s2", "A"): outcome("A", evaluated=3, failed=1),
                ("s1", "B"): outcome("B", "skipped")}
    tallies = tally_controls(controls, ["s1", "s2"], outcomes)
    assert [t.control for t in tallies] == ["2.2", "2.10", "10.1"]
    assert [t.to_dict() for t in tallies] == [
        {"control": "2.2", "rules": ["A"], "passed": 4, "failed": 1, "not_evaluated": 0, "status": "failed"},
        # B: skipped in s1, no outcome row in s2
        {"control": "2.10", "rules": ["A", "B"], "passed": 4, "failed": 1, "not_evaluated": 2, "status": "failed"},
        {"control": "10.1", "rules": ["C"], "passed": 0, "failed": 0, "not_evaluated": 2, "status": "not_evaluated"},
    ]


def test_natural_order_of_control_ids() -> None:
    ids = ["1.10", "A.8.2", "1.2", "PR.AC-10", "1.1.3", "PR.AC-2", "4.1.10", "4.1.2", "A.8.13"]
    assert sorted(ids, key=natural_key) == [
        "1.1.3", "1.2", "1.10", "4.1.2", "4.1.10", "A.8.2", "A.8.13", "PR.AC-2", "PR.AC-10"
    ]


# ------------------------------------------------------------------------- compliance (HTTP)
# Each rule gets one of these outcomes (by position), with its contribution (passed, failed, not evaluated).
PATTERNS: list[tuple[dict[str, Any] | None, tuple[int, int, int]]] = [
    ({"status": "ok", "evaluated": 5, "failed": 2, "not_evaluated": 1}, (3, 2, 1)),
    ({"status": "ok", "evaluated": 4}, (4, 0, 0)),
    ({"status": "skipped"}, (0, 0, 1)),
    ({"status": "error", "not_evaluated": 3}, (0, 0, 3)),
    (None, (0, 0, 1)),  # no outcome row: the scan did not run this rule
    ({"status": "ok"}, (0, 0, 0)),  # nothing to judge
]


def seed_patterns(store: ScanStore, subscription: str, shift: int = 0) -> tuple[str, dict[str, tuple[int, int, int]]]:
    """A completed scan whose rule i has PATTERNS[(i + shift) % n]; returns each rule's contribution."""
    outcomes, contribution = [], {}
    for i, rule in enumerate(RULES):
        spec, counts = PATTERNS[(i + shift) % len(PATTERNS)]
        contribution[rule.id] = counts
        if spec is not None:
            status = spec["status"]
            outcomes.append(outcome(rule.id, status, spec.get("evaluated", 0), spec.get("failed", 0),
                                    spec.get("not_evaluated", 0)))
    return seed(store, subscription, outcomes=outcomes), contribution


def expected_controls(framework_key: str, *contributions: dict[str, tuple[int, int, int]]) -> dict[str, dict[str, Any]]:
    expected: dict[str, dict[str, Any]] = {}
    for rule in RULES:
        for control in rule.frameworks.get(framework_key, ()):
            entry = expected.setdefault(control, {"control": control, "rules": [], "passed": 0, "failed": 0,
                                                  "not_evaluated": 0})
            entry["rules"].append(rule.id)
            for contribution in contributions:
                p, f, n = contribution[rule.id]
                entry["passed"] += p
                entry["failed"] += f
                entry["not_evaluated"] += n
    for entry in expected.values():
        entry["rules"].sort()
        entry["status"] = "failed" if entry["failed"] else "not_evaluated" if not entry["passed"] else "passed"
    return expected


@pytest.mark.parametrize(("path", "key"), [("cis", "CIS"), ("CIS-v6", "CIS6"), ("NIST", "NIST"), ("Iso27001", "ISO27001")])
def test_compliance_aggregates_the_latest_scans_of_every_subscription(
    client: FlaskClient, store: ScanStore, path: str, key: str
) -> None:
    seed(store, SUB, outcomes=[outcome(r.id, evaluated=9, failed=9) for r in RULES])  # superseded
    scan_1, counts_1 = seed_patterns(store, SUB)
    scan_2, counts_2 = seed_patterns(store, SUB2, shift=1)

    status, body = get(client, f"/api/compliance/{path}")
    assert status == 200
    assert body["framework"] == path.lower() and body["framework_name"]
    assert body["scans"] == sorted([scan_1, scan_2])
    expected = expected_controls(key, counts_1, counts_2)
    assert [c["control"] for c in body["controls"]] == sorted(expected, key=natural_key)
    assert {c["control"]: c for c in body["controls"]} == expected
    statuses = [c["status"] for c in expected.values()]
    assert body["summary"] == {"controls": len(expected), "passed": statuses.count("passed"),
                               "failed": statuses.count("failed"), "not_evaluated": statuses.count("not_evaluated")}
    assert body["summary"]["failed"] > 0  # (which controls end not evaluated depends on the catalogue's size)

    for query, scan, counts in ((f"subscription_id={SUB2}", scan_2, counts_2), (f"scan_id={scan_1}", scan_1, counts_1)):
        _, one = get(client, f"/api/compliance/{path}?{query}")
        assert one["scans"] == [scan] and {c["control"]: c for c in one["controls"]} == expected_controls(key, counts)


def test_cis_v6_is_its_own_framework_beside_v2(client: FlaskClient, store: ScanStore) -> None:
    """The v6.0.0 numbering comes from the mapping table; the v2.0.0 answer keeps its numbers."""
    from scanner.rules.support.cis_v6 import RULE_CONTROLS

    rdp = "AZ-NET-002"  # CIS v2.0.0 6.1, v6.0.0 7.1
    seed(store, SUB, outcomes=[outcome(rdp, evaluated=3, failed=1)])
    status, v6 = get(client, "/api/compliance/cis-v6")
    assert status == 200
    assert (v6["framework"], v6["framework_name"]) == ("cis-v6", "CIS Microsoft Azure Foundations Benchmark v6.0.0")
    assert {c["control"] for c in v6["controls"]} == {c for cs in RULE_CONTROLS.values() for c in cs}
    by_control = {c["control"]: c for c in v6["controls"]}
    assert by_control["7.1"] == {"control": "7.1", "rules": [rdp], "passed": 2, "failed": 1, "not_evaluated": 0,
                                 "status": "failed"}
    assert "6.1" not in by_control  # v2.0.0's number for the same recommendation
    _, v2 = get(client, "/api/compliance/cis")
    assert v2["framework_name"].endswith("v2.0.0") and {c["control"]: c["status"] for c in v2["controls"]}["6.1"] == "failed"
    assert rdp not in {r for c in v2["controls"] if c["control"] == "7.1" for r in c["rules"]}
    csv = client.get("/api/compliance/cis-v6?format=csv", headers=auth("reader"))
    assert csv.status_code == 200 and 'filename="openshield-compliance-cis-v6.csv"' in csv.headers["Content-Disposition"]
    assert f"\r\n7.1,{rdp},2,1,0,failed\r\n" in csv.get_data(as_text=True)


def test_compliance_without_scans_reports_every_control_not_evaluated(client: FlaskClient) -> None:
    status, body = get(client, "/api/compliance/cis")
    assert status == 200 and body["scans"] == []
    assert body["summary"]["controls"] == len(body["controls"]) == body["summary"]["not_evaluated"] > 0
    assert all((c["passed"], c["failed"], c["not_evaluated"]) == (0, 0, 0) for c in body["controls"])


def test_compliance_of_a_named_scan(client: FlaskClient, store: ScanStore) -> None:
    unknown = "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f"
    assert get(client, f"/api/compliance/cis?scan_id={unknown}") == (404, {"error": f"scan {unknown} not found"})
    pending = store.create(SUB).scan_id
    status, body = get(client, f"/api/compliance/cis?scan_id={pending}")
    assert status == 409 and body["status"] == "pending" and "completed scan" in body["error"]


def test_unknown_framework_is_404(offline_client: FlaskClient) -> None:
    status, body = get(offline_client, "/api/compliance/pci")
    assert status == 404 and body["error"].startswith("unknown framework 'pci'")


@pytest.mark.parametrize(
    ("query", "message"),
    [(f"subscription_id={SUB}&scan_id={SUB2}", "give subscription_id or scan_id, not both"),
     ("scan_id=nope", "scan_id must be a UUID"), ("framework=cis", "unknown query parameter(s): framework"),
     ("scan_id=a&scan_id=b", "query parameter(s) given more than once")],
)
def test_compliance_bad_query_is_400(offline_client: FlaskClient, query: str, message: str) -> None:
    status, body = get(offline_client, f"/api/compliance/cis?{query}")
    assert status == 400 and body["error"].startswith(message)


# -------------------------------------------------------------------------------------- rules
def ids(body: dict[str, Any]) -> list[str]:
    assert body["count"] == len(body["rules"])
    return [r["rule_id"] for r in body["rules"]]


def test_rules_catalogue_and_filters(offline_client: FlaskClient) -> None:
    status, body = get(offline_client, "/api/rules")
    assert status == 200 and body["rules"] == [r.catalogue_entry() for r in RULES]
    high = [r.id for r in RULES if r.severity == "HIGH"]
    assert ids(get(offline_client, "/api/rules?severity=high")[1]) == high
    category = RULES[0].category
    assert ids(get(offline_client, f"/api/rules?category={category}")[1]) == [r.id for r in RULES if r.category == category]
    cis = [r.id for r in RULES if r.frameworks.get("CIS")]
    assert len(cis) < len(RULES)  # some rules have no CIS mapping, so the filter is tested
    assert ids(get(offline_client, "/api/rules?framework=CIS")[1]) == cis
    both = [r.id for r in RULES if r.severity == "HIGH" and r.frameworks.get("CIS")]
    assert ids(get(offline_client, "/api/rules?framework=cis&severity=HIGH")[1]) == both
    v6 = [r.id for r in RULES if r.frameworks.get("CIS6")]
    assert v6 and v6 != cis
    assert ids(get(offline_client, "/api/rules?framework=cis-v6")[1]) == v6


@pytest.mark.parametrize(
    ("query", "message"),
    [("severity=bad", "severity must be one of"), ("category=bad", "category must be one of"),
     ("framework=pci", "framework must be one of cis, cis-v6, nist, iso27001"), ("rule_id=AZ-STOR-001", "unknown query"),
     ("severity=LOW&severity=LOW", "query parameter(s) given more than once")],
)
def test_rules_bad_query_is_400(offline_client: FlaskClient, query: str, message: str) -> None:
    status, body = get(offline_client, f"/api/rules?{query}")
    assert status == 400 and body["error"].startswith(message)


# --------------------------------------------------------------------------------------- auth
@pytest.mark.parametrize("url", ["/api/score", "/api/compliance/cis", "/api/rules"])
def test_a_token_is_needed_and_reader_is_enough(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth("reader")).status_code == 200
