"""``openshield config check``: every setting checked up front, one line, no database touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli.config_check import problems
from tests.conftest import REPO

SECRET = "s" * 40


def test_a_complete_configuration_has_no_problems() -> None:
    assert problems({"JWT_SECRET": SECRET}) == []
    assert problems({"JWT_SECRET": SECRET, "DATABASE_URL": "postgres://u:p@db.example/openshield", "PORT": "8080",
                     "OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS": "2.5"}) == []


def test_every_wrong_setting_is_named() -> None:
    found = problems({
        "OPENSHIELD_DEMO": "1",  # never a way around JWT_SECRET here
        "OPENSHIELD_SCAN_TIMEOUT_SECONDS": "an hour",
        "OPENSHIELD_HEARTBEAT_INTERVAL_SECONDS": "fast",
        "OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS": "0",
        "DATABASE_URL": "mysql://u@h/db",
        "AZURE_SUBSCRIPTION_ID": "not-a-uuid",
        "PORT": "70000",
    })
    text = "\n".join(found)
    for name in ("JWT_SECRET", "OPENSHIELD_SCAN_TIMEOUT_SECONDS", "OPENSHIELD_HEARTBEAT_INTERVAL_SECONDS",
                 "OPENSHIELD_DB_LOCK_TIMEOUT_SECONDS", "DATABASE_URL", "AZURE_SUBSCRIPTION_ID", "PORT"):
        assert name in text, (name, found)
    assert "OPENSHIELD_DEMO" not in text
    assert len(found) == 7, found


def test_a_short_secret_is_refused() -> None:
    assert problems({"JWT_SECRET": "short"}) == ["JWT_SECRET is shorter than 32 bytes"]


def test_the_command_prints_one_line_and_exits_1_without_creating_a_database(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "OPENSHIELD_DATA_DIR": str(tmp_path),
           "OPENSHIELD_MAX_CONCURRENT_SCANS": "-1"}
    result = subprocess.run([sys.executable, "-m", "cli", "config", "check"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: cannot start: JWT_SECRET is not set")
    assert "OPENSHIELD_MAX_CONCURRENT_SCANS must be positive" in result.stderr
    assert not list(tmp_path.iterdir()), "the check touched the data directory"
    ok = subprocess.run([sys.executable, "-m", "cli", "config", "check"], cwd=REPO, env={**env, "JWT_SECRET": SECRET,
                        "OPENSHIELD_MAX_CONCURRENT_SCANS": "2"}, capture_output=True, text=True, timeout=60)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "configuration ok\n", "")


def test_auth_settings_are_checked_as_the_api_reads_them() -> None:
    found = problems({"JWT_SECRET": SECRET, "OPENSHIELD_TOKENS_NOT_BEFORE": "yesterday",
                      "OPENSHIELD_ENTRA_TENANT_ID": "contoso.onmicrosoft.com"})
    text = "\n".join(found)
    assert "OPENSHIELD_TOKENS_NOT_BEFORE" in text, found
    assert problems({"JWT_SECRET": SECRET, "OPENSHIELD_TOKENS_NOT_BEFORE": "2026-01-01T00:00:00+00:00"}) == []
