"""Logging and monitoring rules: is the activity log exported, do alerts watch security-relevant
changes, and are Microsoft Defender for Cloud plans on.

Most of these are judged once per subscription (CIS asks "does the subscription have ..."):
they yield one :class:`Evaluation` whose resource is the subscription itself. Their data comes
either from subscription-scope reads (:class:`SubscriptionRead`: diagnostic settings, Defender
pricings), which the engine skips with a reason when they could not be read, or from listed
resources (activity-log alerts). A rule yields nothing when its data was not collected at all
(an empty inventory), never a verdict on data it did not see.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping

from scanner.inventory import ChildSpec, DestinationRead, Inventory, Needs, SubscriptionRead, props
from scanner.rules.support.base import Evaluation, resource_name, rule
from scanner.rules.support.diagnostic_settings import destinations, enabled_log_entries
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    as_dict,
    flag,
    judge_each_resource,
    judge_subscription,
    unread_child,
    verdict,
)

ALERT_TYPE = "Microsoft.Insights/activityLogAlerts"
PRICING_TYPE = "Microsoft.Security/pricings"

ACTIVITY_LOG_SETTINGS = SubscriptionRead(
    "providers/Microsoft.Insights/diagnosticSettings",
    "the subscription's activity-log diagnostic settings",
)
DEFENDER_PRICINGS = SubscriptionRead(
    "providers/Microsoft.Security/pricings",
    "Microsoft Defender for Cloud plans (pricings)",
)

# CIS 5.1.2: the activity-log categories a subscription diagnostic setting must capture.
REQUIRED_CATEGORIES = ("Administrative", "Security", "Policy", "Alert")

_LOG_FRAMEWORKS_NIST = ["PR.PT-1", "DE.AE-3"]
_ALERT_NIST = ["DE.CM-3", "DE.AE-5"]


def _setting_names(settings: list[dict[str, Any]]) -> list[str]:
    return sorted(resource_name(s) for s in settings)


# -------------------------------------------------------------- activity log export (5.1.x)
def _activity_log_settings(inv: Inventory) -> list[dict[str, Any]] | None:
    payload = inv.subscription_read(ACTIVITY_LOG_SETTINGS)
    if not isinstance(payload, list):
        return None
    return [s for s in payload if isinstance(s, dict)]


@rule(
    id="AZ-MON-001",
    title="Activity log is not exported by any diagnostic setting",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "No subscription diagnostic setting sends the activity log to a Log Analytics workspace, "
        "storage account or event hub. Azure keeps the activity log for only 90 days and cannot "
        "query or alert on it centrally, so control-plane changes (who deleted what, who granted "
        "which role) are lost for investigations and audits."
    ),
    remediation=(
        "Portal: Monitor > Activity log > Export Activity Logs > Add diagnostic setting, select "
        "the categories and a destination; or `az monitor diagnostic-settings subscription create "
        "--name activity-log --location <region> --workspace <workspace id> --logs "
        "'[{\"category\":\"Administrative\",\"enabled\":true},...]'`."
    ),
    frameworks={"CIS": ["5.1.1"], "NIST": _LOG_FRAMEWORKS_NIST, "ISO27001": ["A.8.15"]},
    needs=Needs(subscription_reads=(ACTIVITY_LOG_SETTINGS,)),
)
@judge_subscription
def activity_log_exported(inv: Inventory) -> Judgement | None:
    """Passes when at least one setting has a destination and at least one enabled category: a
    setting without a destination (possible through the API) or with every category off exports
    nothing."""
    settings = _activity_log_settings(inv)
    if settings is None:
        return None
    exporting = [s for s in settings if destinations(s) and any(enabled_log_entries(s))]
    metadata = {"diagnosticSettings": _setting_names(settings), "exporting": _setting_names(exporting)}
    if exporting:
        return Judgement(True, f"activity log exported by {', '.join(metadata['exporting'])}", metadata)
    if settings:
        detail = (
            f"{len(settings)} diagnostic setting(s) ({', '.join(metadata['diagnosticSettings'])}) but none "
            "sends an enabled category to a destination"
        )
        return Judgement(False, detail, metadata)
    return Judgement(False, "no diagnostic setting exports the activity log", metadata)


@rule(
    id="AZ-MON-002",
    title="Activity log export misses Administrative, Security, Policy or Alert events",
    severity="LOW",
    category="monitoring",
    description=(
        "The subscription's diagnostic settings do not export all of the Administrative, Security, "
        "Policy and Alert activity-log categories, so resource changes, Defender for Cloud alerts, "
        "policy denials or fired alerts are missing from the central log."
    ),
    remediation=(
        "Edit the subscription diagnostic setting (Monitor > Activity log > Export Activity Logs) "
        "and enable the Administrative, Security, Policy and Alert categories, or `az monitor "
        "diagnostic-settings subscription update` with those categories enabled."
    ),
    frameworks={"CIS": ["5.1.2"], "NIST": _LOG_FRAMEWORKS_NIST, "ISO27001": ["A.8.15"]},
    needs=Needs(subscription_reads=(ACTIVITY_LOG_SETTINGS,)),
)
@judge_subscription
def activity_log_categories(inv: Inventory) -> Judgement | None:
    """Categories are pooled over every setting that has a destination: two settings that
    together export all four categories capture the events (the logs reach a destination
    either way). No exporting setting at all fails here too, as CIS 5.1.2 does."""
    settings = _activity_log_settings(inv)
    if settings is None:
        return None
    captured: set[str] = set()
    for setting in settings:
        if destinations(setting):
            captured |= enabled_log_entries(setting)[0]
    missing = [c for c in REQUIRED_CATEGORIES if c.lower() not in captured]
    metadata = {"missing": missing, "diagnosticSettings": _setting_names(settings)}
    if not missing:
        return Judgement(True, "Administrative, Security, Policy and Alert exported", metadata)
    return Judgement(False, f"not exported: {', '.join(missing)}", metadata)


# ------------------------------------------------------------ activity log alerts (5.2.x)
# Condition fields that do not narrow an alert below "every such operation in the scope":
# ``status``/``subStatus`` only pick the stage of the same operation (e.g. Succeeded).
_NEUTRAL_FIELDS = {"status", "substatus"}


def _leaf_accepts(leaf: Mapping[str, Any], operation: str) -> bool:
    """Whether an alert condition leaf lets every Administrative event of ``operation`` through."""
    field = str(leaf.get("field") or "").lower()
    values: list[str] = []
    if isinstance(leaf.get("equals"), str):
        values.append(leaf["equals"])
    if isinstance(leaf.get("containsAny"), list):
        values += [v for v in leaf["containsAny"] if isinstance(v, str)]
    wanted = {v.strip().lower() for v in values}
    namespace = operation.split("/", 1)[0].lower()
    resource_type = operation.rsplit("/", 1)[0].lower()
    if field == "category":
        return "administrative" in wanted
    if field == "operationname":
        return operation.lower() in wanted
    if field == "resourceprovider":
        return namespace in wanted
    if field == "resourcetype":
        return resource_type in wanted
    return field in _NEUTRAL_FIELDS


def alert_covers(alert: Mapping[str, Any], subscription_id: str, operation: str) -> bool:
    """True when the alert is enabled, scoped to the whole subscription, and every clause of its
    condition accepts ``operation``: then it fires on every such change. An explicit
    ``enabled: false`` disables it (absent means enabled, the API default); a clause on a
    resource group, resource id, caller or level narrows it and it no longer covers the
    subscription."""
    p = props(dict(alert))
    if flag(p.get("enabled")) is False:
        return False
    scopes = p.get("scopes")
    wanted_scope = f"/subscriptions/{subscription_id}".lower()
    if not isinstance(scopes, list) or wanted_scope not in {str(s).rstrip("/").lower() for s in scopes}:
        return False
    clauses = as_dict(p.get("condition")).get("allOf")
    if not isinstance(clauses, list) or not clauses:
        return False
    for clause in clauses:
        clause = as_dict(clause)
        if isinstance(clause.get("anyOf"), list):
            if not any(_leaf_accepts(as_dict(leaf), operation) for leaf in clause["anyOf"]):
                return False
        elif not _leaf_accepts(clause, operation):
            return False
    return True


def _alerts_cover(inv: Inventory, operations: tuple[str, ...]) -> Judgement | None:
    """The subscription's judgement: every operation must be covered by some alert."""
    if ALERT_TYPE.lower() not in inv.resources:
        return None  # activity-log alerts were not collected (the collector keys every needed type)
    alerts = inv.of_type(ALERT_TYPE)
    covered = {
        op: sorted(resource_name(a) for a in alerts if alert_covers(a, inv.subscription_id, op))
        for op in operations
    }
    missing = [op for op in operations if not covered[op]]
    metadata = {"missing": missing, "coveredBy": covered, "alerts": len(alerts)}
    if not missing:
        return Judgement(True, "alerts cover " + ", ".join(operations), metadata)
    failed_reads = inv.unreadable_of_type(ALERT_TYPE)
    if failed_reads:
        detail = (
            f"no readable alert covers {', '.join(missing)}; {len(failed_reads)} activity log alert(s) "
            f"could not be read: {sorted(set(failed_reads.values()))[0]}"
        )
        return Judgement(None, detail, metadata)
    return Judgement(False, f"no enabled subscription-wide activity log alert for {', '.join(missing)}", metadata)


