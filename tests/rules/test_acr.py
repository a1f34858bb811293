"""AZ-ACR-001..003: container registry admin user, anonymous pull and network exposure."""

from __future__ import annotations

from typing import Any

from scanner.rules.acr import ACR_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run


ACR_RULES = ["AZ-ACR-001", "AZ-ACR-002", "AZ-ACR-003"]


def registry(**properties: Any) -> Resource:
    return arm(ACR_TYPE, "acr1", {"loginServer": "acr1.azurecr.io", **properties},
               sku={"name": "Premium", "tier": "Premium"})


# --- ACR ---------------------------------------------------------------------------------------


def test_acr001_admin_user_enabled_fails() -> None:
    result = only("AZ-ACR-001", inventory(registry(adminUserEnabled=True)))
    assert result.passed is False
    assert result.resource_type == ACR_TYPE
    assert result.metadata == {"adminUserEnabled": True}


def test_acr001_admin_user_disabled_passes() -> None:
    assert only("AZ-ACR-001", inventory(registry(adminUserEnabled=False))).passed is True


def test_acr002_anonymous_pull_fails() -> None:
    result = only("AZ-ACR-002", inventory(registry(anonymousPullEnabled=True)))
    assert result.passed is False
    assert result.metadata == {"anonymousPullEnabled": True}


def test_acr002_anonymous_pull_off_passes() -> None:
    assert only("AZ-ACR-002", inventory(registry(anonymousPullEnabled=False))).passed is True


def test_acr001_acr002_absent_fields_default_to_off() -> None:
    inv = inventory(registry())
    assert only("AZ-ACR-001", inv).passed is True
    assert only("AZ-ACR-002", inv).passed is True


def test_acr003_public_and_allow_fails() -> None:
    reg = registry(publicNetworkAccess="Enabled", networkRuleSet={"defaultAction": "Allow", "ipRules": []})
    result = only("AZ-ACR-003", inventory(reg))
    assert result.passed is False
    assert result.metadata == {"publicNetworkAccess": "Enabled", "defaultAction": "Allow"}


def test_acr003_absent_settings_mean_public() -> None:
    result = only("AZ-ACR-003", inventory(registry()))
    assert result.passed is False
    assert "default" in result.detail


def test_acr003_public_access_disabled_passes() -> None:
    reg = registry(publicNetworkAccess="Disabled", networkRuleSet={"defaultAction": "Allow"})
    assert only("AZ-ACR-003", inventory(reg)).passed is True


def test_acr003_default_deny_passes() -> None:
    reg = registry(publicNetworkAccess="Enabled",
                   networkRuleSet={"defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "203.0.113.0/24"}]})
    assert only("AZ-ACR-003", inventory(reg)).passed is True


def test_acr_bare_and_unreadable_registries() -> None:
    inv = inventory(arm(ACR_TYPE, "bare"))
    fail_resource(inv, ACR_TYPE, "locked", "403")
    expected_bare = {"AZ-ACR-001": True, "AZ-ACR-002": True, "AZ-ACR-003": False}
    for rule_id in ACR_RULES:
        got = sorted((r.resource_name, r.passed) for r in run(rule_id, inv))
        assert got == [("bare", expected_bare[rule_id]), ("locked", None)], rule_id
