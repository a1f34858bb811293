"""Logging and monitoring rules: AZ-MON-001..006, AZ-KV-005 (vault audit logging), AZ-NET-009
(Network Watcher per region) and AZ-NET-010 (NSG flow logs)."""

from __future__ import annotations

from typing import Any

from scanner.engine import evaluate_rule
from scanner.inventory import Inventory
from scanner.rules.support.base import REGISTRY
from scanner.rules.keyvault import VAULT_DIAGNOSTIC_SETTINGS, VAULT_TYPE
from scanner.rules.monitoring import (
    ACTIVITY_LOG_SETTINGS,
    ALERT_TYPE,
    DEFENDER_PLANS,
    DEFENDER_PRICINGS,
    FLOW_LOGS,
    LOCATION_TYPE,
    NSG_TYPE,
    PRICING_TYPE,
    SUBSCRIPTION_TYPE,
    WATCHER_TYPE,
)
from tests.rules.builders import (
    SUB,
    Resource,
    arm,
    fail_child,
    fail_resource,
    inventory,
    nsg,
    only,
    run,
    set_child,
)

WORKSPACE = f"/subscriptions/{SUB}/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law"
SUB_SCOPE = f"/subscriptions/{SUB}"


def setting(name: str, logs: list[dict[str, Any]], **destinations: str) -> Resource:
    """A diagnostic setting (subscription or resource) in REST shape."""
    if not destinations:
        destinations = {"workspaceId": WORKSPACE}
    return {
        "id": f"{SUB_SCOPE}/providers/microsoft.insights/diagnosticSettings/{name}",
        "name": name,
        "type": "Microsoft.Insights/diagnosticSettings",
        "properties": {**destinations, "logs": logs},
    }


def cats(*names: str, enabled: bool = True) -> list[dict[str, Any]]:
    return [{"category": n, "enabled": enabled} for n in names]


def with_activity_settings(*settings: Resource) -> Inventory:
    inv = inventory()
    inv.subscription_reads[ACTIVITY_LOG_SETTINGS.key] = list(settings)
    return inv


# ------------------------------------------------------------------------- AZ-MON-001 / 002
def test_mon001_no_setting_fails_on_the_subscription() -> None:
    result = only("AZ-MON-001", with_activity_settings())
    assert result.passed is False
    assert (result.resource_id, result.resource_type, result.resource_name) == (SUB_SCOPE, SUBSCRIPTION_TYPE, SUB)
    assert result.detail == "no diagnostic setting exports the activity log"


def test_mon001_setting_without_destination_or_enabled_category_fails() -> None:
    no_destination = setting("nowhere", cats("Administrative"), workspaceId="")
    all_off = setting("all-off", cats("Administrative", "Security", enabled=False))
    result = only("AZ-MON-001", with_activity_settings(no_destination, all_off))
    assert result.passed is False
    assert "none sends" in result.detail and result.metadata["exporting"] == []


def test_mon001_exporting_setting_passes() -> None:
    inv = with_activity_settings(setting("to-storage", cats("Administrative"), storageAccountId="/x/st"))
    result = only("AZ-MON-001", inv)
    assert result.passed is True and result.metadata["exporting"] == ["to-storage"]


def test_mon002_missing_categories_fail() -> None:
    inv = with_activity_settings(setting("partial", cats("Administrative", "Security") + cats("Policy", enabled=False)))
    result = only("AZ-MON-002", inv)
    assert result.passed is False
    assert result.metadata["missing"] == ["Policy", "Alert"]
    assert result.detail == "not exported: Policy, Alert"


def test_mon002_categories_pooled_over_exporting_settings_only() -> None:
    split = with_activity_settings(
        setting("a", cats("Administrative", "Security")),
        setting("b", cats("Policy", "Alert"), eventHubAuthorizationRuleId="/x/rule"),
    )
    assert only("AZ-MON-002", split).passed is True
    # categories of a setting that sends nowhere do not count
    dead = with_activity_settings(setting("a", cats("Administrative", "Security")),
                                  setting("b", cats("Policy", "Alert"), workspaceId=""))
    assert only("AZ-MON-002", dead).metadata["missing"] == ["Policy", "Alert"]
    assert only("AZ-MON-002", with_activity_settings()).passed is False