_ALERT_NEEDS = Needs(resource_types=frozenset({ALERT_TYPE}))
_ALERT_REMEDIATION = (
    "Portal: Monitor > Alerts > Create > Alert rule, scope = the subscription, condition = "
    "'Activity log' signal '{signal}', with an action group that notifies the security team; or "
    "`az monitor activity-log alert create -g <rg> -n <name> --scope /subscriptions/<id> "
    "--condition category=Administrative and operationName={operation} --action-group <id>` "
    "(one alert per operation)."
)


@rule(
    id="AZ-MON-003",
    title="No activity log alert for policy assignment changes",
    severity="LOW",
    category="monitoring",
    description=(
        "No enabled activity log alert covering the whole subscription fires when a policy "
        "assignment is created or deleted. Removing or weakening the policies that enforce "
        "security guardrails then goes unnoticed until the next audit."
    ),
    remediation=_ALERT_REMEDIATION.format(
        signal="Create policy assignment' and 'Delete policy assignment",
        operation="Microsoft.Authorization/policyAssignments/write (and /delete)",
    ),
    frameworks={"CIS": ["5.2.1", "5.2.2"], "NIST": _ALERT_NIST, "ISO27001": ["A.8.16"]},
    needs=_ALERT_NEEDS,
)
@judge_subscription
def policy_assignment_alerts(inv: Inventory) -> Judgement | None:
    return _alerts_cover(inv, ("Microsoft.Authorization/policyAssignments/write", "Microsoft.Authorization/policyAssignments/delete"))


