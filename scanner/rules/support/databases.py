"""What the SQL, PostgreSQL and MySQL rules share: reading server firewall rules, and the two
judgements PostgreSQL and MySQL flexible servers have in common (public network access and the
``require_secure_transport`` parameter), so each family module keeps only its own decisions.
"""

from __future__ import annotations

from typing import Any, Iterator

from scanner.inventory import ChildSpec, Inventory, props
from scanner.rules.support.base import Evaluation
from scanner.rules.support.helpers import as_dict, unreadable, verdict

# a server firewall rule spanning these admits every address; start and end both ALL_START is
# Azure's "allow Azure services" rule
ALL_START = "0.0.0.0"
ALL_END = "255.255.255.255"


def child_missing(inv: Inventory, spec: ChildSpec, server_id: str, what: str) -> str:
    reason = inv.child_error(spec, server_id) or "child not collected"
    return f"{what} could not be read: {reason}"


def firewall_entries(payload: Any) -> list[dict[str, Any]] | None:
    """The rule objects of a firewallRules payload (a list, or a raw ``{"value": [...]}`` page)."""
    if isinstance(payload, dict):
        payload = payload.get("value") or []
    if not isinstance(payload, list):  # MISSING (not collected) or malformed
        return None
    return [entry for entry in payload if isinstance(entry, dict)]


def ip(value: Any) -> str:
    return str(value or "").strip()


def flexible_public_access(inv: Inventory, server_type: str) -> Iterator[Evaluation]:
    """``network.publicNetworkAccess`` of a PostgreSQL or MySQL flexible server: Enabled fails,
    any other value passes, absent is not evaluated."""
    for server in inv.of_type(server_type):
        access = as_dict(props(server).get("network")).get("publicNetworkAccess")
        metadata = {"publicNetworkAccess": access}
        if access is None:
            yield verdict(server, server_type, None, "publicNetworkAccess not reported", metadata)
        elif str(access).strip().lower() == "enabled":
            yield verdict(server, server_type, False, "public network access is Enabled", metadata)
        else:
            yield verdict(server, server_type, True, f"public network access is {access}", metadata)
    yield from unreadable(inv, server_type, "server")


def secure_transport(inv: Inventory, server_type: str, spec: ChildSpec, on: str, off: str) -> Iterator[Evaluation]:
    """The ``require_secure_transport`` server parameter of a PostgreSQL or MySQL flexible
    server (``on``/``off`` are the engine's own spelling, used in the detail text)."""
    for server in inv.of_type(server_type):
        server_id = str(server.get("id", ""))
        config = inv.child(spec, server_id)
        if not isinstance(config, dict):
            detail = child_missing(inv, spec, server_id, "require_secure_transport")
            yield verdict(server, server_type, None, detail)
            continue
        raw = props(config).get("value")
        metadata = {"require_secure_transport": raw}
        value = str(raw or "").strip().lower()
        if value == "on":
            yield verdict(server, server_type, True, f"require_secure_transport is {on}", metadata)
        elif value == "off":
            yield verdict(server, server_type, False, f"require_secure_transport is {off}", metadata)
        else:
            shown = "not reported" if raw is None else f"unrecognised ({raw!r})"
            yield verdict(server, server_type, None, f"require_secure_transport {shown}", metadata)
    yield from unreadable(inv, server_type, "server")
