"""AZ-STOR-001..005: storage account rules, including what absent properties mean."""

from __future__ import annotations

import pytest

from scanner.inventory import Inventory
from scanner.rules.storage import BLOB_SERVICE, STORAGE_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run, set_child, with_child
from tests.rules.builders import with_failed_child


def account(name: str = "stacct", **properties: object) -> Resource:
    return arm(STORAGE_TYPE, name, dict(properties), kind="StorageV2")


def test_stor001_public_access_true_fails() -> None:
    result = only("AZ-STOR-001", inventory(account(allowBlobPublicAccess=True)))
    assert result.passed is False
    assert result.resource_type == STORAGE_TYPE
    assert result.resource_name == "stacct"
    assert result.metadata == {"allowBlobPublicAccess": True}


def test_stor001_public_access_false_passes() -> None:
    assert only("AZ-STOR-001", inventory(account(allowBlobPublicAccess=False))).passed is True


def test_stor001_absent_means_allowed() -> None:
    result = only("AZ-STOR-001", inventory(account()))
    assert result.passed is False
    assert "not set" in result.detail


def test_stor002_http_allowed_fails() -> None:
    result = only("AZ-STOR-002", inventory(account(supportsHttpsTrafficOnly=False)))
    assert result.passed is False


def test_stor002_https_only_passes() -> None:
    assert only("AZ-STOR-002", inventory(account(supportsHttpsTrafficOnly=True))).passed is True


def test_stor002_absent_means_https_only() -> None:
    assert only("AZ-STOR-002", inventory(account())).passed is True


@pytest.mark.parametrize("version", ["TLS1_0", "TLS1_1", "tls1_1"])
def test_stor003_old_tls_fails(version: str) -> None:
    result = only("AZ-STOR-003", inventory(account(minimumTlsVersion=version)))
    assert result.passed is False
    assert version in result.detail


@pytest.mark.parametrize("version", ["TLS1_2", "TLS1_3"])
def test_stor003_modern_tls_passes(version: str) -> None:
    assert only("AZ-STOR-003", inventory(account(minimumTlsVersion=version))).passed is True


def test_stor003_absent_means_tls10() -> None:
    result = only("AZ-STOR-003", inventory(account()))
    assert result.passed is False
    assert "TLS1_0" in result.detail


def test_stor004_default_allow_fails() -> None:
    acct = account(networkAcls={"defaultAction": "Allow", "bypass": "AzureServices"})
    assert only("AZ-STOR-004", inventory(acct)).passed is False


def test_stor004_default_deny_passes() -> None:
    acct = account(networkAcls={"defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": []})
    assert only("AZ-STOR-004", inventory(acct)).passed is True


@pytest.mark.parametrize("acls", [None, {}])
def test_stor004_absent_network_acls_means_allow(acls: object) -> None:
    props: dict[str, object] = {} if acls is None else {"networkAcls": acls}
    assert only("AZ-STOR-004", inventory(arm(STORAGE_TYPE, "stacct", props))).passed is False


def soft_delete(blob: bool | None, container: bool | None) -> dict[str, object]:
    """Blob service properties with each soft-delete policy on (14 days), off, or absent (None)."""
    properties: dict[str, object] = {}
    for key, enabled in (("deleteRetentionPolicy", blob), ("containerDeleteRetentionPolicy", container)):
        if enabled is not None:
            properties[key] = {"enabled": enabled, **({"days": 14} if enabled else {})}
    return {"properties": properties}


def test_stor005_soft_delete_disabled_fails() -> None:
    result = only("AZ-STOR-005", with_child(account(), BLOB_SERVICE, soft_delete(False, True)))
    assert result.passed is False
    assert result.detail == "blob soft delete (deleteRetentionPolicy) is not enabled"
    assert result.metadata["blob"]["enabled"] is False


def test_stor005_container_soft_delete_off_fails_and_says_so() -> None:
    """CIS 'soft delete for containers and blob storage': blob soft delete alone is not enough."""
    result = only("AZ-STOR-005", with_child(account(), BLOB_SERVICE, soft_delete(True, False)))
    assert result.passed is False
    assert result.detail == "container soft delete (containerDeleteRetentionPolicy) is not enabled"
    both = only("AZ-STOR-005", with_child(account(), BLOB_SERVICE, soft_delete(False, None)))
    assert both.detail == ("blob soft delete (deleteRetentionPolicy) and container soft delete "
                           "(containerDeleteRetentionPolicy) are not enabled")


def test_stor005_soft_delete_enabled_passes() -> None:
    result = only("AZ-STOR-005", with_child(account(), BLOB_SERVICE, soft_delete(True, True)))
    assert result.passed is True
    assert result.detail == "blob soft delete enabled (14 days), container soft delete enabled (14 days)"


def test_stor005_policy_absent_fails() -> None:
    inv = with_child(account(), BLOB_SERVICE, {"properties": {"isVersioningEnabled": True}})
    assert only("AZ-STOR-005", inv).passed is False


