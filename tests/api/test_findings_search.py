"""Search, sort and per-rule groups of findings (``q=``, ``sort=``, ``GET /api/findings/groups``).

What the findings explorer asks the server for, so it never pages through thousands of findings
in the browser. Seeded through ScanStore like tests/api/test_findings.py, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from store.scans import ScanStore
from tests.api.conftest import SUB, SUB2
from tests.api.test_findings import CAT_X, CAT_Y, RULE_A, RULE_B, UNKNOWN_SCAN, finding, get, names, seed


def estate(store: ScanStore) -> tuple[str, str]:
    """Two subscriptions: RULE_A fails on three resources (two in SUB), RULE_B on one."""
    first = seed(
        store,
        SUB,
        [
            finding(RULE_A, "HIGH", "web-Prod"),
            finding(RULE_A, "HIGH", "db_100%"),
            finding(RULE_B, "LOW", "archive", CAT_Y),
        ],
    )
    second = seed(store, SUB2, [finding(RULE_A, "HIGH", "alpha")])
    return first, second


# ---------------------------------------------------------------------------------- search
def test_q_matches_resource_names_case_insensitively(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    status, body = get(client, "/api/findings?q=PROD")
    assert status == 200
    assert names(body) == ["web-Prod"] and body["count"] == 1


def test_q_matches_resource_ids_and_rule_ids_and_titles(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    # the resource id holds the subscription id: every SUB2 finding, none of SUB's
    assert names(get(client, f"/api/findings?q={SUB2[:13]}")[1]) == ["alpha"]
    assert sorted(names(get(client, f"/api/findings?q={RULE_B.lower()}")[1])) == ["archive"]
    # the seeded titles are "title of <rule id>"
    assert get(client, f"/api/findings?q=title of {RULE_A}")[1]["count"] == 3


def test_q_treats_like_wildcards_as_text(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    assert names(get(client, "/api/findings?q=100%25")[1]) == ["db_100%"]
    assert get(client, "/api/findings?q=%25%25")[1]["count"] == 0
    assert get(client, "/api/findings?q=b_1")[1]["count"] == 1  # "_" is not "any one character"
    assert get(client, "/api/findings?q=b%1")[1]["count"] == 0


def test_an_empty_q_filters_nothing_and_a_long_one_is_refused(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    assert get(client, "/api/findings?q=")[1]["count"] == 4
    status, body = get(client, "/api/findings?q=" + "x" * 201)
    assert status == 400 and "q must be at most 200" in body["error"]


# ------------------------------------------------------------------------------------ sort
def test_sort_by_resource_orders_by_resource_name(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    assert names(get(client, "/api/findings?sort=resource")[1]) == ["alpha", "archive", "db_100%", "web-Prod"]


def test_sort_by_rule_and_the_default_severity_order(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    by_rule = get(client, "/api/findings?sort=rule")[1]["findings"]
    assert [f["rule_id"] for f in by_rule] == sorted(f["rule_id"] for f in by_rule)
    by_severity = get(client, "/api/findings")[1]["findings"]
    assert [f["severity"] for f in by_severity] == ["HIGH", "HIGH", "HIGH", "LOW"]
    assert get(client, "/api/findings?sort=severity")[1]["findings"] == by_severity


def test_an_unknown_sort_is_refused(client: FlaskClient) -> None:
    status, body = get(client, "/api/findings?sort=name")
    assert status == 400 and body["error"] == "sort must be one of severity, rule, resource"


# ---------------------------------------------------------------------------------- groups
def groups(body: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(g["rule_id"], g["failed"], g["subscriptions"]) for g in body["groups"]]


def test_groups_count_failed_resources_per_rule_over_the_current_posture(
    client: FlaskClient, store: ScanStore
) -> None:
    seed(store, SUB, [finding(RULE_B, "LOW", "fixed-since", CAT_Y)])  # older scan: history
    estate(store)
    status, body = get(client, "/api/findings/groups")
    assert status == 200
    assert groups(body) == [(RULE_A, 3, 2), (RULE_B, 1, 1)]
    assert body["count"] == 2 and body["total_findings"] == 4
    first = body["groups"][0]
    assert first == {
        "rule_id": RULE_A, "rule_name": f"title of {RULE_A}", "severity": "HIGH", "category": CAT_X,
        "failed": 3, "subscriptions": 2,
    }


def test_groups_take_the_same_filters_as_findings(client: FlaskClient, store: ScanStore) -> None:
    first, _ = estate(store)
    assert groups(get(client, f"/api/findings/groups?scan_id={first}")[1]) == [(RULE_A, 2, 1), (RULE_B, 1, 1)]
    assert groups(get(client, f"/api/findings/groups?subscription_id={SUB2}")[1]) == [(RULE_A, 1, 1)]
    assert groups(get(client, "/api/findings/groups?severity=low")[1]) == [(RULE_B, 1, 1)]
    assert groups(get(client, f"/api/findings/groups?category={CAT_Y}")[1]) == [(RULE_B, 1, 1)]
    assert groups(get(client, "/api/findings/groups?q=prod")[1]) == [(RULE_A, 1, 1)]
    empty = get(client, "/api/findings/groups?q=nothing-like-this")[1]
    assert empty["count"] == 0 and empty["total_findings"] == 0 and empty["groups"] == []


def test_groups_sort_and_page(client: FlaskClient, store: ScanStore) -> None:
    seed(store, SUB, [finding(RULE_A, "LOW", "one"), *(finding(RULE_B, "HIGH", f"b{i}") for i in range(3))])
    assert [g["rule_id"] for g in get(client, "/api/findings/groups")[1]["groups"]] == [RULE_B, RULE_A]
    assert [g["rule_id"] for g in get(client, "/api/findings/groups?sort=rule")[1]["groups"]] == sorted([RULE_A, RULE_B])
    assert [g["rule_id"] for g in get(client, "/api/findings/groups?sort=count")[1]["groups"]] == [RULE_B, RULE_A]
    page = get(client, "/api/findings/groups?limit=1&offset=1")[1]
    assert page["count"] == 2 and groups(page) == [(RULE_A, 1, 1)] and page["total_findings"] == 4
    assert get(client, "/api/findings/groups?offset=5")[1]["groups"] == []


def test_groups_of_an_unknown_scan_are_404_and_bad_values_400(client: FlaskClient) -> None:
    assert get(client, f"/api/findings/groups?scan_id={UNKNOWN_SCAN}")[0] == 404
    assert get(client, "/api/findings/groups?sort=resource")[0] == 400
    assert get(client, "/api/findings/groups?rule_id=AZ-NOPE-999")[0] == 400
    assert get(client, "/api/findings/groups?bogus=1")[0] == 400


def test_groups_need_a_token(client: FlaskClient) -> None:
    assert client.get("/api/findings/groups").status_code == 401


def test_a_nul_character_in_q_is_refused_not_sent_to_the_database(client: FlaskClient) -> None:
    status, body = get(client, "/api/findings?q=a%00b")
    assert status == 400 and body["error"] == "q must not contain NUL characters"


# ------------------------------------------------------------------------- framework control
def control_of(rule_id: str) -> str:
    """A NIST control that rule_id is mapped to in the catalogue."""
    from api.catalogue import Catalogue

    controls = Catalogue.load().controls("NIST")
    return next(c for c, rules in sorted(controls.items()) if rule_id in rules)


def test_a_framework_control_filters_to_its_rules(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    control = control_of(RULE_A)
    from api.catalogue import Catalogue

    rules = set(Catalogue.load().controls("NIST")[control])
    expected = (3 if RULE_A in rules else 0) + (1 if RULE_B in rules else 0)
    assert get(client, f"/api/findings?framework=nist&control={control}")[1]["count"] == expected
    grouped = get(client, f"/api/findings/groups?framework=nist&control={control}")[1]
    assert {g["rule_id"] for g in grouped["groups"]} <= rules and grouped["total_findings"] == expected
    # a framework alone: rules mapped to any of its controls
    assert get(client, "/api/findings?framework=nist")[1]["count"] >= expected


def test_control_values_are_checked(client: FlaskClient) -> None:
    assert get(client, "/api/findings?control=1.1")[1]["error"] == "control needs framework"
    status, body = get(client, "/api/findings?framework=pci")
    assert status == 400 and body["error"].startswith("framework must be one of")
    status, body = get(client, "/api/findings/groups?framework=cis&control=99.99")
    assert status == 400 and body["error"] == "unknown control '99.99' of cis"


def test_a_cis_v6_control_filters_findings_by_its_v6_number(client: FlaskClient, store: ScanStore) -> None:
    """7.1 is RDP in v6.0.0 (AZ-NET-002); in v2.0.0 7.1 is the Bastion host (AZ-NET-012)."""
    seed(store, SUB, [finding("AZ-NET-002", "HIGH", "nsg-rdp"), finding("AZ-NET-012", "MEDIUM", "no-bastion")])
    body = get(client, "/api/findings?framework=cis-v6&control=7.1")[1]
    assert [f["rule_id"] for f in body["findings"]] == ["AZ-NET-002"]
    body = get(client, "/api/findings?framework=cis&control=7.1")[1]
    assert [f["rule_id"] for f in body["findings"]] == ["AZ-NET-012"]
    assert get(client, "/api/findings?framework=cis-v6&control=1.1")[1]["error"] == "unknown control '1.1' of cis-v6"
