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
