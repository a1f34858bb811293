"""Benchmark: a full scan of the emulator's ``large:N`` tenant, unthrottled and throttled as ARM is.

    .venv/bin/python -m tests.bench.bench_collect [--resources 10000] [--latency-ms 30]
        [--modes unthrottled,throttled] [--concurrency N]

For each mode it starts the emulator with per-request latency (throttled: also
``--arm-throttle 250/25 --arg-throttle 15/5``, Azure's documented limits), runs
``python -m scanner.run --subscription`` as a real process and prints, with the load average
beside each figure: ARM requests by kind (subscription-wide lists, per-parent reads, per-resource
GETs, Resource Graph queries), requests per resource (ARM + ARG), 429s received, wall time, scan CPU seconds
per request, peak RSS of the scan process; throttled, also the throttle floor
``(reads - 250) / 25`` seconds and the ratio of wall time to it. Targets (issue 14): requests per
resource <= 0.67 (must <= 1.0), throttled wall <= 1.15 x floor with no read given up,
unthrottled wall <= 20 s, CPU <= 1 ms per request, peak RSS <= 400 MB. Not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fakeazure.harness import Emulator, start_emulator

REPO = Path(__file__).resolve().parents[2]
BUCKET, REFILL = 250, 25
LIST_ROUTES = ("arm.resources.list", "arm.list.subscription", "arm.list.resourceGroup", "arm.roleAssignments",
               "arm.roleDefinitions", "arm.subscription.diagnosticSettings", "arm.subscription.pricings")
PER_PARENT_ROUTES = ("arm.child.get", "arm.list.children")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def requests_by_kind(by_route: dict[str, int]) -> dict[str, int]:
    kinds = {
        "lists": sum(by_route.get(r, 0) for r in LIST_ROUTES),
        "per_parent": sum(by_route.get(r, 0) for r in PER_PARENT_ROUTES),
        "per_resource_get": by_route.get("arm.resource.get", 0),
        "arg_queries": by_route.get("arg.resources", 0),
    }
    counted = set(LIST_ROUTES) | set(PER_PARENT_ROUTES) | {"arm.resource.get", "arg.resources"}
    kinds["other_arm"] = sum(n for r, n in by_route.items() if r.startswith("arm.") and r not in counted)
    return kinds


def run_scan(emu: Emulator, workdir: Path, concurrency: int | None) -> dict[str, Any]:
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
    timing = re.search(r"collect ([\d.]+)s, evaluate ([\d.]+)s(?:, rows ([\d.]+)s, enrich ([\d.]+)s, store ([\d.]+)s)?",
                       log)
    stats = emu.stats()
    arm = stats["by_group"].get("arm", 0)
    graph = stats["by_group"].get("graph", 0)
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall_s": round(wall, 2),
        "load_after": load(),
        "arm_requests": arm,
        "arg_queries": stats["by_group"].get("arg", 0),
        "graph_requests": graph,
        "by_kind": requests_by_kind(stats["by_route"]),
        "http_429": stats["by_status"].get("429", 0),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_request": round(1000 * cpu / max(1, arm + graph + stats["by_group"].get("arg", 0)), 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "collect_s": float(timing.group(1)) if timing else float("nan"),
        "evaluate_s": float(timing.group(2)) if timing else float("nan"),
        # after evaluation: result rows built (findings, PASS/NOT_EVALUATED, mutes, score), CVE
        # enrichment, the one transaction that stores them
        "rows_s": _group(timing, 3),
        "enrich_s": _group(timing, 4),
        "store_s": _group(timing, 5),
        "evaluate_cpu_s": _group(re.search(r"evaluate CPU ([\d.]+)s", log), 1),
        "unreadable_logged": log.count("unreadable"),
    }


def _group(match: re.Match[str] | None, index: int) -> float:
    return float(match.group(index)) if match and match.group(index) else float("nan")


def bench_mode(mode: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"latency_ms": args.latency_ms}
    if mode == "throttled":
        options.update(arm_throttle=f"{BUCKET}/{REFILL}", arg_throttle="15/5")
    load_before = load()
    with start_emulator(tmp / f"emu-{mode}", tenant=f"large:{args.resources}", **options) as emu:
        resources = emu.tenant_summary()["resources"]
        result = run_scan(emu, tmp / mode, args.concurrency)
    result["load_before"] = load_before
    # Resource Graph queries are requests too (a quota of their own, but each is a round trip)
    result["requests_per_resource"] = round((result["arm_requests"] + result["arg_queries"]) / resources, 3)
    if mode == "throttled":
        floor = max(0.0, (result["arm_requests"] - BUCKET) / REFILL)
        result["throttle_floor_s"] = round(floor, 1)
        result["wall_over_floor"] = round(result["wall_s"] / floor, 3) if floor else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10000)
    parser.add_argument("--latency-ms", type=int, default=30)
    parser.add_argument("--modes", default="unthrottled,throttled")
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()
    report: dict[str, Any] = {"tenant": f"large:{args.resources}", "latency_ms": args.latency_ms}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            report[mode] = bench_mode(mode, Path(tmp), args)
    print(json.dumps(report, indent=2))
    for mode in args.modes.split(","):
        r = report[mode]
        k = r["by_kind"]
        print(f"[{mode}] ({r['load_before']} before, {r['load_after']} after)")
        print(f"  ARM requests       {r['arm_requests']}: lists {k['lists']}, per-parent {k['per_parent']}, "
              f"per-resource GETs {k['per_resource_get']}, other {k['other_arm']}; ARG queries {k['arg_queries']}")
        print(f"  requests/resource  {r['requests_per_resource']}  (ARM + ARG; target <= 0.67, must <= 1.0)")
        print(f"  429s received      {r['http_429']}")
        print(f"  wall               {r['wall_s']} s  (collect {r['collect_s']} s, evaluate {r['evaluate_s']} s)")
        share = 100 * r["evaluate_s"] / r["wall_s"]
        print(f"  evaluation share   {share:.2f} % of wall  (issue 17 target < 5 %); "
              f"evaluating thread CPU {r['evaluate_cpu_s']} s")
        print(f"  after evaluation   rows {r['rows_s']} s, CVE enrichment {r['enrich_s']} s, store {r['store_s']} s")
        print(f"  scan CPU           {r['cpu_s']} s = {r['cpu_ms_per_request']} ms/request  (target <= 1 ms)")
        print(f"  peak RSS           {r['peak_rss_mb']} MB  (target <= 400 MB)")
        if mode == "throttled":
            print(f"  throttle floor     {r['throttle_floor_s']} s; wall / floor {r['wall_over_floor']}  (target <= 1.15)")


if __name__ == "__main__":
    main()