@rule(
    id="AZ-MON-004",
    title="No activity log alert for network security group changes",
    severity="LOW",
    category="monitoring",
    description=(
        "No enabled activity log alert covering the whole subscription fires when a network "
        "security group is created, updated or deleted. A rule opening a port to the Internet, "
        "or an NSG removed from a subnet, is then noticed only by whoever exploits it."
    ),
    remediation=_ALERT_REMEDIATION.format(
        signal="Create or Update Network Security Group' and 'Delete Network Security Group",
        operation="Microsoft.Network/networkSecurityGroups/write (and /delete)",
    ),
    frameworks={"CIS": ["5.2.3", "5.2.4"], "NIST": _ALERT_NIST + ["DE.CM-1"], "ISO27001": ["A.8.16"]},
    needs=_ALERT_NEEDS,
)
@judge_subscription
def nsg_alerts(inv: Inventory) -> Judgement | None:
    return _alerts_cover(inv, ("Microsoft.Network/networkSecurityGroups/write", "Microsoft.Network/networkSecurityGroups/delete"))


@rule(
    id="AZ-MON-005",
    title="No activity log alert for security solution changes",
    severity="LOW",
    category="monitoring",
    description=(
        "No enabled activity log alert covering the whole subscription fires when a security "
        "solution (a Defender for Cloud partner integration such as a WAF or endpoint protection) "
        "is created, updated or deleted, so an attacker disabling one is not noticed."
    ),
    remediation=_ALERT_REMEDIATION.format(
        signal="Create or Update Security Solutions' and 'Delete Security Solutions",
        operation="Microsoft.Security/securitySolutions/write (and /delete)",
    ),
    frameworks={"CIS": ["5.2.5", "5.2.6"], "NIST": _ALERT_NIST, "ISO27001": ["A.8.16"]},
    needs=_ALERT_NEEDS,
)
@judge_subscription
def security_solution_alerts(inv: Inventory) -> Judgement | None:
    return _alerts_cover(inv, ("Microsoft.Security/securitySolutions/write", "Microsoft.Security/securitySolutions/delete"))


# ----------------------------------------------------------- Defender for Cloud plans (2.1.x)
# (pricing name, what it protects, CIS v2.0.0 recommendation)
DEFENDER_PLANS: tuple[tuple[str, str, str], ...] = (
    ("VirtualMachines", "Servers", "2.1.1"),
    ("AppServices", "App Service", "2.1.2"),
    ("SqlServers", "Azure SQL Databases", "2.1.4"),
    ("SqlServerVirtualMachines", "SQL servers on machines", "2.1.5"),
    ("OpenSourceRelationalDatabases", "open-source relational databases", "2.1.6"),
    ("StorageAccounts", "Storage", "2.1.7"),
    ("Containers", "Containers", "2.1.8"),
    ("CosmosDbs", "Azure Cosmos DB", "2.1.9"),
    ("KeyVaults", "Key Vault", "2.1.10"),
    ("Arm", "Resource Manager", "2.1.12"),
    ("Dns", "DNS", "2.1.11"),
    ("Api", "APIs", ""),
    ("CloudPosture", "CSPM", ""),
)


