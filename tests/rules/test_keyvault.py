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
