"""Every malformed request is refused with a specific 4xx JSON error, before any database work.

These tests use ``offline_client`` (an app over an empty database): a request that got past
validation would hit a missing table and fail differently.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from scanner.rules import all_rules
from tests.api.conftest import SUB, auth

KNOWN_RULE = all_rules()[0].id
SCAN_ID = "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f"


def post_raw(client: FlaskClient, data: bytes | str, content_type: str = "application/json") -> tuple[int, dict]:
    response = client.post("/api/scans/trigger", data=data, content_type=content_type, headers=auth())
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([SUB], "request body must be a JSON object, not an array"),
        (None, "request body must be a JSON object, not null"),
        ("x", "request body must be a JSON object, not a string"),
        ({"subscription_id": "not-a-uuid"}, "subscription_id must be a UUID"),
        ({"subscription_id": SUB + "0"}, "subscription_id must be a UUID"),
        ({"subscription_id": "{" + SUB + "}"}, "subscription_id must be a UUID"),
        ({"subscription_id": 42}, "subscription_id must be a UUID"),
        ({"subscription_id": None}, "subscription_id must be a UUID"),
        ({"subscription_id": SUB, "priority": 1}, "unknown field(s): priority"),
        ({"subscription_id": SUB, "rules": ["AZ-NOPE-999", KNOWN_RULE]}, "unknown rule id(s): AZ-NOPE-999"),
        ({"subscription_id": SUB, "rules": []}, "rules must be a non-empty array"),
        ({"subscription_id": SUB, "rules": KNOWN_RULE}, "rules must be a non-empty array"),
        ({"subscription_id": SUB, "rules": None}, "rules must be a non-empty array"),
        ({"subscription_id": SUB, "rules": [KNOWN_RULE, KNOWN_RULE]}, f"rules repeats: {KNOWN_RULE}"),
        ({"subscription_id": SUB, "rules": [1]}, "rules must contain only rule id strings"),
        ({}, "subscription_id is required"),
    ],
)
def test_bad_trigger_bodies_are_400(offline_client: FlaskClient, body: object, message: str) -> None:
    status, answer = post_raw(offline_client, json.dumps(body))
    assert status == 400
    assert answer["error"].startswith(message), answer


def test_malformed_json_is_400(offline_client: FlaskClient) -> None:
    status, answer = post_raw(offline_client, '{"subscription_id": ')
    assert status == 400 and answer["error"].startswith("request body is not valid JSON")


def test_invalid_utf8_is_400(offline_client: FlaskClient) -> None:
    status, answer = post_raw(offline_client, b'{"subscription_id": "\xff"}')
    assert status == 400 and "not valid JSON" in answer["error"]


def test_a_repeated_key_is_400(offline_client: FlaskClient) -> None:
    status, answer = post_raw(offline_client, f'{{"subscription_id": "{SUB}", "subscription_id": "{SUB}"}}')
    assert status == 400 and answer["error"] == "request body repeats the key 'subscription_id'"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_json_is_415(offline_client: FlaskClient, content_type: str) -> None:
    status, answer = post_raw(offline_client, f'{{"subscription_id": "{SUB}"}}', content_type=content_type)
    assert status == 415 and answer == {"error": "Content-Type must be application/json"}


def test_an_oversized_body_is_413(offline_client: FlaskClient) -> None:
    body = json.dumps({"subscription_id": SUB, "rules": ["R" * 100] * 700})
    assert len(body) > 64 * 1024
    status, answer = post_raw(offline_client, body)
    assert status == 413 and answer["error"] == "request body too large (limit 65536 bytes)"


def test_an_unknown_rule_list_is_named_but_bounded(offline_client: FlaskClient) -> None:
    rules = [f"AZ-NOPE-{i:03d}" for i in range(25)]
    status, answer = post_raw(offline_client, json.dumps({"subscription_id": SUB, "rules": rules}))
    assert status == 400
    assert answer["error"].startswith("unknown rule id(s): AZ-NOPE-000, AZ-NOPE-001")
    assert answer["error"].endswith("(+15 more)")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=running&colour=red", "unknown query parameter(s): colour"),
        ("status=bogus", "status must be one of pending, running, completed, failed, cancelled"),
        ("status=", "status must be one of"),
        ("subscription_id=abc", "subscription_id must be a UUID"),
        ("limit=0", "limit must be an integer from 1 to 500"),
        ("limit=501", "limit must be an integer from 1 to 500"),
        ("limit=ten", "limit must be an integer from 1 to 500"),
        ("limit=+5", "limit must be an integer from 1 to 500"),
        ("limit=", "limit must be an integer from 1 to 500"),
        ("offset=-1", "offset must be an integer from 0 to"),
        ("offset=1.5", "offset must be an integer from 0 to"),
        ("status=running&status=pending", "query parameter(s) given more than once: status"),
        ("limit=5&limit=5", "query parameter(s) given more than once: limit"),
    ],
)
def test_bad_list_queries_are_400(offline_client: FlaskClient, query: str, message: str) -> None:
    response = offline_client.get(f"/api/scans?{query}", headers=auth("reader"))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)


@pytest.mark.parametrize("path", ["/api/scans/{}", "/api/scans/{}/log", "/api/scans/{}/cancel"])
@pytest.mark.parametrize("bad_id", ["123", "not-a-uuid", SCAN_ID + "x", SCAN_ID.replace("-", ""), ".."])
def test_a_scan_id_that_is_not_a_uuid_is_400(offline_client: FlaskClient, path: str, bad_id: str) -> None:
    method = offline_client.post if path.endswith("cancel") else offline_client.get
    response = method(path.format(bad_id), headers=auth("operator"))
    assert response.status_code == 400
    assert response.get_json() == {"error": "scan_id must be a UUID (8-4-4-4-12 hexadecimal digits)"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("lines=0", "lines must be an integer from 1 to 5000"),
        ("lines=5001", "lines must be an integer from 1 to 5000"),
        ("lines=all", "lines must be an integer from 1 to 5000"),
        ("lines=1&lines=2", "query parameter(s) given more than once: lines"),
        ("tail=5", "unknown query parameter(s): tail"),
    ],
)
def test_bad_log_queries_are_400(offline_client: FlaskClient, query: str, message: str) -> None:
    response = offline_client.get(f"/api/scans/{SCAN_ID}/log?{query}", headers=auth("operator"))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)


def test_unknown_routes_are_json_404(offline_client: FlaskClient) -> None:
    response = offline_client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found: /api/nothing-here"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("delete", "/api/scans", "GET"), ("post", "/health", "GET"), ("put", "/api/scans/trigger", "GET, POST")],
)
def test_wrong_methods_are_json_405(offline_client: FlaskClient, method: str, path: str, allowed: str) -> None:
    response = getattr(offline_client, method)(path, headers=auth())
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == f"method {method.upper()} not allowed on {path}; allowed: {allowed}"
    assert set(allowed.split(", ")) <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_database_failure_is_503_json(offline_client: FlaskClient) -> None:
    response = offline_client.get("/api/scans", headers=auth("reader"))  # the empty database has no tables
    assert response.status_code == 503
    assert response.get_json() == {"error": "database unavailable; retry shortly"}
    assert response.headers["Retry-After"] == "5"


def test_an_unexpected_error_is_500_json(offline_client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: object, scan_id: str) -> None:
        raise ValueError("secret detail that must not leak")

    monkeypatch.setattr("store.scans.ScanStore.detail", explode)
    response = offline_client.get(f"/api/scans/{SCAN_ID}", headers=auth("reader"))
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal server error"}