@rule(
    id="AZ-MON-006",
    title="Microsoft Defender for Cloud plan is not enabled",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "A Microsoft Defender for Cloud plan is on the Free tier, so threat detection for that "
        "kind of resource (malware on servers, anomalous storage or Key Vault access, suspicious "
        "Resource Manager operations, SQL injection, ...) is off and no alert will be raised."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Defender "
        "plans, turn the plan On; or `az security pricing create -n <plan> --tier standard` "
        "(plan names: VirtualMachines, AppServices, SqlServers, SqlServerVirtualMachines, "
        "OpenSourceRelationalDatabases, StorageAccounts, Containers, CosmosDbs, KeyVaults, Arm, Dns, "
        "Api, CloudPosture)."
    ),
    frameworks={
        "CIS": [cis for _, _, cis in DEFENDER_PLANS if cis],
        "NIST": ["DE.CM-4", "DE.CM-7"],
        "ISO27001": ["A.8.7", "A.8.16"],
    },
    needs=Needs(subscription_reads=(DEFENDER_PRICINGS,)),
)
def defender_plans(inv: Inventory) -> Iterable[Evaluation]:
    """One verdict per plan; ``pricingTier`` Standard is on. A plan missing from the answer is
    not evaluated (Azure lists every plan, so its absence means we cannot tell)."""
    payload = inv.subscription_read(DEFENDER_PRICINGS)
    if not isinstance(payload, list):
        return
    by_name = {str(p.get("name", "")).lower(): p for p in payload if isinstance(p, dict)}
    for name, label, cis in DEFENDER_PLANS:
        pricing = by_name.get(name.lower())
        rid = f"/subscriptions/{inv.subscription_id}/providers/{PRICING_TYPE}/{name}"
        if pricing is None:
            yield Evaluation(rid, name, PRICING_TYPE, None, f"Defender for {label}: plan not reported", {"cis": cis})
            continue
        p = props(pricing)
        tier = p.get("pricingTier")
        metadata = {"plan": name, "pricingTier": tier, "subPlan": p.get("subPlan"), "cis": cis}
        on = str(tier or "").lower() == "standard"
        detail = f"Defender for {label} is " + ("on (Standard)" if on else f"off (tier {tier or 'not set'})")
        yield Evaluation(str(pricing.get("id") or rid), name, PRICING_TYPE, on, detail, metadata)


@rule(
    id="AZ-MON-007",
    title="No activity log alert for SQL server firewall rule changes",
    severity="LOW",
    category="monitoring",
    description=(
        "No enabled activity log alert covering the whole subscription fires when an Azure SQL "
        "server firewall rule is created, updated or deleted, so a rule opening a database to "
        "the Internet goes unnoticed."
    ),
    remediation=_ALERT_REMEDIATION.format(
        signal="Create/Update server firewall rule' and 'Delete server firewall rule",
        operation="Microsoft.Sql/servers/firewallRules/write (and /delete)",
    ),
    frameworks={"CIS": ["5.2.7", "5.2.8"], "NIST": _ALERT_NIST + ["DE.CM-1"], "ISO27001": ["A.8.16"]},
    needs=_ALERT_NEEDS,
)
@judge_subscription
def sql_firewall_alerts(inv: Inventory) -> Judgement | None:
    return _alerts_cover(inv, ("Microsoft.Sql/servers/firewallRules/write", "Microsoft.Sql/servers/firewallRules/delete"))


@rule(
    id="AZ-MON-008",
    title="No activity log alert for public IP address changes",
    severity="LOW",
    category="monitoring",
    description=(
        "No enabled activity log alert covering the whole subscription fires when a public IP "
        "address is created, updated or deleted, so a resource newly exposed to the Internet "
        "is not noticed."
    ),
    remediation=_ALERT_REMEDIATION.format(
        signal="Create or Update Public Ip Address' and 'Delete Public Ip Address",
        operation="Microsoft.Network/publicIPAddresses/write (and /delete)",
    ),
    frameworks={"CIS": ["5.2.9", "5.2.10"], "NIST": _ALERT_NIST + ["DE.CM-1"], "ISO27001": ["A.8.16"]},
    needs=_ALERT_NEEDS,
)
@judge_subscription
def public_ip_alerts(inv: Inventory) -> Judgement | None:
    return _alerts_cover(inv, ("Microsoft.Network/publicIPAddresses/write", "Microsoft.Network/publicIPAddresses/delete"))


def _service_health_alert(alert: Mapping[str, Any], subscription_id: str) -> bool:
    """Enabled, on the whole subscription, and its condition selects the ServiceHealth category
    (narrowing by incident type, service or region is the alert's purpose and is allowed)."""
    p = props(dict(alert))
    if flag(p.get("enabled")) is False:
        return False
    scopes = {str(s).rstrip("/").lower() for s in p.get("scopes") or []}
    if f"/subscriptions/{subscription_id}".lower() not in scopes:
        return False
    for clause in as_dict(p.get("condition")).get("allOf") or []:
        clause = as_dict(clause)
        if str(clause.get("field") or "").lower() == "category" and \
                str(clause.get("equals") or "").lower() == "servicehealth":
            return True
    return False


