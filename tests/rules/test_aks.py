"""AZ-AKS-001..007: AKS API server exposure, local accounts, RBAC, network policy, Azure
Policy, automatic upgrades and Kubernetes versions past end of support."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from scanner.rules.aks import AKS_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run


AKS_RULES = [f"AZ-AKS-00{i}" for i in range(1, 7)]


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

NOV_2026 = datetime(2026, 11, 28, tzinfo=timezone.utc)

def versioned_cluster(name: str, version: str | None, **extra: object) -> dict:
    properties: dict = dict(extra)
    if version is not None:
        properties["currentKubernetesVersion"] = version
    return arm(AKS_TYPE, name, properties)

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

# --- AKS -----------------------------------------------------------------------------------------

def test_aks007_old_minor_fails_with_software_metadata() -> None:
    result = only("AZ-AKS-007", inventory(versioned_cluster("old", "1.26.6"), collected_at=NOV_2026))
    assert result.passed is False
    assert "1.26.6" in result.detail and "2024-02-28" in result.detail
    assert result.metadata["software"] == {"vendor": "kubernetes", "product": "kubernetes", "version": "1.26.6"}
    json.dumps(result.metadata)


def test_aks007_supported_minor_passes_and_alias_version_is_read() -> None:
    new = arm(AKS_TYPE, "new", {"kubernetesVersion": "1.36"})
    result = only("AZ-AKS-007", inventory(new, collected_at=NOV_2026))
    assert result.passed is True and "2027-06-28" in result.detail


def test_aks007_long_term_support_adds_a_year() -> None:
    lts = versioned_cluster("lts", "1.33.2", supportPlan="AKSLongTermSupport")
    official = versioned_cluster("official", "1.33.2", supportPlan="KubernetesOfficial")
    results = {r.resource_name: r for r in run("AZ-AKS-007", inventory(lts, official, collected_at=NOV_2026))}
    assert results["lts"].passed is True and "Long Term Support" in results["lts"].detail
    assert results["official"].passed is False


def test_aks007_cannot_read() -> None:
    inv = inventory(versioned_cluster("noversion", None), versioned_cluster("garbled", "next"), collected_at=NOV_2026)
    fail_resource(inv, AKS_TYPE, "hidden", "HTTP 403 AuthorizationFailed")
    results = {r.resource_name: r for r in run("AZ-AKS-007", inv)}
    assert all(r.passed is None for r in results.values())
    assert "not reported" in results["noversion"].detail
    assert "unrecognised" in results["garbled"].detail
    assert "403" in results["hidden"].detail
