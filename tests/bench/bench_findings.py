"""Benchmark: the findings explorer's server side (groups, filters, search, pages) on a large posture.

    .venv/bin/python -m tests.bench.bench_findings [--findings 13000] [--subscriptions 3] [--postgres]

Seeds ``--findings`` findings over every rule, spread over ``--subscriptions`` subscriptions
(one completed scan each, stored through ScanStore as a scan stores them), then times the
requests the dashboard's explorer and overview make, through the Flask app (no network, no
gunicorn: this is the query and the JSON). Each request runs 7 times; the median and the worst
are printed with the load average. ``--postgres`` creates a database of its own on the server of
OPENSHIELD_TEST_PG_URL (dropped at the end; the shared test database is never touched) instead of
a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from api.auth import issue_token
from api.factory import create_app
from scanner.rules import all_rules
from store.clock import utcnow
from store.db import dispose_engines
from store.migrate import upgrade
from store.scans import ScanStore
from store.settings import Settings
from tests.conftest import PG_ADMIN_URL

SECRET = "bench-findings-secret-" + "0" * 32
REQUESTS = {
    "groups (all)": "/api/findings/groups?limit=25",
    "groups by most failed (overview)": "/api/findings/groups?sort=count&limit=10",
    "groups, one subscription": "/api/findings/groups?subscription_id={sub}&limit=25",
    "groups, severity HIGH": "/api/findings/groups?severity=HIGH&limit=25",
    "groups, search": "/api/findings/groups?q=res-01&limit=25",
    "groups, framework control": "/api/findings/groups?framework=nist&control=PR.AC-4&limit=25",
    "resources of one rule": "/api/findings?rule_id={rule}&sort=resource&limit=50",
    "flat page 1": "/api/findings?limit=25",
    "flat, sort by resource, page 200": "/api/findings?sort=resource&limit=25&offset=4975",
    "score (overview)": "/api/score",
}
RUNS = 7


def seed(url: str, findings: int, subscriptions: int) -> list[str]:
    rules = all_rules()
    store = ScanStore(url)
    subs = [str(uuid.uuid4()) for _ in range(subscriptions)]
    for index, sub in enumerate(subs):
        scan = store.create(sub)
        assert store.claim(scan.scan_id, pid=1, host="bench", process_create_time=None)
        rows = []
        for i in range(index, findings, subscriptions):
            rule = rules[i % len(rules)]
            name = f"res-{i:06d}"
            rows.append({
                "scan_id": scan.scan_id, "subscription_id": sub, "rule_id": rule.id, "rule_name": rule.title,
                "severity": rule.severity, "category": rule.category,
                "resource_id": f"/subscriptions/{sub}/resourceGroups/rg-{i % 40}/providers/x/{name}",
                "resource_name": name, "resource_type": "Microsoft.Storage/storageAccounts", "description": "d",
                "remediation": "r", "frameworks": dict(rule.frameworks), "metadata": {}, "detected_at": utcnow(),
            })
        outcomes = [{"rule_id": r.id, "status": "ok", "reason": None, "evaluated_count": 10, "failed_count": 1,
                     "not_evaluated_count": 0} for r in rules]
        assert store.complete_with_results(scan.scan_id, findings=rows, outcomes=outcomes, score=50.0)
    return subs


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_findings")
    parser.add_argument("--findings", type=int, default=13000)
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-findings-"))
    pg_name = f"openshield_bench_{uuid.uuid4().hex[:10]}"
    if args.postgres:
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{pg_name}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{pg_name}"')
    else:
        url = f"sqlite:///{work / 'openshield.db'}"
    upgrade(url)
    started = time.monotonic()
    subs = seed(url, args.findings, args.subscriptions)
    print(f"seeded {args.findings} findings in {args.subscriptions} subscriptions in {time.monotonic() - started:.1f}s "
          f"({'postgresql' if args.postgres else 'sqlite'})")
    os.environ["JWT_SECRET"] = SECRET
    settings = dataclasses.replace(Settings.from_env(), database_url=url, data_dir=work / "data")
    client = create_app(settings, None).test_client()  # type: ignore[arg-type]  # no launches here
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 'reader', ttl_seconds=3600)}"}
    try:
        for what, template in REQUESTS.items():
            path = template.format(sub=subs[0], rule=all_rules()[0].id)
            times: list[float] = []
            body: Any = None
            for _ in range(RUNS):
                t0 = time.perf_counter()
                response = client.get(path, headers=headers)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (path, response.get_json())
                body = response.get_json()
            size = body.get("count") if isinstance(body, dict) else None
            print(f"{what:36s} median {statistics.median(times):7.1f} ms  worst {max(times):7.1f} ms  "
                  f"(count {size}, load {os.getloadavg()[0]:.2f})")
    finally:
        if args.postgres:
            dispose_engines()
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
