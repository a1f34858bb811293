"""AZ-CMP-009 (VM backed up by a Recovery Services vault), AZ-SQL-015 (Defender for SQL per
server), and the resource-log rules AZ-APP-010 (web app HTTP logs), AZ-AKS-008 (Kubernetes audit
log), AZ-NET-014 (application gateway access log) and AZ-DBW-007
(Databricks audit logs): each with a violating, a compliant and a
could-not-read case."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.inventory import ChildSpec, Inventory
from scanner.rules.aks import AKS_DIAGNOSTIC_SETTINGS, AKS_TYPE
from scanner.rules.appservice import SITE_DIAGNOSTIC_SETTINGS, SITE_TYPE
from scanner.rules.compute import VM_TYPE
from scanner.rules.databricks import DATABRICKS_DIAGNOSTIC_SETTINGS, DATABRICKS_TYPE
from scanner.rules.monitoring import DEFENDER_PRICINGS
from scanner.rules.network import APP_GATEWAY_DIAGNOSTIC_SETTINGS, APP_GATEWAY_TYPE
from scanner.rules.recoveryservices import VAULT_PROTECTED_VMS, VAULT_TYPE
from scanner.rules.sql import SQL_SECURITY_ALERT_POLICY, SQL_TYPE
from tests.rules.builders import (
    SUB,
    Resource,
    arm,
    fail_child,
    fail_resource,
    inventory,
    only,
    run,
    set_child,
    with_child,
    with_failed_child,
)


# --- AZ-CMP-009 --------------------------------------------------------------------------------
def _vm(name: str) -> Resource:
    return arm(VM_TYPE, name, {"provisioningState": "Succeeded"})


def _protected(vault: Resource, vm: Resource, state: str = "Protected", *, casing: str = "lower") -> dict[str, Any]:
    """One ``backupProtectedItems`` entry as Azure Backup lists it (AzureIaaSVMProtectedItem);
    Backup reports the VM id in its own casing."""
    rg, name = vm["id"].split("/")[4], vm["name"]
    source = vm["id"].lower() if casing == "lower" else vm["id"]
    container = f"iaasvmcontainerv2;{rg};{name}"
    return {
        "id": f"{vault['id']}/backupFabrics/Azure/protectionContainers/IaasVMContainer;{container}/"
              f"protectedItems/VM;{container}",
        "name": f"VM;{container}",
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        "properties": {"friendlyName": name, "virtualMachineId": source, "sourceResourceId": source,
                       "protectionState": state, "protectedItemType": "Microsoft.Compute/virtualMachines",
                       "backupManagementType": "AzureIaasVM", "workloadType": "VM"},
    }


def _vault(name: str) -> Resource:
    return arm(VAULT_TYPE, name, {"provisioningState": "Succeeded"}, rg="rg-backup")


def test_cmp009_vm_in_a_vault_passes_case_insensitively_others_fail() -> None:
    backed, stopped, bare, rsv = _vm("vm-backed"), _vm("vm-stopped"), _vm("vm-bare"), _vault("rsv1")
    inv = inventory(backed, stopped, bare, rsv)
    set_child(inv, VAULT_PROTECTED_VMS, rsv, [_protected(rsv, backed), _protected(rsv, stopped, "ProtectionStopped",
                                                                                  casing="same")])
    results = {r.resource_name: r for r in run("AZ-CMP-009", inv)}
    assert results["vm-backed"].passed is True and results["vm-backed"].metadata["vault"] == "rsv1"
    assert results["vm-stopped"].passed is False and "ProtectionStopped" in results["vm-stopped"].detail
    assert results["vm-bare"].passed is False
    assert results["vm-bare"].detail == "no Recovery Services vault protects this VM"


def test_cmp009_no_vault_at_all_fails() -> None:
    assert only("AZ-CMP-009", inventory(_vm("vm1"))).passed is False


def test_cmp009_unreadable_vault_list_leaves_unmatched_vms_not_evaluated() -> None:
    backed, other, good, locked = _vm("vm-backed"), _vm("vm-other"), _vault("rsv-good"), _vault("rsv-locked")
    inv = inventory(backed, other, good, locked)
    set_child(inv, VAULT_PROTECTED_VMS, good, [_protected(good, backed)])
    fail_child(inv, VAULT_PROTECTED_VMS, locked, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, VAULT_TYPE, "rsv-gone", "HTTP 500")
    fail_resource(inv, VM_TYPE, "vm-locked", "HTTP 403")
    results = {r.resource_name: r for r in run("AZ-CMP-009", inv)}
    assert results["vm-backed"].passed is True  # found in a readable vault: decided
    assert results["vm-other"].passed is None
    assert results["vm-other"].detail == (
        "not in any readable vault; protected items could not be read (rsv-gone: vault could not be read: "
        "HTTP 500; rsv-locked: HTTP 403 AuthorizationFailed)")
    assert (results["vm-locked"].passed, results["vm-locked"].detail) == (None, "virtual machine could not be read: HTTP 403")


# --- AZ-SQL-015 --------------------------------------------------------------------------------
def _server() -> Resource:
    return arm(SQL_TYPE, "sql1", {"version": "12.0"})


def _policy(server: Resource, state: str) -> dict[str, Any]:
    """``GET .../servers/{name}/securityAlertPolicies/Default`` (api-version 2021-11-01)."""
    return {"id": f"{server['id']}/securityAlertPolicies/Default", "name": "Default",
            "type": "Microsoft.Sql/servers/securityAlertPolicies",
            "properties": {"state": state, "disabledAlerts": [""], "emailAddresses": [""],
                           "emailAccountAdmins": False, "retentionDays": 0}}


def _with_plan(inv: Inventory, tier: str) -> Inventory:
    inv.subscription_reads[DEFENDER_PRICINGS.key] = [{
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/SqlServers", "name": "SqlServers",
        "type": "Microsoft.Security/pricings", "properties": {"pricingTier": tier}}]
    return inv


@pytest.mark.parametrize(("state", "tier", "passed"), [
    ("Enabled", "Free", True), ("Disabled", "Free", False), ("Disabled", "Standard", True), ("Disabled", None, False),
])
def test_sql015_server_policy_or_subscription_plan(state: str, tier: str | None, passed: bool) -> None:
    server = _server()
    inv = with_child(server, SQL_SECURITY_ALERT_POLICY, _policy(server, state))
    if tier:
        _with_plan(inv, tier)
    assert only("AZ-SQL-015", inv).passed is passed


def test_sql015_never_configured_server_fails() -> None:
    """A 404 on the singleton reads as {} (collector): no policy, Defender off."""
    result = only("AZ-SQL-015", _with_plan(with_child(_server(), SQL_SECURITY_ALERT_POLICY, {}), "Free"))
    assert result.passed is False and "not configured" in result.detail


def test_sql015_unreadable_policy_not_evaluated() -> None:
    inv = _with_plan(with_failed_child(_server(), SQL_SECURITY_ALERT_POLICY, "HTTP 403 AuthorizationFailed"), "Free")
    result = only("AZ-SQL-015", inv)
    assert (result.passed, result.detail) == (None, "security alert policy could not be read: HTTP 403 AuthorizationFailed")


# --- AZ-APP-010 --------------------------------------------------------------------------------
def _site(name: str = "app1", kind: str = "app,linux") -> Resource:
    return arm(SITE_TYPE, name, {"state": "Running"}, kind=kind)


def _setting(name: str, logs: list[dict[str, Any]], workspace: str = "/subscriptions/x/law") -> dict[str, Any]:
    props: dict[str, Any] = {"logs": logs, "metrics": []}
    if workspace:
        props["workspaceId"] = workspace
    return {"id": f"/x/providers/microsoft.insights/diagnosticSettings/{name}", "name": name,
            "type": "Microsoft.Insights/diagnosticSettings", "properties": props}


@pytest.mark.parametrize("logs", [[{"category": "AppServiceHTTPLogs", "enabled": True}],
                                  [{"categoryGroup": "allLogs", "enabled": True}]])
def test_app010_http_logs_to_a_destination_pass(logs: list[dict[str, Any]]) -> None:
    result = only("AZ-APP-010", with_child(_site(), SITE_DIAGNOSTIC_SETTINGS, [_setting("http", logs)]))
    assert result.passed is True and result.metadata["httpLogsTo"] == ["http"]


def test_app010_no_setting_audit_group_or_no_destination_fail() -> None:
    bare, useless = _site("bare"), _site("useless")
    inv = inventory(bare, useless)
    set_child(inv, SITE_DIAGNOSTIC_SETTINGS, bare, [])
    set_child(inv, SITE_DIAGNOSTIC_SETTINGS, useless, [
        _setting("audit", [{"categoryGroup": "audit", "enabled": True}]),
        _setting("off", [{"category": "AppServiceHTTPLogs", "enabled": False}]),
        _setting("nowhere", [{"category": "AppServiceHTTPLogs", "enabled": True}], workspace=""),
    ])
    results = {r.resource_name: r for r in run("AZ-APP-010", inv)}
    assert (results["bare"].passed, results["bare"].detail) == (False, "no diagnostic setting")
    assert results["useless"].passed is False
    assert results["useless"].metadata["diagnosticSettings"] == ["audit", "nowhere", "off"]


def test_app010_function_apps_out_of_scope_unreadable_not_evaluated() -> None:
    func, app = _site("func", kind="functionapp,linux"), _site("app")
    inv = inventory(func, app)
    fail_child(inv, SITE_DIAGNOSTIC_SETTINGS, app, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, SITE_TYPE, "locked", "HTTP 403")
    results = sorted((r.resource_name, r.passed, r.detail) for r in run("AZ-APP-010", inv))
    assert results == [("app", None, "diagnostic settings could not be read: HTTP 403 AuthorizationFailed"),
                       ("locked", None, "site could not be read: HTTP 403")]


# --- AZ-AKS-008, AZ-NET-014: the same judgement over other types' diagnostic settings -------------
LOG_RULES = [
    # rule, type, spec, noun, (compliant log entries...), a category that does not count
    ("AZ-AKS-008", AKS_TYPE, AKS_DIAGNOSTIC_SETTINGS, "cluster",
     [{"category": "kube-audit", "enabled": True}, {"category": "kube-audit-admin", "enabled": True},
      {"categoryGroup": "audit", "enabled": True}, {"categoryGroup": "allLogs", "enabled": True}],
     {"category": "kube-apiserver", "enabled": True}),
    ("AZ-NET-014", APP_GATEWAY_TYPE, APP_GATEWAY_DIAGNOSTIC_SETTINGS, "application gateway",
     [{"category": "ApplicationGatewayAccessLog", "enabled": True}, {"categoryGroup": "allLogs", "enabled": True}],
     {"category": "ApplicationGatewayPerformanceLog", "enabled": True}),
    ("AZ-DBW-007", DATABRICKS_TYPE, DATABRICKS_DIAGNOSTIC_SETTINGS, "Databricks workspace",
     [{"category": "accounts", "enabled": True}, {"category": "workspace", "enabled": True},
      {"categoryGroup": "audit", "enabled": True}, {"categoryGroup": "allLogs", "enabled": True}],
     {"category": "dbfs", "enabled": True}),
]


@pytest.mark.parametrize(("rule_id", "rtype", "spec", "noun", "good", "other"), LOG_RULES)
def test_resource_log_rules(rule_id: str, rtype: str, spec: ChildSpec, noun: str,
                            good: list[dict[str, Any]], other: dict[str, Any]) -> None:
    for entry in good:
        res = arm(rtype, "ok")
        result = only(rule_id, with_child(res, spec, [_setting("logs", [entry])]))
        assert result.passed is True, entry
    bare, wrong, nowhere, locked = (arm(rtype, n) for n in ("bare", "wrong", "nowhere", "locked"))
    inv = inventory(bare, wrong, nowhere, locked)
    set_child(inv, spec, bare, [])
    set_child(inv, spec, wrong, [_setting("other", [other])])
    set_child(inv, spec, nowhere, [_setting("nowhere", [good[0]], workspace="")])
    fail_child(inv, spec, locked, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, rtype, "gone", "HTTP 500")
    results = {r.resource_name: (r.passed, r.detail) for r in run(rule_id, inv)}
    assert results["bare"] == (False, "no diagnostic setting")
    assert results["wrong"][0] is False and results["nowhere"][0] is False
    assert results["locked"] == (None, "diagnostic settings could not be read: HTTP 403 AuthorizationFailed")
    assert results["gone"] == (None, f"{noun} could not be read: HTTP 500")


def test_cmp009_many_unreadable_vaults_are_summarised() -> None:
    vm = _vm("vm1")
    inv = inventory(vm, *(_vault(f"rsv{n}") for n in range(5)))
    for n in range(5):
        fail_child(inv, VAULT_PROTECTED_VMS, _vault(f"rsv{n}"), "HTTP 403")
    result = only("AZ-CMP-009", inv)
    assert result.passed is None and result.detail.endswith("rsv2: HTTP 403; and 2 more vaults)")
    assert result.metadata["unreadVaults"] == [f"rsv{n}" for n in range(5)]


def test_cmp009_a_vault_whose_get_failed_still_counts_by_its_list() -> None:
    vm, rsv = _vm("vm1"), _vault("rsv-locked")
    inv = inventory(vm)
    inv.unreadable[rsv["id"].lower()] = "HTTP 403"  # the vault's GET failed, its list did not
    set_child(inv, VAULT_PROTECTED_VMS, rsv, [_protected(rsv, vm)])
    assert only("AZ-CMP-009", inv).passed is True
