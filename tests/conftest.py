"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

Database tests take the ``database_url`` fixture and run twice, once per backend. PostgreSQL
gets one throw-away database per test session (created here, dropped at the end); tables are
emptied between tests.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from sqlalchemy import text

from store.db import dispose_engines, get_engine, normalise_url
from store.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("OPENSHIELD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"openshield_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL} (bin/test starts it): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    dispose_engines()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'openshield.db'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    empty_postgres(url)


def empty_postgres(url: str) -> None:
    """Delete every row of every application table (the session's PostgreSQL database is shared
    by the tests; listing the tables from the models keeps new tables from being forgotten)."""
    from store.models import Base

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with get_engine(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {tables}"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def scan_env(database_url: str, data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a scan subprocess: this repo on the path, the test database, no proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENSHIELD_"))}
    env.update(
        PYTHONPATH=str(REPO),
        DATABASE_URL=database_url,
        OPENSHIELD_DATA_DIR=str(data_dir),
        OPENSHIELD_HEARTBEAT_INTERVAL_SECONDS="0.5",
        # Runs at the test runner's priority: the suite shares the cores with its own workers and
        # other jobs, and a nice-10 scan there is starved past the tests' deadlines. The priority
        # itself is tested where it is the subject (tests/test_launch_cap.py,
        # tests/test_scan_process_cost.py), which set OPENSHIELD_SCAN_NICE explicitly.
        OPENSHIELD_SCAN_NICE="0",
        NO_PROXY="*",
    )
    env.update(extra or {})
    return env


def normalised(url: str) -> str:
    return normalise_url(url)
