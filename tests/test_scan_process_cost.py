"""What a scan process costs the API it shares the cores with (issue 13): supervised runs start
at a lower CPU and I/O priority, and a launch cancelled before it started leaves before the heavy
imports. The live check (every sampled ``scanner.run`` of a cancel storm runs at nice 10) is in
``tests/test_launch_cap.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest

from store.scans import ScanStore
from store.settings import scan_nice
from supervisor.priority import AUTOGROUP, io_level
from tests.conftest import REPO, scan_env

PROBE = """
import os, sys, psutil
from supervisor.priority import lower_priority
print(lower_priority(int(sys.argv[1])))
print(os.getpriority(os.PRIO_PROCESS, 0), tuple(int(v) for v in psutil.Process().ionice()))
child = psutil.Popen([sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"],
                     stdout=__import__("subprocess").PIPE)
print(child.communicate()[0].decode().strip())
"""


def probe(nice: int) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(nice)], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.splitlines()


def test_lower_priority_sets_nice_and_io_priority_and_children_inherit_them() -> None:
    start = os.getpriority(os.PRIO_PROCESS, 0)
    notes, mine, child = probe(max(start, 7))
    nice, ionice = mine.split(" ", 1)
    assert int(nice) == max(start, 7)
    assert int(child) == max(start, 7)
    if hasattr(psutil, "IOPRIO_CLASS_BE"):
        assert ionice == f"({int(psutil.IOPRIO_CLASS_BE)}, {io_level(max(start, 7))})"
        assert "I/O best-effort" in notes


def test_nice_zero_leaves_the_process_alone() -> None:
    notes, mine, _child = probe(0)
    assert notes == "[]"
    assert int(mine.split(" ", 1)[0]) == os.getpriority(os.PRIO_PROCESS, 0)


def test_io_level_follows_linux_derivation_from_nice() -> None:
    assert [io_level(n) for n in (0, 5, 10, 19)] == [4, 5, 6, 7]


SESSION_PROBE = """
import subprocess, sys
from supervisor.priority import session_priority_hook
child = subprocess.run([sys.executable, "-c", "print(open('/proc/self/autogroup').read())"], capture_output=True,
                       text=True, start_new_session=True, preexec_fn=session_priority_hook(int(sys.argv[1])))
print(child.stdout.strip() + "|" + child.stderr.strip())
"""


@pytest.mark.skipif(not os.path.exists(AUTOGROUP), reason="this kernel has no scheduler autogroups")
def test_a_run_in_a_new_session_gets_its_autogroup_lowered_too() -> None:
    done = subprocess.run([sys.executable, "-c", SESSION_PROBE, "10"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=True)
    group, _, errors = done.stdout.strip().partition("|")
    assert group.endswith("nice 10"), f"autogroup not lowered: {done.stdout} {done.stderr}"


@pytest.mark.parametrize("raw, expected", [("", 10), ("0", 0), (" 19 ", 19), ("5", 5)])
def test_scan_nice_variable(raw: str, expected: int) -> None:
    assert scan_nice({"OPENSHIELD_SCAN_NICE": raw}) == expected


@pytest.mark.parametrize("raw", ["-1", "20", "ten", "1.5"])
def test_scan_nice_variable_rejects_what_is_not_0_to_19(raw: str) -> None:
    with pytest.raises(ValueError, match="OPENSHIELD_SCAN_NICE must be an integer 0-19"):
        scan_nice({"OPENSHIELD_SCAN_NICE": raw})


EARLY = """
import runpy, sys
sys.argv = ["scanner.run", sys.argv[1]]
try:
    runpy.run_module("scanner.run", run_name="__main__", alter_sys=True)
    code = 0
except SystemExit as stop:
    code = stop.code
heavy = sorted(m for m in sys.modules if m.startswith(("scanner.azure", "aiohttp", "azure", "msgraph")))
print(code, len(heavy))
"""


def test_a_launch_cancelled_before_it_started_exits_before_the_heavy_imports(database_url: str,
                                                                              data_dir: Path) -> None:
    store = ScanStore(database_url)
    scan_id = store.create(str(uuid.uuid4())).scan_id
    assert store.reserve_launch(scan_id, host="early-host", cap=1)
    assert store.request_cancel(scan_id)
    done = subprocess.run([sys.executable, "-c", EARLY, scan_id], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=scan_env(database_url, data_dir, {"OPENSHIELD_HOST_ID": "early-host"}))
    assert done.stdout.split() == ["3", "0"], done.stdout + done.stderr
    assert f"scan {scan_id} was cancelled before it started" in done.stderr
    scan = store.get(scan_id)
    assert scan is not None and scan.status == "pending" and scan.pid is None  # the supervisor settles it