def test_mon001_002_skipped_when_settings_unreadable() -> None:
    inv = inventory()
    inv.unavailable[ACTIVITY_LOG_SETTINGS.key] = "could not read the subscription's activity-log diagnostic settings (HTTP 403)"
    for rule_id in ("AZ-MON-001", "AZ-MON-002"):
        outcome, findings = evaluate_rule(REGISTRY[rule_id], inv)
        assert outcome.status == "skipped" and "HTTP 403" in (outcome.reason or "") and findings == []
        assert run(rule_id, inv) == []  # and the rule itself says nothing


# ------------------------------------------------------------------------- AZ-MON-003..005
def alert(name: str, *operations: str, enabled: Any = True, scopes: list[str] | None = None,
          extra: list[dict[str, Any]] | None = None, category: bool = True) -> Resource:
    clauses: list[dict[str, Any]] = [{"field": "category", "equals": "Administrative"}] if category else []
    if len(operations) == 1:
        clauses.append({"field": "operationName", "equals": operations[0]})
    elif operations:
        clauses.append({"anyOf": [{"field": "operationName", "equals": op} for op in operations]})
    props: dict[str, Any] = {
        "scopes": scopes if scopes is not None else [SUB_SCOPE],
        "condition": {"allOf": clauses + (extra or [])},
        "actions": {"actionGroups": [{"actionGroupId": "/x/ag"}]},
    }
    if enabled is not None:
        props["enabled"] = enabled
    return arm(ALERT_TYPE, name, props, location="Global")


def alerts_inventory(*alerts: Resource) -> Inventory:
    inv = inventory(*alerts)
    inv.resources.setdefault(ALERT_TYPE.lower(), [])  # collected, possibly none
    return inv


POLICY_WRITE = "Microsoft.Authorization/policyAssignments/write"
POLICY_DELETE = "Microsoft.Authorization/policyAssignments/delete"
NSG_WRITE = "Microsoft.Network/networkSecurityGroups/write"
NSG_DELETE = "Microsoft.Network/networkSecurityGroups/delete"


def test_mon003_no_alerts_fails_once_for_the_subscription() -> None:
    result = only("AZ-MON-003", alerts_inventory())
    assert result.passed is False and result.resource_id == SUB_SCOPE
    assert result.metadata["missing"] == [POLICY_WRITE, POLICY_DELETE]


def test_mon003_both_operations_needed() -> None:
    result = only("AZ-MON-003", alerts_inventory(alert("policy-write", POLICY_WRITE)))
    assert result.passed is False and result.metadata["missing"] == [POLICY_DELETE]
    both = alerts_inventory(alert("policy-write", POLICY_WRITE), alert("policy-delete", POLICY_DELETE.upper()))
    result = only("AZ-MON-003", both)
    assert result.passed is True
    assert result.metadata["coveredBy"] == {POLICY_WRITE: ["policy-write"], POLICY_DELETE: ["policy-delete"]}


def test_mon004_any_of_condition_and_absent_enabled_pass() -> None:
    inv = alerts_inventory(alert("nsg-changes", NSG_WRITE, NSG_DELETE, enabled=None))
    assert only("AZ-MON-004", inv).passed is True


def test_mon004_disabled_narrowed_or_wrongly_scoped_alerts_do_not_count() -> None:
    rg_scope = f"{SUB_SCOPE}/resourceGroups/rg-prod"
    inv = alerts_inventory(
        alert("disabled", NSG_WRITE, NSG_DELETE, enabled=False),
        alert("one-rg", NSG_WRITE, NSG_DELETE, scopes=[rg_scope]),
        alert("narrowed", NSG_WRITE, NSG_DELETE, extra=[{"field": "resourceGroup", "equals": "rg-prod"}]),
        alert("service-health", NSG_WRITE, NSG_DELETE, category=False,
              extra=[{"field": "category", "equals": "ServiceHealth"}]),
        alert("other-op", "Microsoft.Network/networkSecurityGroups/securityRules/write"),
    )
    result = only("AZ-MON-004", inv)
    assert result.passed is False and result.metadata["missing"] == [NSG_WRITE, NSG_DELETE]
    # a Succeeded-only status filter and an operation-free Administrative alert still fire on NSG changes
    broad = alerts_inventory(alert("all-admin", extra=[{"field": "status", "equals": "Succeeded"}]))
    assert only("AZ-MON-004", broad).passed is True


