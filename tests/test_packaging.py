"""``pip install .`` gives a working OpenShield outside the checkout.

The package is built from a copy of the sources and installed without dependencies into a
temporary target with this venv's pip (no network: ``--no-index --no-build-isolation``, the
pinned setuptools of requirements-dev.txt builds it). The installed code then runs under the
base interpreter with ``-S`` and ``PYTHONPATH`` = the target plus this venv's site-packages
(for the dependencies only: ``-S`` leaves the editable install's path hook unread), from a
directory outside the checkout, so nothing can come from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("store", "supervisor", "scanner", "api", "cli")
# the base interpreter of this venv: a venv's own python would read the editable install's .pth
BASE_PYTHON = getattr(sys, "_base_executable", None) or sys.executable


def data_files(root: Path, folder: str) -> set[str]:
    """Every file under root/folder except byte code, relative to root/folder."""
    base = root / folder
    return {str(p.relative_to(base)) for p in base.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("packaging")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    target = work / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
         "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=120, cwd=work,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "OPENSHIELD_", "AZURE_", "VIRTUAL_ENV")) and k != "DATABASE_URL"}
    env.update(PYTHONPATH=os.pathsep.join([str(target), *sorted(deps)]), PYTHONDONTWRITEBYTECODE="1",
               OPENSHIELD_DATA_DIR=str(work / "data"), JWT_SECRET="packaging-test-secret-" + "0" * 32)
    return {"target": target, "cwd": elsewhere, "env": env, "work": work}


def run(installed: dict[str, object], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BASE_PYTHON, "-S", *args], cwd=installed["cwd"], env={**installed["env"], **env},
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_the_code_comes_from_the_install(installed: dict[str, object]) -> None:
    target = installed["target"]
    result = run(installed, "-c", "import sys, " + ", ".join(PACKAGES) + "; "
                 "print('\\n'.join(sys.modules[p].__file__ for p in " + repr(PACKAGES) + "))")
    assert result.returncode == 0, result.stderr
    for line in result.stdout.split():
        assert Path(line).is_relative_to(target), line  # type: ignore[arg-type]
    assert not (target / "tests").exists()  # type: ignore[operator]


def test_console_script_help(installed: dict[str, object]) -> None:
    script = installed["target"] / "bin" / "openshield"  # type: ignore[operator]
    assert "from cli.main import main" in script.read_text()
    result = run(installed, str(script), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: openshield")
    assert "db" in result.stdout and "scans" in result.stdout


def test_db_upgrade_finds_the_installed_migrations(installed: dict[str, object]) -> None:
    database = installed["work"] / "upgrade.db"  # type: ignore[operator]
    script = str(installed["target"] / "bin" / "openshield")  # type: ignore[operator]
    result = run(installed, script, "db", "upgrade", DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database schema is up to date" in result.stdout
    with sqlite3.connect(database) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert version and "scans" in tables
    # every migration, and the template `alembic revision` needs, is in the package
    assert data_files(installed["target"], "store/migrations") == data_files(REPO, "store/migrations")  # type: ignore[arg-type]


def test_dashboard_and_openapi_are_in_the_installed_api_package(installed: dict[str, object]) -> None:
    api = installed["target"] / "api"  # type: ignore[operator]
    assert (api / "dashboard" / "index.html").is_file()
    assert data_files(api, "dashboard") == data_files(REPO / "api", "dashboard")
    assert (api / "openapi.yaml").read_bytes() == (REPO / "api" / "openapi.yaml").read_bytes()
    # and the installed app serves them
    result = run(installed, "-c", """
import json
from api.app import application
from api.routes.openapi import SPEC_PATH
client = application.test_client()
page, spec = client.get("/"), client.get("/api/openapi.json")
print(json.dumps({"spec_path": str(SPEC_PATH), "page": page.status_code, "html": "<html" in page.get_data(as_text=True),
                  "spec": spec.status_code, "openapi": spec.get_json()["openapi"]}))
""")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(answer["spec_path"]).is_relative_to(api)
    assert answer["page"] == 200 and answer["html"]
    assert answer["spec"] == 200 and answer["openapi"].startswith("3.1")


def test_supervisor_monitor_runs_from_the_install(installed: dict[str, object]) -> None:
    result = run(installed, "-m", "supervisor.monitor")
    assert result.returncode == 2
    assert "usage: python -m supervisor.monitor" in result.stderr


def test_docs_openapi_yaml_is_the_packaged_document() -> None:
    """docs/openapi.yaml is a link to api/openapi.yaml, for readers and tools that look in docs/."""
    docs = REPO / "docs" / "openapi.yaml"
    assert docs.is_symlink() and docs.resolve() == (REPO / "api" / "openapi.yaml").resolve()