@rule(
    id="AZ-MON-009",
    title="No activity log alert for Azure service health events",
    severity="LOW",
    category="monitoring",
    description=(
        "No enabled subscription-wide activity log alert watches the ServiceHealth category, so "
        "Azure outages, planned maintenance and security advisories affecting the subscription "
        "reach nobody until users complain."
    ),
    remediation=(
        "Portal: Service Health > Health alerts > + Create service health alert (the subscription, "
        "all services and regions, an action group); or `az monitor activity-log alert create -g "
        "<rg> -n service-health --scope /subscriptions/<id> --condition category=ServiceHealth "
        "--action-group <id>`."
    ),
    frameworks={"NIST": ["DE.CM-3", "RS.CO-2"], "ISO27001": ["A.5.24"]},
    needs=_ALERT_NEEDS,
)
@judge_subscription
def service_health_alerts(inv: Inventory) -> Judgement | None:
    if ALERT_TYPE.lower() not in inv.resources:
        return None
    alerts = inv.of_type(ALERT_TYPE)
    covering = sorted(resource_name(a) for a in alerts if _service_health_alert(a, inv.subscription_id))
    metadata = {"coveredBy": covering, "alerts": len(alerts)}
    if covering:
        return Judgement(True, "service health alert(s): " + ", ".join(covering), metadata)
    failed = inv.unreadable_of_type(ALERT_TYPE)
    if failed:
        return Judgement(None, f"no readable service health alert; {len(failed)} activity log alert(s) could not be "
                               f"read: {sorted(set(failed.values()))[0]}", metadata)
    return Judgement(False, "no enabled subscription-wide activity log alert for ServiceHealth events", metadata)


# ---------------------------------------------------------------------------------------------
# Log Analytics workspaces and Application Insights components (their own GETs only)
# ---------------------------------------------------------------------------------------------

WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces"
COMPONENT_TYPE = "Microsoft.Insights/components"


def _public_network_access(resource: Mapping[str, Any], keys: tuple[str, ...]) -> Judgement:
    """Failed when any of ``keys`` (``publicNetworkAccessForIngestion``/``ForQuery``) is Enabled
    or absent (the Azure default is Enabled)."""
    properties = props(dict(resource))
    values = {key: properties.get(key) for key in keys}
    open_paths = [key.removeprefix("publicNetworkAccessFor").lower() for key, value in values.items()
                  if str(value or "Enabled").strip().lower() == "enabled"]
    if open_paths:
        return Judgement(False, f"public network access is enabled for {' and '.join(open_paths)}", values)
    return Judgement(True, "public network access is disabled for " + " and ".join(
        k.removeprefix("publicNetworkAccessFor").lower() for k in keys), values)


@rule(
    id="AZ-MON-010",
    title="Log Analytics workspace accepts ingestion or queries from public networks",
    severity="LOW",
    category="monitoring",
    description=(
        "The workspace accepts log ingestion or queries over its public endpoint, so security "
        "logs can be read (with a leaked credential) or polluted from anywhere instead of only "
        "through an Azure Monitor Private Link Scope."
    ),
    remediation=(
        "Connect the workspace to an Azure Monitor Private Link Scope, then portal: Log Analytics "
        "workspace > Network isolation > 'Accept data ingestion from public networks' = No and "
        "'Accept queries from public networks' = No, or `az monitor log-analytics workspace update "
        "-g <rg> -n <ws> --ingestion-access Disabled --query-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({WORKSPACE_TYPE})),
)
@judge_each_resource(WORKSPACE_TYPE, "Log Analytics workspace")
def workspace_public_access(inv: Inventory, workspace: Resource) -> Judgement:
    return _public_network_access(workspace, ("publicNetworkAccessForIngestion", "publicNetworkAccessForQuery"))


@rule(
    id="AZ-MON-011",
    title="Log Analytics workspace accepts shared keys",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "Local authentication is on: agents and the Data Collector API can write with the "
        "workspace's shared keys, which are not tied to an identity, cannot be scoped and are "
        "never expired, so anyone holding one can forge or flood security logs."
    ),
    remediation=(
        "Move data collection to the Azure Monitor Agent with managed identities, then set "
        "`features.disableLocalAuth` true: `az monitor log-analytics workspace update -g <rg> -n "
        "<ws> --set properties.features.disableLocalAuth=true`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.5.17", "A.8.5"]},
    needs=Needs(resource_types=frozenset({WORKSPACE_TYPE})),
)
@judge_each_resource(WORKSPACE_TYPE, "Log Analytics workspace")
def workspace_local_auth(inv: Inventory, workspace: Resource) -> Judgement:
    """Absent ``features.disableLocalAuth`` is false (shared keys accepted)."""
    disabled = as_dict(props(workspace).get("features")).get("disableLocalAuth")
    metadata = {"disableLocalAuth": disabled}
    if disabled is True:
        return Judgement(True, "shared keys are disabled (Microsoft Entra ID only)", metadata)
    return Judgement(False, "shared key (local) authentication is enabled", metadata)


