"""``bin/openshield`` in pipelines and without ``DATABASE_URL``.

A reader that stops early (``... --json | head -1``) must not earn a BrokenPipeError traceback:
the command exits 141 (128 + SIGPIPE, as the shell reports a writer stopped by a closed pipe)
with nothing on stderr. And every command that touches a database says which one on stderr
when ``DATABASE_URL`` is unset, except ``token``, which touches none.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from store.migrate import upgrade
from store.scans import ScanStore
from tests.conftest import REPO

OPENSHIELD = str(REPO / "bin" / "openshield")
SECRET = "pipes-test-secret-" + "0123456789abcdef" * 2


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A data directory with a migrated default database and a few scans; DATABASE_URL unset."""
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'openshield.db'}"
    upgrade(url)
    store = ScanStore(url)
    for n in range(3):
        store.create(f"00000000-0000-4000-8000-00000000000{n}")
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENSHIELD_", "AZURE_")) and k not in ("DATABASE_URL", "JWT_SECRET")}
    environ.update(OPENSHIELD_DATA_DIR=str(data), JWT_SECRET=SECRET)
    return environ


def run(env: dict[str, str], *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENSHIELD, *args], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]


def run_into_closed_pipe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """stdout is a pipe whose reader is already gone: the first write fails, every time."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([OPENSHIELD, *args], env=env, stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [("scans", "list", "--json"), ("scans", "list"), ("token", "--role", "reader")])
def test_a_closed_pipe_ends_the_command_quietly_with_141(env: dict[str, str], args: tuple[str, ...]) -> None:
    env = {**env, "DATABASE_URL": f"sqlite:///{env['OPENSHIELD_DATA_DIR']}/openshield.db"}  # no notice either
    result = run_into_closed_pipe(env, *args)
    assert result.returncode == 141
    assert result.stderr == ""  # no traceback, no "Exception ignored"


def test_head_in_a_shell_pipeline(env: dict[str, str]) -> None:
    """What an operator types; head may exit before or after the command wrote everything."""
    script = f"set -o pipefail; '{OPENSHIELD}' scans list --json | head -1; echo \"status=${{PIPESTATUS[0]}}\" >&2"
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert json.loads(result.stdout)["count"] == 3
    notice, status = result.stderr.splitlines()
    assert notice.startswith("using sqlite:///") and status in ("status=0", "status=141")


def test_says_which_database_when_database_url_is_unset(env: dict[str, str]) -> None:
    default = f"sqlite:///{env['OPENSHIELD_DATA_DIR']}/openshield.db"
    result = run(env, "scans", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["count"] == 3  # stdout stays pure JSON
    assert result.stderr == f"using {default} (DATABASE_URL is not set)\n"

    status = run(env, "supervisor", "status", "--json")
    assert f"using {default} (DATABASE_URL is not set)" in status.stderr

    upgraded = run(env, "db", "upgrade")
    assert upgraded.returncode == 0 and f"using {default}" in upgraded.stderr


def test_no_notice_when_the_database_is_named(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite:///{env['OPENSHIELD_DATA_DIR']}/openshield.db"
    listed = run({**env, "DATABASE_URL": url}, "scans", "list", "--json")
    assert listed.returncode == 0 and listed.stderr == ""
    other = f"sqlite:///{tmp_path / 'other.db'}"
    upgraded = run(env, "db", "upgrade", "--database-url", other)
    assert upgraded.returncode == 0 and upgraded.stderr == ""


def test_token_touches_no_database_and_says_nothing_about_one(env: dict[str, str]) -> None:
    result = run(env, "token", "--role", "reader")
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.count(".") == 2  # a JWT and nothing else
