"""Results end to end: real ``python -m scanner.run`` processes against the emulator, which is
changed between scans (``POST /_admin/tenant/patch``): PASS results are stored, the second scan
shows the new and the resolved failure, a mute takes a failure out of the CI gate, and
``--fail-on`` exits 6 while an unmuted failure at or above the severity remains."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from store.diff import scan_diff
from store.findings import FindingFilter, FindingsQuery
from store.mutes import MuteStore, parse_mute
from tests.conftest import REPO, scan_env
from tests.fakeazure.harness import Emulator, start_emulator
from tests.fakeazure.tenants import load_tenant

RULE = "AZ-STOR-001"  # HIGH: allowBlobPublicAccess must be false
STORAGE = "microsoft.storage/storageaccounts"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


def scan(emulator: Emulator, env: dict[str, str], *extra: str) -> tuple[int, str, str]:
    result = subprocess.run([sys.executable, "-m", "scanner.run", "--subscription",
                             emulator.env["AZURE_SUBSCRIPTION_ID"], "--rules", RULE, *extra],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    scan_id = result.stdout.split()[1] if result.stdout.startswith("scan ") else ""
    return result.returncode, scan_id, result.stderr


def accounts() -> list[dict[str, Any]]:
    _, tenant = load_tenant("demo")
    return [r for r in tenant["resources"] if r["type"].lower() == STORAGE]


def test_scan_change_rescan_diff_mute_and_gate(emulator: Emulator, database_url: str, data_dir: Path) -> None:
    env = scan_env(database_url, data_dir, emulator.env)
    demo = accounts()
    failing = next(a for a in demo if a.get("properties", {}).get("allowBlobPublicAccess") is True)
    passing = next(a for a in demo if a.get("properties", {}).get("allowBlobPublicAccess") is False)
    emulator.patch_tenant(put=[failing])  # the module's emulator may have been patched by the other backend

    code, first, err = scan(emulator, env, "--fail-on", "high")
    assert code == 6, err
    assert "gate failed (--fail-on HIGH)" in err
    query = FindingsQuery(database_url)
    total_pass, passes = query.list_findings(FindingFilter(scan_id=first, status="PASS"), limit=1000, offset=0)
    assert total_pass >= 1 and passing["id"].lower() in {p["resource_id"].lower() for p in passes}

    fixed = copy.deepcopy(failing)
    fixed["properties"]["allowBlobPublicAccess"] = False
    added = copy.deepcopy(passing)
    name = f"new{uuid.uuid4().hex[:10]}"
    added["id"] = passing["id"].rsplit("/", 1)[0] + "/" + name
    added["name"] = name
    added["properties"]["allowBlobPublicAccess"] = True
    emulator.patch_tenant(put=[fixed, added])
    try:
        out = data_dir / "reports"
        code, second, err = scan(emulator, env, "--output-dir", str(out), "--output-formats", "csv,html")
        assert code == 0, err
        # the standalone scan wrote the formats asked for, and only those
        assert sorted(p.name for p in out.iterdir()) == [f"openshield-{second}.csv", f"openshield-{second}.html"]
        assert name in (out / f"openshield-{second}.html").read_text(encoding="utf-8")
        changes = scan_diff(database_url, second)
        assert changes.against == first
        assert [f["resource_name"] for f in changes.new] == [name]
        assert [f["resource_id"].lower() for f in changes.resolved] == [failing["id"].lower()]
        _, now_failing = query.list_findings(FindingFilter(scan_id=second), limit=1000, offset=0)
        assert {f["resource_name"]: f["is_new"] for f in now_failing}[name] is True

        # accept every remaining AZ-STOR-001 failure: from the next scan on the gate passes
        MuteStore(database_url).create(parse_mute({"rule_id": RULE, "resource": "*",
                                                   "justification": "test: accepted"}, {RULE}), "tester")
        code, third, err = scan(emulator, env, "--fail-on", "HIGH")
        assert code == 0, err
        assert "gate passed" in err
        _, muted = query.list_findings(FindingFilter(scan_id=third), limit=1000, offset=0)
        assert muted and all(f["muted"] and f["mute_id"] for f in muted)
        assert scan_diff(database_url, third).muted == len(muted)
    finally:
        emulator.patch_tenant(put=[failing], delete=[added["id"]])


def test_output_options_are_checked_before_anything_runs(database_url: str, data_dir: Path) -> None:
    env = scan_env(database_url, data_dir)
    for args, message in ((["--output-formats", "csv"], "needs --output-dir"),
                          (["--output-dir", "x", "--output-formats", "pdf"], "output formats must be among"),
                          (["--fail-on", "severe"], "--fail-on must be one of")):
        result = subprocess.run([sys.executable, "-m", "scanner.run", "--subscription", str(uuid.uuid4()), *args],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr


def test_tenant_patch_refuses_bad_input(emulator: Emulator) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as info:
        emulator.patch_tenant(delete=["/subscriptions/x/resourceGroups/none/providers/A.B/c/d"])
    assert info.value.code == 400 and "no resource" in json.loads(info.value.read())["error"]["message"]
