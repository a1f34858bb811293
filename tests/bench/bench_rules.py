"""Benchmark: rule evaluation alone over the emulator's ``large:N`` tenant, in process.

    .venv/bin/python -m tests.bench.bench_rules [--resources 10000] [--repeat 2]

Builds the tenant, turns it into the :class:`~scanner.inventory.Inventory` a scan would collect
(every resource GET, child and subscription read the rules declare; a child the tenant lacks is
recorded as unreadable, as a 404 would be), then times ``evaluate_rule`` for every rule, the way
the engine's evaluating phase does. No HTTP, so the figure does not depend on emulator latency:
compare it with the wall time of ``bench_collect`` on the same tenant (issue 17: rule evaluation
< 5 % of scan wall time at large:10000). Prints the load average beside each run.
"""

from __future__ import annotations

import argparse
import os
import time

from scanner.engine import evaluate_rule
from scanner.inventory import Inventory, Needs, normalise_location
from scanner.rules import all_rules
from tests.fakeazure import tenants as T


def inventory_of(tenant: dict, needs: Needs) -> Inventory:
    inv = Inventory(subscription_id=tenant["subscriptionId"])
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rules = all_rules()
    tenant = T.large_tenant(args.resources)
    inv = inventory_of(tenant, Needs.union(r.needs for r in rules))
    print(f"large:{args.resources}: {len(rules)} rules, {inv.resource_count} resources")
    for run in range(1, args.repeat + 1):
        load = os.getloadavg()
        per_rule: list[tuple[float, str, int]] = []
        cpu, started = time.process_time(), time.perf_counter()
        findings = 0
        for r in rules:
            t0 = time.perf_counter()
            _, found = evaluate_rule(r, inv)
            per_rule.append((time.perf_counter() - t0, r.id, len(found)))
            findings += len(found)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        slowest = ", ".join(f"{rid} {sec * 1000:.0f} ms" for sec, rid, _ in sorted(per_rule, reverse=True)[:5])
        print(f"run {run}: evaluate {wall:.2f} s wall, {cpu:.2f} s CPU, {findings} findings  "
              f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}); slowest: {slowest}")


if __name__ == "__main__":
    main()