def test_mon005_unreadable_alert_means_not_evaluated() -> None:
    inv = alerts_inventory()
    fail_resource(inv, ALERT_TYPE, "locked-alert", "HTTP 403 AuthorizationFailed")
    result = only("AZ-MON-005", inv)
    assert result.passed is None and "HTTP 403" in result.detail
    covered = alerts_inventory(alert("sec", "Microsoft.Security/securitySolutions/write",
                                     "Microsoft.Security/securitySolutions/delete"))
    fail_resource(covered, ALERT_TYPE, "locked-alert", "HTTP 403")
    assert only("AZ-MON-005", covered).passed is True  # what could be read already covers it


def test_alert_rules_need_collected_alerts() -> None:
    assert run("AZ-MON-003", inventory()) == []  # alerts type not collected at all


# ------------------------------------------------------------------------------ AZ-MON-006
def pricing(name: str, tier: str) -> Resource:
    return {"id": f"{SUB_SCOPE}/providers/Microsoft.Security/pricings/{name}", "name": name,
            "type": PRICING_TYPE, "properties": {"pricingTier": tier}}


def test_mon006_one_verdict_per_plan() -> None:
    inv = inventory()
    inv.subscription_reads[DEFENDER_PRICINGS.key] = [
        pricing(name, "Standard" if name in ("VirtualMachines", "KeyVaults") else "Free")
        for name, _, _ in DEFENDER_PLANS if name != "CosmosDbs"
    ] + [pricing("Dns", "Free")]  # plans outside the list are ignored
    results = {r.resource_name: r for r in run("AZ-MON-006", inv)}
    assert set(results) == {name for name, _, _ in DEFENDER_PLANS}
    assert results["VirtualMachines"].passed is True and results["KeyVaults"].passed is True
    assert results["StorageAccounts"].passed is False
    assert results["StorageAccounts"].detail == "Defender for Storage is off (tier Free)"
    assert results["StorageAccounts"].metadata["cis"] == "2.1.7"
    assert results["StorageAccounts"].resource_type == PRICING_TYPE
    assert results["CosmosDbs"].passed is None  # not reported
    assert sum(r.passed is False for r in results.values()) == 7


def test_mon006_skipped_when_pricings_forbidden() -> None:
    inv = inventory()
    inv.unavailable[DEFENDER_PRICINGS.key] = "could not read Microsoft Defender for Cloud plans (pricings) (HTTP 403)"
    outcome, _ = evaluate_rule(REGISTRY["AZ-MON-006"], inv)
    assert outcome.status == "skipped" and "pricings" in (outcome.reason or "")


# ------------------------------------------------------------------------------- AZ-KV-005
def vault(name: str = "kv1") -> Resource:
    return arm(VAULT_TYPE, name, {"tenantId": "t"})


def test_kv005_audit_category_or_group_to_a_destination_passes() -> None:
    for logs in (cats("AuditEvent"), [{"categoryGroup": "audit", "enabled": True}],
                 [{"categoryGroup": "allLogs", "enabled": True}]):
        kv = vault()
        inv = inventory(kv)
        set_child(inv, VAULT_DIAGNOSTIC_SETTINGS, kv, [setting("audit", logs)])
        result = only("AZ-KV-005", inv)
        assert result.passed is True and result.metadata["auditLogTo"] == ["audit"], logs