def test_stor005_child_unreadable_is_not_evaluated() -> None:
    inv = with_failed_child(account(), BLOB_SERVICE, "403 AuthorizationFailed")
    result = only("AZ-STOR-005", inv)
    assert result.passed is None
    assert "403 AuthorizationFailed" in result.detail


def test_stor005_child_not_collected_is_not_evaluated() -> None:
    result = only("AZ-STOR-005", inventory(account()))
    assert result.passed is None
    assert "child not collected" in result.detail


def test_child_lookup_ignores_id_case() -> None:
    acct = account()
    inv = with_child(acct, BLOB_SERVICE, soft_delete(True, True))
    acct["id"] = acct["id"].upper()
    assert only("AZ-STOR-005", inv).passed is True


@pytest.mark.parametrize(
    "rule_id", ["AZ-STOR-001", "AZ-STOR-002", "AZ-STOR-003", "AZ-STOR-004", "AZ-STOR-005"]
)
def test_account_without_properties_never_raises(rule_id: str) -> None:
    bare = arm(STORAGE_TYPE, "bare")
    results = run(rule_id, inventory(bare))
    assert len(results) == 1


@pytest.mark.parametrize(
    "rule_id", ["AZ-STOR-001", "AZ-STOR-002", "AZ-STOR-003", "AZ-STOR-004", "AZ-STOR-005"]
)
def test_unreadable_account_is_not_evaluated(rule_id: str) -> None:
    inv = inventory()
    rid = fail_resource(inv, STORAGE_TYPE, "locked", "429 throttled")
    result = only(rule_id, inv)
    assert (result.resource_id, result.passed) == (rid, None)


def test_stor004_public_network_access_disabled_passes() -> None:
    from scanner.inventory import Inventory
    from scanner.rules import REGISTRY

    inv = Inventory(subscription_id="s")
    inv.resources["microsoft.storage/storageaccounts"] = [{
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/private01",
        "name": "private01", "type": "Microsoft.Storage/storageAccounts",
        "properties": {"publicNetworkAccess": "Disabled", "networkAcls": {"defaultAction": "Allow"}},
    }]
    [ev] = list(REGISTRY["AZ-STOR-004"].evaluate(inv))
    assert ev.passed is True


# --- AZ-STOR-006..009 -------------------------------------------------------------------------


def test_stor006_shared_key_true_fails() -> None:
    result = only("AZ-STOR-006", inventory(account(allowSharedKeyAccess=True)))
    assert result.passed is False
    assert result.metadata == {"allowSharedKeyAccess": True}


def test_stor006_shared_key_false_passes() -> None:
    assert only("AZ-STOR-006", inventory(account(allowSharedKeyAccess=False))).passed is True


def test_stor006_absent_means_allowed() -> None:
    result = only("AZ-STOR-006", inventory(account()))
    assert result.passed is False
    assert "not set" in result.detail


def _with_blob_service(payload: object) -> Inventory:
    inv = with_child(account(), BLOB_SERVICE, payload)
    return inv


def test_stor007_versioning_disabled_fails() -> None:
    inv = _with_blob_service({"properties": {"isVersioningEnabled": False}})
    result = only("AZ-STOR-007", inv)
    assert result.passed is False
    assert result.metadata == {"isVersioningEnabled": False}


def test_stor007_versioning_enabled_passes() -> None:
    inv = _with_blob_service({"properties": {"isVersioningEnabled": True}})
    assert only("AZ-STOR-007", inv).passed is True


def test_stor007_absent_means_disabled() -> None:
    inv = _with_blob_service({"properties": {"deleteRetentionPolicy": {"enabled": True}}})
    result = only("AZ-STOR-007", inv)
    assert result.passed is False
    assert "not set" in result.detail


def test_stor007_child_unreadable_is_not_evaluated() -> None:
    inv = with_failed_child(account(), BLOB_SERVICE, "403 AuthorizationFailed")
    result = only("AZ-STOR-007", inv)
    assert result.passed is None
    assert "403 AuthorizationFailed" in result.detail


def test_stor008_infrastructure_encryption_off_fails() -> None:
    acct = account(encryption={"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": False})
    assert only("AZ-STOR-008", inventory(acct)).passed is False


