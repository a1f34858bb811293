"""Per-resource reads of the issue-17 resource rules, planted over a tenant's existing resources:
which VMs a Recovery Services vault backs up (AZ-CMP-009), each SQL server's Defender for SQL
setting (AZ-SQL-015) and vulnerability assessment express configuration (AZ-SQL-010), and the
diagnostic settings of web apps, AKS clusters, application gateways and Databricks workspaces
(AZ-APP-010, AZ-AKS-008, AZ-NET-014, AZ-DBW-007).

Kept out of ``tenants.py`` so it merges easily: ``demo_tenant`` and ``large_tenant`` call
:func:`plant` once, after their resources exist; ``large_tenant`` also cycles through
:data:`LARGE_BUILDERS`. Shapes and api-versions are those Microsoft Learn documents:
"Backup Protected Items - List" (2024-04-01), "Server Security Alert Policies - Get"
(2021-11-01), "Sql Vulnerability Assessments Settings - Get" (2023-08-01), "Diagnostic
Settings - List" (2021-05-01-preview).
"""

from __future__ import annotations

from typing import Any

VM_TYPE = "Microsoft.Compute/virtualMachines"
RSV_TYPE = "Microsoft.RecoveryServices/vaults"
SQL_TYPE = "Microsoft.Sql/servers"
SITE_TYPE = "Microsoft.Web/sites"

# Backup state of the VMs, cycled in build order (every third VM has no backup): the first
# Protected, the second stopped (AZ-CMP-009 violating though the vault lists it)
BACKUP_CASES: list[str | None] = ["Protected", None, "ProtectionStopped", "Protected", None, "IRPending"]
# Defender for SQL per server (securityAlertPolicies/Default state), cycled in build order
SQL_ALERT_STATES = ["Disabled", "Enabled"]
# VA express configuration per server, cycled in build order: the fourth server (in the demo
# one without classic VA settings) is on express, so AZ-SQL-010 passes it
SQL_VA_EXPRESS_STATES = ["Disabled", "Disabled", "Disabled", "Enabled"]
# Web apps' diagnostic settings, cycled over the non-function sites in build order:
# (setting name, its logs) or None for no setting at all
SITE_DIAGNOSTICS: list[tuple[str, list[dict[str, Any]]] | None] = [
    None,                                                                     # violating
    ("http-to-law", [{"category": "AppServiceHTTPLogs", "enabled": True},     # compliant
                     {"category": "AppServiceAuditLogs", "enabled": True}]),
    ("audit-only", [{"categoryGroup": "audit", "enabled": True}]),            # violating: no HTTP log
    ("all-logs", [{"categoryGroup": "allLogs", "enabled": True}]),            # compliant
]


def protected_item(vault: dict[str, Any], vm: dict[str, Any], state: str) -> dict[str, Any]:
    """One entry of ``{vault}/backupProtectedItems`` (AzureIaaSVMProtectedItem); Azure Backup
    reports the VM's id lower-cased in the resource group, as the service stores it."""
    rg, name = vm["id"].split("/")[4].lower(), vm["name"]
    container = f"iaasvmcontainerv2;{rg};{name}"
    source = vm["id"].replace(vm["id"].split("/")[4], rg)
    return {
        "id": f"{vault['id']}/backupFabrics/Azure/protectionContainers/IaasVMContainer;{container}"
              f"/protectedItems/VM;{container}",
        "name": f"VM;{container}",
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        "properties": {
            "friendlyName": name, "virtualMachineId": source, "sourceResourceId": source,
            "protectionStatus": "Healthy" if state == "Protected" else "Unhealthy",
            "protectionState": state, "healthStatus": "Passed", "lastBackupStatus": "Completed",
            "lastBackupTime": "2023-03-01T02:30:00Z", "protectedItemType": "Microsoft.Compute/virtualMachines",
            "backupManagementType": "AzureIaasVM", "workloadType": "VM", "containerName": container,
            "policyId": f"{vault['id']}/backupPolicies/DefaultPolicy", "policyName": "DefaultPolicy",
            "isScheduledForDeferredDelete": False,
        },
    }


def _of(arm: Any, rtype: str) -> list[dict[str, Any]]:
    return [r for r in arm.resources if r["type"] == rtype]


def plant_backups(arm: Any) -> None:
    """Every vault's protected-items list (empty when it protects nothing, as Azure answers):
    VMs with a backup state are spread over the vaults round-robin."""
    vaults = _of(arm, RSV_TYPE)
    items: list[list[dict[str, Any]]] = [[] for _ in vaults]
    if vaults:
        for n, vm in enumerate(_of(arm, VM_TYPE)):
            state = BACKUP_CASES[n % len(BACKUP_CASES)]
            if state is not None:
                slot = n % len(vaults)
                items[slot].append(protected_item(vaults[slot], vm, state))
        # one Azure Files share in the first vault: a list filtered to AzureIaasVM leaves it out
        storage = [r for r in arm.resources if r["type"] == "Microsoft.Storage/storageAccounts"][:1]
        for account in storage:
            items[0].append(file_share_item(vaults[0], account, "share-01"))
    for vault, listed in zip(vaults, items):
        arm.child(vault, "backupProtectedItems", listed)


