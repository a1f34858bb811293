"""Azure SQL rules: network exposure (firewall rules, public access), Microsoft Entra
administration, auditing and its retention, transparent data encryption of databases and its
protector key, the server's vulnerability assessment (express or classic), and Microsoft Defender
for SQL on each server (its security alert policy, or the subscription's SqlServers plan).

Firewall rules, auditing settings and TDE state are child resources, not part of the server
GET, so rules reading them report "not evaluated" when the child could not be read.
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.monitoring import DEFENDER_PRICINGS
from scanner.rules.support.base import rule
from scanner.rules.support.databases import ALL_END, ALL_START, firewall_entries, ip_range
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    as_dict,
    child_of,
    judge_each_resource,
    unread_child,
)

SQL_TYPE = "Microsoft.Sql/servers"
SQL_DATABASE_TYPE = "Microsoft.Sql/servers/databases"

SQL_FIREWALL_RULES = ChildSpec(SQL_TYPE, "firewallRules", is_list=True)
SQL_AUDITING = ChildSpec(SQL_TYPE, "auditingSettings/default")
SQL_TDE = ChildSpec(SQL_DATABASE_TYPE, "transparentDataEncryption/current")
SQL_VULNERABILITY_ASSESSMENT = ChildSpec(SQL_TYPE, "vulnerabilityAssessments/default")
SQL_ENCRYPTION_PROTECTOR = ChildSpec(SQL_TYPE, "encryptionProtector/current")
SQL_SECURITY_ALERT_POLICY = ChildSpec(SQL_TYPE, "securityAlertPolicies/Default")
# the express configuration of vulnerability assessment (no storage account; Azure's default for
# new servers), a proxy resource next to the classic ``vulnerabilityAssessments/default``
SQL_VA_EXPRESS = ChildSpec(SQL_TYPE, "sqlVulnerabilityAssessments/default")

each_server = judge_each_resource(SQL_TYPE, "server")


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
@each_server
def sql_open_firewall(inv: Inventory, server: Resource) -> Judgement:
    """The 0.0.0.0-0.0.0.0 "Allow Azure services" rule is deliberately not this finding (it
    admits Azure-hosted addresses only); it is recorded as ``allowsAzureServices`` metadata."""
    if _public_access_disabled(server):
        # firewall rules only apply to the public endpoint, which is switched off
        return Judgement(True, "public network access is disabled", {"publicNetworkAccess": "Disabled"})
    entries = firewall_entries(child_of(inv, SQL_FIREWALL_RULES, server))
    if entries is None:
        return unread_child(inv, SQL_FIREWALL_RULES, server, "firewall rules")
    open_rules = [str(entry.get("name") or "") for entry in entries if ip_range(entry) == (ALL_START, ALL_END)]
    azure_services = any(ip_range(entry) == (ALL_START, ALL_START) for entry in entries)
    metadata = {"open_rules": open_rules, "allowsAzureServices": azure_services, "rule_count": len(entries)}
    if open_rules:
        names = ", ".join(f"'{n}'" for n in open_rules)
        return Judgement(False, f"firewall rule {names} allows {ALL_START}-{ALL_END}", metadata)
    return Judgement(True, "no firewall rule spans all addresses", metadata)


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
@each_server
def sql_auditing(inv: Inventory, server: Resource) -> Judgement:
    settings = _auditing_settings(inv, server)
    if isinstance(settings, Judgement):
        return settings
    state = settings.get("state")
    metadata = {"state": state, "retentionDays": settings.get("retentionDays")}
    if str(state or "").strip().lower() == "enabled":
        return Judgement(True, "auditing enabled", metadata)
    shown = state if state is not None else "not reported"
    return Judgement(False, f"auditing state is {shown}", metadata)


def _public_access_disabled(server: Resource) -> bool:
    return str(props(server).get("publicNetworkAccess") or "").strip().lower() == "disabled"


def _auditing_settings(inv: Inventory, server: Resource) -> dict[str, Any] | Judgement:
    """The server's auditing settings properties, or why they could not be read."""
    settings = child_of(inv, SQL_AUDITING, server)
    if not isinstance(settings, dict):
        return unread_child(inv, SQL_AUDITING, server, "auditing settings")
    return props(settings)


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
@each_server
def sql_entra_admin(inv: Inventory, server: Resource) -> Judgement:
    """Absent ``administrators`` fails: Azure omits it when no Entra admin is set."""
    admins = as_dict(props(server).get("administrators"))
    admin_type = admins.get("administratorType")
    metadata = {
        "administratorType": admin_type,
        "login": admins.get("login"),
        "azureADOnlyAuthentication": admins.get("azureADOnlyAuthentication"),
    }
    if str(admin_type or "").strip().lower() == "activedirectory":
        return Judgement(True, f"Entra admin is {admins.get('login') or admins.get('sid') or 'configured'}", metadata)
    return Judgement(False, "no Microsoft Entra admin configured", metadata)


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
@each_server
def sql_allow_azure_services(inv: Inventory, server: Resource) -> Judgement:
    """A server with public network access disabled passes: firewall rules are then inert."""
    if _public_access_disabled(server):
        return Judgement(True, "public network access is disabled", {"publicNetworkAccess": "Disabled"})
    entries = firewall_entries(child_of(inv, SQL_FIREWALL_RULES, server))
    if entries is None:
        return unread_child(inv, SQL_FIREWALL_RULES, server, "firewall rules")
    matching = [str(entry.get("name") or "") for entry in entries if ip_range(entry) == (ALL_START, ALL_START)]
    metadata = {"azure_services_rules": matching}
    if matching:
        names = ", ".join(f"'{n}'" for n in matching)
        return Judgement(False, f"firewall rule {names} allows all Azure services", metadata)
    return Judgement(True, "Azure services are not allowed", metadata)


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
@each_server
def sql_audit_retention(inv: Inventory, server: Resource) -> Judgement | None:
    """Judges only servers whose auditing is enabled (disabled auditing is AZ-SQL-002's
    finding). ``retentionDays`` 0 means unlimited; 1-89 fails; absent is not evaluated."""
    settings = _auditing_settings(inv, server)
    if isinstance(settings, Judgement):
        return settings
    if str(settings.get("state") or "").strip().lower() != "enabled":
        return None
    raw = settings.get("retentionDays")
    metadata = {"retentionDays": raw}
    try:
        days = int(str(raw).strip()) if isinstance(raw, (int, str)) else None
    except ValueError:
        days = None
    if days is None:
        shown = "not reported" if raw is None else f"unrecognised ({raw!r})"
        return Judgement(None, f"audit retentionDays {shown}", metadata)
    if days == 0:
        return Judgement(True, "audit logs are kept indefinitely", metadata)
    if days < _MIN_AUDIT_RETENTION_DAYS:
        return Judgement(False, f"audit logs are kept {days} days", metadata)
    return Judgement(True, f"audit logs are kept {days} days", metadata)


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
@each_server
def sql_public_access(inv: Inventory, server: Resource) -> Judgement:
    """Absent ``publicNetworkAccess`` fails: the Azure default is Enabled. SecuredByPerimeter
    (access governed by a network security perimeter) passes."""
    access = props(server).get("publicNetworkAccess")
    metadata = {"publicNetworkAccess": access}
    if access is None:
        return Judgement(False, "publicNetworkAccess not set (Enabled by default)", metadata)
    if str(access).strip().lower() == "enabled":
        return Judgement(False, "public network access is Enabled", metadata)
    return Judgement(True, f"public network access is {access}", metadata)


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
@judge_each_resource(SQL_DATABASE_TYPE, "database")
def sql_database_tde(inv: Inventory, database: Resource) -> Judgement | None:
    """The ``master`` system database is not judged (its encryption is not configurable)."""
    if str(database.get("name") or "").lower() == "master":
        return None
    tde = child_of(inv, SQL_TDE, database)
    if not isinstance(tde, dict):
        return unread_child(inv, SQL_TDE, database, "transparent data encryption")
    state = props(tde).get("state")
    metadata = {"state": state}
    value = str(state or "").strip().lower()
    if value == "enabled":
        return Judgement(True, "transparent data encryption is Enabled", metadata)
    if value == "disabled":
        return Judgement(False, "transparent data encryption is Disabled", metadata)
    shown = "not reported" if state is None else f"unrecognised ({state!r})"
    return Judgement(None, f"transparent data encryption state {shown}", metadata)


