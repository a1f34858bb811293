"""Benchmark: storage of a scan with PASS results, and streamed exports from the API worker.

    .venv/bin/python -m tests.bench.bench_results [--resources 10000] [--database-url URL]

Starts the emulator with the ``large:N`` tenant, runs ``python -m scanner.run --subscription``
(every rule) against a fresh SQLite database (or the given PostgreSQL one), then prints: rows
stored per table, the database size and what the compact PASS / NOT_EVALUATED rows cost
(SQLite: the size again after dropping them and VACUUM; PostgreSQL: per-table sizes). Then it
starts gunicorn (one gthread worker) and exports the scan as CSV, OCSF and HTML through
``GET /api/scans/<id>/export``, printing time, bytes and the worker's peak RSS (sampled every
10 ms) for each. Target (issue 15): peak RSS <= 150 MB for CSV and OCSF of large:10000. Every
figure is printed with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests
from sqlalchemy import text

from store.db import get_engine
from store.migrate import upgrade
from tests.fakeazure.harness import start_emulator
from tests.stack import LiveStack

REPO = Path(__file__).resolve().parents[2]
TABLES = ("findings", "scan_results", "scan_rule_outcomes")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"(load {one:.1f}/{five:.1f})"


def run_scan(stack: LiveStack) -> tuple[str, float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "scanner.run", "--subscription",
                             stack.emulator.env["AZURE_SUBSCRIPTION_ID"], "--no-progress-bar"],
                            cwd=REPO, env=stack.env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"scan failed: {result.stderr[-2000:]}")
    return result.stdout.split()[1], time.monotonic() - started


def storage(url: str, scan_id: str, db_file: Path | None) -> None:
    with get_engine(url).connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f"SELECT count(*) FROM {table} WHERE scan_id = :s"), {"s": scan_id}).scalar()
            print(f"  rows {table:<20} {rows:>8} {load()}")
        if url.startswith("postgresql"):
            for table in TABLES:
                size = conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar()
                print(f"  size {table:<20} {size / 1e6:8.1f} MB (with indexes) {load()}")
            print(f"  database size {conn.execute(text('SELECT pg_database_size(current_database())')).scalar() / 1e6:.1f} MB")
    if db_file is not None:
        with sqlite3.connect(db_file) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        full = db_file.stat().st_size
        copy = db_file.with_name("without-pass.db")
        shutil.copy(db_file, copy)
        with sqlite3.connect(copy) as db:
            db.execute("DELETE FROM scan_results")
            db.commit()
            db.execute("VACUUM")
        without = copy.stat().st_size
        print(f"  sqlite file {full / 1e6:.1f} MB; without PASS/NOT_EVALUATED rows {without / 1e6:.1f} MB "
              f"(they cost {(full - without) / 1e6:.1f} MB) {load()}")


def worker_pids(stack: LiveStack) -> list[int]:
    assert stack.gunicorn is not None
    return [c.pid for c in psutil.Process(stack.gunicorn.pid).children()]


def export(stack: LiveStack, scan_id: str, fmt: str) -> None:
    workers = [psutil.Process(pid) for pid in worker_pids(stack)]
    before = max(w.memory_info().rss for w in workers)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max([peak] + [w.memory_info().rss for w in workers])
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    size = 0
    with requests.get(f"{stack.url}/api/scans/{scan_id}/export", params={"format": fmt},
                      headers=stack.headers("reader"), stream=True, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    print(f"  export {fmt:<5} {elapsed:6.2f} s  {size / 1e6:7.1f} MB  worker RSS {before / 2**20:.0f} MB before, "
          f"peak {peak / 2**20:.0f} MB {load()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10000)
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-results-") as tmp:
        workdir = Path(tmp)
        db_file = None if args.database_url else workdir / "bench.db"
        url = args.database_url or f"sqlite:///{db_file}"
        upgrade(url)
        with start_emulator(workdir / "emu", tenant=f"large:{args.resources}") as emu:
            stack = LiveStack(url, workdir, emu, workers=1, threads=4)
            print(f"large:{args.resources} on {url.split(':', 1)[0]} {load()}")
            scan_id, seconds = run_scan(stack)
            print(f"  scan (every rule, PASS results stored) {seconds:.1f} s {load()}")
            storage(url, scan_id, db_file)
            stack.start_gunicorn()
            try:
                for fmt in ("csv", "ocsf", "html"):
                    export(stack, scan_id, fmt)
            finally:
                stack.stop()


if __name__ == "__main__":
    main()
