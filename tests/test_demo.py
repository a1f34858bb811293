"""``bin/demo``: start the whole stack as a user would, use it over HTTP, stop it.

The script runs for real (emulator, migrations, supervisor, gunicorn) in a temporary
``OPENSHIELD_DATA_DIR`` with ``--no-wait``, so it returns once everything answers. The
``demo`` fixture stops it with ``bin/demo --stop`` and then, whatever happened, kills anything
of that data directory still alive (found through ``demo.pids`` and the scans' pid files, and
checked against the process's ``OPENSHIELD_DATA_DIR`` so nothing else is ever touched).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import jwt
import psutil
import pytest
import requests

from tests.conftest import REPO
from tests.fakeazure.harness import read_env_file
from tests.processes import wait_for
from tests.stack import free_port

DEMO = str(REPO / "bin" / "demo")
TERMINAL = ("completed", "failed", "cancelled")
HOST_ID = "demo-test-host"


def demo_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without anything that would point the demo elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENSHIELD_", "AZURE_")) and k not in ("DATABASE_URL", "JWT_SECRET", "PORT")}
    env["OPENSHIELD_DATA_DIR"] = str(data_dir)
    env["OPENSHIELD_HOST_ID"] = HOST_ID
    return env


def run_demo(data_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEMO, *args], env=demo_env(data_dir), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def demo_processes(data_dir: Path) -> list[psutil.Process]:
    """Every live process whose environment says it belongs to this data directory."""
    resolved = str(data_dir.resolve())
    candidates: set[int] = set()
    pid_files = [data_dir / "demo.pids", *data_dir.glob("scans/*/pid"), *data_dir.glob("scans/*/monitor.pid"),
                 *data_dir.glob("scans/*/enrich/pid"), *data_dir.glob("scans/*/enrich/monitor.pid")]
    for path in pid_files:
        try:
            candidates.update(int(word) for word in path.read_text().split() if word.isdigit())
        except OSError:
            continue
    found: list[psutil.Process] = []
    for pid in candidates:
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get("OPENSHIELD_DATA_DIR") == resolved:
                found.append(proc)
                found.extend(proc.children(recursive=True))
        except psutil.Error:
            continue
    return found


def kill_leftovers(data_dir: Path) -> list[str]:
    """SIGKILL whatever of this demo still runs; the descriptions of what had to be killed."""
    leftovers = demo_processes(data_dir)
    described = []
    for proc in leftovers:
        try:
            described.append(f"{proc.pid} {' '.join(proc.cmdline())}")
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(leftovers, timeout=10)
    return described


@dataclass
class Demo:
    data_dir: Path
    output: str
    url: str
    subscription_id: str
    operator_token: str
    reader_token: str

    def headers(self, role: str = "operator") -> dict[str, str]:
        token = self.operator_token if role == "operator" else self.reader_token
        return {"Authorization": f"Bearer {token}"}

    def scan(self, scan_id: str) -> dict[str, Any]:
        response = requests.get(f"{self.url}/api/scans/{scan_id}", headers=self.headers("reader"), timeout=10)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_terminal(self, scan_id: str, timeout: float = 120) -> dict[str, Any]:
        def ended() -> Any:
            scan = self.scan(scan_id)
            return scan if scan["status"] in TERMINAL else None

        return wait_for(ended, timeout, interval=0.2, what=f"scan {scan_id} to end")


def printed(output: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}:\s+(\S+)\s*$", output, re.MULTILINE)
    assert match, f"bin/demo did not print {label!r}:\n{output}"
    return match.group(1)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    data_dir = tmp_path / "demo"
    port = free_port()
    try:
        try:
            result = run_demo(data_dir, "--port", str(port), "--no-wait")
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"bin/demo did not return within {exc.timeout}s:\n{exc.stdout!r}\n{exc.stderr!r}")
        assert result.returncode == 0, f"bin/demo failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        yield Demo(
            data_dir=data_dir,
            output=result.stdout,
            url=printed(result.stdout, "URL"),
            subscription_id=printed(result.stdout, "Subscription"),
            operator_token=printed(result.stdout, "Operator token"),
            reader_token=printed(result.stdout, "Reader token"),
        )
    finally:
        stopped = None
        if data_dir.exists():
            try:
                stopped = run_demo(data_dir, "--stop", timeout=60)
            except subprocess.TimeoutExpired:
                pass
        leftovers = kill_leftovers(data_dir)
    assert stopped is not None and stopped.returncode == 0, stopped
    assert not leftovers, f"bin/demo --stop left processes running: {leftovers}"


def test_demo_serves_scans_end_to_end(demo: Demo) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", demo.url)
    pids = (demo.data_dir / "demo.pids").read_text().split()
    assert pids[0::2] == ["emulator", "supervisor", "gunicorn"]

    # The tokens carry their roles and are signed with a fresh secret, not the public demo one.
    assert jwt.decode(demo.operator_token, options={"verify_signature": False})["role"] == "operator"
    assert jwt.decode(demo.reader_token, options={"verify_signature": False})["role"] == "reader"
    secret = re.search(r"^JWT_SECRET=(\S+)$", (demo.data_dir / "demo.env").read_text(), re.MULTILINE)
    assert secret and len(secret.group(1)) >= 32
    jwt.decode(demo.operator_token, secret.group(1), algorithms=["HS256"])
    assert (demo.data_dir / "demo.env").stat().st_mode & 0o077 == 0  # it holds the secret

    health = requests.get(f"{demo.url}/health", timeout=10).json()
    assert health["status"] == "ok" and health["supervisor"]["alive"]

    denied = requests.post(f"{demo.url}/api/scans/trigger", json={}, headers=demo.headers("reader"), timeout=10)
    assert denied.status_code == 403

    response = requests.post(f"{demo.url}/api/scans/trigger", json={"subscription_id": demo.subscription_id},
                             headers=demo.headers("operator"), timeout=10)
    assert response.status_code == 202, response.text
    scan_id = response.json()["scan_id"]
    assert response.headers["Location"] == f"/api/scans/{scan_id}"
    scan = demo.wait_terminal(scan_id)
    assert scan["status"] == "completed", scan
    assert scan["subscription_id"] == demo.subscription_id
    assert scan["rules_completed"] == scan["total_rules"] and scan["total_findings"] > 0


@pytest.mark.skipif(shutil.which("curl") is None, reason="the printed commands use curl")
def test_printed_curl_commands_work(demo: Demo) -> None:
    """The trigger and poll lines the demo prints can be pasted into a shell as they are."""
    lines = demo.output.splitlines()
    trigger = next(line.strip() for line in lines if line.strip().startswith("SCAN=$(curl"))
    poll = next(line.strip() for line in lines if line.strip().startswith("curl -s") and "/api/scans/$SCAN" in line)
    result = subprocess.run(["bash", "-c", f"set -e\n{trigger}\n{poll}"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    scan_id, _, body = result.stdout.partition("\n")
    assert re.fullmatch(r"[0-9a-f-]{36}", scan_id), result.stdout
    assert f'"scan_id":"{scan_id}"' in body.replace(" ", "")
    assert demo.wait_terminal(scan_id)["status"] == "completed"


def test_readme_foreground_scan_lands_in_the_demo(demo: Demo) -> None:
    """The README's "foreground of a shell" commands, as written (this demo's demo.env in place of
    var/demo/demo.env): the scan uses the demo's database, so the API and the CLI list it, and the
    emulator's fake NVD, so its CVE enrichment does not wait for the real one."""
    readme = (REPO / "README.md").read_text()
    block = next(b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if "demo.env" in b)
    script = block.replace("var/demo/demo.env", shlex.quote(str(demo.data_dir / "demo.env")))
    assert script != block
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENSHIELD_", "AZURE_", "NVD_")) and k not in ("DATABASE_URL", "JWT_SECRET")}
    result = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    created = re.search(r"^scan ([0-9a-f-]{36}) created", result.stdout, re.MULTILINE)
    assert created, result.stdout
    scan_id = created.group(1)
    assert any(line.startswith(scan_id) and "completed" in line for line in result.stdout.splitlines())  # scans list
    scan = demo.scan(scan_id)
    assert scan["status"] == "completed" and scan["trigger"] == "cli" and scan["total_findings"] > 0
    assert scan["cve_enrichment_status"] == "COMPLETED", scan