# TLS versions Azure SQL accepts as ``minimalTlsVersion``; "None" means no minimum (any version)
_SQL_WEAK_TLS = frozenset({"1.0", "1.1", "none"})


@rule(
    id="AZ-SQL-008",
    title="SQL server accepts TLS versions below 1.2",
    severity="MEDIUM",
    category="database",
    description=(
        "The server's minimal TLS version is 1.0 or 1.1 (or not enforced), so clients may "
        "connect with deprecated protocols that a network attacker can downgrade and attack."
    ),
    remediation=(
        "Portal: SQL server > Networking > Connectivity > Minimum TLS version = 1.2, or `az sql "
        "server update -g <rg> -n <server> --minimal-tls-version 1.2` (check that no client "
        "still needs an older version first)."
    ),
    frameworks={"NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE})),
)
@each_server
def sql_minimal_tls(inv: Inventory, server: Resource) -> Judgement:
    """Absent ``minimalTlsVersion`` fails: servers created before the property existed report
    none and accept every version."""
    raw = props(server).get("minimalTlsVersion")
    metadata = {"minimalTlsVersion": raw}
    if raw is None:
        return Judgement(False, "minimalTlsVersion not set (no minimum enforced)", metadata)
    if str(raw).strip().lower() in _SQL_WEAK_TLS:
        return Judgement(False, f"minimalTlsVersion is {raw}", metadata)
    return Judgement(True, f"minimalTlsVersion is {raw}", metadata)


@rule(
    id="AZ-SQL-009",
    title="SQL server allows SQL authentication (not Microsoft Entra-only)",
    severity="MEDIUM",
    category="database",
    description=(
        "SQL logins with passwords are accepted next to Microsoft Entra identities. Their "
        "passwords are not covered by MFA, Conditional Access or the tenant's lifecycle, and the "
        "server admin login is a standing credential. Entra-only authentication switches them off."
    ),
    remediation=(
        "Set a Microsoft Entra admin, move applications to managed identities, then portal: SQL "
        "server > Microsoft Entra ID > 'Support only Microsoft Entra authentication', or `az sql "
        "server ad-only-auth enable -g <rg> -n <server>`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.5.17", "A.8.5"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE})),
)
@each_server
def sql_entra_only(inv: Inventory, server: Resource) -> Judgement:
    """Read from ``administrators.azureADOnlyAuthentication`` of the server GET; a server without
    an Entra administrator cannot be Entra-only."""
    admins = as_dict(props(server).get("administrators"))
    raw = admins.get("azureADOnlyAuthentication")
    metadata = {"azureADOnlyAuthentication": raw, "administratorType": admins.get("administratorType")}
    if raw is True:
        return Judgement(True, "Microsoft Entra-only authentication is enabled", metadata)
    if not admins:
        return Judgement(False, "no Microsoft Entra administrator, so SQL authentication is the only way in", metadata)
    return Judgement(False, "SQL authentication is allowed (azureADOnlyAuthentication is not true)", metadata)


