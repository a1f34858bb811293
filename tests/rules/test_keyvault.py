"""AZ-KV-001 (soft delete) and AZ-KV-002 (purge protection)."""

from __future__ import annotations

from scanner.rules.keyvault import VAULT_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run


def vault(**properties: object) -> Resource:
    return arm(VAULT_TYPE, "kv1", {"tenantId": "t", "sku": {"name": "standard"}, **properties})


def test_kv001_soft_delete_false_fails() -> None:
    result = only("AZ-KV-001", inventory(vault(enableSoftDelete=False)))
    assert result.passed is False
    assert result.resource_type == VAULT_TYPE
    assert result.metadata == {"enableSoftDelete": False}


def test_kv001_soft_delete_true_passes() -> None:
    assert only("AZ-KV-001", inventory(vault(enableSoftDelete=True))).passed is True


def test_kv001_absent_soft_delete_is_on_by_default() -> None:
    assert only("AZ-KV-001", inventory(vault())).passed is True


def test_kv002_purge_protection_absent_fails() -> None:
    result = only("AZ-KV-002", inventory(vault(enableSoftDelete=True)))
    assert result.passed is False
    assert result.metadata == {"enablePurgeProtection": None}


def test_kv002_purge_protection_false_fails() -> None:
    assert only("AZ-KV-002", inventory(vault(enablePurgeProtection=False))).passed is False


def test_kv002_purge_protection_true_passes() -> None:
    assert only("AZ-KV-002", inventory(vault(enablePurgeProtection=True))).passed is True


def test_vault_without_properties_and_unreadable_vaults() -> None:
    inv = inventory(arm(VAULT_TYPE, "bare"))
    fail_resource(inv, VAULT_TYPE, "locked", "403")
    kv1 = sorted((r.resource_name, r.passed) for r in run("AZ-KV-001", inv))
    kv2 = sorted((r.resource_name, r.passed) for r in run("AZ-KV-002", inv))
    assert kv1 == [("bare", True), ("locked", None)]
    assert kv2 == [("bare", False), ("locked", None)]


def test_kv003_access_policies_fail() -> None:
    result = only("AZ-KV-003", inventory(vault(enableRbacAuthorization=False)))
    assert result.passed is False
    assert result.metadata == {"enableRbacAuthorization": False}


def test_kv003_rbac_passes() -> None:
    assert only("AZ-KV-003", inventory(vault(enableRbacAuthorization=True))).passed is True


def test_kv003_absent_means_access_policies() -> None:
    result = only("AZ-KV-003", inventory(vault()))
    assert result.passed is False
    assert "not set" in result.detail


def test_kv004_public_without_endpoint_or_firewall_fails() -> None:
    kv = vault(publicNetworkAccess="Enabled", privateEndpointConnections=[],
               networkAcls={"defaultAction": "Allow", "bypass": "AzureServices"})
    result = only("AZ-KV-004", inventory(kv))
    assert result.passed is False
    assert result.metadata == {"publicNetworkAccess": "Enabled", "privateEndpointConnections": 0,
                               "defaultAction": "Allow"}


def test_kv004_absent_settings_mean_public() -> None:
    result = only("AZ-KV-004", inventory(vault()))
    assert result.passed is False
    assert "default" in result.detail


def test_kv004_public_access_disabled_passes() -> None:
    kv = vault(publicNetworkAccess="Disabled", networkAcls={"defaultAction": "Allow"})
    assert only("AZ-KV-004", inventory(kv)).passed is True


def test_kv004_private_endpoint_passes() -> None:
    pe = {"id": "pec1", "properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}
    kv = vault(publicNetworkAccess="Enabled", privateEndpointConnections=[pe])
    assert only("AZ-KV-004", inventory(kv)).passed is True


def test_kv004_firewall_deny_passes() -> None:
    kv = vault(publicNetworkAccess="Enabled", networkAcls={"defaultAction": "Deny", "ipRules": []})
    assert only("AZ-KV-004", inventory(kv)).passed is True


def test_kv003_kv004_bare_and_unreadable_vaults() -> None:
    inv = inventory(arm(VAULT_TYPE, "bare"))
    fail_resource(inv, VAULT_TYPE, "locked", "403")
    for rule_id in ("AZ-KV-003", "AZ-KV-004"):
        got = sorted((r.resource_name, r.passed) for r in run(rule_id, inv))
        assert got == [("bare", False), ("locked", None)], rule_id
