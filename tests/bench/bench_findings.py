"""Benchmark: the findings explorer's server side (groups, filters, search, pages, the export) on a
large posture.

    .venv/bin/python -m tests.bench.bench_findings [--findings 13000] [--subscriptions 3] [--postgres]
    .venv/bin/python -m tests.bench.bench_findings --tenant large:10000 [--postgres]

Seeded (the default): ``--findings`` findings over every rule, spread over ``--subscriptions``
subscriptions (one completed scan each, stored through ScanStore as a scan stores them), then the
requests the dashboard's explorer and overview make, through the Flask app (no network, no
gunicorn: this is the query and the JSON).

``--tenant large:N``: the emulator's tenant scanned for real (``python -m scanner.run``, every
rule, PASS and NOT_EVALUATED results stored), then the same requests over HTTP to gunicorn, as
the dashboard sends them, against those ~13k failures and ~35k other results.

Each request runs ``RUNS`` times (an export ``EXPORT_RUNS`` times); the median and the worst are
printed with the load average. ``--postgres`` creates a database of its own on the server of
OPENSHIELD_TEST_PG_URL (dropped at the end; the shared test database is never touched) instead of
a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg
import requests

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
    "groups, search": "/api/findings/groups?q={q}&limit=25",
    "groups, framework control": "/api/findings/groups?framework=nist&control=PR.AC-4&limit=25",
    "resources of one rule": "/api/findings?rule_id={rule}&sort=resource&limit=50",
    "flat page 1": "/api/findings?limit=25",
    "flat, search": "/api/findings?q={q}&limit=25",
    "flat, severity HIGH, page 2": "/api/findings?severity=HIGH&limit=25&offset=25",
    "flat, sort by resource, page 200": "/api/findings?sort=resource&limit=25&offset=4975",
    "flat, passed results page 1": "/api/findings?status=PASS&limit=25",
    "score (overview)": "/api/score",
    "export CSV, severity HIGH": "/api/findings/export?format=csv&severity=HIGH",
    "export CSV, every failure": "/api/findings/export?format=csv",
    "export OCSF, every failure": "/api/findings/export?format=ocsf",
}
RUNS = 7
# an export streams thousands of rows: fewer runs
EXPORT_RUNS = 3


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


Fetch = Callable[[str], "tuple[int, bytes]"]


def time_requests(fetch: Fetch, fill: dict[str, str]) -> None:
    """Each request ``RUNS`` times (exports ``EXPORT_RUNS``): median, worst, what it answered."""
    for what, template in REQUESTS.items():
        path = template.format(**fill)
        export = "/export" in path
        times: list[float] = []
        body = b""
        for _ in range(EXPORT_RUNS if export else RUNS):
            t0 = time.perf_counter()
            status, body = fetch(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert status == 200, (path, status, body[:300])
        if export:
            rows = body.count(b"\r\n") - 1 if "csv" in path else len(json.loads(body))
            answer = f"{rows} rows, {len(body) / 1e6:.1f} MB"
        else:
            parsed = json.loads(body)
            answer = f"count {parsed.get('count') if isinstance(parsed, dict) else None}"
        print(f"{what:36s} median {statistics.median(times):7.1f} ms  worst {max(times):7.1f} ms  "
              f"({answer}, load {os.getloadavg()[0]:.2f})", flush=True)


def fill_values(fetch: Fetch, subs: list[str]) -> dict[str, str]:
    """The subscription, rule and search text the requests use: a search for one resource's name
    (what a user types), picked from the middle of the posture."""
    status, body = fetch("/api/findings?sort=resource&limit=1&offset=0")
    count = json.loads(body)["count"]
    _, body = fetch(f"/api/findings?sort=resource&limit=1&offset={count // 2}")
    middle = json.loads(body)["findings"][0]
    _, body = fetch("/api/findings/groups?sort=count&limit=1")
    rule = json.loads(body)["groups"][0]["rule_id"]
    return {"sub": subs[0], "rule": rule, "q": middle["resource_name"]}


def scan_tenant(url: str, work: Path, tenant: str) -> Iterator[tuple[Fetch, list[str]]]:
    """The emulator's tenant scanned by a real scan process, then gunicorn over that database."""
    from tests.bench.bench_results import run_scan
    from tests.fakeazure.harness import start_emulator
    from tests.stack import LiveStack

    with start_emulator(work / "emu", tenant=tenant) as emu:
        stack = LiveStack(url, work, emu, workers=1, threads=4)
        started = time.monotonic()
        scan_id, _ = run_scan(stack)
        print(f"scanned {tenant} (scan {scan_id[:8]}) in {time.monotonic() - started:.1f}s "
              f"(load {os.getloadavg()[0]:.2f})", flush=True)
        stack.start_gunicorn()
        session = requests.Session()
        session.headers.update(stack.headers("reader"))

        def fetch(path: str) -> tuple[int, bytes]:
            response = session.get(stack.url + path, timeout=600)
            return response.status_code, response.content

        try:
            yield fetch, [emu.env["AZURE_SUBSCRIPTION_ID"]]
        finally:
            stack.stop()


def seeded(url: str, work: Path, findings: int, subscriptions: int) -> Iterator[tuple[Fetch, list[str]]]:
    started = time.monotonic()
    subs = seed(url, findings, subscriptions)
    print(f"seeded {findings} findings in {subscriptions} subscriptions in {time.monotonic() - started:.1f}s", flush=True)
    os.environ["JWT_SECRET"] = SECRET
    settings = dataclasses.replace(Settings.from_env(), database_url=url, data_dir=work / "data")
    client = create_app(settings, None).test_client()  # type: ignore[arg-type]  # no launches here
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 'reader', ttl_seconds=3600)}"}

    def fetch(path: str) -> tuple[int, bytes]:
        response = client.get(path, headers=headers)
        return response.status_code, response.get_data()

    yield fetch, subs


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_findings")
    parser.add_argument("--findings", type=int, default=13000)
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--tenant", help="scan the emulator's tenant (large:10000) instead of seeding")
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
    print(f"{'postgresql' if args.postgres else 'sqlite'}, load {os.getloadavg()[0]:.2f}", flush=True)
    try:
        upgrade(url)
        source = scan_tenant(url, work, args.tenant) if args.tenant else \
            seeded(url, work, args.findings, args.subscriptions)
        for fetch, subs in source:
            time_requests(fetch, fill_values(fetch, subs))
    finally:
        dispose_engines()
        if args.postgres:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
