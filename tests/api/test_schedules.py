"""Schedules over HTTP: create, list, pause/resume, delete, and 400 with the reason."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import SUB, auth


@pytest.fixture(autouse=True)
def short_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSHIELD_SCHEDULE_MIN_INTERVAL_SECONDS", "60")


def test_create_list_patch_delete(client: FlaskClient) -> None:
    resp = client.post("/api/schedules", json={"all": True, "cron": "0 2 * * *", "timezone": "Europe/Berlin",
                                               "name": "nightly"}, headers=auth())
    assert resp.status_code == 201, resp.get_json()
    made = resp.get_json()
    assert made["target"] == "all" and made["next_run_at"].endswith("Z") and resp.headers["Location"].endswith(made["id"])
    one = client.post("/api/schedules", json={"subscription_id": SUB, "interval_seconds": 3600}, headers=auth())
    assert one.status_code == 201 and one.get_json()["subscription_id"] == SUB
    listed = client.get("/api/schedules", headers=auth("reader")).get_json()
    assert listed["count"] == 2
    paused = client.patch(f"/api/schedules/{made['id']}", json={"enabled": False}, headers=auth())
    assert paused.status_code == 200 and paused.get_json()["enabled"] is False
    assert client.delete(f"/api/schedules/{made['id']}", headers=auth()).status_code == 204
    assert client.get(f"/api/schedules/{made['id']}", headers=auth("reader")).status_code == 404
    assert client.delete(f"/api/schedules/{made['id']}", headers=auth()).status_code == 404


@pytest.mark.parametrize("body, words", [
    ({"all": True, "cron": "61 * * * *"}, "invalid cron expression"),
    ({"all": True, "cron": "* * *"}, "five fields"),
    ({"all": True, "cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"all": True, "interval_seconds": 5}, "interval_seconds must be from 60"),
    ({"all": True, "cron": "* * * * *", "interval_seconds": 3600}, "exactly one"),
    ({"all": True}, "exactly one"),
    ({"interval_seconds": 3600}, "subscription_id or"),
    ({"all": True, "interval_seconds": 3600, "rules": ["AZ-NOPE-999"]}, "unknown rule"),
])
def test_bad_schedule_is_400_with_the_reason(client: FlaskClient, body: dict, words: str) -> None:
    resp = client.post("/api/schedules", json=body, headers=auth())
    assert resp.status_code == 400 and words in resp.get_json()["error"], resp.get_json()


def test_reader_cannot_change_schedules(client: FlaskClient) -> None:
    resp = client.post("/api/schedules", json={"all": True, "interval_seconds": 3600}, headers=auth("reader"))
    assert resp.status_code == 403