def _vulnerability_assessment(inv: Inventory, server: Resource) -> dict[str, Any] | Judgement:
    """The server's vulnerability assessment properties, or why they could not be read."""
    settings = child_of(inv, SQL_VULNERABILITY_ASSESSMENT, server)
    if not isinstance(settings, dict):
        return unread_child(inv, SQL_VULNERABILITY_ASSESSMENT, server, "vulnerability assessment settings")
    return props(settings)


def _va_enabled_settings(inv: Inventory, server: Resource) -> dict[str, Any] | Judgement | None:
    """The VA properties when VA is configured (a storage container is set), None when it is
    not (that is AZ-SQL-010's finding, not a second one), or why they could not be read."""
    settings = _vulnerability_assessment(inv, server)
    if isinstance(settings, Judgement):
        return settings
    if not str(settings.get("storageContainerPath") or "").strip():
        return None
    return settings


def _recurring_scans(settings: dict[str, Any]) -> dict[str, Any]:
    return as_dict(settings.get("recurringScans"))


_VA_NOTE = (
    " The classic settings (`vulnerabilityAssessments/default`) decide the recurring-scan and "
    "report rules; a server on the express configuration (no storage account) has no such "
    "settings and is judged by AZ-SQL-010 only."
)


@rule(
    id="AZ-SQL-010",
    title="SQL server vulnerability assessment is not enabled",
    severity="MEDIUM",
    category="database",
    description=(
        "Vulnerability assessment is off: neither its express configuration is enabled nor a "
        "storage account set for the classic one, so the server's databases are never scanned "
        "for misconfigurations, excessive permissions and unprotected sensitive data, and no "
        "baseline exists to spot drift." + _VA_NOTE
    ),
    remediation=(
        "Portal: SQL server > Microsoft Defender for Cloud > Configure > Vulnerability assessment "
        "settings > select a storage account, or `az sql server va-setting ...`/PowerShell "
        "`Update-AzSqlServerVulnerabilityAssessmentSetting -StorageAccountName <account>`."
    ),
    frameworks={"CIS": ["4.2.2"], "NIST": ["ID.RA-1", "DE.CM-8"], "ISO27001": ["A.8.8"]},
    # one more GET per server (sqlVulnerabilityAssessments/default): the express configuration
    # is a separate proxy resource, and without it every express server would be a false finding
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_VULNERABILITY_ASSESSMENT, SQL_VA_EXPRESS)),
)
@each_server
def sql_va_enabled(inv: Inventory, server: Resource) -> Judgement:
    """The express configuration's ``state`` Enabled passes, as does a classic storage
    container. Azure answers the classic GET with empty settings (no ``storageContainerPath``)
    when it was never configured and the express one with Disabled, so both off fails; when
    the classic path is empty and the express state could not be read, it is not evaluated."""
    express = child_of(inv, SQL_VA_EXPRESS, server)
    express_state = props(express).get("state") if isinstance(express, dict) else None
    if str(express_state or "").lower() == "enabled":
        return Judgement(True, "vulnerability assessment express configuration enabled", {"expressState": express_state})
    settings = _vulnerability_assessment(inv, server)
    if isinstance(settings, Judgement):
        return settings
    path = str(settings.get("storageContainerPath") or "").strip()
    metadata = {"storageContainerPath": path or None, "expressState": express_state}
    if path:
        return Judgement(True, f"vulnerability assessment results go to {path}", metadata)
    if not isinstance(express, dict):
        return unread_child(inv, SQL_VA_EXPRESS, server, "vulnerability assessment express configuration")
    return Judgement(False, "vulnerability assessment not enabled (express configuration "
                            f"{express_state or 'not set'}, no storage account for the classic one)", metadata)


