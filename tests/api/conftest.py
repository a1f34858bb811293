"""Fixtures for the HTTP API: an app per database backend, a fake launcher, tokens.

The fake launcher records what it was asked to launch and starts nothing, so these tests stay
fast and never spawn processes; the real launcher has its own tests.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.auth import issue_token
from api.factory import create_app
from store.db import get_engine
from store.models import RevokedToken
from store.scans import ScanStore
from store.settings import Settings
from supervisor.launcher import LaunchResult

SECRET = "test-secret-for-the-api-suite-" + "0123456789abcdef" * 3  # long enough for HS512 too
HOST = "test-host"
SUB = "11111111-2222-4333-8444-555555555555"
SUB2 = "66666666-7777-4888-9999-aaaaaaaaaaaa"


class FakeLauncher:
    """Records launch calls (thread-safe) and answers with a configurable result."""

    def __init__(self, result: LaunchResult | None = None) -> None:
        self.result = result or LaunchResult(launched=True, queued=False)
        self.error: Exception | None = None
        self.calls: list[str] = []
        self.enrich_calls: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def launch(self, scan_id: str) -> LaunchResult:
        with self._lock:
            self.calls.append(scan_id)
        if self.error is not None:
            raise self.error
        return self.result

    def launch_enrichment(self, scan_id: str, run_id: int) -> LaunchResult:
        with self._lock:
            self.enrich_calls.append((scan_id, run_id))
        if self.error is not None:
            raise self.error
        return self.result


def auth(role: str = "operator", secret: str = SECRET, ttl: int = 3600) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, role, ttl_seconds=ttl)}"}


@pytest.fixture(autouse=True)
def api_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A known environment: a real secret, no demo mode, no default subscription."""
    monkeypatch.setenv("JWT_SECRET", SECRET)
    for name in ("OPENSHIELD_DEMO", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)


def make_settings(database_url: str, data_dir: Path) -> Settings:
    return dataclasses.replace(Settings.from_env(), database_url=database_url, data_dir=data_dir, host_id=HOST)


@pytest.fixture
def launcher() -> FakeLauncher:
    return FakeLauncher()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "data")


@pytest.fixture
def make_app(settings: Settings, launcher: FakeLauncher) -> Callable[[], Flask]:
    """Build the app after a test has adjusted the environment."""
    return lambda: create_app(settings, launcher)


@pytest.fixture
def app(make_app: Callable[[], Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def store(settings: Settings) -> ScanStore:
    return ScanStore(settings.database_url)


@pytest.fixture
def offline_client(tmp_path: Path, launcher: FakeLauncher) -> Iterator[FlaskClient]:
    """An app over an empty SQLite file, for requests refused before any database access.

    Were such a request to reach the database it would fail (no tables), so these tests also
    prove that validation and auth come first. The one table is ``revoked_tokens``, which auth
    itself reads (empty: nothing is revoked).
    """
    settings = make_settings(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "data")
    RevokedToken.__table__.create(get_engine(settings.database_url))  # type: ignore[attr-defined]
    yield create_app(settings, launcher).test_client()
