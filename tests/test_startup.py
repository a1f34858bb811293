"""``./startup.sh`` (the App Service startup command): migrate, supervisor kept alive, gunicorn."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psutil
import requests

from tests.conftest import REPO
from tests.processes import wait_for
from tests.stack import JWT_SECRET, free_port


def health(port: int) -> dict[str, object] | None:
    try:
        response = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
    except requests.RequestException:
        return None
    return response.json() if response.status_code == 200 else None


def test_startup_serves_and_restarts_a_dead_supervisor(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENSHIELD_"))}
    env.update(PORT=str(port), JWT_SECRET=JWT_SECRET, OPENSHIELD_DATA_DIR=str(tmp_path / "data"),
               OPENSHIELD_HOST_ID="startup-test", GUNICORN_WORKERS="1", GUNICORN_THREADS="2")
    env.pop("DATABASE_URL", None)
    with open(tmp_path / "startup.log", "wb") as log:
        proc = subprocess.Popen(["./startup.sh"], cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        first = wait_for(lambda: (h := health(port)) and h["supervisor"]["alive"] and h, 60,  # type: ignore[index]
                         what="API up with a live supervisor")
        assert (tmp_path / "data" / "openshield.db").exists(), "migrations did not create the database"
        old_pid = first["supervisor"]["pid"]  # type: ignore[index]
        os.kill(int(old_pid), signal.SIGKILL)
        again = wait_for(lambda: (h := health(port)) and h["supervisor"]["alive"]  # type: ignore[index]
                         and h["supervisor"]["pid"] != old_pid and h, 20,  # type: ignore[index]
                         what="the supervisor to be restarted")
        assert psutil.pid_exists(int(again["supervisor"]["pid"]))  # type: ignore[index]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for child in psutil.process_iter(["pid", "environ"]):
            try:
                if (child.info["environ"] or {}).get("OPENSHIELD_DATA_DIR") == str(tmp_path / "data"):
                    child.kill()
            except (psutil.Error, OSError):
                continue


def startup_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENSHIELD_"))}
    env.update(PORT=str(port), JWT_SECRET=JWT_SECRET, OPENSHIELD_DATA_DIR=str(tmp_path / "data"),
               OPENSHIELD_HOST_ID="startup-test", GUNICORN_WORKERS="1", GUNICORN_THREADS="2")
    env.pop("DATABASE_URL", None)
    return env


def processes_of(data_dir: Path) -> list[psutil.Process]:
    """Every process started with this data directory (the loop, the supervisor, gunicorn)."""
    found = []
    for proc in psutil.process_iter(["pid", "environ", "status"]):
        try:
            if (proc.info["environ"] or {}).get("OPENSHIELD_DATA_DIR") == str(data_dir) \
                    and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def test_startup_without_jwt_secret_stops_before_migrating_with_one_line(tmp_path: Path) -> None:
    env = startup_env(tmp_path, free_port())
    del env["JWT_SECRET"]
    env["OPENSHIELD_DEMO"] = "1"  # even so: the public demo secret is for bin/demo only
    env["OPENSHIELD_MAX_CONCURRENT_SCANS"] = "two"
    result = subprocess.run(["./startup.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "JWT_SECRET is not set" in lines[0] and "OPENSHIELD_MAX_CONCURRENT_SCANS" in lines[0], lines[0]
    assert "OPENSHIELD_DEMO" not in lines[0] and "Traceback" not in lines[0]
    assert not (tmp_path / "data" / "openshield.db").exists(), "it migrated before checking the settings"
    assert not processes_of(tmp_path / "data"), "something was left running"


def test_when_gunicorn_exits_the_supervisor_loop_ends_too(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    with open(tmp_path / "startup.log", "wb") as log:
        proc = subprocess.Popen(["./startup.sh"], cwd=REPO, env=startup_env(tmp_path, port), stdout=log, stderr=log,
                                start_new_session=True)
    try:
        first = wait_for(lambda: (h := health(port)) and h["supervisor"]["alive"] and h, 60,  # type: ignore[index]
                         what="API up with a live supervisor")
        supervisor_pid = int(first["supervisor"]["pid"])  # type: ignore[index]
        proc.send_signal(signal.SIGTERM)  # the startup command's own pid is gunicorn's master
        proc.wait(30)
        wait_for(lambda: not processes_of(data_dir), 15, what="the supervisor and its restart loop to end")
        assert not psutil.pid_exists(supervisor_pid) or \
            psutil.Process(supervisor_pid).status() == psutil.STATUS_ZOMBIE
        assert "gunicorn exited; supervisor stopped" in (tmp_path / "startup.log").read_text()
    finally:
        for child in processes_of(data_dir):
            child.kill()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
