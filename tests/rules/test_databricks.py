"""AZ-DBW-001..003: Azure Databricks workspaces."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.databricks import DATABRICKS_TYPE
from tests.rules.builders import arm, fail_resource, inventory, only, run, with_unreadable


def _ws(**properties: Any) -> dict[str, Any]:
    return arm(DATABRICKS_TYPE, "dbw1", {"provisioningState": "Succeeded", **properties})


@pytest.mark.parametrize(("properties", "passed"), [({"publicNetworkAccess": "Disabled"}, True),
                                                    ({"publicNetworkAccess": "Enabled"}, False), ({}, False)])
def test_dbw001_public_access(properties: dict[str, Any], passed: bool) -> None:
    assert only("AZ-DBW-001", inventory(_ws(**properties))).passed is passed


@pytest.mark.parametrize(("value", "passed"), [(True, True), (False, False)])
def test_dbw002_no_public_ip(value: bool, passed: bool) -> None:
    ws = _ws(parameters={"enableNoPublicIp": {"type": "Bool", "value": value}})
    assert only("AZ-DBW-002", inventory(ws)).passed is passed


def test_dbw002_absent_is_not_evaluated() -> None:
    assert only("AZ-DBW-002", inventory(_ws(parameters={}))).passed is None


@pytest.mark.parametrize(("encryption", "passed"), [
    ({"entities": {"managedServices": {"keySource": "Microsoft.Keyvault",
                                       "keyVaultProperties": {"keyName": "k", "keyVersion": "1",
                                                              "keyVaultUri": "https://kv.vault.azure.net/"}}}}, True),
    (None, False),
])
def test_dbw003_cmk(encryption: Any, passed: bool) -> None:
    ws = _ws(**({"encryption": encryption} if encryption else {}))
    assert only("AZ-DBW-003", inventory(ws)).passed is passed


@pytest.mark.parametrize("rule_id", ["AZ-DBW-001", "AZ-DBW-002", "AZ-DBW-003"])
def test_unreadable_is_not_evaluated(rule_id: str) -> None:
    result = only(rule_id, with_unreadable(DATABRICKS_TYPE, "dbw9", "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "403" in result.detail


# ------------------------------------------------------------------ AZ-DBW-004/005 (CIS v6 2.1.1, 2.1.11)
VNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-dbw"


@pytest.mark.parametrize(("parameters", "passed"), [
    ({"customVirtualNetworkId": {"type": "String", "value": VNET}}, True),
    ({"enableNoPublicIp": {"type": "Bool", "value": True}}, False),
    (None, None),
])
def test_dbw004_vnet_injection(parameters: dict[str, Any] | None, passed: bool | None) -> None:
    ws = _ws(**({"parameters": parameters} if parameters is not None else {}))
    result = only("AZ-DBW-004", inventory(ws))
    assert result.passed is passed
    if passed:
        assert result.detail == "deployed in virtual network vnet-dbw"


def _connection(status: str) -> dict[str, Any]:
    return {"id": "/x/privateEndpointConnections/pe1", "name": "pe1",
            "properties": {"privateEndpoint": {"id": "/x/pe1"}, "groupIds": ["databricks_ui_api"],
                           "privateLinkServiceConnectionState": {"status": status}}}


@pytest.mark.parametrize(("connections", "passed"), [([_connection("Approved")], True),
                                                     ([_connection("Pending")], False), ([], False)])
def test_dbw005_private_endpoint(connections: list[dict[str, Any]], passed: bool) -> None:
    assert only("AZ-DBW-005", inventory(_ws(privateEndpointConnections=connections))).passed is passed


@pytest.mark.parametrize("rule_id", ["AZ-DBW-004", "AZ-DBW-005"])
def test_dbw004_005_unreadable(rule_id: str) -> None:
    result = only(rule_id, with_unreadable(DATABRICKS_TYPE, "dbw9", "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "403" in result.detail


# ------------------------------------------------------------------ AZ-DBW-006 (CIS v6 2.1.2)
VNET_TYPE = "Microsoft.Network/virtualNetworks"


def _injected(vnet_name: str = "vnet-dbw") -> dict[str, Any]:
    vnet_id = str(arm(VNET_TYPE, vnet_name)["id"])
    return _ws(parameters={"customVirtualNetworkId": {"type": "String", "value": vnet_id},
                           "customPublicSubnetName": {"type": "String", "value": "host"},
                           "customPrivateSubnetName": {"type": "String", "value": "container"}})


def _vnet(nsgs: dict[str, bool]) -> dict[str, Any]:
    vnet = arm(VNET_TYPE, "vnet-dbw")
    vnet["properties"] = {"subnets": [
        {"name": n, "id": f"{vnet['id']}/subnets/{n}",
         "properties": {"networkSecurityGroup": {"id": "/x/nsg-dbw"}} if has else {}}
        for n, has in nsgs.items()]}
    return vnet


@pytest.mark.parametrize(("nsgs", "passed"), [({"host": True, "container": True}, True),
                                              ({"host": True, "container": False}, False),
                                              ({"host": True}, None)])
def test_dbw006_injected_subnets_need_nsgs(nsgs: dict[str, bool], passed: bool | None) -> None:
    result = only("AZ-DBW-006", inventory(_injected(), _vnet(nsgs)))
    assert result.passed is passed
    if passed is False:
        assert result.detail == "subnets without an NSG: container"


def test_dbw006_not_injected_is_out_of_scope_and_unread_vnet_is_open() -> None:
    assert run("AZ-DBW-006", inventory(_ws(parameters={}))) == []
    inv = inventory(_injected())
    fail_resource(inv, VNET_TYPE, "vnet-dbw", "HTTP 403 AuthorizationFailed")
    result = only("AZ-DBW-006", inv)
    assert result.passed is None and result.detail == "virtual network vnet-dbw could not be read: HTTP 403 AuthorizationFailed"
    assert only("AZ-DBW-006", with_unreadable(DATABRICKS_TYPE, "dbw9", "HTTP 403")).passed is None
