"""Fixtures for ``bin/openshield`` tests: the real command in a subprocess, on both databases."""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from store.scans import ScanStore
from tests.conftest import REPO, scan_env

OPENSHIELD = str(REPO / "bin" / "openshield")


@dataclass
class Cli:
    """Runs ``bin/openshield`` with this test's database, data directory and host id."""

    env: dict[str, str]
    store: ScanStore
    data_dir: Path
    host: str
    extra: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 60, **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OPENSHIELD, *args], env={**self.env, **self.extra}, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, **kw)


@pytest.fixture
def cli(database_url: str, data_dir: Path) -> Iterator[Cli]:
    host = f"cli-{uuid.uuid4().hex[:8]}"
    env = scan_env(database_url, data_dir, {"OPENSHIELD_HOST_ID": host})
    yield Cli(env, ScanStore(database_url), data_dir, host)
