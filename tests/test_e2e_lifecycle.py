"""The asynchronous scan lifecycle through real HTTP: gunicorn, the supervisor, scan processes."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import psutil
import pytest
import requests

from store.scans import ScanStore
from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import wait_for
from tests.stack import LiveStack


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="large:400", any_subscription=True) as emu:
        yield emu


@pytest.fixture
def stack(database_url: str, data_dir: Path, emulator: Emulator) -> Iterator[LiveStack]:
    emulator.set_faults(latency_ms=0)
    live = LiveStack(database_url, data_dir, emulator, extra_env={"OPENSHIELD_MAX_CONCURRENT_SCANS": "4"})
    live.start()
    yield live
    live.stop()
    emulator.set_faults(latency_ms=0)


def trigger(stack: LiveStack, subscription: str | None = None, rules: list[str] | None = None) -> requests.Response:
    body: dict[str, object] = {"subscription_id": subscription or str(uuid.uuid4())}
    if rules:
        body["rules"] = rules
    return stack.post("/api/scans/trigger", body)


def test_trigger_answers_202_at_once_while_a_slow_scan_runs(stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=200)
    first = trigger(stack)
    assert first.status_code == 202
    body = first.json()
    assert body["status"] == "pending" and first.headers["Location"].endswith(body["scan_id"])
    wait_for(lambda: stack.scan(body["scan_id"])["status"] == "running", 30, what="first scan running")
    second = trigger(stack)
    assert second.status_code == 202
    # the answer came while the slow scan still runs: the trigger never waits for a scan
    # (how fast it answers is measured by tests/bench/bench_api.py, not asserted here)
    assert stack.scan(body["scan_id"])["status"] == "running", "the slow scan should still be running"


def test_scan_survives_gunicorn_being_killed(stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=20)
    scan_id = trigger(stack).json()["scan_id"]
    wait_for(lambda: stack.scan(scan_id)["status"] == "running", 30, what="scan running")
    stack.kill_gunicorn()
    store = ScanStore(stack.database_url)
    scan = wait_for(lambda: (s := store.get(scan_id)) is not None and s.status in ("completed", "failed", "cancelled") and s,
                    60, what="scan to finish without the web server")
    assert scan.status == "completed", scan.error_message
    stack.start_gunicorn()
    assert stack.scan(scan_id)["status"] == "completed"


def test_api_cancel_of_running_and_pending_scans(stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=200)
    running = trigger(stack).json()["scan_id"]
    wait_for(lambda: stack.scan(running)["status"] == "running", 30, what="scan running")
    response = stack.post(f"/api/scans/{running}/cancel")
    assert response.status_code == 202 and response.json()["cancel_requested"] is True
    scan = stack.wait_terminal(running, 10)
    assert scan["status"] == "cancelled" and scan["error_message"].startswith("cancelled on request")
    # a pending scan that never launched is cancelled at once
    store = ScanStore(stack.database_url)
    pending = store.create(str(uuid.uuid4())).scan_id  # not launched: stays queued until the supervisor sees it
    response = stack.post(f"/api/scans/{pending}/cancel")
    assert response.status_code in (200, 202)
    assert stack.wait_terminal(pending, 5)["status"] == "cancelled"
    assert stack.post(f"/api/scans/{pending}/cancel").status_code == 409


def test_fifty_concurrent_triggers_for_fifty_subscriptions_all_end(stack: LiveStack) -> None:
    subscriptions = [str(uuid.uuid4()) for _ in range(50)]
    barrier = threading.Barrier(50)

    def fire(sub: str) -> requests.Response:
        barrier.wait()
        # one cheap rule: this test is about the lifecycle of 50 processes, not about collection
        return trigger(stack, sub, rules=["AZ-KV-001"])

    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(fire, subscriptions))
    assert [r.status_code for r in responses] == [202] * 50
    ids = [r.json()["scan_id"] for r in responses]
    assert len(set(ids)) == 50
    listed = stack.get("/api/scans", params={"limit": 500}).json()
    assert {s["scan_id"] for s in listed["scans"]} >= set(ids)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        scans = [stack.scan(i) for i in ids]
        if all(s["status"] in ("completed", "failed", "cancelled") for s in scans):
            break
        time.sleep(0.5)
    statuses = [s["status"] for s in scans]
    assert statuses == ["completed"] * 50, {s["scan_id"]: (s["status"], s["error_message"]) for s in scans if s["status"] != "completed"}


def test_fifty_concurrent_triggers_for_one_subscription_one_wins(stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=100)
    subscription = str(uuid.uuid4())
    barrier = threading.Barrier(50)

    def fire(_: int) -> requests.Response:
        barrier.wait()
        return trigger(stack, subscription)

    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(fire, range(50)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] + [409] * 49
    winner = next(r.json()["scan_id"] for r in responses if r.status_code == 202)
    assert all(r.json()["scan_id"] == winner for r in responses if r.status_code == 409)
    stack.post(f"/api/scans/{winner}/cancel")
    stack.wait_terminal(winner, 10)


def test_kill_9_through_the_api_view(stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=200)
    scan_id = trigger(stack).json()["scan_id"]
    scan = wait_for(lambda: (s := stack.scan(scan_id))["status"] == "running" and s["pid"] and s, 30, what="pid")
    os.kill(scan["pid"], signal.SIGKILL)
    final = stack.wait_terminal(scan_id, 3)
    assert final["status"] == "failed" and final["error_message"] == "scan process killed by SIGKILL"
    wait_for(lambda: not psutil.pid_exists(scan["pid"]), 30, what="pid reaped")
