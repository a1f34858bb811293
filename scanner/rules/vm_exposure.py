"""AZ-CMP-006: a virtual machine with a public IP address and no network security group.

Azure filters a NIC's traffic with the NSG on the NIC and the NSG on its subnet; with neither,
every listening port of a VM with a public address answers the Internet (Standard SKU public
IPs are closed by default, but Basic ones are open). Deciding this joins three resource types:
the VM names its NICs, a NIC names its public IP and its subnet, the subnet (inside its virtual
network) names its NSG.
"""

from __future__ import annotations

from typing import Any, Iterable

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import Evaluation, rule
from scanner.rules.compute import VM_TYPE
from scanner.rules.support.helpers import as_dict, unreadable, verdict
from scanner.rules.network import VNET_TYPE

NIC_TYPE = "Microsoft.Network/networkInterfaces"


def _ref(value: Any) -> str:
    """The lower-cased ``id`` of a ``{"id": ...}`` reference ('' when absent)."""
    return str(as_dict(value).get("id") or "").lower()


def _subnet_nsgs(inv: Inventory) -> dict[str, str]:
    """Lower-cased subnet id -> lower-cased NSG id ('' for a subnet without one)."""
    found: dict[str, str] = {}
    for vnet in inv.of_type(VNET_TYPE):
        for subnet in props(vnet).get("subnets") or []:
            if isinstance(subnet, dict) and subnet.get("id"):
                found[str(subnet["id"]).lower()] = _ref(props(subnet).get("networkSecurityGroup"))
    return found


def _judge_nic(nic: dict[str, Any], subnets: dict[str, str]) -> tuple[bool | None, str]:
    """(exposed?, why) for one NIC: exposed when an IP configuration has a public address and
    neither the NIC nor that configuration's subnet has an NSG."""
    nic_props = props(nic)
    nic_nsg = _ref(nic_props.get("networkSecurityGroup"))
    configs = [c for c in nic_props.get("ipConfigurations") or [] if isinstance(c, dict)]
    unknown = ""
    for config in configs:
        config_props = props(config)
        if not _ref(config_props.get("publicIPAddress")):
            continue
        if nic_nsg:
            return False, ""
        subnet_id = _ref(config_props.get("subnet"))
        if subnet_id not in subnets:
            unknown = f"subnet of NIC '{nic.get('name')}' could not be read"
            continue
        if not subnets[subnet_id]:
            return True, f"NIC '{nic.get('name')}' has a public IP and neither it nor its subnet has an NSG"
    if unknown:
        return None, unknown
    return False, ""


@rule(
    id="AZ-CMP-006",
    title="Virtual machine has a public IP address and no network security group",
    severity="HIGH",
    category="compute",
    description=(
        "A network interface of the VM has a public IP address while neither the interface nor "
        "its subnet has a network security group, so nothing filters Internet traffic to the "
        "VM's listening ports (management, databases, agents)."
    ),
    remediation=(
        "Attach an NSG that allows only the required ports to the NIC or subnet (`az network "
        "nic update -g <rg> -n <nic> --network-security-group <nsg>`), or remove the public IP "
        "and reach the VM through Azure Bastion or a load balancer."
    ),
    frameworks={"NIST": ["PR.AC-5", "PR.PT-4"], "ISO27001": ["A.8.20", "A.8.22"]},
    needs=Needs(resource_types=frozenset({VM_TYPE, NIC_TYPE, VNET_TYPE})),
)
def vm_public_ip_without_nsg(inv: Inventory) -> Iterable[Evaluation]:
    nics = {str(nic.get("id", "")).lower(): nic for nic in inv.of_type(NIC_TYPE)}
    subnets = _subnet_nsgs(inv)
    for vm in inv.of_type(VM_TYPE):
        refs = [_ref(ref) for ref in as_dict(props(vm).get("networkProfile")).get("networkInterfaces") or []]
        refs = [ref for ref in refs if ref]
        if not refs:
            yield verdict(vm, VM_TYPE, None, "network interfaces not reported")
            continue
        exposed: list[str] = []
        unknown: list[str] = []
        for ref in refs:
            nic = nics.get(ref)
            if nic is None:
                unknown.append(f"NIC {ref.rsplit('/', 1)[-1]} could not be read: "
                               f"{inv.unreadable.get(ref, 'not collected')}")
                continue
            result, why = _judge_nic(nic, subnets)
            if result:
                exposed.append(why)
            elif result is None:
                unknown.append(why)
        if exposed:
            yield verdict(vm, VM_TYPE, False, "; ".join(exposed), {"nics": refs})
        elif unknown:
            yield verdict(vm, VM_TYPE, None, "; ".join(unknown), {"nics": refs})
        else:
            yield verdict(vm, VM_TYPE, True, "no public IP without a network security group", {"nics": refs})
    yield from unreadable(inv, VM_TYPE, "virtual machine")
