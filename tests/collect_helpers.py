"""Shared by the collector tests: endpoints for an emulator, one collection, and a canonical
form of what every rule concludes from an inventory (to compare two collection paths)."""

from __future__ import annotations

import json
from typing import Any

from scanner.azure.collector import LISTS, Collector
from scanner.azure.endpoints import AzureEndpoints
from scanner.azure.resourcegraph import arg_source
from scanner.engine import evaluate_rule
from scanner.inventory import Inventory, Needs
from scanner.rules import all_rules
from tests.fakeazure.harness import Emulator


def endpoints(emu: Emulator, secret: str | None = None) -> AzureEndpoints:
    env = emu.env
    return AzureEndpoints(
        arm=env["AZURE_ARM_ENDPOINT"], graph=env["AZURE_GRAPH_ENDPOINT"], authority=env["AZURE_AUTHORITY_HOST"],
        tenant_id=env["AZURE_TENANT_ID"], client_id=env["AZURE_CLIENT_ID"],
        client_secret=secret if secret is not None else env["AZURE_CLIENT_SECRET"], ca_bundle=env["REQUESTS_CA_BUNDLE"],
    )


def collect(emu: Emulator, secret: str | None = None, concurrency: int = 8, strategy: str = LISTS,
            resource_graph: bool | None = True) -> Inventory:
    needs = Needs.union(r.needs for r in all_rules())
    return Collector(emu.env["AZURE_SUBSCRIPTION_ID"], needs, endpoints=endpoints(emu, secret),
                     concurrency=concurrency, strategy=strategy, resource_graph=resource_graph).collect()


def inventory_form(inv: Inventory) -> dict[str, Any]:
    """Everything a rule can read, order-free: full bodies by id, children, failures."""
    return {
        "resources": {t: {r["id"].lower(): json.dumps(r, sort_keys=True) for r in rs} for t, rs in inv.resources.items()},
        "children": {k: {p: json.dumps(_ordered(v), sort_keys=True) for p, v in c.items()}
                     for k, c in inv.children.items()},
        "unreadable": dict(inv.unreadable),
        "unavailable": dict(inv.unavailable),
        "count": inv.resource_count,
        "locations": dict(inv.locations),
    }


def resource_graph_view(inv: Inventory) -> Inventory:
    """``inv`` (read per parent) as the Resource Graph path sees it: a list child that ARG
    indexes and whose ARM read a tenant plants as failing (404) is, for ARG, a parent without
    rows (``[]``); ARG indexes what exists. Nothing else differs."""
    specs = {s.key: s for s in Needs.union(r.needs for r in all_rules()).children if arg_source(s) is not None}
    for key in [k for k in inv.unreadable if k.split("|", 1)[0] in specs]:
        spec_key, parent = key.split("|", 1)
        assert specs[spec_key].is_list and inv.unreadable.pop(key).startswith("HTTP 404")
        inv.children[spec_key][parent] = []
    return inv


def _ordered(payload: Any) -> Any:
    """A list child's items by id: neither ARM nor Resource Graph promises an order."""
    if isinstance(payload, list):
        return sorted(payload, key=lambda item: json.dumps(item.get("id") if isinstance(item, dict) else item))
    return payload


def verdicts(inv: Inventory) -> dict[str, Any]:
    """Every rule's outcome and its findings (resource, detail, metadata), order-free."""
    out: dict[str, Any] = {}
    for rule in all_rules():
        outcome, findings = evaluate_rule(rule, inv)
        out[rule.id] = (outcome, sorted((f.evaluation.resource_id.lower(), f.evaluation.detail,
                                         json.dumps(dict(f.evaluation.metadata), sort_keys=True, default=str))
                                        for f in findings))
    return out
