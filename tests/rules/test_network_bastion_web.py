"""AZ-NET-012 (a Bastion host when VMs exist) and AZ-NET-013 (HTTP(S) from the Internet, gateway
subnets excepted)."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.network import APP_GATEWAY_TYPE, BASTION_TYPE
from tests.rules.builders import arm, fail_resource, inventory, nsg, only, run, sec_rule

VM_TYPE = "Microsoft.Compute/virtualMachines"
SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/appgw"


def _vm() -> dict[str, Any]:
    return arm(VM_TYPE, "vm1", {"storageProfile": {"osDisk": {"osType": "Linux"}}})


def test_net012_vms_without_bastion_fail() -> None:
    result = only("AZ-NET-012", inventory(_vm()))
    assert result.passed is False and "no working Azure Bastion" in result.detail


def test_net012_bastion_passes() -> None:
    bastion = arm(BASTION_TYPE, "bas-hub", {"provisioningState": "Succeeded", "ipConfigurations": []})
    assert only("AZ-NET-012", inventory(_vm(), bastion)).passed is True


def test_net012_failed_bastion_does_not_count() -> None:
    bastion = arm(BASTION_TYPE, "bas-hub", {"provisioningState": "Failed"})
    assert only("AZ-NET-012", inventory(_vm(), bastion)).passed is False


def test_net012_no_vms_is_not_judged() -> None:
    assert run("AZ-NET-012", inventory()) == []


def test_net012_unreadable_bastion_is_not_evaluated() -> None:
    inv = inventory(_vm())
    fail_resource(inv, BASTION_TYPE, "bas-hub", "HTTP 403 AuthorizationFailed")
    result = only("AZ-NET-012", inv)
    assert result.passed is None and "403" in result.detail


def _web_nsg(**attached: list[dict[str, str]]) -> dict[str, Any]:
    group = nsg("nsg-web", sec_rule("https", 100, port="443", source="Internet"))
    group["properties"].update(attached)
    return group


def _gateway() -> dict[str, Any]:
    return arm(APP_GATEWAY_TYPE, "appgw", {"gatewayIPConfigurations": [
        {"name": "gwipc", "properties": {"subnet": {"id": SUBNET}}}]})


def test_net013_https_to_vms_fails() -> None:
    group = _web_nsg(networkInterfaces=[{"id": "/subscriptions/s/.../networkInterfaces/nic1"}])
    result = only("AZ-NET-013", inventory(group, _gateway()))
    assert result.passed is False and "443" in result.detail


def test_net013_gateway_subnet_only_passes() -> None:
    result = only("AZ-NET-013", inventory(_web_nsg(subnets=[{"id": SUBNET}]), _gateway()))
    assert result.passed is True and "Application Gateway" in result.detail


@pytest.mark.parametrize("port", ["22", "8443"])
def test_net013_other_ports_pass(port: str) -> None:
    group = nsg("nsg-other", sec_rule("x", 100, port=port, source="Internet"))
    assert only("AZ-NET-013", inventory(group)).passed is True


def test_net013_gateways_unreadable_is_not_evaluated() -> None:
    inv = inventory(_web_nsg(subnets=[{"id": SUBNET}]))
    fail_resource(inv, APP_GATEWAY_TYPE, "appgw", "HTTP 500")
    assert only("AZ-NET-013", inv).passed is None
