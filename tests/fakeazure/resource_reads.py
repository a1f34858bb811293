"""Per-resource reads of the issue-17 resource rules, planted over a tenant's existing resources:
which VMs a Recovery Services vault backs up (AZ-CMP-009), each SQL server's Defender for SQL
setting (AZ-SQL-015) and vulnerability assessment express configuration (AZ-SQL-010), and the
diagnostic settings of web apps, AKS clusters and application gateways (AZ-APP-010, AZ-AKS-008,
AZ-NET-014).

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
            if case is not None:
                arm.child(res, "providers/Microsoft.Insights/diagnosticSettings",
                          [_diagnostic_setting(res, case[0], case[1], workspace)])


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


# resource builders ``large:N`` cycles through with the rule types of tenants.py
LARGE_BUILDERS = (_large_recovery_vault,)
