"""Benchmark: rule evaluation alone over the emulator's ``large:N`` tenant, in process.

    .venv/bin/python -m tests.bench.bench_rules [--resources 10000 | --demo] [--repeat 2]
        [--save FILE | --check FILE] [--profile]

Builds the tenant, turns it into the :class:`~scanner.inventory.Inventory` a scan would collect
(every resource GET, child and subscription read the rules declare; a child the tenant lacks is
recorded as unreadable, as a 404 would be), then times the engine's evaluating phase
(:meth:`~scanner.engine.ScanEngine.evaluate`) for every rule. No HTTP, so the figure does not
depend on emulator latency: compare it with the wall time of ``bench_collect`` on the same tenant
(issue 17: rule evaluation < 5 % of scan wall time at large:10000). Prints the load average
beside each run.

``--save FILE`` writes every verdict (rule, finding key, status, message, resource, metadata)
and every rule outcome, sorted, one JSON line each; ``--check FILE`` compares this run's with a
saved set and exits 1 on the first difference. Save before a change to the engine or the rule
support code and check after it: a speed-up must not move a single verdict. The tenant and the
inventory share a fixed clock, so two runs on different days compare equal. ``--profile`` prints
a cProfile of one evaluating phase (the 25 functions with the most own time).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Iterator

from scanner.engine import ScanEngine, ScanResult
from scanner.inventory import Inventory, Needs, normalise_location
from scanner.rules import all_rules
from tests.fakeazure import tenants as T

# one clock for the tenant and its inventory, so date-based verdicts do not drift between runs
FIXED_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def inventory_of(tenant: dict, needs: Needs, now: datetime | None = None) -> Inventory:
    inv = Inventory(subscription_id=tenant["subscriptionId"])
    if now is not None:
        inv.collected_at = now
    wanted = {t.lower() for t in needs.resource_types}
    for res in tenant["resources"]:
        inv.resource_count += 1
        region = normalise_location(res.get("location"))
        inv.locations[region] = inv.locations.get(region, 0) + 1
        if res["type"].lower() in wanted:
            inv.resources.setdefault(res["type"].lower(), []).append(res)
    for spec in needs.children:
        store = inv.children.setdefault(spec.key, {})
        for res in inv.of_type(spec.parent_type):
            payload = tenant["children"].get(f"{res['id']}/{spec.path}")
            if payload is None:
                inv.unreadable[f"{spec.key}|{res['id'].lower()}"] = "HTTP 404 ResourceNotFound"
            else:
                store[res["id"].lower()] = payload
    for read in needs.subscription_reads:
        inv.subscription_reads[read.key] = tenant["children"].get(f"/subscriptions/{inv.subscription_id}/{read.path}", [])
    inv.graph = {name: list(items) for name, items in tenant["graph"].items()}
    inv.role_assignments = list(tenant["roleAssignments"])
    inv.role_definitions = list(tenant["roleDefinitions"])
    return inv


class _Quiet:
    """A progress sink that records nothing (the scan's writes progress.json; not timed here)."""

    def phase(self, name: str) -> None: ...
    def collecting(self, event, percent: int) -> None: ...
    def rule_done(self, completed: int, total: int, percent: int) -> None: ...


def evaluate_all(rules, inv: Inventory) -> ScanResult:
    """The engine's evaluating phase over an inventory already collected, as the scan process
    runs it (``freeze_after``: the scan thaws the collector once its results are stored)."""
    engine = ScanEngine(rules, lambda needs, progress, stop: inv, _Quiet(), threading.Event(), freeze_after=True)
    try:
        return engine.run()
    finally:
        gc.unfreeze()


def verdict_lines(result: ScanResult) -> Iterator[str]:
    """Every verdict and outcome of a scan result as sorted, comparable JSON lines."""
    lines = []
    for record in result.findings + result.other_results:
        rule, ev = record.rule, record.evaluation
        lines.append(json.dumps(["verdict", rule.id, ev.key(rule.id), str(ev.status), record.description(),
                                 ev.resource_name, ev.resource_type, ev.location,
                                 json.dumps(dict(ev.metadata), sort_keys=True, default=str)]))
    for o in result.outcomes:
        lines.append(json.dumps(["outcome", o.rule_id, o.status, o.reason, o.evaluated, o.failed, o.not_evaluated]))
    lines.append(json.dumps(["score", result.score]))
    return iter(sorted(lines))


def check(result: ScanResult, path: str) -> bool:
    with open(path, encoding="utf-8") as f:
        saved = [line.rstrip("\n") for line in f]
    now = list(verdict_lines(result))
    if saved == now:
        print(f"verdicts identical to {path} ({len(now)} lines)")
        return True
    gone, new = sorted(set(saved) - set(now)), sorted(set(now) - set(saved))
    print(f"verdicts DIFFER from {path}: {len(gone)} lines only there, {len(new)} only here")
    for line in gone[:5]:
        print(f"  - {line[:300]}")
    for line in new[:5]:
        print(f"  + {line[:300]}")
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10000)
    parser.add_argument("--demo", action="store_true", help="the demo tenant instead of large:N")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--save", metavar="FILE")
    parser.add_argument("--check", metavar="FILE")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    rules = all_rules()
    tenant = T.demo_tenant(FIXED_NOW) if args.demo else T.large_tenant(args.resources, FIXED_NOW)
    inv = inventory_of(tenant, Needs.union(r.needs for r in rules), FIXED_NOW)
    name = "demo" if args.demo else f"large:{args.resources}"
    print(f"{name}: {len(rules)} rules, {inv.resource_count} resources")
    result = None
    for run in range(1, args.repeat + 1):
        load = os.getloadavg()
        cpu, started = time.thread_time(), time.perf_counter()
        result = evaluate_all(rules, inv)
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
        print(f"run {run}: evaluate {wall:.3f} s wall, {cpu:.3f} s CPU (engine: {result.evaluate_seconds:.3f} s), "
              f"{len(result.findings)} findings, {len(result.other_results)} other results  "
              f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
        per_rule = []
        for r in rules:
            t0 = time.thread_time()
            evaluate_all([r], inv)
            per_rule.append((time.thread_time() - t0, r.id))
        print("  most CPU, rule alone: "
              + ", ".join(f"{rid} {sec * 1000:.1f} ms" for sec, rid in sorted(per_rule, reverse=True)[:6]))
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        result = evaluate_all(rules, inv)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    if result is None:
        result = evaluate_all(rules, inv)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in verdict_lines(result))
        print(f"saved {args.save}")
    if args.check and not check(result, args.check):
        sys.exit(1)


if __name__ == "__main__":
    main()
