"""GET /api/findings/export: the findings explorer's current filter as a file (CSV, JSON-OCSF),
every page of it, streamed; on SQLite and PostgreSQL.

The rows must be exactly those that paging through ``GET /api/findings`` with the same filter
gives, in the same order, so the export is checked against the list route itself.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from store.scans import ScanStore
from tests.api.conftest import SUB, SUB2, auth
from tests.api.test_results import HIGH_RULE, LOW_RULE, completed_scan, fail, result

# more failures than one page of /api/findings can hold (limit at most 1000)
MANY = 1050


def estate(store: ScanStore) -> tuple[str, str]:
    """SUB: MANY HIGH failures, two LOW ones (one muted), a PASS and a NOT_EVALUATED result;
    SUB2: one HIGH failure; and an older SUB scan whose failure is history."""
    completed_scan(store, [fail(HIGH_RULE.id, "fixed-since")])
    fails = [fail(HIGH_RULE.id, f"web-{i:04d}") for i in range(MANY)]
    fails += [fail(LOW_RULE.id, "archive"), {**fail(LOW_RULE.id, "=cmd|calc"), "muted": True}]
    first = completed_scan(store, fails, [result(HIGH_RULE.id, "good"),
                                          result(LOW_RULE.id, "locked", "NOT_EVALUATED", "read failed")])
    second = completed_scan(store, [fail(HIGH_RULE.id, "other-sub", SUB2)], sub=SUB2)
    return first, second


def export(client: FlaskClient, query: str, role: str = "reader") -> Any:
    return client.get(f"/api/findings/export?{query}", headers=auth(role))


def csv_rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def every_page(client: FlaskClient, query: str) -> list[dict[str, Any]]:
    """What paging through GET /api/findings with the same filter lists, in order."""
    listed: list[dict[str, Any]] = []
    while True:
        body = client.get(f"/api/findings?{query}&limit=1000&offset={len(listed)}", headers=auth("reader")).get_json()
        listed += body["findings"]
        if len(listed) >= body["count"]:
            return listed


def test_csv_has_every_page_of_the_filter_in_the_list_order(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    response = export(client, "format=csv&severity=HIGH&sort=resource")
    assert response.status_code == 200 and response.is_streamed
    rows = csv_rows(response)
    expected = every_page(client, "severity=HIGH&sort=resource")
    assert len(expected) == MANY + 1  # the two subscriptions' current HIGH failures, not the older scan's
    assert [(r["subscription_id"], r["resource_id"]) for r in rows] == [
        (f["subscription_id"], f["resource_id"]) for f in expected]
    assert {r["severity"] for r in rows} == {"HIGH"} and {r["status"] for r in rows} == {"FAIL"}
    assert response.headers["X-Total-Count"] == str(MANY + 1)


def test_headers_name_the_file_and_say_what_it_is(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    response = export(client, "format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="openshield-findings-\d{8}T\d{6}Z\.csv"',
                        response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"
    assert "\r\n" in response.get_data(as_text=True)  # RFC 4180, as the scan export
    ocsf = export(client, "format=ocsf")
    assert ocsf.mimetype == "application/json"
    assert ocsf.headers["Content-Disposition"].endswith('.ocsf.json"')


def test_filters_search_subscription_and_mutes_apply(client: FlaskClient, store: ScanStore) -> None:
    first, _ = estate(store)
    assert [r["resource_name"] for r in csv_rows(export(client, f"format=csv&subscription_id={SUB2}"))] == ["other-sub"]
    assert [r["resource_name"] for r in csv_rows(export(client, "format=csv&q=web-104"))] == [
        f"web-{i:04d}" for i in range(1040, 1050)]
    muted = csv_rows(export(client, "format=csv&muted=true"))
    # the muted name would be a formula: neutralised as in the scan export
    assert [(r["resource_name"], r["muted"]) for r in muted] == [("'=cmd|calc", "true")]
    open_low = csv_rows(export(client, f"format=csv&rule_id={LOW_RULE.id}&muted=false&scan_id={first}"))
    assert [r["resource_name"] for r in open_low] == ["archive"]
    nothing = export(client, "format=csv&q=nothing-like-this")
    assert nothing.status_code == 200 and csv_rows(nothing) == [] and nothing.headers["X-Total-Count"] == "0"


def test_passed_and_not_evaluated_results_carry_their_rule_and_subscription(
    client: FlaskClient, store: ScanStore
) -> None:
    estate(store)
    passed = csv_rows(export(client, "format=csv&status=pass"))
    assert [(r["resource_name"], r["status"], r["subscription_id"]) for r in passed] == [("good", "PASS", SUB)]
    assert passed[0]["rule_name"] == HIGH_RULE.title and passed[0]["severity"] == "HIGH"
    unknown = csv_rows(export(client, f"format=csv&status=NOT_EVALUATED&severity={LOW_RULE.severity}"))
    assert [(r["resource_name"], r["description"]) for r in unknown] == [("locked", "read failed")]


def test_ocsf_is_a_json_array_of_valid_detection_findings(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    events = json.loads(export(client, f"format=ocsf&rule_id={LOW_RULE.id}").get_data(as_text=True))
    assert len(events) == 2
    for event in events:
        DetectionFinding.model_validate(event)
    assert sorted(e["status"] for e in events) == ["New", "Suppressed"]


def test_bad_parameters_are_refused_with_a_short_message(client: FlaskClient, store: ScanStore) -> None:
    estate(store)
    for query, message in [
        ("", "format must be one of csv, ocsf"),
        ("format=html", "format must be one of csv, ocsf"),
        ("format=csv&limit=10", "unknown query parameter"),
        ("format=csv&sort=count", "sort must be one of severity, rule, resource"),
        ("format=csv&severity=URGENT", "severity"),
        ("format=csv&rule_id=AZ-NOPE-999", "unknown rule id: AZ-NOPE-999"),
        ("format=csv&status=PASS&muted=true", "muted applies to FAIL results only"),
        ("format=csv&scan_id=not-a-uuid", "scan_id"),
        ("format=csv&format=ocsf", "format"),
    ]:
        response = export(client, query)
        assert response.status_code == 400, query
        assert message in response.get_json()["error"], (query, response.get_json())
    assert export(client, "format=csv&scan_id=0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f").status_code == 404
    assert client.get("/api/findings/export?format=csv").status_code == 401


def test_a_filter_over_the_maximum_is_refused_with_its_count(
    client: FlaskClient, store: ScanStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    estate(store)
    monkeypatch.setattr("api.routes.findings.MAX_EXPORT_ROWS", 2)
    response = export(client, f"format=csv&rule_id={LOW_RULE.id}")
    assert response.status_code == 200 and len(csv_rows(response)) == 2
    refused = export(client, "format=csv")
    assert refused.status_code == 400
    assert refused.get_json()["error"] == f"the filter matches {MANY + 3:,} rows; an export holds at most 2: narrow the filter"


def test_passed_results_of_a_scan_and_another_subscription_are_none(client: FlaskClient, store: ScanStore) -> None:
    first, _ = estate(store)
    for sub, expected in ((SUB, ["good"]), (SUB2, [])):
        query = f"status=PASS&scan_id={first}&subscription_id={sub}"
        listed = client.get(f"/api/findings?{query}", headers=auth("reader")).get_json()
        assert [f["resource_name"] for f in listed["findings"]] == expected and listed["count"] == len(expected)
        assert [r["resource_name"] for r in csv_rows(export(client, f"format=csv&{query}"))] == expected
    past_the_end = client.get("/api/findings?status=PASS&offset=5", headers=auth("reader")).get_json()
    assert past_the_end["count"] == 1 and past_the_end["findings"] == []
