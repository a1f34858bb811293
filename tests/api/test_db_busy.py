"""A lock wait that runs out is a 503 with ``Retry-After`` and a JSON reason, never a hang."""

from __future__ import annotations

import os
import signal
import time
from typing import Iterator

import psycopg
import pytest
from flask.testing import FlaskClient

from store.db import dispose_engines
from store.scans import ScanStore
from tests.api.conftest import SUB, SUB2, auth
from tests.test_db_locks import LOCK_TIMEOUT, end, hold_sqlite_writer


@pytest.fixture
def busy_after_short_wait(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app built after this waits LOCK_TIMEOUT seconds at most for a database lock."""
    monkeypatch.setenv("OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS", str(LOCK_TIMEOUT))
    dispose_engines()
    yield database_url
    dispose_engines()


def assert_busy(response, started: float) -> None:  # type: ignore[no-untyped-def]
    waited = time.monotonic() - started
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {"error": "database busy (a lock wait timed out); retry shortly"}
    assert waited < LOCK_TIMEOUT + 3, f"answered after {waited:.2f} s"


def test_a_write_behind_a_frozen_lock_holder_is_503_with_retry_after(
        busy_after_short_wait: str, client: FlaskClient, store: ScanStore) -> None:
    url = busy_after_short_wait
    scan = store.create(SUB)
    if url.startswith("sqlite"):
        holder = hold_sqlite_writer(url)
        os.kill(holder.pid, signal.SIGSTOP)
        release = lambda: end(holder)  # noqa: E731
    else:
        conn = psycopg.connect(url)
        conn.execute("UPDATE scans SET progress = progress WHERE scan_id = %s", (scan.scan_id,))
        release = conn.close
    try:
        started = time.monotonic()
        assert_busy(client.post(f"/api/scans/{scan.scan_id}/cancel", headers=auth("operator")), started)
        if url.startswith("sqlite"):  # every writer queues on one lock there
            started = time.monotonic()
            assert_busy(client.post("/api/scans/trigger", json={"subscription_id": SUB2}, headers=auth("operator")),
                        started)
        # reads are not held up
        assert client.get(f"/api/scans/{scan.scan_id}", headers=auth("reader")).status_code == 200
    finally:
        release()
    assert client.post(f"/api/scans/{scan.scan_id}/cancel", headers=auth("operator")).status_code == 200