@rule(
    id="AZ-MON-012",
    title="Application Insights accepts telemetry without Microsoft Entra authentication",
    severity="LOW",
    category="monitoring",
    description=(
        "Local authentication is on, so anyone who finds the instrumentation key or connection "
        "string (it ships in web pages and mobile apps) can send telemetry, forging or flooding "
        "the application's logs and alerts."
    ),
    remediation=(
        "Send telemetry with Microsoft Entra authentication (managed identity with Monitoring "
        "Metrics Publisher), then set `DisableLocalAuth` true: `az resource update --ids "
        "<component-id> --set properties.DisableLocalAuth=true`."
    ),
    frameworks={"NIST": ["PR.AC-1"], "ISO27001": ["A.8.5"]},
    needs=Needs(resource_types=frozenset({COMPONENT_TYPE})),
)
@judge_each_resource(COMPONENT_TYPE, "Application Insights component")
def component_local_auth(inv: Inventory, component: Resource) -> Judgement:
    """The 2020-02-02 schema spells it ``DisableLocalAuth``; absent is false."""
    disabled = props(component).get("DisableLocalAuth")
    metadata = {"DisableLocalAuth": disabled}
    if disabled is True:
        return Judgement(True, "only Microsoft Entra-authenticated telemetry is accepted", metadata)
    return Judgement(False, "telemetry is accepted with the instrumentation key alone (local auth on)", metadata)


@rule(
    id="AZ-MON-013",
    title="Application Insights accepts ingestion or queries from public networks",
    severity="LOW",
    category="monitoring",
    description=(
        "The component accepts telemetry or queries over its public endpoint instead of only "
        "through an Azure Monitor Private Link Scope, so application data can be read (with a "
        "leaked credential) or polluted from anywhere."
    ),
    remediation=(
        "Connect the component to an Azure Monitor Private Link Scope, then portal: Application "
        "Insights > Network isolation > disable public ingestion and queries (properties "
        "`publicNetworkAccessForIngestion`/`publicNetworkAccessForQuery` = Disabled)."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({COMPONENT_TYPE})),
)
@judge_each_resource(COMPONENT_TYPE, "Application Insights component")
def component_public_access(inv: Inventory, component: Resource) -> Judgement:
    return _public_network_access(component, ("publicNetworkAccessForIngestion", "publicNetworkAccessForQuery"))



# ---------------------------------------------------------------------------------------------
# The storage account(s) the activity log is exported to (CIS 5.1.3, 5.1.4) and Application
# Insights presence (CIS 5.3.1)
# ---------------------------------------------------------------------------------------------

STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
AccountJudge = Callable[[Inventory, Resource], Judgement]


