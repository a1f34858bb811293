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


def run_token(*args: str, secret: str | None = SECRET, demo: bool = False,
              database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "OPENSHIELD_DEMO", "DATABASE_URL")}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
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
    assert set(body) == {"token", "role", "expires_at", "jti"}
    assert body["jti"] == decode(body["token"])["jti"]
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


# ------------------------------------------------------------------------------- revocation
def test_every_minted_token_has_its_own_jti() -> None:
    first, second = (decode(run_token("--role", "reader").stdout.strip()) for _ in range(2))
    assert first["jti"] and second["jti"] and first["jti"] != second["jti"]
    assert first["sub"] == "openshield" and isinstance(first["iat"], int)


def test_revoke_by_jti_and_by_token_then_list(database_url: str) -> None:
    minted = json.loads(run_token("--role", "operator", "--subject", "ci", "--json").stdout)
    result = run_token("revoke", minted["jti"], "--reason", "left the team", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"token {minted['jti']} revoked\n"
    again = run_token("revoke", minted["token"], "--json", database_url=database_url)  # the whole token works too
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"jti": minted["jti"], "revoked": True, "already_revoked": True,
                                        "expires_at": minted["expires_at"]}
    other = json.loads(run_token("--role", "reader", "--json").stdout)
    assert run_token("revoke", other["token"], database_url=database_url).returncode == 0
    listed = run_token("revoked", "--json", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    rows = {row["jti"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {minted["jti"], other["jti"]}
    assert rows[minted["jti"]]["reason"] == "left the team"
    assert rows[other["jti"]]["subject"] == "openshield"  # read from the token
    assert rows[other["jti"]]["expires_at"] == other["expires_at"]
    table = run_token("revoked", database_url=database_url)
    assert table.stdout.splitlines()[0].split() == ["JTI", "REVOKED", "EXPIRES", "SUBJECT", "REASON"]


def test_revoking_a_token_signed_with_another_secret_is_a_usage_error(tmp_path: Path) -> None:
    foreign = run_token("--role", "reader", secret="another-secret-of-sufficient-length-0123456789").stdout.strip()
    result = run_token("revoke", foreign, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    assert result.returncode == 2
    assert "not signed with this JWT_SECRET" in result.stderr


def test_revoke_without_a_schema_says_so(tmp_path: Path) -> None:
    result = run_token("revoke", "some-jti", database_url=f"sqlite:///{tmp_path / 'bare.db'}")
    assert result.returncode == 1
    assert "no such table" in result.stderr and "db upgrade" in result.stderr
