"""Benchmark: SQLite write latency through the writer lock with several writing processes.

    .venv/bin/python -m tests.bench.bench_writer_lock [--processes 4] [--writes 300]

The writer lock became a non-blocking flock polled to a deadline (issue 12: a blocking flock
waited forever behind a frozen holder). Polling can hand the lock over later than a blocking
flock did, so this measures what a short write costs under contention: ``--processes`` real
processes each run ``--writes`` heartbeat-sized transactions (one UPDATE of its own scan row,
as a scan's heartbeat does) back to back. Prints per-write latency percentiles and total
writes per second, with the load average beside each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from store.migrate import upgrade
from store.scans import ScanStore

REPO = Path(__file__).resolve().parents[2]

WRITER = """
import json, sys, time
from store.scans import ScanStore
url, scan_id, writes = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = ScanStore(url)
store.heartbeat(scan_id)  # connect and warm up outside the measurement
latencies = []
started = time.perf_counter()
for _ in range(writes):
    t = time.perf_counter()
    store.heartbeat(scan_id)
    latencies.append(time.perf_counter() - t)
print(json.dumps({"latencies": latencies, "wall": time.perf_counter() - started}))
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_writer_lock")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-writer-lock-"))
    url = f"sqlite:///{work / 'openshield.db'}"
    upgrade(url)
    store = ScanStore(url)
    scan_ids = []
    for _ in range(args.processes):
        scan = store.create(str(uuid.uuid4()))
        store.reserve_launch(scan.scan_id, host="bench", cap=args.processes)
        store.claim(scan.scan_id, pid=os.getpid(), host="bench", process_create_time=None)
        scan_ids.append(scan.scan_id)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, scan_id, str(args.writes)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, text=True) for scan_id in scan_ids]
    results = [json.loads(proc.communicate(timeout=600)[0]) for proc in procs]
    latencies = [lat * 1000 for result in results for lat in result["latencies"]]
    wall = max(result["wall"] for result in results)
    load = os.getloadavg()[0]
    print(f"{args.processes} processes x {args.writes} writes: "
          f"p50 {percentile(latencies, 0.50):.2f} ms (load {load:.2f}), "
          f"p99 {percentile(latencies, 0.99):.2f} ms (load {load:.2f}), "
          f"max {max(latencies):.2f} ms (load {load:.2f}), "
          f"{len(latencies) / wall:.0f} writes/s (load {load:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
