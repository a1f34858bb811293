"""GET /api/scans/<id>/export (CSV, JSON-OCSF, HTML) and GET /api/compliance/<fw>?format=csv,
on SQLite and PostgreSQL: content, formula-injection safety, markup escaping, OCSF validity,
bad input."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask.testing import FlaskClient
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from store.mutes import MuteStore, parse_mute
from store.scans import ScanStore
from tests.api.conftest import SUB, auth
from tests.api.test_results import HIGH_RULE, LOW_RULE, RULES, completed_scan, fail, result

EVIL_NAME = '<script>alert("x")</script>'
FORMULA = '=HYPERLINK("http://evil.example","click")'


def seeded(store: ScanStore) -> str:
    mute = MuteStore(store.url).create(parse_mute({"rule_id": LOW_RULE.id, "resource": "*",
                                                   "justification": "<b>legacy</b> accepted"}, set(RULES)), "a")
    completed_scan(store, [fail(HIGH_RULE.id, "old")])
    return completed_scan(store, [
        fail(HIGH_RULE.id, "old"),
        fail(HIGH_RULE.id, EVIL_NAME),
        {**fail(HIGH_RULE.id, "formula"), "resource_name": FORMULA},
        {**fail(LOW_RULE.id, "accepted"), "muted": True, "mute_id": mute["id"]},
    ], [result(HIGH_RULE.id, "good"), result(LOW_RULE.id, "locked", "NOT_EVALUATED", "-1 read failed")])


def export(client: FlaskClient, scan_id: str, fmt: str) -> Any:
    return client.get(f"/api/scans/{scan_id}/export?format={fmt}", headers=auth("reader"))


def test_csv_has_one_row_per_result_and_is_formula_safe(client: FlaskClient, store: ScanStore) -> None:
    scan_id = seeded(store)
    response = export(client, scan_id, "csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f"openshield-{scan_id}.csv" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "\r\n" in text  # RFC 4180 line ends
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    assert sorted(r["status"] for r in rows) == ["FAIL"] * 4 + ["NOT_EVALUATED", "PASS"]
    by_name = {r["resource_name"]: r for r in rows}
    assert f"'{FORMULA}" in by_name  # neutralised, still readable
    assert by_name["locked"]["description"] == "'-1 read failed"
    assert by_name["accepted"]["muted"] == "true" and by_name["old"]["new"] == "false"
    assert by_name["good"]["severity"] == "HIGH" and by_name["good"]["remediation"] == HIGH_RULE.remediation
    assert by_name["old"]["resource_group"] == "RG" and by_name["old"]["first_seen_at"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


def test_ocsf_events_are_valid_detection_findings(client: FlaskClient, store: ScanStore) -> None:
    scan_id = seeded(store)
    response = export(client, scan_id, "ocsf")
    assert response.status_code == 200 and response.mimetype == "application/json"
    events = json.loads(response.get_data(as_text=True))
    assert len(events) == 6
    for event in events:
        DetectionFinding.model_validate(event)
        assert event["class_uid"] == 2004 and event["type_uid"] == 200401
    by_status = {(e["status_code"], e["resources"][0]["name"]): e for e in events}
    muted = by_status[("FAIL", "accepted")]
    assert muted["status"] == "Suppressed" and muted["unmapped"]["muted"] is True
    assert by_status[("PASS", "good")]["severity_id"] == 4
    assert by_status[("FAIL", "old")]["finding_info"]["uid"] == f"{HIGH_RULE.id}|" + \
        f"/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.storage/storageaccounts/old"
    assert by_status[("FAIL", "old")]["cloud"]["account"]["uid"] == SUB


def test_html_report_is_self_contained_and_escapes_markup(client: FlaskClient, store: ScanStore) -> None:
    scan_id = seeded(store)
    response = export(client, scan_id, "html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "<script" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;b&gt;legacy&lt;/b&gt; accepted" in page  # the mute's justification, as text
    # nothing loaded from anywhere: no script, stylesheet, image or import
    assert not any(tag in page for tag in ("<link", "<img", "@import", " src="))
    new_section = page.split("New since the previous scan")[1].split("Open failures by rule")[0]
    assert "formula" in new_section or "HYPERLINK" in new_section
    assert ">old<" not in new_section  # failed in the previous scan too
    assert HIGH_RULE.id in page.split("Open failures by rule")[1]
    # the compliance summary lists both CIS versions, each under its own name
    assert "CIS Microsoft Azure Foundations Benchmark v2.0.0" in page
    assert "CIS Microsoft Azure Foundations Benchmark v6.0.0" in page


def test_export_bad_input(client: FlaskClient, store: ScanStore) -> None:
    scan_id = seeded(store)
    response = export(client, scan_id, "pdf")
    assert response.status_code == 400 and "format must be one of csv, ocsf, html" in response.get_json()["error"]
    assert client.get(f"/api/scans/{scan_id}/export", headers=auth("reader")).status_code == 400
    assert export(client, "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f", "csv").status_code == 404
    pending = store.create(SUB)
    assert export(client, pending.scan_id, "csv").status_code == 409
    assert client.get(f"/api/scans/{scan_id}/export?format=csv").status_code == 401


def test_compliance_csv(client: FlaskClient, store: ScanStore) -> None:
    scan_id = completed_scan(store, [fail(HIGH_RULE.id, "x")])
    response = client.get(f"/api/compliance/cis?scan_id={scan_id}&format=csv", headers=auth("reader"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and set(rows[0]) == {"control", "rules", "passed", "failed", "not_evaluated", "status"}
    bad = client.get(f"/api/compliance/cis?scan_id={scan_id}&format=xml", headers=auth("reader"))
    assert bad.status_code == 400