@rule(
    id="AZ-SQL-011",
    title="SQL server vulnerability assessment recurring scans are off",
    severity="MEDIUM",
    category="database",
    description=(
        "Vulnerability assessment is configured but periodic recurring scans are off, so new "
        "weaknesses introduced after the last manual scan go unnoticed." + _VA_NOTE
    ),
    remediation=(
        "Portal: SQL server > Microsoft Defender for Cloud > Configure > 'Periodic recurring "
        "scans' = On, or `Update-AzSqlServerVulnerabilityAssessmentSetting -RecurringScansInterval "
        "Weekly`."
    ),
    frameworks={"CIS": ["4.2.3"], "NIST": ["DE.CM-8"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_VULNERABILITY_ASSESSMENT,)),
)
@each_server
def sql_va_recurring_scans(inv: Inventory, server: Resource) -> Judgement | None:
    """Only servers whose VA is configured are judged (AZ-SQL-010 reports the others)."""
    settings = _va_enabled_settings(inv, server)
    if settings is None or isinstance(settings, Judgement):
        return settings
    enabled = _recurring_scans(settings).get("isEnabled")
    metadata = {"isEnabled": enabled}
    if enabled is True:
        return Judgement(True, "periodic recurring scans are on", metadata)
    return Judgement(False, "periodic recurring scans are off", metadata)