def test_stop_ends_a_running_scan_too(demo: Demo) -> None:
    """``--stop`` also ends scans in flight (they are detached from the API on purpose)."""
    # Slow the emulator down so that the scan is still collecting when the demo stops.
    emulator_url = read_env_file(demo.data_dir / "fakeazure.env")["FAKEAZURE_URL"]
    context = ssl.create_default_context(cafile=str(demo.data_dir / "fakeazure-ca.pem"))
    request = urllib.request.Request(f"{emulator_url}/_admin/faults", data=json.dumps({"latency_ms": 5000}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, context=context, timeout=10).close()

    response = requests.post(f"{demo.url}/api/scans/trigger", json={}, headers=demo.headers(), timeout=10)
    assert response.status_code == 202, response.text
    scan_id = response.json()["scan_id"]
    scan_pid = int(wait_for(lambda: demo.scan(scan_id)["pid"], 30, interval=0.05, what="the scan's pid"))
    assert demo.scan(scan_id)["status"] == "running"

    result = run_demo(demo.data_dir, "--stop", timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"scan {scan_id}: sent SIGTERM to process group {scan_pid}; it has exited" in result.stderr
    assert not demo_processes(demo.data_dir)
    assert not psutil.pid_exists(scan_pid) or psutil.Process(scan_pid).status() == psutil.STATUS_ZOMBIE
    # The scan recorded its own end before exiting (SIGTERM, not SIGKILL).
    with sqlite3.connect(demo.data_dir / "openshield.db") as db:
        (status,) = db.execute("SELECT status FROM scans WHERE scan_id = ?", (scan_id,)).fetchone()
    assert status == "cancelled"


def _emulator_admin(demo: Demo, path: str, body: dict[str, Any]) -> None:
    emulator_url = read_env_file(demo.data_dir / "fakeazure.env")["FAKEAZURE_URL"]
    context = ssl.create_default_context(cafile=str(demo.data_dir / "fakeazure-ca.pem"))
    request = urllib.request.Request(f"{emulator_url}/_admin/{path}", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, context=context, timeout=10).close()


def test_stop_ends_a_scan_and_a_cve_enrichment_in_flight(demo: Demo) -> None:
    """Both kinds of supervised run are found and stopped; nothing of the demo is left running."""
    first = requests.post(f"{demo.url}/api/scans/trigger", json={}, headers=demo.headers(), timeout=10).json()
    assert demo.wait_terminal(first["scan_id"])["status"] == "completed"
    _emulator_admin(demo, "nvd/faults", {"latency_ms": 5000})  # the enrichment waits on NVD ...
    with sqlite3.connect(demo.data_dir / "openshield.db") as db:
        db.execute("DELETE FROM nvd_cache")  # ... which the scan's own enrichment phase had answered
    enrich = requests.post(f"{demo.url}/api/scans/{first['scan_id']}/enrich", headers=demo.headers(), timeout=10)
    assert enrich.status_code == 202, enrich.text
    enrich_pid = wait_for(lambda: _read_pid(demo.data_dir / "scans" / first["scan_id"] / "enrich" / "pid"), 30,
                          interval=0.05, what="the enrichment's pid")
    _emulator_admin(demo, "faults", {"latency_ms": 5000})  # and the next scan on ARM
    second = requests.post(f"{demo.url}/api/scans/trigger", json={}, headers=demo.headers(), timeout=10).json()
    scan_pid = int(wait_for(lambda: demo.scan(second["scan_id"])["pid"], 30, interval=0.05, what="the scan's pid"))

    result = run_demo(demo.data_dir, "--stop", timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"enrichment of scan {first['scan_id']}: sent SIGTERM to process group {enrich_pid}" in result.stderr
    assert f"scan {second['scan_id']}: sent SIGTERM to process group {scan_pid}" in result.stderr
    assert not demo_processes(demo.data_dir)
    with sqlite3.connect(demo.data_dir / "openshield.db") as db:
        (scan_status,) = db.execute("SELECT status FROM scans WHERE scan_id = ?", (second["scan_id"],)).fetchone()
        (run_status,) = db.execute("SELECT status FROM enrichment_runs WHERE scan_id = ?",
                                   (first["scan_id"],)).fetchone()
    assert (scan_status, run_status) == ("cancelled", "cancelled")


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def test_a_second_demo_on_the_same_data_dir_is_refused(demo: Demo) -> None:
    result = run_demo(demo.data_dir, "--port", str(free_port()), "--no-wait", timeout=60)
    assert result.returncode == 1
    assert "already running" in result.stderr and "--stop" in result.stderr
    requests.get(f"{demo.url}/health", timeout=10).raise_for_status()  # the first one is untouched


def test_a_piece_that_fails_to_start_is_reported_and_everything_stopped(tmp_path: Path) -> None:
    """A supervisor that cannot start (its host lock is held) fails the demo with its log's tail."""
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    with open(data_dir / f"supervisor-{HOST_ID}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            result = run_demo(data_dir, "--port", str(free_port()), "--no-wait")
        finally:
            leftovers = kill_leftovers(data_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the supervisor exited while starting" in result.stderr
    assert "another supervisor already runs" in result.stderr  # the tail of supervisor.log
    assert "Operator token" not in result.stdout
    assert not leftovers, f"bin/demo left processes running after failing: {leftovers}"


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_demo(tmp_path / "demo", "--port", str(port), "--no-wait", timeout=120)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "in use" in result.stderr
    assert not kill_leftovers(tmp_path / "demo")


@pytest.mark.parametrize("args", [["--tenant", "bogus"], ["--port", "http"], ["--frobnicate"]])
def test_usage_errors(tmp_path: Path, args: list[str]) -> None:
    result = run_demo(tmp_path / "demo", *args, timeout=30)
    assert result.returncode == 2
    assert "Usage: bin/demo" in result.stderr


def test_sigterm_in_the_foreground_stops_everything(tmp_path: Path) -> None:
    """Without --no-wait the demo stays up until a signal, then stops all it started."""
    data_dir = tmp_path / "demo"
    proc = subprocess.Popen([DEMO, "--port", str(free_port())], env=demo_env(data_dir), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        output = ""
        deadline = time.monotonic() + 180
        assert proc.stdout is not None and proc.stderr is not None
        while "Press Ctrl-C" not in output:
            line = proc.stdout.readline()
            assert line, f"bin/demo ended early ({proc.wait(10)}): {output}{proc.stderr.read()}"
            assert time.monotonic() < deadline, output
            output += line
        assert demo_processes(data_dir)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert "stopped" in proc.stderr.read()
        assert not demo_processes(data_dir)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        kill_leftovers(data_dir)
