"""AZ-KV-001 (soft delete), 002 (purge protection), 003 (RBAC), 004 (network exposure),
005 (audit logging), 006 (keys without expiry), 007 (keys expiring within 30 days) and 008
(secrets without expiry)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scanner.rules.keyvault import VAULT_DIAGNOSTIC_SETTINGS, VAULT_KEYS, VAULT_SECRETS, VAULT_TYPE
from tests.rules.builders import COLLECTED_AT, Resource, arm, categories, diagnostic_setting, fail_resource
from tests.rules.builders import inventory, only, run, set_child, with_child, with_failed_child


def vault(name: str = "kv1", **properties: object) -> Resource:
    return arm(VAULT_TYPE, name, {"tenantId": "t", "sku": {"name": "standard"}, **properties})


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


def key(name: str, *, exp: Any = None, enabled: Any = True, attributes: bool = True) -> Resource:
    attrs: dict[str, Any] = {"enabled": enabled} if enabled is not None else {}
    if exp is not None:
        attrs["exp"] = exp
    return {"id": f"kv1/keys/{name}", "name": name,
            "properties": {"attributes": attrs, "kty": "RSA"} if attributes else {"kty": "RSA"}}


def with_keys(*keys: Resource) -> Any:
    inv = with_child(vault(enableRbacAuthorization=True), VAULT_KEYS, list(keys))
    return inv


def epoch(delta: timedelta) -> int:
    return int((COLLECTED_AT + delta).timestamp())


def test_kv006_enabled_key_without_expiry_fails() -> None:
    inv = with_keys(key("b-noexp"), key("a-noexp"), key("dated", exp=epoch(timedelta(days=400))))
    result = only("AZ-KV-006", inv)
    assert result.passed is False
    assert result.metadata == {"keys": 3, "withoutExpiry": ["a-noexp", "b-noexp"], "cis": "8.1"}


def test_kv006_disabled_keys_and_dated_keys_pass() -> None:
    inv = with_keys(key("off", enabled=False), key("dated", exp=epoch(timedelta(days=400))))
    assert only("AZ-KV-006", inv).passed is True
    assert only("AZ-KV-006", with_keys()).passed is True  # a vault without keys


def test_kv006_absent_attributes_count_as_enabled_without_expiry() -> None:
    result = only("AZ-KV-006", with_keys(key("bare", attributes=False), key("no-flag", enabled=None)))
    assert result.passed is False
    assert result.metadata["withoutExpiry"] == ["bare", "no-flag"]


def test_kv006_cis_control_follows_authorization_model() -> None:
    inv = with_child(vault(enableRbacAuthorization=False), VAULT_KEYS, [key("noexp")])
    assert only("AZ-KV-006", inv).metadata["cis"] == "8.2"


def test_kv006_kv007_unreadable_keys_not_evaluated() -> None:
    inv = with_failed_child(vault(), VAULT_KEYS, "403 Forbidden")
    for rule_id in ("AZ-KV-006", "AZ-KV-007"):
        result = only(rule_id, inv)
        assert result.passed is None and "403 Forbidden" in result.detail, rule_id


def test_kv007_expiring_and_expired_enabled_keys_fail() -> None:
    inv = with_keys(key("soon", exp=epoch(timedelta(days=10))),
                    key("gone", exp=epoch(timedelta(days=-5))),
                    key("gone-off", exp=epoch(timedelta(days=-5)), enabled=False),
                    key("later", exp=epoch(timedelta(days=31))))
    result = only("AZ-KV-007", inv)
    assert result.passed is False
    assert result.metadata == {"keys": 4, "expired": ["gone"], "expiring": ["soon"]}
    assert "expired: gone" in result.detail and "within 30 days: soon" in result.detail


def test_kv007_is_judged_against_collection_time() -> None:
    inv = with_keys(key("soon", exp=epoch(timedelta(days=10))))
    inv.collected_at = COLLECTED_AT - timedelta(days=60)
    assert only("AZ-KV-007", inv).passed is True


def test_kv007_keys_without_or_with_unparseable_expiry_pass() -> None:
    inv = with_keys(key("noexp"), key("odd", exp="not-a-date"), key("str", exp=str(epoch(timedelta(days=90)))))
    assert only("AZ-KV-007", inv).passed is True
    assert only("AZ-KV-007", with_keys(key("str", exp=str(epoch(timedelta(days=1)))))).passed is False


# --- AZ-KV-008: secrets without expiration -------------------------------------------------------

def test_kv008_enabled_secret_without_exp_fails_and_names_cis_control() -> None:
    kv = vault(enableRbacAuthorization=False)
    inv = inventory(kv)
    set_child(inv, VAULT_SECRETS, kv, [key("db-password"), key("rotated", exp=4070941200),
                                       key("retired", enabled=False)])
    result = only("AZ-KV-008", inv)
    assert result.passed is False
    assert result.metadata["withoutExpiry"] == ["db-password"] and result.metadata["cis"] == "8.4"


def test_kv008_all_secrets_expire_or_none_exist() -> None:
    kv = vault(enableRbacAuthorization=True)
    inv = with_child(kv, VAULT_SECRETS, [key("token", exp=4070941200)])
    assert only("AZ-KV-008", inv).passed is True
    set_child(inv, VAULT_SECRETS, kv, [])
    assert only("AZ-KV-008", inv).passed is True


def test_kv008_secrets_unreadable_is_not_evaluated() -> None:
    inv = with_failed_child(vault(), VAULT_SECRETS, "HTTP 403 ForbiddenByRbac")
    result = only("AZ-KV-008", inv)
    assert result.passed is None and "403" in result.detail


def test_kv005_audit_category_or_group_to_a_destination_passes() -> None:
    for logs in (categories("AuditEvent"), [{"categoryGroup": "audit", "enabled": True}],
                 [{"categoryGroup": "allLogs", "enabled": True}]):
        inv = with_child(vault(), VAULT_DIAGNOSTIC_SETTINGS, [diagnostic_setting("audit", logs)])
        result = only("AZ-KV-005", inv)
        assert result.passed is True and result.metadata["auditLogTo"] == ["audit"], logs


def test_kv005_no_setting_or_useless_settings_fail() -> None:
    bare, useless = vault("kv-bare"), vault("kv-useless")
    inv = inventory(bare, useless)
    set_child(inv, VAULT_DIAGNOSTIC_SETTINGS, bare, [])
    set_child(inv, VAULT_DIAGNOSTIC_SETTINGS, useless, [
        diagnostic_setting("policy-only", categories("AzurePolicyEvaluationDetails")),
        diagnostic_setting("audit-off", categories("AuditEvent", enabled=False)),
        diagnostic_setting("nowhere", categories("AuditEvent"), workspaceId=""),
    ])
    results = {r.resource_name: r for r in run("AZ-KV-005", inv)}
    assert results["kv-bare"].passed is False and results["kv-bare"].detail == "no diagnostic setting"
    assert results["kv-useless"].passed is False
    assert results["kv-useless"].metadata["diagnosticSettings"] == ["audit-off", "nowhere", "policy-only"]


def test_kv005_unreadable_settings_and_vault_not_evaluated() -> None:
    inv = with_failed_child(vault(), VAULT_DIAGNOSTIC_SETTINGS, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, VAULT_TYPE, "locked", "HTTP 403")
    results = sorted((r.resource_name, r.passed, r.detail) for r in run("AZ-KV-005", inv))
    assert results == [("kv1", None, "diagnostic settings could not be read: HTTP 403 AuthorizationFailed"),
                       ("locked", None, "key vault could not be read: HTTP 403")]


# --- AZ-KV-009 (key rotation), 010 (private endpoint), 011 (public network access) -------------
import pytest  # noqa: E402

_ROTATE = {"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "rotate"}}]}
_NOTIFY = {"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "notify"}}]}


def rotating_key(name: str, policy: dict[str, Any] | None, enabled: bool = True) -> Resource:
    properties: dict[str, Any] = {"attributes": {"enabled": enabled}}
    if policy is not None:
        properties["rotationPolicy"] = policy
    return {"id": f"/x/keys/{name}", "name": name, "properties": properties}


def test_kv009_keys_without_rotate_action_fail_and_are_named() -> None:
    keys = [rotating_key("k-rotates", _ROTATE), rotating_key("k-notify", _NOTIFY), rotating_key("k-none", None),
            rotating_key("k-disabled", None, enabled=False)]
    result = only("AZ-KV-009", with_child(vault(), VAULT_KEYS, keys))
    assert (result.passed, result.detail) == (False, "keys without automatic rotation: k-none, k-notify")


def test_kv009_rotating_keys_pass_and_unread_keys_are_not_evaluated() -> None:
    assert only("AZ-KV-009", with_child(vault(), VAULT_KEYS, [rotating_key("k", _ROTATE)])).passed is True
    assert only("AZ-KV-009", with_child(vault(), VAULT_KEYS, [])).detail == "no enabled keys"
    unread = only("AZ-KV-009", with_failed_child(vault(), VAULT_KEYS, "HTTP 403"))
    assert (unread.passed, unread.detail) == (None, "keys could not be read: HTTP 403")


_PE = {"name": "pe-kv", "properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}


@pytest.mark.parametrize(("rule_id", "properties", "passed"), [
    ("AZ-KV-010", {}, False), ("AZ-KV-010", {"privateEndpointConnections": [_PE]}, True),
    ("AZ-KV-011", {}, False), ("AZ-KV-011", {"publicNetworkAccess": "Enabled"}, False),
    ("AZ-KV-011", {"publicNetworkAccess": "Disabled"}, True),
])
def test_kv010_011_verdicts(rule_id: str, properties: dict[str, object], passed: bool) -> None:
    assert only(rule_id, inventory(vault(**properties))).passed is passed


@pytest.mark.parametrize("rule_id", ["AZ-KV-010", "AZ-KV-011"])
def test_kv010_011_unreadable_vault(rule_id: str) -> None:
    inv = inventory()
    fail_resource(inv, VAULT_TYPE, "kv-locked", "HTTP 403")
    assert only(rule_id, inv).detail == "key vault could not be read: HTTP 403"
