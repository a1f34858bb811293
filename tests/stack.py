"""A live OpenShield on 127.0.0.1 for end-to-end tests: emulator, supervisor and gunicorn.

``LiveStack`` starts real processes with their own data directory and database, and gives
tests an HTTP client with operator and reader tokens. Everything it starts it stops.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from api.auth import issue_token
from tests.conftest import REPO, scan_env
from tests.fakeazure.harness import Emulator
from tests.processes import kill_scan_processes, start_supervisor, stop_process, wait_for

JWT_SECRET = "test-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveStack:
    database_url: str
    data_dir: Path
    emulator: Emulator
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: int = 2
    threads: int = 8
    host_id: str = field(default_factory=lambda: f"e2e-{uuid.uuid4().hex[:8]}")
    port: int = field(default_factory=free_port)
    gunicorn: subprocess.Popen[bytes] | None = None
    supervisor: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        extra = {
            **self.emulator.env,
            "JWT_SECRET": JWT_SECRET,
            "OPENSHIELD_HOST_ID": self.host_id,
            "OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS": "30",
            **self.extra_env,
        }
        return scan_env(self.database_url, self.data_dir, extra)

    def token(self, role: str = "operator") -> str:
        return issue_token(JWT_SECRET, role, ttl_seconds=3600)

    def headers(self, role: str = "operator") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}

    # ------------------------------------------------------------------ processes
    def start(self) -> "LiveStack":
        """Start both; if either fails, stop what did start before raising."""
        try:
            self.start_supervisor()
            self.start_gunicorn()
        except BaseException:
            self.stop()
            raise
        return self

    def start_supervisor(self) -> None:
        self.supervisor = start_supervisor(self.env, self.data_dir / "supervisor.log")

    def start_gunicorn(self) -> None:
        with open(self.data_dir / "gunicorn.log", "ab") as log:  # the child keeps its own copy
            self.gunicorn = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--worker-class", "gthread",
                 "--workers", str(self.workers), "--threads", str(self.threads), "--timeout", "60",
                 "api.app:application"],
                cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True,
            )
        wait_for(self._healthy, 30, what="gunicorn to answer /health")

    def _healthy(self) -> bool:
        if self.gunicorn is not None and self.gunicorn.poll() is not None:
            raise AssertionError(f"gunicorn exited: {(self.data_dir / 'gunicorn.log').read_text()[-3000:]}")
        try:
            return requests.get(self.url + "/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def kill_gunicorn(self) -> None:
        """SIGKILL the whole gunicorn process group (master and workers)."""
        if self.gunicorn is not None:
            os.killpg(self.gunicorn.pid, signal.SIGKILL)
            self.gunicorn.wait(10)
            self.gunicorn = None

    def stop(self) -> None:
        if self.gunicorn is not None:
            stop_process(self.gunicorn)
            self.gunicorn = None
        if self.supervisor is not None:
            stop_process(self.supervisor)
            self.supervisor = None
        kill_scan_processes(self.data_dir)

    # ------------------------------------------------------------------ HTTP helpers
    def get(self, path: str, role: str = "operator", **kw: Any) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers(role), timeout=10, **kw)

    def post(self, path: str, body: Any = None, role: str = "operator", **kw: Any) -> requests.Response:
        return requests.post(self.url + path, json=body if body is not None else {}, headers=self.headers(role),
                             timeout=10, **kw)

    def scan(self, scan_id: str) -> dict[str, Any]:
        response = self.get(f"/api/scans/{scan_id}")
        response.raise_for_status()
        return dict(response.json())

    def wait_terminal(self, scan_id: str, timeout: float) -> dict[str, Any]:
        def terminal() -> dict[str, Any] | None:
            scan = self.scan(scan_id)
            return scan if scan["status"] in ("completed", "failed", "cancelled") else None

        return wait_for(terminal, timeout, interval=0.1, what=f"scan {scan_id} to end")