@rule(
    id="AZ-SQL-012",
    title="SQL server vulnerability assessment sends scan reports to nobody",
    severity="LOW",
    category="database",
    description=(
        "Recurring vulnerability scans have no e-mail recipients, so their findings wait in a "
        "storage container until someone happens to look." + _VA_NOTE
    ),
    remediation=(
        "Portal: SQL server > Microsoft Defender for Cloud > Configure > 'Send scan reports to' = "
        "the security team's address, or `Update-AzSqlServerVulnerabilityAssessmentSetting "
        "-NotificationEmail <address>`."
    ),
    frameworks={"CIS": ["4.2.4"], "NIST": ["RS.CO-2"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_VULNERABILITY_ASSESSMENT,)),
)
@each_server
def sql_va_report_recipients(inv: Inventory, server: Resource) -> Judgement | None:
    """Only servers whose VA is configured are judged; blank addresses do not count."""
    settings = _va_enabled_settings(inv, server)
    if settings is None or isinstance(settings, Judgement):
        return settings
    raw = _recurring_scans(settings).get("emails")
    emails = [str(e).strip() for e in raw if str(e).strip()] if isinstance(raw, list) else []
    metadata = {"emails": emails}
    if emails:
        return Judgement(True, f"scan reports go to {len(emails)} address(es)", metadata)
    return Judgement(False, "no address receives scan reports", metadata)


@rule(
    id="AZ-SQL-013",
    title="SQL server vulnerability assessment does not notify admins and subscription owners",
    severity="LOW",
    category="database",
    description=(
        "'Also send email notifications to admins and subscription owners' is off, so the people "
        "accountable for the subscription do not learn about the server's vulnerabilities." + _VA_NOTE
    ),
    remediation=(
        "Portal: SQL server > Microsoft Defender for Cloud > Configure > check 'Also send email "
        "notification to admins and subscription owners', or "
        "`Update-AzSqlServerVulnerabilityAssessmentSetting -EmailAdmins $true`."
    ),
    frameworks={"CIS": ["4.2.5"], "NIST": ["RS.CO-2"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_VULNERABILITY_ASSESSMENT,)),
)
@each_server
def sql_va_email_admins(inv: Inventory, server: Resource) -> Judgement | None:
    """Only servers whose VA is configured are judged."""
    settings = _va_enabled_settings(inv, server)
    if settings is None or isinstance(settings, Judgement):
        return settings
    notify = _recurring_scans(settings).get("emailSubscriptionAdmins")
    metadata = {"emailSubscriptionAdmins": notify}
    if notify is True:
        return Judgement(True, "admins and subscription owners are notified", metadata)
    return Judgement(False, "admins and subscription owners are not notified", metadata)


