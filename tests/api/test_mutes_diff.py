"""Mutes (accepted risks) and scan diffs through the API, on SQLite and PostgreSQL: validation
(justification required, everything-matching mutes need force, expiry), history, muted results
left out of the score, and diff against a scan id or the previous scan."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.auth import issue_token
from scanner.engine import RuleOutcomeRecord, ScanResult
from scanner.inventory import Inventory
from scanner.results import apply_mutes, score_without
from store.clock import iso, utcnow
from store.mutes import MuteStore, parse_mute
from store.scans import ScanStore
from tests.api.conftest import SECRET, SUB, SUB2
from tests.api.test_results import HIGH_RULE, LOW_RULE, RULES, completed_scan, fail, rid


def headers(role: str = "operator", subject: str = "alice@example.com") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role, subject=subject)}"}


def post_mute(client: FlaskClient, body: dict[str, Any], role: str = "operator") -> Any:
    return client.post("/api/mutes", json=body, headers=headers(role))


# --------------------------------------------------------------------------------- mutes API
def test_mute_lifecycle_with_history(client: FlaskClient) -> None:
    expires = iso(utcnow() + timedelta(days=30))
    response = post_mute(client, {"rule_id": HIGH_RULE.id.lower(), "resource": "*/storageAccounts/legacy*",
                                  "tags": {"env": "test"}, "justification": "decommissioned in Q1",
                                  "expires_at": expires})
    assert response.status_code == 201, response.get_json()
    mute = response.get_json()
    assert mute["rule_id"] == HIGH_RULE.id and mute["author"] == "alice@example.com"
    assert mute["expires_at"] == expires and mute["expired"] is False

    listed = client.get("/api/mutes", headers=headers("reader")).get_json()
    assert listed["count"] == 1 and "history" not in listed
    assert client.delete(f"/api/mutes/{mute['id']}", headers=headers("reader")).status_code == 403
    deleted = client.delete(f"/api/mutes/{mute['id']}", headers=headers(subject="bob"))
    assert deleted.status_code == 200 and deleted.get_json()["deleted_at"]
    assert client.delete(f"/api/mutes/{mute['id']}", headers=headers()).status_code == 404
    listed = client.get("/api/mutes?include_history=1", headers=headers("reader")).get_json()
    assert listed["count"] == 0
    assert [(e["action"], e["actor"], e["mute_id"]) for e in listed["history"]] == [
        ("created", "alice@example.com", mute["id"]), ("deleted", "bob", mute["id"])]


@pytest.mark.parametrize("body, message", [
    ({"rule_id": "*", "resource": "*/vm1"}, "justification is required"),
    ({"rule_id": "*", "resource": "*/vm1", "justification": "   "}, "justification is required"),
    ({"rule_id": "*", "resource": "*", "justification": "all"}, "would match every failure"),
    ({"rule_id": "AZ-NOPE-999", "justification": "x"}, "unknown rule id"),
    ({"rule_id": "*", "resource": "x", "justification": "x", "expires_at": "2020-01-01T00:00:00Z"}, "in the past"),
    ({"rule_id": "*", "resource": "x", "justification": "x", "expires_at": "2099-01-01T00:00:00"}, "timezone"),
    ({"rule_id": "*", "resource": "x", "justification": "x", "expires_at": "soon"}, "ISO 8601"),
    ({"rule_id": "*", "resource": "x", "justification": "x", "tags": ["a"]}, "tags must be"),
    ({"rule_id": "*", "resource": "x", "justification": "x", "subscription_id": "nope"}, "subscription_id"),
    ({"rule_id": "*", "resource": "x", "justification": "x", "colour": "red"}, "unknown field"),
])
def test_bad_mutes_are_refused(client: FlaskClient, body: dict[str, Any], message: str) -> None:
    response = post_mute(client, body)
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_everything_mute_needs_force_and_readers_cannot_mute(client: FlaskClient) -> None:
    body = {"rule_id": "*", "resource": "*", "justification": "lab subscription", "force": True}
    assert post_mute(client, body, role="reader").status_code == 403
    assert post_mute(client, body).status_code == 201
    assert client.delete("/api/mutes/abc", headers=headers()).status_code == 400
    assert client.delete("/api/mutes/99999999999", headers=headers()).status_code == 404


def test_active_mutes_match_rule_glob_subscription_and_tags(store: ScanStore) -> None:
    mutes = MuteStore(store.url)
    known = set(RULES)
    keep = mutes.create(parse_mute({"rule_id": HIGH_RULE.id, "resource": "*/storageaccounts/LEG*",
                                    "subscription_id": SUB, "justification": "j"}, known), "a")
    mutes.create(parse_mute({"rule_id": "*", "resource": "*", "tags": {"Env": "lab"}, "justification": "j"}, known), "a")
    gone = mutes.create(parse_mute({"rule_id": LOW_RULE.id, "resource": "*", "justification": "j"}, known), "a")
    mutes.delete(gone["id"], "a")
    short = mutes.create(parse_mute({"rule_id": LOW_RULE.id, "resource": "*", "justification": "j",
                                     "expires_at": iso(utcnow() + timedelta(hours=1))}, known), "a")
    active = mutes.active(SUB)
    assert [m.id for m in active] == [keep["id"], keep["id"] + 1, short["id"]]
    # an expired mute stops applying: the next scan reads the mutes in force at its time
    assert short["id"] not in [m.id for m in mutes.active(SUB, at=utcnow() + timedelta(hours=2))]
    assert keep["id"] not in [m.id for m in mutes.active(SUB2)]

    rows = [fail(HIGH_RULE.id, "legacy1"), fail(HIGH_RULE.id, "prod1"), fail(HIGH_RULE.id, "tagged")]
    inventory = Inventory(subscription_id=SUB, resources={"microsoft.storage/storageaccounts": [
        {"id": rid("tagged"), "tags": {"env": "lab"}}]})
    muted = apply_mutes(rows, active, inventory)
    assert [(r["resource_name"], r["muted"], r["mute_id"]) for r in rows] == [
        ("legacy1", True, keep["id"]), ("prod1", False, None), ("tagged", True, keep["id"] + 1)]
    assert muted == Counter({HIGH_RULE.id: 2})


def test_muted_failures_leave_the_score() -> None:
    result = ScanResult(inventory=Inventory(subscription_id=SUB),
                        outcomes=[RuleOutcomeRecord(HIGH_RULE.id, "ok", None, 4, 2, 0)], score=50.0)
    severities = {HIGH_RULE.id: "HIGH"}
    assert score_without(result, severities, Counter()) == 50.0
    # two failures accepted: 2 evaluated, 0 failed
    assert score_without(result, severities, Counter({HIGH_RULE.id: 2})) == 100.0
    assert score_without(result, severities, Counter({HIGH_RULE.id: 1})) == pytest.approx(66.7)


# ------------------------------------------------------------------------------------- diff
def test_diff_against_previous_and_a_given_scan(client: FlaskClient, store: ScanStore) -> None:
    first = completed_scan(store, [fail(HIGH_RULE.id, "a"), fail(HIGH_RULE.id, "b")])
    second = completed_scan(store, [fail(HIGH_RULE.id, "b"), {**fail(LOW_RULE.id, "c"), "muted": True, "mute_id": 7}])
    body = client.get(f"/api/scans/{second}/diff", headers=headers("reader")).get_json()
    assert body["against"] == first
    assert [f["resource_name"] for f in body["new"]] == ["c"] and body["new"][0]["muted"] is True
    assert [f["resource_name"] for f in body["resolved"]] == ["a"]
    assert body["still_failing"] == 1 and body["muted"] == 1
    explicit = client.get(f"/api/scans/{second}/diff?against={first}", headers=headers("reader")).get_json()
    assert explicit == body
    # the first scan of a subscription: everything is new, nothing to compare with
    body = client.get(f"/api/scans/{first}/diff?against=previous", headers=headers("reader")).get_json()
    assert body["against"] is None and len(body["new"]) == 2 and body["resolved"] == []


def test_diff_bad_input(client: FlaskClient, store: ScanStore) -> None:
    mine = completed_scan(store, [])
    other = completed_scan(store, [], sub=SUB2)
    running = store.create(SUB)

    def diff(url: str) -> tuple[int, Any]:
        response = client.get(url, headers=headers("reader"))
        return response.status_code, response.get_json()

    status, body = diff(f"/api/scans/{mine}/diff?against={other}")
    assert status == 400 and "subscription" in body["error"]
    assert diff(f"/api/scans/{mine}/diff?against=yesterday")[0] == 400
    assert diff(f"/api/scans/{mine}/diff?against={mine}")[0] == 400
    assert diff(f"/api/scans/{mine}/diff?since=x")[0] == 400
    assert diff("/api/scans/not-a-uuid/diff")[0] == 400
    assert diff("/api/scans/0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f/diff")[0] == 404
    assert diff(f"/api/scans/{running.scan_id}/diff")[0] == 409
    assert diff(f"/api/scans/{mine}/diff?against={running.scan_id}")[0] == 409
