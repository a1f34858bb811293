"""GET /health: database reachability and this host's supervisor heartbeat."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient

from api.factory import create_app
from store.clock import utcnow
from store.db import session_scope
from store.supervisors import SupervisorBeat
from api.routes.health import SUPERVISOR_ALIVE_SECONDS
from store.settings import Settings
from tests.api.conftest import HOST, FakeLauncher, make_settings


def beat(settings: Settings, host: str, age_seconds: float, pid: int = 321) -> None:
    now = utcnow()
    with session_scope(settings.database_url) as session:
        session.add(SupervisorBeat(host=host, pid=pid, started_at=now - timedelta(hours=1),
                                   last_seen=now - timedelta(seconds=age_seconds)))


def test_without_a_supervisor_row_the_api_is_degraded_but_up(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "db": "ok",
        "supervisor": {"alive": False, "last_seen": None, "host": HOST, "pid": None},
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_a_fresh_heartbeat_means_ok(client: FlaskClient, settings: Settings) -> None:
    beat(settings, HOST, age_seconds=1)
    beat(settings, "other-host", age_seconds=1000, pid=7)  # other hosts' supervisors do not count
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["db"] == "ok"
    supervisor = body["supervisor"]
    assert (supervisor["alive"], supervisor["host"], supervisor["pid"]) == (True, HOST, 321)
    assert supervisor["last_seen"].endswith("Z")


def test_a_stale_heartbeat_means_degraded(client: FlaskClient, settings: Settings) -> None:
    beat(settings, HOST, age_seconds=SUPERVISOR_ALIVE_SECONDS + 5)
    response = client.get("/health")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert body["supervisor"]["alive"] is False and body["supervisor"]["pid"] == 321
    assert body["supervisor"]["last_seen"] is not None


def test_an_unusable_database_is_503(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'not-migrated.db'}", tmp_path), FakeLauncher())
    response = app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded" and body["db"] == "error: OperationalError"
    assert body["supervisor"]["alive"] is False


def test_an_unreachable_database_is_503_without_details(tmp_path: Path) -> None:
    url = "postgresql://openshield:hunter2-secret@127.0.0.1:9/openshield"
    app = create_app(make_settings(url, tmp_path), FakeLauncher())
    response = app.test_client().get("/health")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "127.0.0.1" not in text
    assert response.get_json()["db"].startswith("error: ")
