"""``tests/smoke_test.py`` against a real stack (gunicorn, supervisor, scan processes, emulator).

The script is run the way an operator runs it after a deployment: as its own process, with
nothing but a URL and a token. It must pass on a healthy stack, on SQLite and on PostgreSQL,
and fail (exit 1, saying why) when the stack cannot do what it checks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import REPO
from tests.fakeazure.harness import Emulator, start_emulator
from tests.stack import LiveStack, free_port

SMOKE = str(REPO / "tests" / "smoke_test.py")


def run_smoke(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, SMOKE, *args], capture_output=True, text=True, timeout=timeout,
                          cwd="/")  # outside the repository: the script must not need it


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with start_emulator(tmp_path / "fakeazure", tenant="demo") as emu:
        yield emu


@pytest.fixture
def stack(database_url: str, data_dir: Path, emulator: Emulator) -> Iterator[LiveStack]:
    live = LiveStack(database_url, data_dir, emulator)
    try:
        live.start()
        yield live
    finally:
        live.stop()


def test_smoke_passes_on_a_live_stack(stack: LiveStack) -> None:
    result = run_smoke("--url", stack.url, "--token", stack.token("operator"),
                       "--subscription", stack.emulator.env["AZURE_SUBSCRIPTION_ID"], "--timeout", "120")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "7 passed, 0 failed"
    assert all(line.startswith("PASS  ") for line in lines[:-1]), result.stdout
    assert stack.token("operator") not in result.stdout + result.stderr

    # Without --subscription the server's default (AZURE_SUBSCRIPTION_ID) is scanned.
    again = run_smoke("--url", stack.url + "/", "--token", stack.token("operator"))
    assert again.returncode == 0, again.stdout + again.stderr

    # A reader token cannot trigger: the script says so and fails.
    reader = run_smoke("--url", stack.url, "--token", stack.token("reader"))
    assert reader.returncode == 1, reader.stdout
    assert "FAIL  POST /api/scans/trigger: HTTP 403" in reader.stdout
    assert reader.stdout.splitlines()[-1] == "4 passed, 3 failed"


def test_smoke_fails_when_nothing_listens() -> None:
    result = run_smoke("--url", f"http://127.0.0.1:{free_port()}", "--token", "x", "--timeout", "5", timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[-1] == "0 passed, 7 failed"


def test_smoke_usage_errors() -> None:
    assert run_smoke("--url", "http://127.0.0.1:1", timeout=60).returncode == 2  # no token
    assert run_smoke("--url", "127.0.0.1:1", "--token", "x", timeout=60).returncode == 2
    assert run_smoke("--url", "http://x", "--token", "x", "--subscription", "nope", timeout=60).returncode == 2