def file_share_item(vault: dict[str, Any], account: dict[str, Any], share: str) -> dict[str, Any]:
    """A protected Azure Files share (AzureFileShareProtectedItem) in the same list."""
    rg, name = account["id"].split("/")[4].lower(), account["name"]
    container = f"StorageContainer;Storage;{rg};{name}"
    return {
        "id": f"{vault['id']}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/AzureFileShare;{share}",
        "name": f"AzureFileShare;{share}",
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        "properties": {"friendlyName": share, "protectionState": "Protected", "protectionStatus": "Healthy",
                       "protectedItemType": "AzureFileShareProtectedItem", "backupManagementType": "AzureStorage",
                       "workloadType": "AzureFileShare", "containerName": container,
                       "sourceResourceId": account["id"], "lastBackupStatus": "Completed"},
    }


def plant_sql_alert_policies(arm: Any) -> None:
    """``securityAlertPolicies/Default`` and ``sqlVulnerabilityAssessments/default`` of every SQL
    server (Azure answers both for every server; Disabled for one never configured)."""
    for n, server in enumerate(_of(arm, SQL_TYPE)):
        state = SQL_ALERT_STATES[n % len(SQL_ALERT_STATES)]
        arm.child(server, "securityAlertPolicies/Default", {
            "id": f"{server['id']}/securityAlertPolicies/Default", "name": "Default",
            "type": "Microsoft.Sql/servers/securityAlertPolicies",
            "properties": {"state": state, "disabledAlerts": [""], "emailAddresses": [""],
                           "emailAccountAdmins": False, "storageEndpoint": "", "retentionDays": 0,
                           "creationTime": "2023-03-01T09:00:00Z"}})
        arm.child(server, "sqlVulnerabilityAssessments/default", {
            "id": f"{server['id']}/sqlVulnerabilityAssessments/default", "name": "default",
            "type": "Microsoft.Sql/servers/sqlVulnerabilityAssessments",
            "properties": {"state": SQL_VA_EXPRESS_STATES[n % len(SQL_VA_EXPRESS_STATES)]}})


def plant_site_diagnostics(arm: Any) -> None:
    """Web apps' diagnostic settings (function apps keep none: AZ-APP-010 does not judge them).
    A site without a planted list answers an empty one."""
    workspace = arm.rid("rg-prod", "Microsoft.OperationalInsights/workspaces", "law-security")
    sites = [s for s in _of(arm, SITE_TYPE) if "functionapp" not in str(s.get("kind", ""))]
    for n, site in enumerate(sites):
        case = SITE_DIAGNOSTICS[n % len(SITE_DIAGNOSTICS)]
        if case is None:
            continue
        arm.child(site, "providers/Microsoft.Insights/diagnosticSettings",
                  [_diagnostic_setting(site, case[0], case[1], workspace)])


# Other types' resource logs (AZ-AKS-008, AZ-NET-014), cycled per type in build order:
# (setting name, its logs) or None for no setting
RESOURCE_LOGS: dict[str, list[tuple[str, list[dict[str, Any]]] | None]] = {
    "Microsoft.ContainerService/managedClusters": [
        None,                                                                            # violating
        ("audit-to-law", [{"categoryGroup": "audit", "enabled": True}]),                # compliant
        ("apiserver-only", [{"category": "kube-apiserver", "enabled": True}]),          # violating
        ("kube-audit-admin", [{"category": "kube-audit-admin", "enabled": True}]),      # compliant
    ],
    "Microsoft.Network/applicationGateways": [
        ("all-logs", [{"categoryGroup": "allLogs", "enabled": True}]),                  # compliant
        None,                                                                            # violating
    ],
    "Microsoft.Databricks/workspaces": [                                                 # AZ-DBW-007
        None,                                                                            # violating
        ("audit-to-law", [{"category": "accounts", "enabled": True},
                          {"category": "workspace", "enabled": True}]),                 # compliant
        ("dbfs-only", [{"category": "dbfs", "enabled": True}]),                          # violating
    ],
}


def _diagnostic_setting(resource: dict[str, Any], name: str, logs: list[dict[str, Any]],
                        workspace: str) -> dict[str, Any]:
    return {"id": f"{resource['id']}/providers/microsoft.insights/diagnosticSettings/{name}", "name": name,
            "type": "Microsoft.Insights/diagnosticSettings",
            "properties": {"logs": logs, "metrics": [], "logAnalyticsDestinationType": None,
                           "workspaceId": workspace}}


