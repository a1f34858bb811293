"""Logging and monitoring rules: AZ-MON-001..006 (activity-log export and alerts, Defender for
Cloud plans)."""

from __future__ import annotations

import pytest

from typing import Any

from scanner.engine import evaluate_rule
from scanner.inventory import Inventory
from scanner.rules.monitoring import ACTIVITY_LOG_SETTINGS, ALERT_TYPE, DEFENDER_PLANS, DEFENDER_PRICINGS
from scanner.rules.monitoring import PRICING_TYPE
from scanner.rules.network import WATCHER_TYPE
from scanner.rules.support.base import REGISTRY
from scanner.rules.support.helpers import SUBSCRIPTION_TYPE
from tests.rules.builders import SUB, Resource, arm, categories, diagnostic_setting, fail_resource, inventory
from tests.rules.builders import only, run

SUB_SCOPE = f"/subscriptions/{SUB}"

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
    no_destination = diagnostic_setting("nowhere", categories("Administrative"), workspaceId="")
    all_off = diagnostic_setting("all-off", categories("Administrative", "Security", enabled=False))
    result = only("AZ-MON-001", with_activity_settings(no_destination, all_off))
    assert result.passed is False
    assert "none sends" in result.detail and result.metadata["exporting"] == []

def test_mon001_exporting_setting_passes() -> None:
    inv = with_activity_settings(diagnostic_setting("to-storage", categories("Administrative"), storageAccountId="/x/st"))
    result = only("AZ-MON-001", inv)
    assert result.passed is True and result.metadata["exporting"] == ["to-storage"]

def test_mon002_missing_categories_fail() -> None:
    inv = with_activity_settings(diagnostic_setting("partial", categories("Administrative", "Security") + categories("Policy", enabled=False)))
    result = only("AZ-MON-002", inv)
    assert result.passed is False
    assert result.metadata["missing"] == ["Policy", "Alert"]
    assert result.detail == "not exported: Policy, Alert"

def test_mon002_categories_pooled_over_exporting_settings_only() -> None:
    split = with_activity_settings(
        diagnostic_setting("a", categories("Administrative", "Security")),
        diagnostic_setting("b", categories("Policy", "Alert"), eventHubAuthorizationRuleId="/x/rule"),
    )
    assert only("AZ-MON-002", split).passed is True
    # categories of a setting that sends nowhere do not count
    dead = with_activity_settings(diagnostic_setting("a", categories("Administrative", "Security")),
                                  diagnostic_setting("b", categories("Policy", "Alert"), workspaceId=""))
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
    ] + [pricing("Dns", "Free"), pricing("FutureThing", "Free")]  # plans outside the list are ignored
    results = {r.resource_name: r for r in run("AZ-MON-006", inv)}
    assert set(results) == {name for name, _, _ in DEFENDER_PLANS}
    assert results["VirtualMachines"].passed is True and results["KeyVaults"].passed is True
    assert results["StorageAccounts"].passed is False
    assert results["StorageAccounts"].detail == "Defender for Storage is off (tier Free)"
    assert results["StorageAccounts"].metadata["cis"] == "2.1.7"
    assert results["StorageAccounts"].resource_type == PRICING_TYPE
    assert results["CosmosDbs"].passed is None  # not reported
    assert sum(r.passed is False for r in results.values()) == 10  # 7 + Dns, Api, CloudPosture (CSPM)
    assert "FutureThing" not in results and results["CloudPosture"].detail == "Defender for CSPM is off (tier Free)"

def test_mon006_skipped_when_pricings_forbidden() -> None:
    inv = inventory()
    inv.unavailable[DEFENDER_PRICINGS.key] = "could not read Microsoft Defender for Cloud plans (pricings) (HTTP 403)"
    outcome, _ = evaluate_rule(REGISTRY["AZ-MON-006"], inv)
    assert outcome.status == "skipped" and "pricings" in (outcome.reason or "")

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
                ("AZ-MON-001", "AZ-MON-002", "AZ-MON-003", "AZ-MON-006", "AZ-MON-009", "AZ-NET-009")}
    assert outcomes["AZ-MON-001"] == [False] and outcomes["AZ-MON-002"] == [False]
    assert outcomes["AZ-MON-003"] == [False] and outcomes["AZ-NET-009"] == [False] == outcomes["AZ-MON-009"]
    assert outcomes["AZ-MON-006"].count(False) == 1 and outcomes["AZ-MON-006"].count(None) == len(DEFENDER_PLANS) - 1


# ------------------------------------------------------------------------- AZ-MON-007..009
SQL_FW_WRITE, SQL_FW_DELETE = "Microsoft.Sql/servers/firewallRules/write", "Microsoft.Sql/servers/firewallRules/delete"
PIP_WRITE, PIP_DELETE = "Microsoft.Network/publicIPAddresses/write", "Microsoft.Network/publicIPAddresses/delete"


@pytest.mark.parametrize(("rule_id", "write", "delete"), [("AZ-MON-007", SQL_FW_WRITE, SQL_FW_DELETE),
                                                           ("AZ-MON-008", PIP_WRITE, PIP_DELETE)])
def test_mon007_008_need_both_operations_alerted(rule_id: str, write: str, delete: str) -> None:
    partial = only(rule_id, alerts_inventory(alert("write-only", write)))
    assert (partial.passed, partial.metadata["missing"]) == (False, [delete])
    assert only(rule_id, alerts_inventory(alert("both", write, delete))).passed is True
    unread = alerts_inventory()
    fail_resource(unread, ALERT_TYPE, "locked", "HTTP 403")
    assert only(rule_id, unread).passed is None


def service_health(name: str, **kw: Any) -> Resource:
    return alert(name, category=False, extra=[{"field": "category", "equals": "ServiceHealth"},
                                              {"field": "properties.incidentType", "equals": "Incident"}], **kw)


def test_mon009_service_health_alert() -> None:
    assert only("AZ-MON-009", alerts_inventory(service_health("sh"))).passed is True
    rg_only = service_health("sh-rg", scopes=[f"{SUB_SCOPE}/resourceGroups/rg-prod"])
    failing = only("AZ-MON-009", alerts_inventory(service_health("sh-off", enabled=False), rg_only,
                                                  alert("admin", NSG_WRITE)))
    assert (failing.passed, failing.detail) == (
        False, "no enabled subscription-wide activity log alert for ServiceHealth events")
    unread = alerts_inventory()
    fail_resource(unread, ALERT_TYPE, "locked", "HTTP 403")
    assert only("AZ-MON-009", unread).passed is None
    assert run("AZ-MON-009", inventory()) == []