def test_stor008_infrastructure_encryption_on_passes() -> None:
    acct = account(encryption={"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True})
    assert only("AZ-STOR-008", inventory(acct)).passed is True


@pytest.mark.parametrize("encryption", [None, {"keySource": "Microsoft.Storage"}])
def test_stor008_absent_means_off(encryption: object) -> None:
    acct = account() if encryption is None else account(encryption=encryption)
    result = only("AZ-STOR-008", inventory(acct))
    assert result.passed is False
    assert "not set" in result.detail


@pytest.mark.parametrize("sku", ["Standard_LRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS"])
def test_stor009_single_region_fails(sku: str) -> None:
    acct = arm(STORAGE_TYPE, "stacct", {}, sku={"name": sku, "tier": "Standard"})
    result = only("AZ-STOR-009", inventory(acct))
    assert result.passed is False
    assert sku in result.detail


@pytest.mark.parametrize("sku", ["Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "standard_ragzrs"])
def test_stor009_geo_redundant_passes(sku: str) -> None:
    acct = arm(STORAGE_TYPE, "stacct", {}, sku={"name": sku})
    assert only("AZ-STOR-009", inventory(acct)).passed is True


@pytest.mark.parametrize("sku", ["absent", None, {"tier": "Standard"}])
def test_stor009_missing_sku_is_not_evaluated(sku: object) -> None:
    acct = arm(STORAGE_TYPE, "stacct", {})
    if sku != "absent":
        acct["sku"] = sku
    result = only("AZ-STOR-009", inventory(acct))
    assert result.passed is None
    assert "sku.name" in result.detail


@pytest.mark.parametrize("rule_id", ["AZ-STOR-006", "AZ-STOR-007", "AZ-STOR-008", "AZ-STOR-009"])
def test_new_storage_rules_handle_bare_and_unreadable_accounts(rule_id: str) -> None:
    inv = inventory(arm(STORAGE_TYPE, "bare"))
    rid = fail_resource(inv, STORAGE_TYPE, "locked", "429 throttled")
    results = {r.resource_name: r for r in run(rule_id, inv)}
    assert set(results) == {"bare", "locked"}
    assert (results["locked"].resource_id, results["locked"].passed) == (rid, None)


# --- AZ-STOR-010..016: account properties -----------------------------------------------------
_PE = {"name": "pe-blob", "properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}
_PE_PENDING = {"name": "pe-x", "properties": {"privateLinkServiceConnectionState": {"status": "Pending"}}}
# COLLECTED_AT is 2024-06-01
_FRESH, _OLD = "2024-05-01T00:00:00Z", "2023-01-01T00:00:00.0000000Z"


@pytest.mark.parametrize(("rule_id", "properties", "passed", "detail"), [
    ("AZ-STOR-010", {"allowCrossTenantReplication": True}, False, "allowCrossTenantReplication is true"),
    ("AZ-STOR-010", {}, True, "allowCrossTenantReplication not set (false by default)"),
    ("AZ-STOR-010", {"allowCrossTenantReplication": False}, True, "cross-tenant replication is disallowed"),
    ("AZ-STOR-011", {"privateEndpointConnections": [_PE_PENDING]}, False, "no approved private endpoint connection"),
    ("AZ-STOR-011", {"privateEndpointConnections": [_PE, _PE_PENDING]}, True, "approved private endpoint(s): pe-blob"),
    ("AZ-STOR-012", {"keyCreationTime": {"key1": _FRESH, "key2": _OLD}}, False, "key2 is 517 days old"),
    ("AZ-STOR-012", {"keyCreationTime": {"key1": _FRESH, "key2": _FRESH}}, True, "keys regenerated within 90 days"),
    ("AZ-STOR-012", {"keyCreationTime": {"key1": None, "key2": _FRESH}}, None, "keyCreationTime.key1 not reported"),
    ("AZ-STOR-012", {"keyCreationTime": {"key1": _OLD}, "allowSharedKeyAccess": False}, True,
     "shared key access is disallowed, so the keys authorize nothing"),
    ("AZ-STOR-013", {}, False, "keyPolicy.keyExpirationPeriodInDays not set"),
    ("AZ-STOR-013", {"keyPolicy": {"keyExpirationPeriodInDays": 90}}, True, "keys flagged for rotation after 90 days"),
    ("AZ-STOR-014", {"sasPolicy": None}, False, "sasPolicy.sasExpirationPeriod not set"),
    ("AZ-STOR-014", {"sasPolicy": {"sasExpirationPeriod": "0.01:00:00", "expirationAction": "Block"}}, True,
     "SAS expiration period 0.01:00:00 (Block)"),
    ("AZ-STOR-015", {"networkAcls": {"bypass": "None", "defaultAction": "Deny"}}, False,
     "bypass is None (trusted Azure services blocked)"),
    ("AZ-STOR-015", {"networkAcls": {"bypass": "Logging, AzureServices"}}, True, "bypass is Logging, AzureServices"),
    ("AZ-STOR-015", {}, True, "bypass not set (AzureServices by default)"),
    ("AZ-STOR-016", {"encryption": {"keySource": "Microsoft.Storage"}}, False, "keySource is Microsoft.Storage"),
    ("AZ-STOR-016", {}, False, "keySource is Microsoft.Storage (default)"),
    ("AZ-STOR-016", {"encryption": {"keySource": "Microsoft.Keyvault"}}, True, "encrypted with a customer-managed key"),
])
def test_stor010_016_verdicts(rule_id: str, properties: dict[str, object], passed: bool | None, detail: str) -> None:
    result = only(rule_id, inventory(account(**properties)))
    assert (result.passed, result.detail) == (passed, detail)


@pytest.mark.parametrize("rule_id", [f"AZ-STOR-0{n}" for n in range(10, 17)])
def test_stor010_016_unreadable_account_is_not_evaluated(rule_id: str) -> None:
    inv = inventory()
    fail_resource(inv, STORAGE_TYPE, "stlocked", "HTTP 403")
    result = only(rule_id, inv)
    assert (result.passed, result.detail) == (None, "storage account could not be read: HTTP 403")