@rule(
    id="AZ-SQL-014",
    title="SQL server TDE protector is not a customer-managed key",
    severity="MEDIUM",
    category="database",
    description=(
        "The key that protects the databases' encryption keys is managed by Microsoft, so the "
        "organisation cannot rotate or revoke it, audit its use in its own key vault, or cut off "
        "access to the data by disabling the key."
    ),
    remediation=(
        "Create a key in a Key Vault with purge protection, grant the server's identity get/wrap/"
        "unwrap, then portal: SQL server > Transparent data encryption > Customer-managed key, or "
        "`az sql server tde-key set -g <rg> -s <server> --server-key-type AzureKeyVault --kid <key-id>`."
    ),
    frameworks={"CIS": ["4.1.3"], "NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_ENCRYPTION_PROTECTOR,)),
)
@each_server
def sql_tde_customer_key(inv: Inventory, server: Resource) -> Judgement:
    """``serverKeyType`` AzureKeyVault passes, ServiceManaged fails, anything else (absent,
    unknown) is not evaluated."""
    protector = child_of(inv, SQL_ENCRYPTION_PROTECTOR, server)
    if not isinstance(protector, dict):
        return unread_child(inv, SQL_ENCRYPTION_PROTECTOR, server, "TDE protector")
    key_type = props(protector).get("serverKeyType")
    metadata = {"serverKeyType": key_type, "serverKeyName": props(protector).get("serverKeyName")}
    value = str(key_type or "").strip().lower()
    if value == "azurekeyvault":
        return Judgement(True, "TDE protector is a customer-managed Key Vault key", metadata)
    if value == "servicemanaged":
        return Judgement(False, "TDE protector is service-managed", metadata)
    shown = "not reported" if key_type is None else f"unrecognised ({key_type!r})"
    return Judgement(None, f"TDE protector serverKeyType {shown}", metadata)


def _sql_plan_tier(inv: Inventory) -> str | None:
    """The subscription's Defender ``SqlServers`` plan tier, None when not reported."""
    payload = inv.subscription_read(DEFENDER_PRICINGS)
    for pricing in payload if isinstance(payload, list) else []:
        if isinstance(pricing, dict) and str(pricing.get("name", "")).lower() == "sqlservers":
            return str(props(pricing).get("pricingTier") or "") or None
    return None


@rule(
    id="AZ-SQL-015",
    title="Microsoft Defender for SQL is off for the SQL server",
    severity="MEDIUM",
    category="database",
    description=(
        "Neither the server's Microsoft Defender for SQL setting (its security alert policy) nor "
        "the subscription's Defender for Azure SQL Databases plan is on, so SQL injection, "
        "brute-force logins and unusual data access on this server raise no alert."
    ),
    remediation=(
        "Portal: SQL server > Microsoft Defender for Cloud > Enable Microsoft Defender for SQL "
        "(or turn the Azure SQL Databases plan on for the whole subscription), or `az sql server "
        "threat-policy update -g <rg> -n <server> --state Enabled`."
    ),
    frameworks={"CIS": ["4.2.1"], "NIST": ["DE.CM-4", "DE.CM-7"], "ISO27001": ["A.8.16"]},
    # one GET per server (securityAlertPolicies/Default): neither the server GET nor any list
    # carries the setting; the pricings read is shared with AZ-MON-006
    needs=Needs(resource_types=frozenset({SQL_TYPE}), children=(SQL_SECURITY_ALERT_POLICY,),
                subscription_reads=(DEFENDER_PRICINGS,)),
)
@each_server
def sql_defender(inv: Inventory, server: Resource) -> Judgement:
    """Server policy ``state`` Enabled passes, as does the subscription plan ``SqlServers`` on
    Standard (it protects every server whatever the server setting says). Otherwise the
    server's policy decides: Disabled, or absent (a server never configured), fails; an
    unreadable policy is not evaluated."""
    tier = _sql_plan_tier(inv)
    if str(tier or "").lower() == "standard":
        return Judgement(True, "Defender for SQL on for the subscription (SqlServers plan Standard)",
                         {"subscriptionPlan": tier})
    policy = child_of(inv, SQL_SECURITY_ALERT_POLICY, server)
    if not isinstance(policy, dict):
        return unread_child(inv, SQL_SECURITY_ALERT_POLICY, server, "security alert policy")
    state = props(policy).get("state")
    metadata = {"state": state, "subscriptionPlan": tier}
    if str(state or "").lower() == "enabled":
        return Judgement(True, "Defender for SQL enabled on the server", metadata)
    return Judgement(False, f"Defender for SQL is {state or 'not configured'} on the server and the subscription "
                            f"plan is {tier or 'not reported'}", metadata)