def plant_resource_logs(arm: Any) -> None:
    workspace = arm.rid("rg-prod", "Microsoft.OperationalInsights/workspaces", "law-security")
    for rtype, cases in RESOURCE_LOGS.items():
        for n, res in enumerate(_of(arm, rtype)):
            case = cases[n % len(cases)]
            # no setting: the empty list Azure answers (the emulator would too without it)
            arm.child(res, "providers/Microsoft.Insights/diagnosticSettings",
                      [] if case is None else [_diagnostic_setting(res, case[0], case[1], workspace)])


def plant(arm: Any) -> None:
    plant_backups(arm)
    plant_sql_alert_policies(arm)
    plant_site_diagnostics(arm)
    plant_resource_logs(arm)


def _large_recovery_vault(arm: Any, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    """A vault per cycle of ``large:N`` (the VMs' backups are planted over all vaults at the end);
    its soft delete, immutability and public access vary for AZ-RSV-001..003."""
    from tests.fakeazure.breadth import recovery_vault

    recovery_vault(arm, rg, f"rsv-{i:07d}", loc, soft_delete=("Enabled", "Disabled", "AlwaysON")[v % 3],
                   immutability=("Disabled", "Unlocked", "Locked")[v % 3],
                   public=("Enabled", "Disabled")[v % 2])


def _large_messaging(arm: Any, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    from tests.fakeazure.breadth import EVENT_HUB_TYPE, SERVICE_BUS_TYPE, messaging_namespace

    rtype, prefix = ((EVENT_HUB_TYPE, "evhns"), (SERVICE_BUS_TYPE, "sbns"))[v % 2]
    messaging_namespace(arm, rtype, rg, f"{prefix}-{i:07d}", loc, public=("Enabled", "Disabled")[v // 2 % 2],
                        local_auth_off=v % 3 == 0)


def _large_ai(arm: Any, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    from tests.fakeazure.breadth import ai_account

    ai_account(arm, rg, f"ais-{i:07d}", loc, kind=("OpenAI", "AIServices")[v % 2],
               public=("Enabled", "Disabled")[v // 2 % 2], default_action=("Allow", "Deny")[v % 3 == 0],
               local_auth_off=v % 3 == 0, cmk=v % 4 == 0)


def _large_monitoring(arm: Any, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    """A Log Analytics workspace and, every other slot, an Application Insights component on it."""
    from tests.fakeazure.breadth import app_insights, log_analytics_workspace

    if v % 2 == 0 or "law" not in arm.latest:
        arm.latest["law"] = log_analytics_workspace(arm, rg, f"law-{i:07d}", loc,
                                                    public=("Enabled", "Disabled")[v // 2 % 2],
                                                    local_auth_off=v % 3 == 0)
        return
    app_insights(arm, rg, f"appi-{i:07d}", loc, workspace_id=arm.latest["law"]["id"],
                 public=("Enabled", "Disabled")[v // 2 % 2], local_auth_off=v % 3 == 1)


def _large_apps(arm: Any, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    """Container apps and Databricks workspaces, alternately."""
    from tests.fakeazure.breadth import container_app, databricks_workspace

    if v % 2 == 0:
        container_app(arm, rg, f"ca-{i:07d}", loc, insecure=v % 4 == 0,
                      allowed=[] if v % 3 == 0 else ["203.0.113.0/24"], registry_password=v % 4 == 2)
    else:
        databricks_workspace(arm, rg, f"dbw-{i:07d}", loc, public=("Enabled", "Disabled")[v // 2 % 2],
                             no_public_ip=v % 3 != 0, cmk=v % 4 == 1)


def _large_bastion(arm: Any, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    """A Bastion host in the shared VNet's ``AzureBastionSubnet`` (2024-05-01 shape)."""
    from tests.fakeazure.breadth import BASTION_TYPE

    name = f"bas-{i:07d}"
    bid = arm.rid(rg, BASTION_TYPE, name)
    state = ("Succeeded", "Failed")[v % 4 == 3]
    arm.add(rg, BASTION_TYPE, name, loc, {
        "provisioningState": state, "dnsName": f"bst-{i:07d}.bastion.azure.com", "scaleUnits": 2,
        "ipConfigurations": [{
            "id": f"{bid}/bastionHostIpConfigurations/IpConf", "name": "IpConf",
            "type": "Microsoft.Network/bastionHosts/bastionHostIpConfigurations",
            "properties": {"provisioningState": state, "privateIPAllocationMethod": "Dynamic",
                           "publicIPAddress": {"id": arm.rid(rg, "Microsoft.Network/publicIPAddresses", f"pip-{name}")},
                           "subnet": {"id": arm.rid(rg, "Microsoft.Network/virtualNetworks", "vnet-shared")
                                      + "/subnets/AzureBastionSubnet"}},
        }],
    }, sku={"name": "Standard"})


# resource builders ``large:N`` cycles through with the rule types of tenants.py: Recovery
# Services vaults, and the other issue-17 types no builder covered (Event Hubs / Service Bus,
# AI services, Log Analytics / Application Insights, Container Apps / Databricks, Bastion)
LARGE_BUILDERS = (_large_recovery_vault, _large_messaging, _large_ai, _large_monitoring, _large_apps, _large_bastion)