def test_kv005_no_setting_or_useless_settings_fail() -> None:
    bare, useless = vault("kv-bare"), vault("kv-useless")
    inv = inventory(bare, useless)
    set_child(inv, VAULT_DIAGNOSTIC_SETTINGS, bare, [])
    set_child(inv, VAULT_DIAGNOSTIC_SETTINGS, useless, [
        setting("policy-only", cats("AzurePolicyEvaluationDetails")),
        setting("audit-off", cats("AuditEvent", enabled=False)),
        setting("nowhere", cats("AuditEvent"), workspaceId=""),
    ])
    results = {r.resource_name: r for r in run("AZ-KV-005", inv)}
    assert results["kv-bare"].passed is False and results["kv-bare"].detail == "no diagnostic setting"
    assert results["kv-useless"].passed is False
    assert results["kv-useless"].metadata["diagnosticSettings"] == ["audit-off", "nowhere", "policy-only"]


def test_kv005_unreadable_settings_and_vault_not_evaluated() -> None:
    kv = vault()
    inv = inventory(kv)
    fail_child(inv, VAULT_DIAGNOSTIC_SETTINGS, kv, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, VAULT_TYPE, "locked", "HTTP 403")
    results = sorted((r.resource_name, r.passed, r.detail) for r in run("AZ-KV-005", inv))
    assert results == [("kv1", None, "diagnostic settings could not be read: HTTP 403 AuthorizationFailed"),
                       ("locked", None, "key vault could not be read: HTTP 403")]


# ------------------------------------------------------------------------------ AZ-NET-009
def watcher(region: str, state: str = "Succeeded") -> Resource:
    return arm(WATCHER_TYPE, f"NetworkWatcher_{region}", {"provisioningState": state},
               rg="NetworkWatcherRG", location=region)


def test_net009_regions_with_and_without_watchers() -> None:
    inv = inventory(watcher("westeurope"), watcher("northeurope", "Failed"))
    inv.locations = {"westeurope": 5, "northeurope": 2, "eastus": 3, "global": 4}
    results = {r.resource_name: r for r in run("AZ-NET-009", inv)}
    assert set(results) == {"westeurope", "northeurope", "eastus"}  # 'global' is no region
    assert results["westeurope"].passed is True
    assert results["eastus"].passed is False
    assert results["eastus"].detail == "3 resource(s) in eastus but no working Network Watcher"
    assert results["eastus"].resource_id == f"{SUB_SCOPE}/locations/eastus"
    assert results["eastus"].resource_type == LOCATION_TYPE
    assert results["northeurope"].passed is False and "Failed" in results["northeurope"].detail


def test_net009_unreadable_watcher_means_not_evaluated() -> None:
    inv = inventory(watcher("westeurope"))
    inv.locations = {"westeurope": 1, "eastus": 1}
    fail_resource(inv, WATCHER_TYPE, "NetworkWatcher_eastus", "HTTP 403")
    results = {r.resource_name: r.passed for r in run("AZ-NET-009", inv)}
    assert results == {"westeurope": True, "eastus": None}


# ------------------------------------------------------------------------------ AZ-NET-010
def flow_log(name: str, target: Resource, *, enabled: Any = True, retention: dict[str, Any] | None = None) -> Resource:
    props: dict[str, Any] = {"targetResourceId": target["id"].upper(), "storageId": "/x/st", "enabled": enabled}
    if retention is not None:
        props["retentionPolicy"] = retention
    return {"id": f"/x/flowLogs/{name}", "name": name, "type": "Microsoft.Network/networkWatchers/flowLogs",
            "properties": props}


