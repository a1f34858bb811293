"""What the SQL, PostgreSQL and MySQL rules share: reading server firewall rules, and the two
decisions PostgreSQL and MySQL flexible servers have in common (public network access and the
``require_secure_transport`` parameter), so each family module keeps only its own rules.
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import ChildSpec, Inventory, props
from scanner.rules.support.helpers import Judgement, Resource, as_dict, child_of, unread_child
from scanner.rules.support.memo import per_object

# a server firewall rule spanning these admits every address; start and end both ALL_START is
# Azure's "allow Azure services" rule
ALL_START = "0.0.0.0"
ALL_END = "255.255.255.255"


def firewall_entries(payload: Any) -> list[dict[str, Any]] | None:
    """The rule objects of a firewallRules payload (a list, or a raw ``{"value": [...]}`` page)."""
    if isinstance(payload, dict):
        payload = payload.get("value") or []
    if not isinstance(payload, list):  # MISSING (not collected) or malformed
        return None
    return [entry for entry in payload if isinstance(entry, dict)]


def ip_range(entry: dict[str, Any]) -> tuple[str, str]:
    """(start, end) address of a firewall rule, as written ('' when absent)."""
    entry_props = props(entry)
    return str(entry_props.get("startIpAddress") or "").strip(), str(entry_props.get("endIpAddress") or "").strip()


def flexible_public_access(server: Resource) -> Judgement:
    """``network.publicNetworkAccess`` of a PostgreSQL or MySQL flexible server: Enabled fails,
    any other value passes, absent is not evaluated."""
    access = as_dict(props(server).get("network")).get("publicNetworkAccess")
    metadata = {"publicNetworkAccess": access}
    if access is None:
        return Judgement(None, "publicNetworkAccess not reported", metadata)
    if str(access).strip().lower() == "enabled":
        return Judgement(False, "public network access is Enabled", metadata)
    return Judgement(True, f"public network access is {access}", metadata)


def secure_transport(inv: Inventory, server: Resource, spec: ChildSpec, on: str, off: str) -> Judgement:
    """The ``require_secure_transport`` server parameter of a PostgreSQL or MySQL flexible
    server (``on``/``off`` are the engine's own spelling, used in the detail text)."""
    config = child_of(inv, spec, server)
    if not isinstance(config, dict):
        return unread_child(inv, spec, server, "require_secure_transport")
    raw = props(config).get("value")
    metadata = {"require_secure_transport": raw}
    value = str(raw or "").strip().lower()
    if value == "on":
        return Judgement(True, f"require_secure_transport is {on}", metadata)
    if value == "off":
        return Judgement(False, f"require_secure_transport is {off}", metadata)
    shown = "not reported" if raw is None else f"unrecognised ({raw!r})"
    return Judgement(None, f"require_secure_transport {shown}", metadata)


@per_object
def server_parameters(payload: Any) -> dict[str, Any] | None:
    """A flexible server's ``configurations`` list as parameter name (lower-cased) -> value
    (``properties.value``); None when the list was not read. Built once per server per
    evaluating phase (several rules read it), so callers only read the map."""
    if not isinstance(payload, list):
        return None
    params: dict[str, Any] = {}
    for item in payload:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            value = item.get("properties")
            params[item["name"].lower()] = value.get("value") if isinstance(value, dict) else None
    return params