def _destination_accounts(settings: list[dict[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    """lower-cased ``storageAccountId`` -> (id as written, names of the settings sending there)."""
    accounts: dict[str, tuple[str, list[str]]] = {}
    for setting in settings:
        account_id = str(props(setting).get("storageAccountId") or "").strip().rstrip("/")
        if account_id:
            accounts.setdefault(account_id.lower(), (account_id, []))[1].append(resource_name(setting))
    return accounts


def judge_activity_log_accounts(judge: AccountJudge) -> Callable[[Inventory], Iterator[Evaluation]]:
    """Make a rule of a decision on each storage account an activity-log diagnostic setting
    sends to (its ``storageAccountId``), joined with that account's GET. An account the
    inventory does not hold (another subscription, deleted, or its GET failed) is not
    evaluated, with the reason; no verdict at all when no setting sends to storage."""

    def evaluate(inv: Inventory) -> Iterator[Evaluation]:
        settings = _activity_log_settings(inv)
        if settings is None:
            return
        by_id = {str(a.get("id", "")).lower(): a for a in inv.of_type(STORAGE_TYPE)}
        failed = inv.unreadable_of_type(STORAGE_TYPE)
        for key, (account_id, names) in sorted(_destination_accounts(settings).items()):
            metadata = {"diagnosticSettings": sorted(names)}
            account = by_id.get(key)
            if account is None:
                reason = failed.get(key)
                detail = (f"activity-log storage account could not be read: {reason}" if reason else
                          "activity-log storage account is not in this subscription's inventory (another "
                          "subscription or deleted), so its settings could not be read")
                yield Evaluation(account_id, account_id.rsplit("/", 1)[-1], STORAGE_TYPE, None, detail, metadata)
                continue
            passed, detail, extra = judge(inv, account)
            yield verdict(account, STORAGE_TYPE, passed, detail, {**metadata, **extra})

    evaluate.__name__ = judge.__name__
    evaluate.__doc__ = judge.__doc__
    return evaluate


@rule(
    id="AZ-MON-014",
    title="Activity-log storage account is not encrypted with a customer-managed key",
    severity="LOW",
    category="monitoring",
    description=(
        "The storage account that receives the subscription's activity log is encrypted with a "
        "Microsoft-managed key. With a customer-managed key in Key Vault the organisation controls "
        "(and can revoke or rotate) access to the audit trail of every control-plane change."
    ),
    remediation=(
        "Portal: storage account > Encryption > 'Customer-managed keys', select a Key Vault key; "
        "or `az storage account update -g <rg> -n <account> --encryption-key-source Microsoft.Keyvault "
        "--encryption-key-vault <vault uri> --encryption-key-name <key>` (the account's identity "
        "needs get/wrapKey/unwrapKey on the key)."
    ),
    frameworks={"CIS": ["5.1.4"], "NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({STORAGE_TYPE}), subscription_reads=(ACTIVITY_LOG_SETTINGS,)),
)
@judge_activity_log_accounts
def activity_log_account_cmk(inv: Inventory, account: Resource) -> Judgement:
    """``encryption.keySource`` Microsoft.Keyvault passes; Microsoft.Storage or absent (the
    platform-managed default) fails."""
    key_source = as_dict(props(account).get("encryption")).get("keySource")
    metadata = {"keySource": key_source}
    if str(key_source or "").lower() == "microsoft.keyvault":
        return Judgement(True, "encrypted with a customer-managed key (Microsoft.Keyvault)", metadata)
    return Judgement(False, f"encrypted with a Microsoft-managed key (keySource {key_source or 'not set'})", metadata)


ACTIVITY_LOG_CONTAINER = "insights-activity-logs"  # the container Azure Monitor writes the activity log to
CONTAINERS = ChildSpec(STORAGE_TYPE, "blobServices/default/containers", is_list=True)
ACTIVITY_LOG_CONTAINERS = DestinationRead(ACTIVITY_LOG_SETTINGS, "storageAccountId", CONTAINERS)


@rule(
    id="AZ-MON-015",
    title="Activity-log storage container allows anonymous public access",
    severity="HIGH",
    category="monitoring",
    description=(
        "The `insights-activity-logs` container of the storage account that receives the "
        "activity log allows anonymous read access, so anyone who guesses the account name can "
        "read the subscription's audit trail: who changed what, from which IP address."
    ),
    remediation=(
        "Disallow anonymous access on the account (`az storage account update -g <rg> -n <account> "
        "--allow-blob-public-access false`), or at least set the container's access level to "
        "Private: `az storage container set-permission -n insights-activity-logs --account-name "
        "<account> --public-access off --auth-mode login`."
    ),
    frameworks={"CIS": ["5.1.3"], "NIST": ["PR.AC-3", "PR.DS-5"], "ISO27001": ["A.8.3", "A.8.15"]},
    needs=Needs(resource_types=frozenset({STORAGE_TYPE}), subscription_reads=(ACTIVITY_LOG_SETTINGS,),
                destination_reads=(ACTIVITY_LOG_CONTAINERS,)),
)
@judge_activity_log_accounts
def activity_log_container_private(inv: Inventory, account: Resource) -> Judgement:
    """``allowBlobPublicAccess`` false passes whatever the container says (the account-level
    switch overrides container ACLs). Otherwise the container's ``publicAccess`` decides: Blob
    or Container fails, None (or absent) passes; no such container yet passes (nothing to read)."""
    allow = props(account).get("allowBlobPublicAccess")
    if flag(allow) is False:
        return Judgement(True, "anonymous access is disallowed on the account", {"allowBlobPublicAccess": allow})
    containers = inv.child(CONTAINERS, str(account.get("id", "")))
    if not isinstance(containers, list):
        return unread_child(inv, CONTAINERS, account, "the account's blob containers")
    found = [c for c in containers if isinstance(c, dict) and str(c.get("name", "")).lower() == ACTIVITY_LOG_CONTAINER]
    metadata = {"allowBlobPublicAccess": allow, "container": ACTIVITY_LOG_CONTAINER}
    if not found:
        return Judgement(True, f"no {ACTIVITY_LOG_CONTAINER} container in the account", metadata)
    access = as_dict(found[0].get("properties")).get("publicAccess")
    metadata["publicAccess"] = access
    if str(access or "None").lower() in ("blob", "container"):
        return Judgement(False, f"{ACTIVITY_LOG_CONTAINER} allows anonymous read access (publicAccess {access})", metadata)
    return Judgement(True, f"{ACTIVITY_LOG_CONTAINER} is private", metadata)


@rule(
    id="AZ-MON-016",
    title="No Application Insights component in the subscription",
    severity="LOW",
    category="monitoring",
    description=(
        "The subscription has no Application Insights component, so no application in it sends "
        "performance, failure or usage telemetry: attacks and faults that show only in the "
        "application's behaviour (error spikes, unusual requests) go unseen."
    ),
    remediation=(
        "Create an Application Insights resource (workspace-based) for each application and send "
        "its telemetry there: portal > Application Insights > Create, or `az monitor app-insights "
        "component create --app <name> -g <rg> -l <region> --workspace <workspace id>`."
    ),
    frameworks={"CIS": ["5.3.1"], "NIST": ["DE.CM-1", "DE.AE-3"], "ISO27001": ["A.8.16"]},
    needs=Needs(resource_types=frozenset({COMPONENT_TYPE})),
)
@judge_subscription
def application_insights_configured(inv: Inventory) -> Judgement | None:
    """A component whose GET failed still exists (the listing named it), so it counts."""
    if COMPONENT_TYPE.lower() not in inv.resources:
        return None
    names = sorted(resource_name(c) for c in inv.of_type(COMPONENT_TYPE))
    names += sorted(rid.rsplit("/", 1)[-1] for rid in inv.unreadable_of_type(COMPONENT_TYPE))
    if names:
        return Judgement(True, f"{len(names)} Application Insights component(s): {', '.join(names[:5])}",
                         {"components": names})
    return Judgement(False, "no Application Insights component in the subscription", {"components": []})


# ---------------------------------------------------------------------------------------------
# Entra ID diagnostic settings (CIS v6 6.1.1.7, 6.1.1.8): a tenant-level ARM collection,
# ``GET /providers/microsoft.aadiam/diagnosticSettings?api-version=2017-04-01`` (the shape of
# Azure Monitor diagnostic settings: destinations plus ``logs: [{category, enabled}]``). One
# verdict on the tenant's settings per rule, like the Entra ID policy rules.
# ---------------------------------------------------------------------------------------------

ENTRA_DIAGNOSTIC_TYPE = "microsoft.aadiam/diagnosticSettings"
ENTRA_DIAGNOSTIC_SETTINGS = SubscriptionRead(
    "/providers/microsoft.aadiam/diagnosticSettings", "Entra ID diagnostic settings",
    grant="a role with microsoft.aadiam/diagnosticSettings/read at the tenant root scope '/' "
          "(for example Reader assigned at '/')",
)


def _entra_logs_sent(inv: Inventory, wanted: tuple[str, ...], what: str) -> Iterator[Evaluation]:
    """Pass when each of the ``wanted`` categories is enabled on some setting that has a
    destination (the ``allLogs`` group counts for every category); the finding names the
    categories no setting sends."""
    payload = inv.subscription_read(ENTRA_DIAGNOSTIC_SETTINGS)
    if not isinstance(payload, list):
        return
    settings = [s for s in payload if isinstance(s, dict)]
    sent: dict[str, list[str]] = {c: [] for c in wanted}
    for setting in settings:
        if not destinations(setting):
            continue
        categories, groups = enabled_log_entries(setting)
        for category in wanted:
            if category.lower() in categories or "alllogs" in groups:
                sent[category].append(resource_name(setting))
    missing = [c for c in wanted if not sent[c]]
    metadata = {"diagnosticSettings": sorted(resource_name(s) for s in settings),
                "sentBy": {c: sorted(v) for c, v in sent.items()}, "missing": missing}
    if not missing:
        judgement = Judgement(True, f"{what} sent by: " + ", ".join(sorted({n for v in sent.values() for n in v})),
                              metadata)
    elif settings:
        judgement = Judgement(False, f"no Entra ID diagnostic setting sends {', '.join(missing)} to a destination",
                              metadata)
    else:
        judgement = Judgement(False, f"no Entra ID diagnostic setting: {what} are not exported", metadata)
    yield Evaluation("/providers/microsoft.aadiam/diagnosticSettings", "Entra ID diagnostic settings",
                     ENTRA_DIAGNOSTIC_TYPE, *judgement)


_ENTRA_REMEDIATION = (
    "Entra admin center > Identity > Monitoring & health > Diagnostic settings > Add diagnostic "
    "setting: select {categories} and send them to a Log Analytics workspace (or storage "
    "account / event hub). Needs the Security Administrator role{licence}."
)


@rule(
    id="AZ-MON-017",
    title="Microsoft Graph activity logs are not exported",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "No Entra ID diagnostic setting sends the MicrosoftGraphActivityLogs category anywhere, "
        "so the HTTP requests that applications and users make to Microsoft Graph (reading "
        "mailboxes, enumerating users, changing roles) leave no record to investigate a token "
        "theft or a compromised application with."
    ),
    remediation=_ENTRA_REMEDIATION.format(categories="MicrosoftGraphActivityLogs",
                                          licence=" and an Entra ID P1 or P2 licence"),
    frameworks={"NIST": ["DE.AE-3", "PR.PT-1"], "ISO27001": ["A.8.15", "A.8.16"]},
    needs=Needs(subscription_reads=(ENTRA_DIAGNOSTIC_SETTINGS,)),
)
def graph_activity_logs_exported(inv: Inventory) -> Iterator[Evaluation]:
    yield from _entra_logs_sent(inv, ("MicrosoftGraphActivityLogs",), "Microsoft Graph activity logs")


@rule(
    id="AZ-MON-018",
    title="Entra ID audit and sign-in logs are not exported",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "No Entra ID diagnostic setting sends both AuditLogs and SignInLogs to a destination. "
        "Entra ID keeps them for 30 days at most (7 without a P1/P2 licence) and cannot alert "
        "on them, so directory changes and sign-ins are gone before most intrusions are found."
    ),
    remediation=_ENTRA_REMEDIATION.format(categories="AuditLogs and SignInLogs", licence=""),
    frameworks={"NIST": ["DE.AE-3", "PR.PT-1"], "ISO27001": ["A.8.15"]},
    needs=Needs(subscription_reads=(ENTRA_DIAGNOSTIC_SETTINGS,)),
)
def entra_activity_logs_exported(inv: Inventory) -> Iterator[Evaluation]:
    yield from _entra_logs_sent(inv, ("AuditLogs", "SignInLogs"), "Entra ID audit and sign-in logs")