def test_net010_flow_log_states() -> None:
    groups = {name: nsg(name) for name in ("nsg-90", "nsg-30", "nsg-off", "nsg-none", "nsg-forever", "nsg-two")}
    nw = watcher("westeurope")
    inv = inventory(nw, *groups.values())
    set_child(inv, FLOW_LOGS, nw, [
        flow_log("fl-90", groups["nsg-90"], retention={"enabled": True, "days": 90}),
        flow_log("fl-30", groups["nsg-30"], retention={"enabled": True, "days": 30}),
        flow_log("fl-off", groups["nsg-off"], enabled=False, retention={"enabled": True, "days": 365}),
        flow_log("fl-forever", groups["nsg-forever"], retention={"enabled": True, "days": 0}),
        flow_log("fl-two-short", groups["nsg-two"], retention={"enabled": True, "days": 7}),
        flow_log("fl-two-ok", groups["nsg-two"], retention={"enabled": False, "days": 0}),
    ])
    results = {r.resource_name: r for r in run("AZ-NET-010", inv)}
    assert {k: r.passed for k, r in results.items()} == {
        "nsg-90": True, "nsg-30": False, "nsg-off": False, "nsg-none": False, "nsg-forever": True, "nsg-two": True}
    assert results["nsg-30"].detail == "flow log fl-30 keeps 30 day(s), less than 90"
    assert results["nsg-off"].detail == "flow log fl-off is disabled"
    assert results["nsg-none"].detail == "no flow log targets this NSG"
    assert results["nsg-30"].resource_type == NSG_TYPE


def test_net010_unreadable_flow_logs_and_nsgs_not_evaluated() -> None:
    covered, other = nsg("nsg-covered"), nsg("nsg-other")
    nw_ok, nw_locked = watcher("westeurope"), watcher("eastus")
    inv = inventory(nw_ok, nw_locked, covered, other)
    set_child(inv, FLOW_LOGS, nw_ok, [flow_log("fl", covered, retention={"enabled": True, "days": 120})])
    fail_child(inv, FLOW_LOGS, nw_locked, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, NSG_TYPE, "nsg-locked", "HTTP 403")
    results = {r.resource_name: (r.passed, r.detail) for r in run("AZ-NET-010", inv)}
    assert results == {
        "nsg-covered": (True, "flow log fl enabled, kept 120 days"),
        "nsg-other": (None, "flow logs could not be read: HTTP 403 AuthorizationFailed"),
        "nsg-locked": (None, "network security group could not be read: HTTP 403"),
    }


# ------------------------------------------------------------------------ needs and odd data
def test_subscription_reads_are_required_and_merged_once() -> None:
    from scanner.inventory import Needs

    union = Needs.union(REGISTRY[r].needs for r in ("AZ-MON-001", "AZ-MON-002", "AZ-MON-006", "AZ-KV-001"))
    assert union.subscription_reads == (ACTIVITY_LOG_SETTINGS, DEFENDER_PRICINGS)
    assert "sub:providers/microsoft.insights/diagnosticsettings" in REGISTRY["AZ-MON-001"].needs.required_keys()
    assert REGISTRY["AZ-MON-006"].needs.required_keys() == ["sub:providers/microsoft.security/pricings"]


def test_subscription_level_rules_tolerate_odd_rest_data() -> None:
    odd: list[Any] = [None, {}, {"properties": None}, {"name": "x", "properties": {"logs": None, "workspaceId": "/w"}},
                      {"properties": {"logs": [None, {"category": None, "enabled": "true"}], "workspaceId": "/w"}},
                      {"name": "Arm", "properties": {"pricingTier": None}}]
    inv = inventory(arm(ALERT_TYPE, "odd", {"scopes": None, "condition": {"allOf": [None, {"anyOf": None}]}}),
                    arm(ALERT_TYPE, "odd2", {"scopes": [SUB_SCOPE], "condition": {"allOf": [{"anyOf": [None]}]}}),
                    arm(WATCHER_TYPE, "w", None, location=None))
    inv.subscription_reads = {ACTIVITY_LOG_SETTINGS.key: odd, DEFENDER_PRICINGS.key: odd}
    inv.locations = {"westeurope": 1}
    outcomes = {r: [e.passed for e in run(r, inv)] for r in
                ("AZ-MON-001", "AZ-MON-002", "AZ-MON-003", "AZ-MON-006", "AZ-NET-009")}
    assert outcomes["AZ-MON-001"] == [False] and outcomes["AZ-MON-002"] == [False]
    assert outcomes["AZ-MON-003"] == [False] and outcomes["AZ-NET-009"] == [False]
    assert outcomes["AZ-MON-006"].count(False) == 1 and outcomes["AZ-MON-006"].count(None) == 9
