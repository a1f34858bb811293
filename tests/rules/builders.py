"""Concise builders for rule tests: REST-shaped resources and the Inventory around them.

Tests describe only the fields a rule reads; everything else (ids, names, types) is filled in
the way Azure would, so rules see realistic documents.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

import scanner.rules  # noqa: F401  (registers every rule)
from scanner.inventory import ChildSpec, Inventory
from scanner.rules.support.base import REGISTRY, Evaluation

# a REST document (resource, Graph object, child payload) as the inventory stores it
Resource = dict[str, Any]

SUB = "11111111-2222-3333-4444-555555555555"
COLLECTED_AT = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
_NO_PROPERTIES = object()


def arm(
    resource_type: str,
    name: str,
    properties: Any = _NO_PROPERTIES,
    *,
    rg: str = "rg-test",
    **extra: Any,
) -> dict[str, Any]:
    """An ARM resource as a GET returns it; omit ``properties`` to leave the key out entirely."""
    resource: dict[str, Any] = {
        "id": f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{resource_type}/{name}",
        "name": name,
        "type": resource_type,
        "location": "westeurope",
        **extra,
    }
    if properties is not _NO_PROPERTIES:
        resource["properties"] = properties
    return resource


def inventory(
    *resources: dict[str, Any],
    graph: dict[str, list[dict[str, Any]]] | None = None,
    role_assignments: Iterable[dict[str, Any]] = (),
    collected_at: datetime = COLLECTED_AT,
) -> Inventory:
    inv = Inventory(subscription_id=SUB, collected_at=collected_at)
    for resource in resources:
        inv.resources.setdefault(resource["type"].lower(), []).append(resource)
    inv.graph.update(graph or {})
    inv.role_assignments.extend(role_assignments)
    inv.resource_count = len(resources)
    return inv


def set_child(inv: Inventory, spec: ChildSpec, parent: dict[str, Any], payload: Any) -> None:
    inv.children.setdefault(spec.key, {})[parent["id"].lower()] = payload


def fail_child(inv: Inventory, spec: ChildSpec, parent: dict[str, Any], reason: str) -> None:
    """Record that the child GET failed (what the collector does on 403/404/...)."""
    inv.unreadable[f"{spec.key}|{parent['id'].lower()}"] = reason


def fail_resource(inv: Inventory, resource_type: str, name: str, reason: str) -> str:
    """Record a listed resource whose own GET failed; returns its (lower-cased) id."""
    rid = str(arm(resource_type, name)["id"]).lower()
    inv.unreadable[rid] = reason
    return rid


def with_child(parent: dict[str, Any], spec: ChildSpec, payload: Any) -> Inventory:
    """An inventory holding ``parent`` and the ``spec`` child read under it."""
    inv = inventory(parent)
    set_child(inv, spec, parent, payload)
    return inv


def with_failed_child(parent: dict[str, Any], spec: ChildSpec, reason: str) -> Inventory:
    """An inventory holding ``parent`` whose ``spec`` child could not be read, for ``reason``."""
    inv = inventory(parent)
    fail_child(inv, spec, parent, reason)
    return inv


def with_unreadable(resource_type: str, name: str, reason: str) -> Inventory:
    """An inventory whose only resource was listed but could not be read, for ``reason``."""
    inv = inventory()
    fail_resource(inv, resource_type, name, reason)
    return inv


def run(rule_id: str, inv: Inventory) -> list[Evaluation]:
    return list(REGISTRY[rule_id].evaluate(inv))


def only(rule_id: str, inv: Inventory) -> Evaluation:
    """The single evaluation a rule yields for an inventory holding one judged object."""
    results = run(rule_id, inv)
    assert len(results) == 1, results
    return results[0]


def sec_rule(
    name: str,
    priority: int,
    *,
    access: str = "Allow",
    direction: str = "Inbound",
    protocol: str = "Tcp",
    port: str | None = "22",
    ports: list[str] | None = None,
    source: str | None = "*",
    sources: list[str] | None = None,
) -> dict[str, Any]:
    """An NSG security rule in REST shape (both singular and plural fields, as Azure returns)."""
    return {
        "name": name,
        "properties": {
            "protocol": protocol,
            "sourcePortRange": "*",
            "sourcePortRanges": [],
            "destinationPortRange": port,
            "destinationPortRanges": ports or [],
            "sourceAddressPrefix": source,
            "sourceAddressPrefixes": sources or [],
            "destinationAddressPrefix": "*",
            "access": access,
            "priority": priority,
            "direction": direction,
        },
    }


DEFAULT_SECURITY_RULES = [
    sec_rule("AllowVnetInBound", 65000, protocol="*", port="*", source="VirtualNetwork"),
    sec_rule(
        "AllowAzureLoadBalancerInBound", 65001, protocol="*", port="*", source="AzureLoadBalancer"
    ),
    sec_rule("DenyAllInBound", 65500, access="Deny", protocol="*", port="*", source="*"),
]


def nsg(name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return arm(
        "Microsoft.Network/networkSecurityGroups",
        name,
        {"securityRules": list(rules), "defaultSecurityRules": DEFAULT_SECURITY_RULES},
    )


LOG_WORKSPACE = f"/subscriptions/{SUB}/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law"


def diagnostic_setting(name: str, logs: list[dict[str, Any]], **destinations: str) -> dict[str, Any]:
    """A diagnostic setting (subscription or resource) in REST shape; sends to a Log Analytics
    workspace unless ``destinations`` (``workspaceId=""`` for none) say otherwise."""
    if not destinations:
        destinations = {"workspaceId": LOG_WORKSPACE}
    return {
        "id": f"/subscriptions/{SUB}/providers/microsoft.insights/diagnosticSettings/{name}",
        "name": name,
        "type": "Microsoft.Insights/diagnosticSettings",
        "properties": {**destinations, "logs": logs},
    }


def categories(*names: str, enabled: bool = True) -> list[dict[str, Any]]:
    """The ``logs`` entries of a diagnostic setting enabling (or not) each named category."""
    return [{"category": n, "enabled": enabled} for n in names]
