"""Azure SQL rules: network exposure (firewall rules, public access), Microsoft Entra
administration, auditing and its retention, and transparent data encryption of databases.

Firewall rules, auditing settings and TDE state are child resources, not part of the server
GET, so rules reading them report "not evaluated" when the child could not be read.
"""

from __future__ import annotations

from typing import Any, Iterable

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import Evaluation, rule
from scanner.rules.support.databases import ALL_END, ALL_START, child_missing, firewall_entries, ip
from scanner.rules.support.helpers import as_dict, unreadable, verdict

SQL_TYPE = "Microsoft.Sql/servers"

SQL_FIREWALL_RULES = ChildSpec(SQL_TYPE, "firewallRules", is_list=True)
SQL_AUDITING = ChildSpec(SQL_TYPE, "auditingSettings/default")


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
        entries = firewall_entries(inv.child(SQL_FIREWALL_RULES, server_id))
        if entries is None:
            detail = child_missing(inv, SQL_FIREWALL_RULES, server_id, "firewall rules")
            yield verdict(server, SQL_TYPE, None, detail)
            continue
        open_rules: list[str] = []
        azure_services = False
        for entry in entries:
            entry_props = props(entry)
            start = ip(entry_props.get("startIpAddress"))
            end = ip(entry_props.get("endIpAddress"))
            if start == ALL_START and end == ALL_END:
                open_rules.append(str(entry.get("name") or ""))
            elif start == ALL_START and end == ALL_START:
                azure_services = True
        metadata = {
            "open_rules": open_rules,
            "allowsAzureServices": azure_services,
            "rule_count": len(entries),
        }
        if open_rules:
            names = ", ".join(f"'{n}'" for n in open_rules)
            detail = f"firewall rule {names} allows {ALL_START}-{ALL_END}"
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
            detail = child_missing(inv, SQL_AUDITING, server_id, "auditing settings")
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


def _public_access_disabled(server: dict[str, Any]) -> bool:
    return str(props(server).get("publicNetworkAccess") or "").strip().lower() == "disabled"


