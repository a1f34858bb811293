"""``bin/openshield token``: run the real command and check the token the way the API would.

The command is run as a subprocess through ``bin/openshield`` (the wrapper operators use), with
a controlled environment, and its token is decoded with PyJWT and with ``api.auth.verify_token``
so a drift between what the CLI signs and what the API accepts fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jwt
import pytest

from api.auth import DEMO_JWT_SECRET, verify_token
from tests.conftest import REPO

SECRET = "cli-token-test-secret-" + "0123456789abcdef" * 2
OPENSHIELD = str(REPO / "bin" / "openshield")


def run_token(*args: str, secret: str | None = SECRET, demo: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "OPENSHIELD_DEMO")}
    if secret is not None:
        env["JWT_SECRET"] = secret
    if demo:
        env["OPENSHIELD_DEMO"] = "1"
    return subprocess.run([OPENSHIELD, "token", *args], env=env, capture_output=True, text=True, timeout=60)


def decode(token: str, secret: str = SECRET) -> dict[str, Any]:
    return dict(jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "role"]}))


@pytest.mark.parametrize("role", ["reader", "operator"])
def test_prints_only_a_token_for_the_role(role: str) -> None:
    before = int(time.time())
    result = run_token("--role", role)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"  # nothing else on stdout: TOKEN=$(bin/openshield token ...)
    claims = decode(token)
    assert claims["role"] == role
    assert before + 3600 <= int(claims["exp"]) <= int(time.time()) + 3600  # one hour by default
    assert verify_token(SECRET, token).role == role  # the API's own check accepts it


def test_ttl_and_subject() -> None:
    before = int(time.time())
    result = run_token("--role", "reader", "--ttl", "120", "--subject", "ci-pipeline")
    assert result.returncode == 0, result.stderr
    claims = decode(result.stdout.strip())
    assert before + 120 <= int(claims["exp"]) <= int(time.time()) + 120
    assert claims["sub"] == "ci-pipeline"


def test_json_output() -> None:
    result = run_token("--role", "operator", "--ttl", "600", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == {"token", "role", "expires_at"}
    assert body["role"] == "operator"
    claims = decode(body["token"])
    assert claims["role"] == "operator"
    assert body["expires_at"].endswith("Z")
    expires = datetime.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert int(expires.timestamp()) == claims["exp"]


def test_missing_secret_is_exit_1_with_a_message() -> None:
    result = run_token("--role", "operator", secret=None)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "JWT_SECRET is required" in result.stderr


def test_short_secret_is_refused() -> None:
    result = run_token("--role", "operator", secret="too-short")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "at least 32 bytes" in result.stderr


def test_demo_mode_signs_with_the_demo_secret_and_warns() -> None:
    result = run_token("--role", "reader", secret=None, demo=True)
    assert result.returncode == 0, result.stderr
    assert decode(result.stdout.strip(), DEMO_JWT_SECRET)["role"] == "reader"
    assert "public demo secret" in result.stderr


def test_an_explicit_secret_wins_in_demo_mode() -> None:
    result = run_token("--role", "reader", demo=True)
    assert result.returncode == 0, result.stderr
    assert decode(result.stdout.strip())["role"] == "reader"
    assert "demo secret" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "admin"], "invalid choice"),
        ([], "--role"),
        (["--role", "reader", "--ttl", "0"], "must be positive"),
        (["--role", "reader", "--ttl", "soon"], "whole number of seconds"),
        (["--role", "reader", "--subject", " "], "must not be empty"),
    ],
)
def test_usage_errors_are_exit_2(args: list[str], message: str) -> None:
    result = run_token(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_db_upgrade_still_works(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENSHIELD_", "DATABASE_URL"))}
    url = f"sqlite:///{tmp_path}/cli.db"
    result = subprocess.run([OPENSHIELD, "db", "upgrade", "--database-url", url], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
