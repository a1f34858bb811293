"""Benchmark: CVE re-enrichment of one scan against the fake NVD, cold cache then warm.

    .venv/bin/python -m tests.bench.bench_enrich [--versions 12] [--latency-ms 300] [--rate 50/30]

Seeds a completed scan whose findings name ``--versions`` distinct Kubernetes versions (plus
100 findings naming no software), then runs ``python -m scanner.enrich`` as a real process
twice on two such scans: the first with an empty NVD cache, the second served by it. Prints
wall time, NVD requests and the busiest rate-limit window seen by the fake NVD. The NVD
latency stands for the public service's typical 0.3-1 s per request.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from store.enrichment_runs import EnrichmentStore
from store.migrate import upgrade
from store.scans import ScanStore
from tests.enrich_helpers import seed_completed_scan
from tests.fakeazure.harness import start_emulator

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_enrich")
    parser.add_argument("--versions", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--rate", default="50/30", help="NVD_RATE_LIMIT for the enrichment process")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-enrich-"))
    url = f"sqlite:///{work / 'openshield.db'}"
    upgrade(url)
    software = [("AZ-AKS-007", "Microsoft.ContainerService/managedClusters", "kubernetes", "kubernetes",
                 f"1.{20 + n // 4}.{n % 4}") for n in range(args.versions)]
    host = "bench"
    with start_emulator(work / "emu", "demo") as emu:
        emu.set_nvd_faults(latency_ms=args.latency_ms, rate_limit=args.rate)
        env = {**os.environ, **emu.env, "DATABASE_URL": url, "OPENSHIELD_DATA_DIR": str(work / "data"),
               "OPENSHIELD_HOST_ID": host, "NVD_RATE_LIMIT": args.rate, "PYTHONPATH": str(REPO)}
        scans, runs = ScanStore(url), EnrichmentStore(url)
        limit, window = (float(x) for x in args.rate.split("/"))
        for label in ("cold cache", "warm cache"):
            scan_id = seed_completed_scan(scans, software, other_findings=100, subscription=str(uuid.uuid4()))
            runs.start_run(scan_id)
            emu.reset_stats()
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "scanner.enrich", scan_id], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=3600)
            elapsed = time.monotonic() - started
            log = emu.nvd_requests()
            stamps = sorted(r["t"] for r in log)
            busiest = max((sum(1 for t in stamps if s <= t < s + window) for s in stamps), default=0)
            status = runs.runs_for_scan(scan_id)[0].status
            print(f"{label:>10}: {args.versions} versions, {elapsed:6.2f} s wall (process start included), "
                  f"{len(log)} NVD requests, {sum(r['status'] != 200 for r in log)} refused, "
                  f"busiest {window:g}s window {busiest} (limit {limit:g}), run {status}; {done.stdout.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
