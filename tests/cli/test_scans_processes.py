"""``bin/openshield`` against real scan processes: trigger --wait, ps, kill, logs -f, supervisor status.

Scans run against the HTTPS Azure emulator; a latency fault keeps a scan running long enough
to be looked at and signalled. Signals are real, and what the database says afterwards is
written by the scan process or the supervisor, never by the test.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
import uuid
from typing import Iterator

import psutil
import pytest

from tests.cli.conftest import OPENSHIELD, Cli
from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import kill_scan_processes, start_supervisor, stop_process, wait_for

TERMINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="large:300", any_subscription=True) as emu:
        yield emu


@pytest.fixture
def rig(cli: Cli, emulator: Emulator) -> Iterator[Cli]:
    cli.env.update(emulator.env)
    cli.env.update(OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS="30", OPENSHIELD_MAX_CONCURRENT_SCANS="4")
    emulator.set_faults(latency_ms=0)
    yield cli
    kill_scan_processes(cli.data_dir)
    emulator.set_faults(latency_ms=0)


@pytest.fixture
def supervisor(rig: Cli) -> Iterator[subprocess.Popen[bytes]]:
    proc = start_supervisor(rig.env, rig.data_dir / "supervisor.log")
    yield proc
    stop_process(proc)


def _trigger(rig: Cli, *extra: str) -> str:
    result = rig.run("scans", "trigger", "--subscription", str(uuid.uuid4()), *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _running_pid(rig: Cli, scan_id: str) -> int:
    def pid() -> int | None:
        scan = rig.store.get(scan_id)
        assert scan is not None
        return scan.pid if scan.status == "running" and scan.pid else None

    return wait_for(pid, 60, what=f"scan {scan_id} to run")


def _terminal(rig: Cli, scan_id: str, timeout: float = 60):  # type: ignore[no-untyped-def]
    def ended():  # type: ignore[no-untyped-def]
        scan = rig.store.get(scan_id)
        return scan if scan is not None and scan.status in TERMINAL else None

    return wait_for(ended, timeout, what=f"scan {scan_id} to end")


def test_trigger_wait_completes_with_plain_progress_lines(rig: Cli, emulator: Emulator) -> None:
    # long enough for --wait to see the collection: per-type lists make it a handful of requests
    emulator.set_faults(latency_ms=1500)
    sub = str(uuid.uuid4())
    result = rig.run("scans", "trigger", "--subscription", sub, "--rules", "AZ-STOR-001,AZ-NET-001", "--wait",
                     timeout=90)
    assert result.returncode == 0, result.stderr
    assert "completed:" in result.stdout
    lines = result.stderr.splitlines()
    assert "scan starting" in lines[0]
    progress = [line.split()[1:] for line in lines[1:]]  # "HH:MM:SS status phase N%" lines
    assert ["running", "collecting"] in [p[:2] for p in progress]
    assert lines[-1].endswith("completed done 100%")
    scan = rig.store.list_scans(subscription_id=sub)[1][0]
    assert scan.status == "completed" and scan.trigger == "cli" and scan.host == rig.host
    assert scan.rules == ["AZ-STOR-001", "AZ-NET-001"]


def test_trigger_wait_exit_code_follows_a_failed_scan(rig: Cli) -> None:
    rig.extra["AZURE_CLIENT_SECRET"] = "wrong-secret"
    result = rig.run("scans", "trigger", "--subscription", str(uuid.uuid4()), "--rules", "AZ-STOR-001",
                     "--wait", "--json", timeout=90)
    assert result.returncode == 1, result.stderr
    scan = json.loads(result.stdout)
    assert scan["status"] == "failed" and scan["trigger"] == "cli"
    assert scan["error_message"] == "Azure authentication failed: invalid client secret"


def test_trigger_wait_on_a_terminal_draws_a_progress_bar(rig: Cli) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 wide
    try:
        proc = subprocess.Popen([OPENSHIELD, "scans", "trigger", "--subscription", str(uuid.uuid4()),
                                 "--rules", "AZ-STOR-001", "--wait"], env=rig.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # until the writer is gone and everything is read
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: no writer left
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(10) == 0
    finally:
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert "\r" in text and "100%" in text and "completed done" in text  # tqdm redraws one line
    assert "running collecting 0%" not in text  # not the plain-line format


def test_ps_then_kill_by_scan_id_is_cancelled_by_sigterm(rig: Cli, emulator: Emulator,
                                                         supervisor: subprocess.Popen[bytes]) -> None:
    # every request 10 s: the scan outlives the ps and kill calls, even on a loaded machine where
    # each CLI call takes seconds to start
    emulator.set_faults(latency_ms=10000)
    scan_id = _trigger(rig)
    pid = _running_pid(rig, scan_id)

    ps = rig.run("scans", "ps", "--json")
    assert ps.returncode == 0, ps.stderr
    entry = next(e for e in json.loads(ps.stdout)["scans"] if e["scan_id"] == scan_id)
    assert entry["kind"] == "scan" and entry["pid"] == pid and entry["host"] == rig.host
    assert entry["process"] == "alive"
    assert entry["this_host"] is True and entry["status"] == "running"
    assert entry["heartbeat_age_seconds"] < 10 and entry["runtime_seconds"] >= 0
    table = rig.run("scans", "ps").stdout.splitlines()
    assert table[0].split() == ["SCAN_ID", "KIND", "PID", "HOST", "STATUS", "PHASE", "PROGRESS", "RUNTIME",
                                "HEARTBEAT", "PROCESS"]
    assert any(row.startswith(scan_id) and str(pid) in row and "alive" in row for row in table[1:])

    kill = rig.run("scans", "kill", scan_id, "--json")
    assert kill.returncode == 0, kill.stderr
    assert json.loads(kill.stdout)["signals"] == ["SIGTERM"]
    scan = _terminal(rig, scan_id, 60)
    assert scan.status == "cancelled" and scan.error_message == "cancelled by SIGTERM"
    assert scan.exit_code == 128 + signal.SIGTERM
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_kill_force_by_pid_sends_sigkill_to_a_scan_that_ignores_sigterm(
        rig: Cli, emulator: Emulator, supervisor: subprocess.Popen[bytes]) -> None:
    emulator.set_faults(latency_ms=400)
    scan_id = _trigger(rig)
    pid = _running_pid(rig, scan_id)
    os.kill(pid, signal.SIGSTOP)  # a stopped process cannot act on SIGTERM; only SIGKILL ends it
    kill = rig.run("scans", "kill", str(pid), "--force", "--grace", "1", "--json")
    assert kill.returncode == 0, kill.stderr
    answer = json.loads(kill.stdout)
    assert answer == {"kind": "scan", "scan_id": scan_id, "pid": pid, "signals": ["SIGTERM", "SIGKILL"],
                      "exited": True}
    scan = _terminal(rig, scan_id, 60)
    assert scan.status == "failed" and scan.error_message == "scan process killed by SIGKILL"


def test_kill_refuses_a_pid_that_is_not_a_scan(rig: Cli, supervisor: subprocess.Popen[bytes]) -> None:
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        for pid in (bystander.pid, supervisor.pid, os.getpid()):
            result = rig.run("scans", "kill", str(pid), "--force")
            assert result.returncode == 3, result.stderr
            assert f"pid {pid} is not a running scan or enrichment of host {rig.host}" in result.stderr
        assert bystander.poll() is None and supervisor.poll() is None  # nobody was signalled
    finally:
        bystander.kill()
        bystander.wait()


def test_logs_tail_and_follow_to_the_end(rig: Cli, emulator: Emulator) -> None:
    emulator.set_faults(latency_ms=100)
    scan_id = _trigger(rig, "--rules", "AZ-STOR-001")
    _running_pid(rig, scan_id)
    follow = rig.run("scans", "logs", scan_id, "-f", timeout=90)
    assert follow.returncode == 0, follow.stderr
    assert f"scan {scan_id} claimed by pid" in follow.stdout
    assert f"scan {scan_id} completed:" in follow.stdout  # followed until the scan's last words
    assert _terminal(rig, scan_id).status == "completed"

    tail = rig.run("scans", "logs", scan_id, "-n", "1", "--json")
    assert tail.returncode == 0
    answer = json.loads(tail.stdout)
    assert answer["truncated"] is True and len(answer["lines"]) == 1
    assert answer["lines"][0] == follow.stdout.rstrip("\n").splitlines()[-1]


def test_supervisor_status_follows_the_supervisor(rig: Cli) -> None:
    down = rig.run("supervisor", "status", "--json")
    assert down.returncode == 1 and json.loads(down.stdout)["alive"] is False
    proc = start_supervisor(rig.env, rig.data_dir / "supervisor.log")
    try:
        def alive() -> dict | None:  # type: ignore[type-arg]
            result = rig.run("supervisor", "status", "--json")
            return json.loads(result.stdout) if result.returncode == 0 else None

        status = wait_for(alive, 60, interval=0.3, what="supervisor status to say alive")
        me = next(s for s in status["supervisors"] if s["this_host"])
        assert me["host"] == rig.host and me["pid"] == proc.pid and me["alive"] is True
        text = rig.run("supervisor", "status")
        assert text.returncode == 0 and f"{rig.host} (this host)" in text.stdout
    finally:
        stop_process(proc)
    # a fresh row of a dead process is not "alive" on its own host
    after = rig.run("supervisor", "status", "--json")
    assert after.returncode == 1, after.stdout


def test_cancel_of_a_running_scan_is_carried_out_by_the_supervisor(
        rig: Cli, emulator: Emulator, supervisor: subprocess.Popen[bytes]) -> None:
    emulator.set_faults(latency_ms=10000)  # the scan outlives the cancel call on a loaded machine
    scan_id = _trigger(rig)
    _running_pid(rig, scan_id)
    result = rig.run("scans", "cancel", scan_id, "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    # the answer is the row as the CLI re-read it: usually still running, but the supervisor (or
    # the scan's heartbeat) may carry the cancel out between the request and that read
    assert answer["cancel_requested"] is True and answer["status"] in ("running", "cancelled")
    scan = _terminal(rig, scan_id, 60)
    # the supervisor's SIGTERM, or the scan's own heartbeat noticing the flag first
    assert scan.status == "cancelled" and scan.error_message in ("cancelled on request (SIGTERM)",
                                                                  "cancelled on request")


def test_trigger_when_the_host_is_full_queues(rig: Cli) -> None:
    rig.extra["OPENSHIELD_MAX_CONCURRENT_SCANS"] = "1"
    holder = rig.store.create(str(uuid.uuid4()))
    assert rig.store.reserve_launch(holder.scan_id, host=rig.host, cap=1)  # the only slot, taken
    result = rig.run("scans", "trigger", "--subscription", str(uuid.uuid4()), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["message"].startswith("scan queued: this host already runs its maximum of 1")
    queued = rig.store.get(answer["scan_id"])
    assert queued is not None and queued.status == "pending" and queued.host is None and queued.trigger == "cli"
