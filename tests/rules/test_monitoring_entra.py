"""AZ-MON-017/019: Entra ID diagnostic settings send Microsoft Graph activity logs, and audit
plus sign-in logs (CIS v6 6.1.1.7, 6.1.1.8), read at the tenant (microsoft.aadiam)."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.engine import evaluate_rule
from scanner.rules.monitoring import ENTRA_DIAGNOSTIC_SETTINGS
from scanner.rules.support.base import REGISTRY
from tests.rules.builders import inventory, only, run

WORKSPACE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law"


def setting(name: str, workspace: str | None = WORKSPACE, groups: tuple[str, ...] = (), **logs: bool) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [{"category": c, "enabled": on, "retentionPolicy": {"days": 0, "enabled": False}}
                                     for c, on in logs.items()]
    entries += [{"categoryGroup": g, "enabled": True} for g in groups]
    props: dict[str, Any] = {"logs": entries}
    if workspace:
        props["workspaceId"] = workspace
    return {"id": f"/providers/microsoft.aadiam/diagnosticSettings/{name}", "name": name,
            "type": "microsoft.aadiam/diagnosticSettings", "properties": props}


def with_settings(*settings: dict[str, Any]) -> Any:
    inv = inventory()
    inv.subscription_reads[ENTRA_DIAGNOSTIC_SETTINGS.key] = list(settings)
    return inv


def test_the_read_is_tenant_level_and_pinned() -> None:
    from scanner.azure.api_versions import subscription_read_api_version

    assert ENTRA_DIAGNOSTIC_SETTINGS.tenant_level
    assert subscription_read_api_version(ENTRA_DIAGNOSTIC_SETTINGS) == "2017-04-01"


def test_mon018_graph_activity_logs() -> None:
    good = only("AZ-MON-017", with_settings(setting("audit", AuditLogs=True),
                                           setting("graph", MicrosoftGraphActivityLogs=True)))
    assert (good.passed, good.detail) == (True, "Microsoft Graph activity logs sent by: graph")
    assert (good.resource_id, good.resource_type) == ("/providers/microsoft.aadiam/diagnosticSettings",
                                                      "microsoft.aadiam/diagnosticSettings")
    off = only("AZ-MON-017", with_settings(setting("graph", MicrosoftGraphActivityLogs=False, AuditLogs=True)))
    assert (off.passed, off.detail) == (False, "no Entra ID diagnostic setting sends MicrosoftGraphActivityLogs "
                                               "to a destination")
    # enabled but with no destination: exports nothing
    nowhere = only("AZ-MON-017", with_settings(setting("graph", workspace=None, MicrosoftGraphActivityLogs=True)))
    assert nowhere.passed is False
    none = only("AZ-MON-017", with_settings())
    assert (none.passed, none.detail) == (False, "no Entra ID diagnostic setting: Microsoft Graph activity logs "
                                                 "are not exported")


def test_mon019_needs_both_audit_and_sign_in_logs() -> None:
    split = only("AZ-MON-018", with_settings(setting("a", AuditLogs=True), setting("b", SignInLogs=True)))
    assert split.passed is True and split.metadata["sentBy"] == {"AuditLogs": ["a"], "SignInLogs": ["b"]}
    half = only("AZ-MON-018", with_settings(setting("a", AuditLogs=True, SignInLogs=False)))
    assert (half.passed, half.metadata["missing"]) == (False, ["SignInLogs"])
    assert only("AZ-MON-018", with_settings(setting("all", groups=("allLogs",)))).passed is True


@pytest.mark.parametrize("rule_id", ["AZ-MON-017", "AZ-MON-018"])
def test_unreadable_settings_skip_with_the_permission_named(rule_id: str) -> None:
    inv = inventory()
    inv.unavailable[ENTRA_DIAGNOSTIC_SETTINGS.key] = (
        "could not read Entra ID diagnostic settings (HTTP 403 AuthorizationFailed): grant a role with "
        "microsoft.aadiam/diagnosticSettings/read at the tenant root scope '/'")
    outcome, findings = evaluate_rule(REGISTRY[rule_id], inv)
    assert outcome.status == "skipped" and "microsoft.aadiam/diagnosticSettings/read" in (outcome.reason or "")
    assert findings == [] and run(rule_id, inv) == []


def test_demo_tenant_violates_both() -> None:
    from tests.fakeazure import tenants as T

    tenant = T.demo_tenant()
    inv = with_settings(*tenant["children"]["/providers/microsoft.aadiam/diagnosticSettings"])
    assert only("AZ-MON-017", inv).passed is False
    assert only("AZ-MON-018", inv).metadata["missing"] == ["SignInLogs"]
