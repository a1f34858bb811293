"""Benchmark: the estate on two hosts — a schedule "all subscriptions" firing rounds of scans.

    .venv/bin/python -m tests.bench.bench_estate [--subscriptions 200] [--resources-per 50]
        [--rounds 2] [--cap 2] [--rules AZ-STOR-001,...] [--postgres ADMIN_URL]

Starts the emulator with ``large:(S×R) --subscriptions S`` (S subscriptions of R resources),
a throw-away PostgreSQL database, and two supervisors with different ``OPENSHIELD_HOST_ID`` (and
data directories, as two App Service instances have), each with ``OPENSHIELD_MAX_CONCURRENT_SCANS
= cap``. One schedule targets every subscription. A round: the schedule is made due, one
supervisor fires it (the other must not), ``scanner.run --all-subscriptions --enqueue-only``
queues one scan per subscription, both supervisors launch them oldest first within their cap,
and the round ends when every scan of the round has ended. Between rounds the schedule is made
due again at once (rather than waiting out its interval), so rounds follow each other.

Printed per round, each with the load average beside it (the machine is shared): scans fired,
scans run twice (a subscription with two scans in the round, or a scan re-run: must be 0),
queue wait (``started_at - created_at``) p50/p99, per-host running count max (sampled every
0.2 s; must be <= cap), the wall time from firing to the last scan's end, and the database's
growth. Everything it starts, it stops.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select, text, update

from store.clock import utcnow
from store.db import dispose_engines, get_engine, read_scope_engine, session_scope
from store.migrate import upgrade
from store.models import Scan, Schedule
from store.schedules import ScheduleStore, Timing
from store.status import ACTIVE, TERMINAL
from tests.conftest import scan_env
from tests.fakeazure.harness import start_emulator
from tests.processes import kill_scan_processes, start_supervisor, stop_process

_SCANS = Scan.__table__


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def db_size(url: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)


def running_per_host(url: str) -> Counter[str]:
    statement = (select(_SCANS.c.host, func.count()).where(_SCANS.c.status.in_(ACTIVE), _SCANS.c.host.is_not(None))
                 .group_by(_SCANS.c.host))
    with read_scope_engine(url).connect() as conn:
        return Counter({host: int(n) for host, n in conn.execute(statement)})


def make_due(url: str, schedule_id: str) -> None:
    with session_scope(url) as session:
        session.execute(update(Schedule).where(Schedule.id == schedule_id)
                        .values(next_run_at=utcnow() - timedelta(seconds=1), last_fired_at=None))


def one_round(url: str, schedule_id: str, subscriptions: int, timeout: float) -> dict[str, Any]:
    before = db_size(url)
    make_due(url, schedule_id)
    store = ScheduleStore(url)
    start = time.monotonic()
    deadline = start + timeout
    peak: Counter[str] = Counter()
    fired_by = None
    scan_ids: list[str] = []
    while time.monotonic() < deadline:
        row = store.get(schedule_id)
        if row is not None and row.last_fired_at is not None and (row.last_scan_ids or row.last_error):
            fired_by, scan_ids = row.last_fired_by, list(row.last_scan_ids or [])
            if row.last_error:
                raise RuntimeError(f"schedule error: {row.last_error}")
            break
        time.sleep(0.2)
    queued_at = time.monotonic()
    rows: list[Any] = []
    while time.monotonic() < deadline:
        for host, n in running_per_host(url).items():
            peak[host] = max(peak[host], n)
        with read_scope_engine(url).connect() as conn:
            rows = list(conn.execute(select(_SCANS).where(_SCANS.c.scan_id.in_(scan_ids))).mappings())
        if rows and all(r["status"] in TERMINAL for r in rows):
            break
        time.sleep(0.2)
    wall = time.monotonic() - start
    per_sub = Counter(r["subscription_id"] for r in rows)
    waits = [(r["started_at"] - r["created_at"]).total_seconds() for r in rows if r["started_at"]]
    statuses = Counter(r["status"] for r in rows)
    return {
        "fired_by": fired_by,
        "scans_fired": len(scan_ids),
        "expected": subscriptions,
        "statuses": dict(statuses),
        "run_twice": sum(1 for n in per_sub.values() if n > 1) + sum(1 for r in rows if r["attempt"] > 1),
        "queue_wait_p50_s": round(pct(waits, 0.5) or 0, 2),
        "queue_wait_p99_s": round(pct(waits, 0.99) or 0, 2),
        "running_max_per_host": dict(peak),
        "scans_per_host": dict(Counter(r["host"] for r in rows)),
        "fire_to_queued_s": round(queued_at - start, 2),
        "wall_s": round(wall, 1),
        "db_growth_kib": round((db_size(url) - before) / 1024),
        "load": load(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_estate", description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--resources-per", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cap", type=int, default=2)
    parser.add_argument("--rules", default="", help="restrict the scans' rules (default: every rule)")
    parser.add_argument("--round-timeout", type=float, default=3600)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test", metavar="ADMIN_URL")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {"setup": {**vars(args), "cpus": os.cpu_count()}, "rounds": []}
    pg_name = f"openshield_estate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{pg_name}"')
    url = f"{args.postgres.rsplit('/', 1)[0]}/{pg_name}"
    supervisors = []
    data_dirs: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="openshield-estate-") as tmp:
        root = Path(tmp)
        emulator = None
        try:
            upgrade(url)
            print(f"emulator: large:{args.subscriptions * args.resources_per} over {args.subscriptions} "
                  "subscriptions ...", file=sys.stderr, flush=True)
            emulator = start_emulator(root / "emu", tenant=f"large:{args.subscriptions * args.resources_per}",
                                      subscriptions=args.subscriptions, timeout=600)
            for host in ("host-a", "host-b"):
                data_dir = root / host
                data_dir.mkdir()
                data_dirs.append(data_dir)
                env = scan_env(url, data_dir, {**emulator.env, "OPENSHIELD_HOST_ID": host,
                                               "OPENSHIELD_MAX_CONCURRENT_SCANS": str(args.cap),
                                               "OPENSHIELD_SCHEDULE_MIN_INTERVAL_SECONDS": "60",
                                               "OPENSHIELD_HEARTBEAT_TIMEOUT_SECONDS": "300"})
                supervisors.append(start_supervisor(env, root / f"{host}.log"))
            rules = [r.strip().upper() for r in args.rules.split(",") if r.strip()] or None
            row = ScheduleStore(url).create(name="bench all", subscription_id=None, timing=Timing(3600, None),
                                            rules=rules)
            for n in range(args.rounds):
                print(f"round {n + 1} ...", file=sys.stderr, flush=True)
                result = one_round(url, row.id, args.subscriptions, args.round_timeout)
                report["rounds"].append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
        finally:
            for proc in supervisors:
                stop_process(proc)
            for data_dir in data_dirs:
                kill_scan_processes(data_dir)
            if emulator is not None:
                emulator.stop()
            dispose_engines()
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    print(json.dumps(report, indent=2))
    for i, r in enumerate(report["rounds"], 1):
        print(f"round {i}: fired {r['scans_fired']}/{r['expected']} by {r['fired_by']} ({r['load']}); "
              f"run twice {r['run_twice']}; queue wait p50 {r['queue_wait_p50_s']} s p99 {r['queue_wait_p99_s']} s; "
              f"running max per host {r['running_max_per_host']} (cap {args.cap}); "
              f"scans per host {r.get('scans_per_host')}; wall {r['wall_s']} s; "
              f"db +{r['db_growth_kib']} KiB; {r['statuses']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
