"""AZ-DEF-001..007: Defender for Cloud security contacts, auto-provisioning and integrations."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.engine import evaluate_rule
from scanner.rules.defender import (
    AUTO_PROVISIONING,
    IOT_HUB_TYPE,
    IOT_SECURITY_SOLUTIONS,
    SECURITY_CONTACTS,
    SECURITY_SETTINGS,
)
from scanner.rules.support.base import REGISTRY
from tests.rules.builders import SUB, arm, inventory, only, run, with_unreadable

SUBSCRIPTION = f"/subscriptions/{SUB}"


def contact(**properties: Any) -> dict[str, Any]:
    return {"id": f"{SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default", "name": "default",
            "properties": properties}


GOOD_CONTACT = contact(emails="soc@contoso.com;ciso@contoso.com", phone="+1-555-0100",
                       alertNotifications={"state": "On", "minimalSeverity": "Medium"},
                       notificationsByRole={"state": "On", "roles": ["Owner", "ServiceAdmin"]})
BAD_CONTACT = contact(emails="", alertNotifications={"state": "Off"},
                      notificationsByRole={"state": "On", "roles": ["AccountAdmin"]})


def with_reads(**reads: list[Any]) -> Any:
    inv = inventory()
    keys = {"contacts": SECURITY_CONTACTS.key, "provisioning": AUTO_PROVISIONING.key, "settings": SECURITY_SETTINGS.key}
    for name, payload in reads.items():
        inv.subscription_reads[keys[name]] = payload
    return inv


@pytest.mark.parametrize(("rule_id", "good_detail", "bad_detail"), [
    ("AZ-DEF-001", "2 security contact email(s) configured", "no security contact email configured"),
    ("AZ-DEF-002", "a security contact phone number is configured", "no security contact phone number configured"),
    ("AZ-DEF-003", "alerts of severity Medium or higher are emailed", "alert email notifications are off"),
    ("AZ-DEF-004", "alerts are emailed to: Owner, ServiceAdmin", "alert emails are not sent to subscription Owners"),
])
def test_contact_rules(rule_id: str, good_detail: str, bad_detail: str) -> None:
    good = only(rule_id, with_reads(contacts=[GOOD_CONTACT]))
    assert (good.passed, good.detail, good.resource_id) == (True, good_detail, SUBSCRIPTION)
    bad = only(rule_id, with_reads(contacts=[BAD_CONTACT]))
    assert (bad.passed, bad.detail) == (False, bad_detail)
    assert only(rule_id, with_reads(contacts=[])).passed is False  # no contact at all


@pytest.mark.parametrize(("state", "passed"), [("On", True), ("Off", False)])
def test_def005_auto_provisioning(state: str, passed: bool) -> None:
    inv = with_reads(provisioning=[{"name": "default", "properties": {"autoProvision": state}}])
    assert only("AZ-DEF-005", inv).passed is passed


@pytest.mark.parametrize(("rule_id", "name"), [("AZ-DEF-006", "MCAS"), ("AZ-DEF-007", "WDATP")])
def test_integrations(rule_id: str, name: str) -> None:
    on = with_reads(settings=[{"name": name, "kind": "DataExportSettings", "properties": {"enabled": True}}])
    off = with_reads(settings=[{"name": name, "kind": "DataExportSettings", "properties": {"enabled": False}}])
    assert only(rule_id, on).passed is True
    assert only(rule_id, off).passed is False
    assert only(rule_id, with_reads(settings=[])).detail.endswith("is not configured")


@pytest.mark.parametrize("rule_id", [f"AZ-DEF-00{n}" for n in range(1, 8)])
def test_unreadable_settings_skip_the_rule_with_the_reason(rule_id: str) -> None:
    inv = inventory()
    for read in REGISTRY[rule_id].needs.subscription_reads:
        inv.unavailable[read.key] = f"could not read {read.label} (HTTP 403)"
    outcome, findings = evaluate_rule(REGISTRY[rule_id], inv)
    assert outcome.status == "skipped" and "HTTP 403" in (outcome.reason or "") and findings == []
    assert run(rule_id, inv) == []


# ------------------------------------------------------------------ AZ-DEF-009, AZ-DEF-010
def servers_pricing(tier: str, **extensions: str) -> dict[str, Any]:
    """The VirtualMachines pricing as api-version 2024-01-01 lists it (``isEnabled`` a string)."""
    return {"id": f"{SUBSCRIPTION}/providers/Microsoft.Security/pricings/VirtualMachines", "name": "VirtualMachines",
            "type": "Microsoft.Security/pricings",
            "properties": {"pricingTier": tier, "subPlan": "P2" if tier == "Standard" else None,
                           "extensions": [{"name": n, "isEnabled": v} for n, v in extensions.items()]}}


def with_pricings(*pricings: dict[str, Any]) -> Any:
    from scanner.rules.monitoring import DEFENDER_PRICINGS

    inv = inventory()
    inv.subscription_reads[DEFENDER_PRICINGS.key] = list(pricings)
    return inv


@pytest.mark.parametrize(("rule_id", "extension"), [("AZ-DEF-009", "AgentlessVmScanning"),
                                                     ("AZ-DEF-010", "FileIntegrityMonitoring")])
def test_servers_components(rule_id: str, extension: str) -> None:
    other = "FileIntegrityMonitoring" if extension == "AgentlessVmScanning" else "AgentlessVmScanning"
    on = only(rule_id, with_pricings(servers_pricing("Standard", **{extension: "True", other: "False"})))
    assert on.passed is True and on.resource_id == SUBSCRIPTION and extension in on.detail
    off = only(rule_id, with_pricings(servers_pricing("Standard", **{extension: "False", other: "True"})))
    assert (off.passed, off.detail.endswith(f"({extension}) is off")) == (False, True)
    missing = only(rule_id, with_pricings(servers_pricing("Standard", **{other: "True"})))
    assert missing.passed is False and "not among" in missing.detail
    # the plan off: the component cannot run, whatever the extension list says
    free = only(rule_id, with_pricings(servers_pricing("Free", **{extension: "True"})))
    assert free.passed is False and "Defender for Servers is not on (tier Free)" in free.detail
    # the plan absent from the answer: not evaluated
    unknown = only(rule_id, with_pricings({"name": "KeyVaults", "properties": {"pricingTier": "Standard"}}))
    assert unknown.passed is None


@pytest.mark.parametrize("rule_id", ["AZ-DEF-009", "AZ-DEF-010"])
def test_servers_components_skip_when_pricings_unreadable(rule_id: str) -> None:
    inv = inventory()
    (read,) = REGISTRY[rule_id].needs.subscription_reads
    inv.unavailable[read.key] = f"could not read {read.label} (HTTP 403)"
    outcome, findings = evaluate_rule(REGISTRY[rule_id], inv)
    assert outcome.status == "skipped" and "HTTP 403" in (outcome.reason or "") and findings == []


def test_servers_components_across_the_demo_estate() -> None:
    """The demo's primary subscription leaves both components off, the shared-services one has
    both on, the sandbox has Defender for Servers on Free (violating)."""
    from scanner.rules.monitoring import DEFENDER_PRICINGS
    from tests.fakeazure import estate as E

    tenant = E.demo_estate()
    subs = {s["subscriptionId"]: s["children"] for s in tenant["subscriptions"]}
    subs[tenant["subscriptionId"]] = tenant["children"]
    verdicts = {}
    for sub, children in subs.items():
        inv = inventory()
        inv.subscription_reads[DEFENDER_PRICINGS.key] = children[f"/subscriptions/{sub}/providers/Microsoft.Security/pricings"]
        verdicts[sub] = (only("AZ-DEF-009", inv).passed, only("AZ-DEF-010", inv).passed)
    assert verdicts == {tenant["subscriptionId"]: (False, False), E.DEMO_CLEAN_ID: (True, True),
                        E.DEMO_BAD_ID: (False, False)}


# ------------------------------------------------- api-version 2023-12-01-preview contacts, AZ-DEF-011
def contact_v2023(*sources: dict[str, str], enabled: bool = True) -> dict[str, Any]:
    return contact(emails="soc@contoso.com", phone="", isEnabled=enabled,
                   notificationsByRole={"state": "On", "roles": ["Owner"]}, notificationsSources=list(sources))


ALERT = {"sourceType": "Alert", "minimalSeverity": "Low"}
ATTACK_PATH = {"sourceType": "AttackPath", "minimalRiskLevel": "Critical"}


def test_def003_reads_the_alert_notification_source() -> None:
    on = only("AZ-DEF-003", with_reads(contacts=[contact_v2023(ALERT)]))
    assert (on.passed, on.detail) == (True, "alerts of severity Low or higher are emailed")
    assert only("AZ-DEF-003", with_reads(contacts=[contact_v2023(ATTACK_PATH)])).passed is False
    # a disabled contact notifies no one
    assert only("AZ-DEF-003", with_reads(contacts=[contact_v2023(ALERT, enabled=False)])).passed is False


def test_def012_attack_path_notifications() -> None:
    on = only("AZ-DEF-011", with_reads(contacts=[contact_v2023(ALERT, ATTACK_PATH)]))
    assert (on.passed, on.detail, on.resource_id) == (True, "attack paths of risk level Critical or higher are emailed",
                                                      SUBSCRIPTION)
    assert on.metadata["minimalRiskLevel"] == "Critical"
    off = only("AZ-DEF-011", with_reads(contacts=[contact_v2023(ALERT)]))
    assert (off.passed, off.detail) == (False, "attack-path email notifications are off")
    assert only("AZ-DEF-011", with_reads(contacts=[contact_v2023(ATTACK_PATH, enabled=False)])).passed is False
    assert only("AZ-DEF-011", with_reads(contacts=[GOOD_CONTACT])).passed is False  # the older shape has none
    assert only("AZ-DEF-011", with_reads(contacts=[])).passed is False


def test_def012_skipped_when_contacts_unreadable() -> None:
    inv = inventory()
    inv.unavailable[SECURITY_CONTACTS.key] = f"could not read {SECURITY_CONTACTS.label} (HTTP 403)"
    outcome, findings = evaluate_rule(REGISTRY["AZ-DEF-011"], inv)
    assert outcome.status == "skipped" and "HTTP 403" in (outcome.reason or "") and findings == []


def test_contacts_across_the_demo_estate() -> None:
    """Primary: every contact rule violated; shared services: all compliant; sandbox: no contact."""
    from tests.fakeazure import estate as E

    tenant = E.demo_estate()
    subs = {s["subscriptionId"]: s["children"] for s in tenant["subscriptions"]}
    subs[tenant["subscriptionId"]] = tenant["children"]
    rules = ("AZ-DEF-001", "AZ-DEF-002", "AZ-DEF-003", "AZ-DEF-004", "AZ-DEF-011")
    verdicts = {}
    for sub, children in subs.items():
        inv = with_reads(contacts=children.get(f"/subscriptions/{sub}/providers/Microsoft.Security/securityContacts", []))
        verdicts[sub] = {only(r, inv).passed for r in rules}
    assert verdicts == {tenant["subscriptionId"]: {False}, E.DEMO_CLEAN_ID: {True}, E.DEMO_BAD_ID: {False}}


# ------------------------------------------------------------------------------------ AZ-DEF-012
def va_setting(provider: str | None = "MdeTvm") -> dict[str, Any]:
    return {"id": f"{SUBSCRIPTION}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/azureServersSetting",
            "name": "azureServersSetting", "type": "Microsoft.Security/serverVulnerabilityAssessmentsSettings",
            "kind": "AzureServersSetting", "properties": {"selectedProvider": provider} if provider else {}}


def with_va(settings: list[dict[str, Any]], tier: str = "Standard") -> Any:
    from scanner.rules.defender import SERVER_VA_SETTINGS

    inv = with_pricings(servers_pricing(tier))
    inv.subscription_reads[SERVER_VA_SETTINGS.key] = settings
    return inv


def test_def013_vulnerability_assessment() -> None:
    on = only("AZ-DEF-012", with_va([va_setting()]))
    assert (on.passed, on.detail) == (True, "vulnerability assessment for machines is on (provider MdeTvm)")
    off = only("AZ-DEF-012", with_va([]))
    assert (off.passed, off.detail) == (False, "vulnerability assessment for machines is off (no provider selected)")
    assert only("AZ-DEF-012", with_va([va_setting(None)])).passed is False
    free = only("AZ-DEF-012", with_va([va_setting()], tier="Free"))
    assert free.passed is False and "Defender for Servers is not on (tier Free)" in free.detail


def test_def013_skipped_when_either_read_is_unreadable() -> None:
    from scanner.rules.defender import SERVER_VA_SETTINGS
    from scanner.rules.monitoring import DEFENDER_PRICINGS

    for read in (SERVER_VA_SETTINGS, DEFENDER_PRICINGS):
        inv = with_va([va_setting()])
        del inv.subscription_reads[read.key]
        inv.unavailable[read.key] = f"could not read {read.label} (HTTP 403)"
        outcome, findings = evaluate_rule(REGISTRY["AZ-DEF-012"], inv)
        assert outcome.status == "skipped" and read.label in (outcome.reason or "") and findings == []


def test_def013_across_the_demo_estate() -> None:
    from scanner.rules.defender import SERVER_VA_SETTINGS
    from scanner.rules.monitoring import DEFENDER_PRICINGS
    from tests.fakeazure import estate as E

    tenant = E.demo_estate()
    subs = {s["subscriptionId"]: s["children"] for s in tenant["subscriptions"]}
    subs[tenant["subscriptionId"]] = tenant["children"]
    verdicts = {}
    for sub, children in subs.items():
        base = f"/subscriptions/{sub}/providers/Microsoft.Security"
        inv = inventory()
        inv.subscription_reads[DEFENDER_PRICINGS.key] = children[f"{base}/pricings"]
        inv.subscription_reads[SERVER_VA_SETTINGS.key] = children.get(f"{base}/serverVulnerabilityAssessmentsSettings", [])
        verdicts[sub] = only("AZ-DEF-012", inv).passed
    assert verdicts == {tenant["subscriptionId"]: False, E.DEMO_CLEAN_ID: True, E.DEMO_BAD_ID: False}


# ------------------------------------------------------------------ AZ-DEF-013 Defender for IoT Hub
def _iot_solution(name: str, hubs: list[str], status: str | None = "Enabled") -> dict[str, Any]:
    properties: dict[str, Any] = {"displayName": name, "iotHubs": hubs, "export": [], "disabledDataSources": []}
    if status is not None:
        properties["status"] = status
    return {"id": f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Security/iotSecuritySolutions/{name}",
            "name": name, "type": "Microsoft.Security/iotSecuritySolutions", "location": "westeurope",
            "properties": properties}


def test_def013_hub_covered_by_an_enabled_solution_passes_others_fail() -> None:
    covered, off, bare = (arm(IOT_HUB_TYPE, n, {"state": "Active"}) for n in ("covered", "off", "bare"))
    inv = inventory(covered, off, bare)
    inv.subscription_reads[IOT_SECURITY_SOLUTIONS.key] = [
        _iot_solution("sec-a", [covered["id"].upper()], status=None),   # status absent: Enabled; ids compared case-insensitively
        _iot_solution("sec-b", [off["id"]], status="Disabled")]
    results = {r.resource_name: (r.passed, r.detail) for r in run("AZ-DEF-013", inv)}
    assert results == {"covered": (True, "Defender for IoT is enabled by sec-a"),
                       "off": (False, "Defender for IoT solution(s) sec-b are disabled"),
                       "bare": (False, "no Defender for IoT security solution covers the hub")}


def test_def013_unreadable_solutions_skip_and_unreadable_hub_not_evaluated() -> None:
    inv = inventory(arm(IOT_HUB_TYPE, "hub", {}))
    inv.unavailable[IOT_SECURITY_SOLUTIONS.key] = "HTTP 403 AuthorizationFailed"
    outcome, findings = evaluate_rule(REGISTRY["AZ-DEF-013"], inv)
    assert outcome.status == "skipped" and "403" in (outcome.reason or "") and findings == []
    locked = with_unreadable(IOT_HUB_TYPE, "locked", "HTTP 403 AuthorizationFailed")
    locked.subscription_reads[IOT_SECURITY_SOLUTIONS.key] = []
    assert [(r.passed, r.detail) for r in run("AZ-DEF-013", locked)] == [
        (None, "IoT hub could not be read: HTTP 403 AuthorizationFailed")]
