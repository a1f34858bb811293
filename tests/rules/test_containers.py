"""AZ-AKS-001..006 (AKS managed clusters) and AZ-ACR-001..003 (container registries)."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.containers import ACR_TYPE, AKS_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run

AKS_RULES = [f"AZ-AKS-00{i}" for i in range(1, 7)]
ACR_RULES = ["AZ-ACR-001", "AZ-ACR-002", "AZ-ACR-003"]

HARDENED: dict[str, Any] = {
    "kubernetesVersion": "1.30.5",
    "enableRBAC": True,
    "disableLocalAccounts": True,
    "apiServerAccessProfile": {"enablePrivateCluster": True},
    "networkProfile": {"networkPlugin": "azure", "networkPolicy": "azure"},
    "addonProfiles": {"azurepolicy": {"enabled": True, "config": None}},
    "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"},
}


def cluster(**overrides: Any) -> Resource:
    return arm(AKS_TYPE, "aks1", {**HARDENED, **overrides})


def registry(**properties: Any) -> Resource:
    return arm(ACR_TYPE, "acr1", {"loginServer": "acr1.azurecr.io", **properties},
               sku={"name": "Premium", "tier": "Premium"})


# --- AKS ---------------------------------------------------------------------------------------


def test_hardened_cluster_passes_every_aks_rule() -> None:
    inv = inventory(cluster())
    for rule_id in AKS_RULES:
        assert only(rule_id, inv).passed is True, rule_id


def test_aks001_public_api_server_fails() -> None:
    profile = {"enablePrivateCluster": False, "authorizedIPRanges": []}
    result = only("AZ-AKS-001", inventory(cluster(apiServerAccessProfile=profile)))
    assert result.passed is False
    assert result.resource_type == AKS_TYPE
    assert result.metadata == {"enablePrivateCluster": False, "authorizedIPRanges": 0}


def test_aks001_authorized_ranges_pass() -> None:
    profile = {"enablePrivateCluster": False, "authorizedIPRanges": ["203.0.113.0/24"]}
    result = only("AZ-AKS-001", inventory(cluster(apiServerAccessProfile=profile)))
    assert result.passed is True
    assert "1 authorized" in result.detail


def test_aks001_absent_profile_is_public_by_default() -> None:
    assert only("AZ-AKS-001", inventory(cluster(apiServerAccessProfile=None))).passed is False


@pytest.mark.parametrize("value", [False, None])
def test_aks002_local_accounts_enabled_fails(value: bool | None) -> None:
    result = only("AZ-AKS-002", inventory(cluster(disableLocalAccounts=value)))
    assert result.passed is False
    assert result.metadata == {"disableLocalAccounts": value}


def test_aks003_rbac_disabled_fails() -> None:
    result = only("AZ-AKS-003", inventory(cluster(enableRBAC=False)))
    assert result.passed is False
    assert result.metadata == {"enableRBAC": False}


def test_aks003_absent_rbac_is_not_evaluated() -> None:
    result = only("AZ-AKS-003", inventory(cluster(enableRBAC=None)))
    assert result.passed is None
    assert "not reported" in result.detail


@pytest.mark.parametrize("profile", [{"networkPlugin": "kubenet", "networkPolicy": "none"},
                                     {"networkPlugin": "azure"}, None])
def test_aks004_no_network_policy_fails(profile: dict[str, str] | None) -> None:
    assert only("AZ-AKS-004", inventory(cluster(networkProfile=profile))).passed is False


def test_aks004_calico_passes() -> None:
    profile = {"networkPlugin": "kubenet", "networkPolicy": "calico"}
    result = only("AZ-AKS-004", inventory(cluster(networkProfile=profile)))
    assert result.passed is True
    assert result.metadata == {"networkPolicy": "calico"}


@pytest.mark.parametrize("addons", [{"azurepolicy": {"enabled": False}}, {}, None,
                                    {"omsagent": {"enabled": True}}])
def test_aks005_policy_addon_off_fails(addons: dict[str, Any] | None) -> None:
    assert only("AZ-AKS-005", inventory(cluster(addonProfiles=addons))).passed is False


def test_aks005_addon_key_is_case_insensitive() -> None:
    addons = {"azurePolicy": {"enabled": True}}
    assert only("AZ-AKS-005", inventory(cluster(addonProfiles=addons))).passed is True


@pytest.mark.parametrize("profile", [{"upgradeChannel": "none"}, {}, None])
def test_aks006_no_upgrade_channel_fails(profile: dict[str, str] | None) -> None:
    assert only("AZ-AKS-006", inventory(cluster(autoUpgradeProfile=profile))).passed is False


def test_aks006_stable_channel_passes() -> None:
    result = only("AZ-AKS-006", inventory(cluster(autoUpgradeProfile={"upgradeChannel": "stable"})))
    assert result.passed is True
    assert result.metadata == {"upgradeChannel": "stable"}


def test_aks_bare_and_unreadable_clusters() -> None:
    inv = inventory(arm(AKS_TYPE, "bare"))
    fail_resource(inv, AKS_TYPE, "locked", "403")
    expected_bare = {"AZ-AKS-001": False, "AZ-AKS-002": False, "AZ-AKS-003": None,
                     "AZ-AKS-004": False, "AZ-AKS-005": False, "AZ-AKS-006": False}
    for rule_id in AKS_RULES:
        got = sorted((r.resource_name, r.passed) for r in run(rule_id, inv))
        assert got == [("bare", expected_bare[rule_id]), ("locked", None)], rule_id


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
