"""Benchmark: a full scan of the emulator's ``large:N`` tenant, concurrent vs sequential.

    .venv/bin/python -m tests.bench.bench_collect [--resources 10000] [--latency-ms 30]

Starts the emulator with per-request latency, runs ``python -m scanner.run --subscription``
as a real process (default concurrency), then again with ``--concurrency 1``, and prints wall
time, ARM request count against the ideal (one GET per needed resource and child, plus list
pages), peak RSS of the scan process, and the speed-up. Targets (issue 2): <= 30 s for
large:10000 at 30 ms, >= 10x faster than sequential, ARM requests <= 1.05 x needed + pages,
peak RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scanner.inventory import Needs
from scanner.rules import all_rules
from tests.fakeazure.harness import Emulator, start_emulator

REPO = Path(__file__).resolve().parents[2]
LIST_PAGE = 1000


def ideal_arm_requests(emu: Emulator) -> tuple[int, int]:
    """(detail GETs needed, list pages) for the full rule set on this tenant."""
    needs = Needs.union(r.needs for r in all_rules())
    counts = {k.lower(): v for k, v in emu.tenant_summary()["byType"].items()}
    wanted = {t.lower() for t in needs.resource_types}
    details = sum(counts.get(t, 0) for t in wanted)
    details += sum(counts.get(c.parent_type.lower(), 0) for c in needs.children)
    total = sum(counts.values())
    pages = math.ceil(total / LIST_PAGE)
    summary = emu.tenant_summary()
    if needs.role_assignments:
        pages += max(1, math.ceil(summary.get("roleAssignments", 0) / LIST_PAGE))
    if needs.role_definitions:
        pages += max(1, math.ceil(summary.get("roleDefinitions", 0) / LIST_PAGE))
    pages += len(needs.subscription_reads)  # diagnostic settings, pricings: one page each
    return details, pages


def run_scan(emu: Emulator, workdir: Path, concurrency: int | None) -> dict[str, float]:
    env = {**os.environ, **emu.env, "PYTHONPATH": str(REPO), "OPENSHIELD_DATA_DIR": str(workdir),
           "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}"}
    args = [sys.executable, "-m", "scanner.run", "--subscription", emu.env["AZURE_SUBSCRIPTION_ID"], "--no-progress-bar"]
    if concurrency:
        args += ["--concurrency", str(concurrency)]
    emu.reset_stats()
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"scan failed ({proc.returncode}):\n{out}\n{err}")
    scan_id = out.split()[1]
    log = (workdir / "scans" / scan_id / "scan.log").read_text()
    timing = re.search(r"collect ([\d.]+)s, evaluate ([\d.]+)s", log)
    stats = emu.stats()
    return {
        "wall_s": wall,
        "arm_requests": stats["by_group"].get("arm", 0),
        "graph_requests": stats["by_group"].get("graph", 0),
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "collect_s": float(timing.group(1)) if timing else float("nan"),
        "evaluate_s": float(timing.group(2)) if timing else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10000)
    parser.add_argument("--latency-ms", type=int, default=30)
    parser.add_argument("--skip-sequential", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            start_emulator(Path(tmp) / "emu", tenant=f"large:{args.resources}", latency_ms=args.latency_ms) as emu:
        details, pages = ideal_arm_requests(emu)
        fast = run_scan(emu, Path(tmp) / "fast", None)
        report = {"tenant": f"large:{args.resources}", "latency_ms": args.latency_ms,
                  "needed_detail_gets": details, "list_pages": pages, "concurrent": fast}
        if not args.skip_sequential:
            report["sequential"] = run_scan(emu, Path(tmp) / "seq", 1)
            report["speedup"] = report["sequential"]["wall_s"] / fast["wall_s"]
    budget = 1.05 * details + pages
    print(json.dumps(report, indent=2))
    print(f"wall time          {fast['wall_s']:.1f} s   (target <= 30 s)")
    print(f"ARM requests       {fast['arm_requests']}  (ideal {details + pages}; budget 1.05 x {details} + {pages} = {budget:.0f})")
    print(f"peak RSS           {fast['peak_rss_mb']:.0f} MB  (target <= 400 MB)")
    print(f"evaluate / wall    {100 * fast['evaluate_s'] / fast['wall_s']:.2f} %  (collect {fast['collect_s']:.1f} s)")
    if "speedup" in report:
        print(f"sequential         {report['sequential']['wall_s']:.1f} s; speed-up {report['speedup']:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