@rule(
    id="AZ-SQL-003",
    title="SQL server has no Microsoft Entra administrator",
    severity="MEDIUM",
    category="database",
    description=(
        "No Entra ID admin is configured, so the server can only be administered with its SQL "
        "login: a shared password without MFA, Conditional Access or central deprovisioning, "
        "and database users cannot be mapped to Entra identities."
    ),
    remediation=(
        "Portal: SQL server > Microsoft Entra ID > 'Set admin' (preferably a group), or `az sql "
        "server ad-admin create -g <rg> -s <server> --display-name <group> --object-id <id>`; "
        "then consider 'Support only Microsoft Entra authentication'."
    ),
    frameworks={"CIS": ["4.1.4"], "NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.5.16", "A.8.5"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE})),
)
def sql_entra_admin(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``administrators`` fails: Azure omits it when no Entra admin is set."""
    for server in inv.of_type(SQL_TYPE):
        admins = as_dict(props(server).get("administrators"))
        admin_type = admins.get("administratorType")
        metadata = {
            "administratorType": admin_type,
            "login": admins.get("login"),
            "azureADOnlyAuthentication": admins.get("azureADOnlyAuthentication"),
        }
        if str(admin_type or "").strip().lower() == "activedirectory":
            detail = f"Entra admin is {admins.get('login') or admins.get('sid') or 'configured'}"
            yield verdict(server, SQL_TYPE, True, detail, metadata)
        else:
            yield verdict(server, SQL_TYPE, False, "no Microsoft Entra admin configured", metadata)
    yield from unreadable(inv, SQL_TYPE, "server")


@rule(
    id="AZ-SQL-004",
    title="SQL server firewall allows all Azure services",
    severity="MEDIUM",
    category="database",
    description=(
        "The 'Allow Azure services and resources to access this server' rule (0.0.0.0-0.0.0.0) "
        "admits connections from any Azure-hosted address, including other customers' "
        "subscriptions, so the login prompt is reachable by anyone who rents an Azure VM."
    ),
    remediation=(
        "Portal: SQL server > Networking > clear 'Allow Azure services and resources to access "
        "this server', or `az sql server firewall-rule delete -g <rg> -s <server> -n "
        "AllowAllWindowsAzureIps`; use private endpoints or VNet rules for Azure clients."
    ),
    frameworks={"CIS": ["4.1.2"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_FIREWALL_RULES,)),
)
def sql_allow_azure_services(inv: Inventory) -> Iterable[Evaluation]:
    """A server with public network access disabled passes: firewall rules are then inert."""
    for server in inv.of_type(SQL_TYPE):
        server_id = str(server.get("id", ""))
        if _public_access_disabled(server):
            yield verdict(server, SQL_TYPE, True, "public network access is disabled",
                          {"publicNetworkAccess": "Disabled"})
            continue
        entries = firewall_entries(inv.child(SQL_FIREWALL_RULES, server_id))
        if entries is None:
            detail = child_missing(inv, SQL_FIREWALL_RULES, server_id, "firewall rules")
            yield verdict(server, SQL_TYPE, None, detail)
            continue
        matching = [
            str(entry.get("name") or "")
            for entry in entries
            if ip(props(entry).get("startIpAddress")) == ALL_START
            and ip(props(entry).get("endIpAddress")) == ALL_START
        ]
        metadata = {"azure_services_rules": matching}
        if matching:
            names = ", ".join(f"'{n}'" for n in matching)
            yield verdict(server, SQL_TYPE, False, f"firewall rule {names} allows all Azure services", metadata)
        else:
            yield verdict(server, SQL_TYPE, True, "Azure services are not allowed", metadata)
    yield from unreadable(inv, SQL_TYPE, "server")


_MIN_AUDIT_RETENTION_DAYS = 90


@rule(
    id="AZ-SQL-005",
    title="SQL server audit log retention is shorter than 90 days",
    severity="LOW",
    category="database",
    description=(
        "Auditing is on but its records are deleted after fewer than 90 days, often before an "
        "intrusion is discovered, so the evidence needed to investigate it is gone."
    ),
    remediation=(
        "Portal: SQL server > Auditing > storage destination > Advanced properties > Retention "
        "(days) >= 90 (0 keeps logs indefinitely), or `az sql server audit-policy update -g "
        "<rg> -n <server> --retention-days 90`."
    ),
    frameworks={"CIS": ["4.1.6"], "NIST": ["PR.PT-1"], "ISO27001": ["A.8.15"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_AUDITING,)),
)
def sql_audit_retention(inv: Inventory) -> Iterable[Evaluation]:
    """Judges only servers whose auditing is enabled (disabled auditing is AZ-SQL-002's
    finding). ``retentionDays`` 0 means unlimited; 1-89 fails; absent is not evaluated."""
    for server in inv.of_type(SQL_TYPE):
        server_id = str(server.get("id", ""))
        settings = inv.child(SQL_AUDITING, server_id)
        if not isinstance(settings, dict):
            detail = child_missing(inv, SQL_AUDITING, server_id, "auditing settings")
            yield verdict(server, SQL_TYPE, None, detail)
            continue
        settings_props = props(settings)
        if str(settings_props.get("state") or "").strip().lower() != "enabled":
            continue
        raw = settings_props.get("retentionDays")
        metadata = {"retentionDays": raw}
        try:
            days = int(str(raw).strip()) if isinstance(raw, (int, str)) else None
        except ValueError:
            days = None
        if days is None:
            shown = "not reported" if raw is None else f"unrecognised ({raw!r})"
            yield verdict(server, SQL_TYPE, None, f"audit retentionDays {shown}", metadata)
            continue
        if days == 0:
            yield verdict(server, SQL_TYPE, True, "audit logs are kept indefinitely", metadata)
        elif days < _MIN_AUDIT_RETENTION_DAYS:
            yield verdict(server, SQL_TYPE, False, f"audit logs are kept {days} days", metadata)
        else:
            yield verdict(server, SQL_TYPE, True, f"audit logs are kept {days} days", metadata)
    yield from unreadable(inv, SQL_TYPE, "server")


@rule(
    id="AZ-SQL-006",
    title="SQL server allows public network access",
    severity="MEDIUM",
    category="database",
    description=(
        "The server's public endpoint is enabled, so it is reachable from the Internet subject "
        "only to its firewall rules; one broad rule or a leaked password exposes every database."
    ),
    remediation=(
        "Connect clients through private endpoints, then portal: SQL server > Networking > "
        "Public network access = Disable, or `az sql server update -g <rg> -n <server> "
        "--enable-public-network false`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE})),
)
def sql_public_access(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``publicNetworkAccess`` fails: the Azure default is Enabled. SecuredByPerimeter
    (access governed by a network security perimeter) passes."""
    for server in inv.of_type(SQL_TYPE):
        access = props(server).get("publicNetworkAccess")
        metadata = {"publicNetworkAccess": access}
        if access is None:
            yield verdict(server, SQL_TYPE, False, "publicNetworkAccess not set (Enabled by default)", metadata)
        elif str(access).strip().lower() == "enabled":
            yield verdict(server, SQL_TYPE, False, "public network access is Enabled", metadata)
        else:
            yield verdict(server, SQL_TYPE, True, f"public network access is {access}", metadata)
    yield from unreadable(inv, SQL_TYPE, "server")


SQL_DATABASE_TYPE = "Microsoft.Sql/servers/databases"
SQL_TDE = ChildSpec(SQL_DATABASE_TYPE, "transparentDataEncryption/current")


@rule(
    id="AZ-SQL-007",
    title="SQL database transparent data encryption is disabled",
    severity="HIGH",
    category="database",
    description=(
        "Transparent data encryption is off, so the database files, backups and transaction "
        "logs are stored unencrypted; anyone who obtains a copy of them reads the data."
    ),
    remediation=(
        "Portal: SQL database > Transparent data encryption > Data encryption = On, or `az sql "
        "db tde set -g <rg> -s <server> -d <database> --status Enabled`."
    ),
    frameworks={"CIS": ["4.1.5"], "NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({SQL_DATABASE_TYPE}), children=(SQL_TDE,)),
)
def sql_database_tde(inv: Inventory) -> Iterable[Evaluation]:
    """The ``master`` system database is not judged (its encryption is not configurable)."""
    for database in inv.of_type(SQL_DATABASE_TYPE):
        if str(database.get("name") or "").lower() == "master":
            continue
        database_id = str(database.get("id", ""))
        tde = inv.child(SQL_TDE, database_id)
        if not isinstance(tde, dict):
            yield verdict(database, SQL_DATABASE_TYPE, None,
                          child_missing(inv, SQL_TDE, database_id, "transparent data encryption"))
            continue
        state = props(tde).get("state")
        metadata = {"state": state}
        value = str(state or "").strip().lower()
        if value == "enabled":
            yield verdict(database, SQL_DATABASE_TYPE, True, "transparent data encryption is Enabled", metadata)
        elif value == "disabled":
            yield verdict(database, SQL_DATABASE_TYPE, False, "transparent data encryption is Disabled", metadata)
        else:
            shown = "not reported" if state is None else f"unrecognised ({state!r})"
            yield verdict(database, SQL_DATABASE_TYPE, None, f"transparent data encryption state {shown}", metadata)
    yield from unreadable(inv, SQL_DATABASE_TYPE, "database")
