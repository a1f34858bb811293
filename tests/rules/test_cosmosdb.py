"""AZ-COSMOS-001..005: Cosmos DB network exposure, private endpoints, local auth, CMK, backup."""

from __future__ import annotations

import pytest

from scanner.rules.cosmosdb import COSMOS_TYPE
from tests.rules.builders import arm, fail_resource, inventory, only

_PE = {"name": "pe-cosmos", "properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}


@pytest.mark.parametrize(("rule_id", "properties", "passed", "detail"), [
    ("AZ-COSMOS-001", {}, False, "public network access is enabled with no IP or virtual network rule"),
    ("AZ-COSMOS-001", {"publicNetworkAccess": "Enabled", "ipRules": [{"ipAddressOrRange": "0.0.0.0"}]}, False,
     "public network access is enabled with no IP or virtual network rule"),
    ("AZ-COSMOS-001", {"ipRules": [{"ipAddressOrRange": "203.0.113.0/24"}]}, True, "restricted to 1 IP rule(s)"),
    ("AZ-COSMOS-001", {"isVirtualNetworkFilterEnabled": True}, True, "restricted to 0 IP rule(s) and virtual network rules"),
    ("AZ-COSMOS-001", {"publicNetworkAccess": "Disabled"}, True, "public network access is Disabled"),
    ("AZ-COSMOS-002", {"privateEndpointConnections": []}, False, "no approved private endpoint connection"),
    ("AZ-COSMOS-002", {"privateEndpointConnections": [_PE]}, True, "approved private endpoint(s): pe-cosmos"),
    ("AZ-COSMOS-003", {}, False, "disableLocalAuth is not true (account keys are accepted)"),
    ("AZ-COSMOS-003", {"disableLocalAuth": True}, True, "local (key) authentication is disabled"),
    ("AZ-COSMOS-004", {"keyVaultKeyUri": None}, False, "no keyVaultKeyUri (service-managed keys)"),
    ("AZ-COSMOS-004", {"keyVaultKeyUri": "https://kv.vault.azure.net/keys/k"}, True,
     "encrypted with a customer-managed key"),
    ("AZ-COSMOS-005", {}, False, "backup policy is Periodic (no point-in-time restore)"),
    ("AZ-COSMOS-005", {"backupPolicy": {"type": "Continuous", "continuousModeProperties": {"tier": "Continuous7Days"}}},
     True, "continuous backup (Continuous7Days)"),
])
def test_cosmos_verdicts(rule_id: str, properties: dict[str, object], passed: bool, detail: str) -> None:
    result = only(rule_id, inventory(arm(COSMOS_TYPE, "cosmos1", properties)))
    assert (result.passed, result.detail, result.resource_type) == (passed, detail, COSMOS_TYPE)


@pytest.mark.parametrize("rule_id", [f"AZ-COSMOS-00{n}" for n in range(1, 6)])
def test_cosmos_unreadable_account_is_not_evaluated(rule_id: str) -> None:
    inv = inventory()
    fail_resource(inv, COSMOS_TYPE, "cosmos-locked", "HTTP 403")
    result = only(rule_id, inv)
    assert (result.passed, result.detail) == (None, "Cosmos DB account could not be read: HTTP 403")
