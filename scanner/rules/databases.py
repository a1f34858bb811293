"""Database rules: Azure SQL firewall and auditing, PostgreSQL flexible server public access."""

from __future__ import annotations

from typing import Any, Iterable

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.base import Evaluation, rule
from scanner.rules.helpers import as_dict, unreadable, verdict

SQL_TYPE = "Microsoft.Sql/servers"
POSTGRES_TYPE = "Microsoft.DBforPostgreSQL/flexibleServers"

SQL_FIREWALL_RULES = ChildSpec(SQL_TYPE, "firewallRules", "2021-11-01", is_list=True)
SQL_AUDITING = ChildSpec(SQL_TYPE, "auditingSettings/default", "2021-11-01")

_ALL_START = "0.0.0.0"
_ALL_END = "255.255.255.255"


def _child_missing(inv: Inventory, spec: ChildSpec, server_id: str, what: str) -> str:
    reason = inv.child_error(spec, server_id) or "child not collected"
    return f"{what} could not be read: {reason}"


def _firewall_entries(payload: Any) -> list[dict[str, Any]] | None:
    """The rule objects of a firewallRules payload (a list, or a raw ``{"value": [...]}`` page)."""
    if isinstance(payload, dict):
        payload = payload.get("value") or []
    if not isinstance(payload, list):  # MISSING (not collected) or malformed
        return None
    return [entry for entry in payload if isinstance(entry, dict)]


def _ip(value: Any) -> str:
    return str(value or "").strip()


@rule(
    id="AZ-SQL-001",
    title="SQL server firewall allows access from any IP address",
    severity="CRITICAL",
    category="database",
    description=(
        "A server-level firewall rule covers 0.0.0.0-255.255.255.255, so every address on the "
        "Internet can reach the SQL endpoint and attempt logins against every database on it."
    ),
    remediation=(
        "Delete the rule (`az sql server firewall-rule delete -g <rg> -s <server> -n <rule>`) "
        "and allow only the client ranges that need access, or disable public network access "
        "and use private endpoints."
    ),
    frameworks={"CIS": ["4.1.2"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_FIREWALL_RULES,)),
)
def sql_open_firewall(inv: Inventory) -> Iterable[Evaluation]:
    """The 0.0.0.0-0.0.0.0 "Allow Azure services" rule is deliberately not this finding (it
    admits Azure-hosted addresses only); it is recorded as ``allowsAzureServices`` metadata."""
    for server in inv.of_type(SQL_TYPE):
        server_id = str(server.get("id", ""))
        if str(props(server).get("publicNetworkAccess") or "").lower() == "disabled":
            # firewall rules only apply to the public endpoint, which is switched off
            yield verdict(server, SQL_TYPE, True, "public network access is disabled",
                           {"publicNetworkAccess": "Disabled"})
            continue
        entries = _firewall_entries(inv.child(SQL_FIREWALL_RULES, server_id))
        if entries is None:
            detail = _child_missing(inv, SQL_FIREWALL_RULES, server_id, "firewall rules")
            yield verdict(server, SQL_TYPE, None, detail)
            continue
        open_rules: list[str] = []
        azure_services = False
        for entry in entries:
            entry_props = props(entry)
            start = _ip(entry_props.get("startIpAddress"))
            end = _ip(entry_props.get("endIpAddress"))
            if start == _ALL_START and end == _ALL_END:
                open_rules.append(str(entry.get("name") or ""))
            elif start == _ALL_START and end == _ALL_START:
                azure_services = True
        metadata = {
            "open_rules": open_rules,
            "allowsAzureServices": azure_services,
            "rule_count": len(entries),
        }
        if open_rules:
            names = ", ".join(f"'{n}'" for n in open_rules)
            detail = f"firewall rule {names} allows {_ALL_START}-{_ALL_END}"
            yield verdict(server, SQL_TYPE, False, detail, metadata)
        else:
            yield verdict(server, SQL_TYPE, True, "no firewall rule spans all addresses", metadata)
    yield from unreadable(inv, SQL_TYPE, "server")


@rule(
    id="AZ-SQL-002",
    title="SQL server auditing is disabled",
    severity="MEDIUM",
    category="database",
    description=(
        "Server-level auditing is off, so database logins, queries and permission changes leave "
        "no trail; intrusions and data exfiltration cannot be detected or investigated."
    ),
    remediation=(
        "Portal: SQL server > Auditing > 'Enable Azure SQL Auditing' with a Log Analytics, "
        "Event Hub or storage destination, or `az sql server audit-policy update -g <rg> -n "
        "<server> --state Enabled --lats Enabled --lawri <workspace-resource-id>`."
    ),
    frameworks={"CIS": ["4.1.1"], "NIST": ["DE.CM-1", "PR.PT-1"], "ISO27001": ["A.8.15"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_AUDITING,)),
)
def sql_auditing(inv: Inventory) -> Iterable[Evaluation]:
    for server in inv.of_type(SQL_TYPE):
        server_id = str(server.get("id", ""))
        settings = inv.child(SQL_AUDITING, server_id)
        if not isinstance(settings, dict):
            detail = _child_missing(inv, SQL_AUDITING, server_id, "auditing settings")
            yield verdict(server, SQL_TYPE, None, detail)
            continue
        settings_props = props(settings)
        state = settings_props.get("state")
        metadata = {"state": state, "retentionDays": settings_props.get("retentionDays")}
        if str(state or "").strip().lower() == "enabled":
            yield verdict(server, SQL_TYPE, True, "auditing enabled", metadata)
        else:
            shown = state if state is not None else "not reported"
            yield verdict(server, SQL_TYPE, False, f"auditing state is {shown}", metadata)
    yield from unreadable(inv, SQL_TYPE, "server")


@rule(
    id="AZ-PG-001",
    title="PostgreSQL flexible server allows public network access",
    severity="HIGH",
    category="database",
    description=(
        "The server has a public endpoint, so it is reachable from the Internet subject only to "
        "its firewall rules; one broad rule or weak password exposes the database."
    ),
    remediation=(
        "Use private access (VNet integration) or private endpoints and turn public access "
        "off: portal: PostgreSQL flexible server > Networking > clear 'Allow public access', "
        "or `az postgres flexible-server update -g <rg> -n <server> --public-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({POSTGRES_TYPE})),
)
def postgres_public_access(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``network.publicNetworkAccess`` is reported as not evaluated, not as compliant."""
    for server in inv.of_type(POSTGRES_TYPE):
        access = as_dict(props(server).get("network")).get("publicNetworkAccess")
        metadata = {"publicNetworkAccess": access}
        if access is None:
            yield verdict(
                server, POSTGRES_TYPE, None, "publicNetworkAccess not reported", metadata
            )
        elif str(access).strip().lower() == "enabled":
            yield verdict(
                server, POSTGRES_TYPE, False, "public network access is Enabled", metadata
            )
        else:
            yield verdict(
                server, POSTGRES_TYPE, True, f"public network access is {access}", metadata
            )
    yield from unreadable(inv, POSTGRES_TYPE, "server")
