"""Start and drive the emulator from tests: ``with start_emulator(tmp_path) as emu: ...``.

Only the standard library is used here, so the harness can be imported anywhere in the test
suite. The emulator runs as ``python -m tests.fakeazure`` in a subprocess (same interpreter,
cwd = repository root); ``start_emulator`` returns once it has written its env file.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (blank lines and ``#`` comments ignored)."""
    env: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        env[key.strip()] = value.strip()
    return env


def _cli_args(options: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
            continue
        if isinstance(value, (list, tuple, set)):
            value = ",".join(str(v) for v in value)
        args += [flag, str(value)]
    return args


class Emulator:
    """A running emulator subprocess and its settings."""

    def __init__(self, process: subprocess.Popen[bytes], env_file: Path, log_file: Path,
                 env: dict[str, str]) -> None:
        self.process = process
        self.env_file = env_file
        self.log_file = log_file
        self.env = env
        self.url: str = env["FAKEAZURE_URL"]
        self.ca_file: str = env["SSL_CERT_FILE"]
        self.port = int(self.url.rsplit(":", 1)[1])
        self._ssl = ssl.create_default_context(cafile=self.ca_file)

    # -- settings for clients ------------------------------------------------------------------
    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default ``os.environ``) plus the env-file settings, for a client subprocess."""
        merged = dict(os.environ if base is None else base)
        merged.update(self.env)
        return merged

    # -- admin API -----------------------------------------------------------------------------
    def _admin(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(f"{self.url}/_admin/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self._ssl, timeout=10) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        return self._admin("GET", "stats")

    def reset_stats(self) -> dict[str, Any]:
        return self._admin("POST", "stats/reset", {})

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Change latency_ms, throttle_every, retry_after, fail_every, forbid_graph (list),
        forbid_arm (list of subscription reads: diagnosticSettings, pricings)."""
        return self._admin("POST", "faults", faults)

    def faults(self) -> dict[str, Any]:
        return self._admin("GET", "faults")

    def set_nvd_faults(self, **faults: Any) -> dict[str, Any]:
        """Change the fake NVD's latency_ms, throttle_every, throttle_status (403|429), fail_every,
        down, page_size, rate_limit / keyed_rate_limit ("N/S" or "")."""
        return self._admin("POST", "nvd/faults", faults)

    def nvd_requests(self) -> list[dict[str, Any]]:
        """Every request the fake NVD answered since the last reset: ``{t, status, query, api_key}``."""
        return list(self._admin("GET", "nvd/requests")["requests"])

    def tenant_summary(self) -> dict[str, Any]:
        return self._admin("GET", "tenant-summary")

    def user_token(self, **options: Any) -> str:
        """An RS256 Entra ID access token for a user (tests/fakeazure/oidc.py): ``roles=[...]``,
        ``audience``, ``tenant`` ("own", "other" or an id), ``expires_in``, ``issuer``, ``claims``."""
        return str(self._admin("POST", "oidc/token", options)["access_token"])

    def rotate_signing_key(self, retire_old: bool = True) -> str:
        """A new tenant signing key; returns its kid (the old one is unpublished unless ``retire_old=False``)."""
        return str(self._admin("POST", "oidc/rotate", {"retire_old": retire_old})["kid"])

    def set_oidc_down(self, down: bool) -> None:
        """Take the OpenID configuration and JWKS endpoints down (503) or bring them back."""
        self._admin("POST", "oidc/faults", {"down": down})

    # -- lifecycle -----------------------------------------------------------------------------
    def stop(self, timeout: float = 10.0) -> int | None:
        """Terminate (SIGTERM), wait, kill if it does not go; returns the exit code."""
        proc = self.process
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        return proc.returncode

    def log(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Emulator {self.url} pid={self.process.pid}>"


def start_emulator(tmp_dir: str | os.PathLike[str], tenant: str = "demo", *, timeout: float = 30.0,
                   env_file: str | os.PathLike[str] | None = None, python: str | None = None,
                   **cli_options: Any) -> Emulator:
    """Run ``python -m tests.fakeazure --port 0 --tenant TENANT --env-file ...`` and wait for it.

    ``cli_options`` map to flags: ``latency_ms=30`` -> ``--latency-ms 30``,
    ``forbid_graph=["users"]`` -> ``--forbid-graph users``. Raises ``RuntimeError`` (with the
    emulator's output) if it exits or does not come up within ``timeout`` seconds.
    """
    tmp = Path(tmp_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    env_path = Path(env_file) if env_file else tmp / "fakeazure.env"
    if env_path.exists():
        env_path.unlink()
    log_path = env_path.with_name(env_path.stem + ".log")
    cmd = [python or sys.executable, "-m", "tests.fakeazure", "--port", str(cli_options.pop("port", 0)),
           "--tenant", str(tenant), "--env-file", str(env_path)] + _cli_args(cli_options)
    child_env = dict(os.environ)
    child_env["PYTHONUNBUFFERED"] = "1"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=child_env)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if env_path.exists():
                env = read_env_file(env_path)
                if "FAKEAZURE_URL" in env:
                    return Emulator(proc, env_path, log_path, env)
            if proc.poll() is not None:
                raise RuntimeError(f"fakeazure exited with {proc.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"fakeazure did not start within {timeout}s:\n{_tail(log_path)}")
            try:
                proc.wait(timeout=0.02)  # poll interval; returns early if the process dies
            except subprocess.TimeoutExpired:
                pass
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return ""


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``predicate()`` until truthy (returned) or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)
