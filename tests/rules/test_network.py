"""AZ-NET-001..004, 011: NSG findings, their wording and metadata; AZ-NET-005..008: subnets
without NSGs, idle public IPs, Application Gateways without WAF, VNets without DDoS protection;
AZ-NET-009 (Network Watcher per region) and AZ-NET-010 (NSG flow logs)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scanner.rules.network import FLOW_LOGS, LOCATION_TYPE, WATCHER_TYPE
from tests.rules.builders import SUB, Resource, arm, fail_child, fail_resource, inventory, nsg, only, run
from tests.rules.builders import sec_rule, set_child, with_unreadable

NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
SUB_SCOPE = f"/subscriptions/{SUB}"


def test_net001_ssh_open_names_rule() -> None:
    result = only(
        "AZ-NET-001", inventory(nsg("web-nsg", sec_rule("allow-ssh", 200, source="Internet")))
    )
    assert result.passed is False
    assert result.resource_type == NSG_TYPE
    assert result.resource_name == "web-nsg"
    assert (
        result.detail == "inbound TCP 22 allowed from Internet by rule 'allow-ssh' (priority 200)"
    )
    assert result.metadata["open_ports"] == [22]
    assert result.metadata["rules"][0]["rule"] == "allow-ssh"
    json.dumps(result.metadata)


def test_net001_compliant_when_ssh_restricted() -> None:
    group = nsg("web-nsg", sec_rule("allow-ssh", 200, source="10.0.0.0/8"))
    assert only("AZ-NET-001", inventory(group)).passed is True


def test_net001_shadowed_allow_is_compliant() -> None:
    group = nsg("n", sec_rule("deny", 100, access="Deny"), sec_rule("allow", 200))
    assert only("AZ-NET-001", inventory(group)).passed is True


@pytest.mark.parametrize("rule_id", ["AZ-NET-001", "AZ-NET-002", "AZ-NET-003", "AZ-NET-004", "AZ-NET-011"])
def test_unreadable_nsg_is_not_evaluated(rule_id: str) -> None:
    inv = inventory(nsg("ok"))
    rid = fail_resource(inv, NSG_TYPE, "locked", "403 Forbidden")
    results = {r.resource_id: r for r in run(rule_id, inv)}
    assert results[rid].passed is None
    assert "403 Forbidden" in results[rid].detail
    assert results[nsg("ok")["id"]].passed is True


@pytest.mark.parametrize("rule_id", ["AZ-NET-001", "AZ-NET-002", "AZ-NET-003", "AZ-NET-004", "AZ-NET-011"])
def test_nsg_without_properties_is_compliant(rule_id: str) -> None:
    bare = nsg("n")
    del bare["properties"]
    assert only(rule_id, inventory(bare)).passed is True


def test_net002_rdp_open() -> None:
    group = nsg("n", sec_rule("rdp", 300, port="3389", source="0.0.0.0/0"))
    result = only("AZ-NET-002", inventory(group))
    assert result.passed is False
    assert "TCP 3389" in result.detail and "'rdp' (priority 300)" in result.detail


def test_net002_compliant_when_only_ssh_open() -> None:
    assert only("AZ-NET-002", inventory(nsg("n", sec_rule("ssh", 300)))).passed is True


def test_net003_lists_every_open_database_port() -> None:
    group = nsg(
        "db-nsg",
        sec_rule("sql", 100, port="1433-1434"),
        sec_rule("pg-mysql", 110, port=None, ports=["5432", "3306"]),
        sec_rule("deny-redis", 120, access="Deny", port="6379"),
        sec_rule("redis", 130, port="6379"),
    )
    result = only("AZ-NET-003", inventory(group))
    assert result.passed is False
    assert result.metadata["open_ports"] == [1433, 1434, 3306, 5432]
    assert "TCP 3306, 5432 allowed from any source ('*') by rule 'pg-mysql'" in result.detail
    assert "6379" not in result.detail
    json.dumps(result.metadata)


def test_net003_compliant_for_web_ports() -> None:
    group = nsg("n", sec_rule("web", 100, port=None, ports=["80", "443"]))
    assert only("AZ-NET-003", inventory(group)).passed is True


def test_net004_allow_all_is_critical_finding() -> None:
    group = nsg("n", sec_rule("any-any", 4000, protocol="*", port="*", source="Any"))
    result = only("AZ-NET-004", inventory(group))
    assert result.passed is False
    assert "'any-any' (priority 4000)" in result.detail
    assert result.metadata["rule"] == "any-any"


def test_net004_compliant_for_single_port_allow() -> None:
    assert only("AZ-NET-004", inventory(nsg("n", sec_rule("ssh", 100)))).passed is True


def test_one_evaluation_per_nsg() -> None:
    inv = inventory(nsg("a", sec_rule("ssh", 100)), nsg("b"), nsg("c", sec_rule("ssh", 100)))
    verdicts = {r.resource_name: r.passed for r in run("AZ-NET-001", inv)}
    assert verdicts == {"a": False, "b": True, "c": False}


# --- AZ-NET-005..008: virtual networks, public IPs, application gateways ----------------------

VNET = "Microsoft.Network/virtualNetworks"
PIP = "Microsoft.Network/publicIPAddresses"
APPGW = "Microsoft.Network/applicationGateways"
NSG_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n"


def subnet(name: str, nsg_id: str | None = None) -> dict[str, object]:
    properties: dict[str, object] = {"addressPrefix": "10.0.0.0/24"}
    if nsg_id:
        properties["networkSecurityGroup"] = {"id": nsg_id}
    return {"name": name, "id": f"/x/subnets/{name}", "properties": properties}


def vnet(name: str = "vnet1", **properties: object) -> dict[str, object]:
    return arm(VNET, name, dict(properties))


def test_net005_lists_unprotected_subnets() -> None:
    v = vnet(subnets=[subnet("web"), subnet("app", NSG_ID), subnet("data")])
    result = only("AZ-NET-005", inventory(v))
    assert result.passed is False
    assert result.metadata["unprotected_subnets"] == ["web", "data"]
    assert "'web', 'data'" in result.detail


def test_net005_platform_subnets_are_exempt() -> None:
    exempt = ["GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet",
              "AzureBastionSubnet", "RouteServerSubnet", "gatewaysubnet"]
    v = vnet(subnets=[subnet("app", NSG_ID), *(subnet(n) for n in exempt)])
    result = only("AZ-NET-005", inventory(v))
    assert result.passed is True
    assert result.metadata["exempt_subnets"] == exempt


def test_net005_vnet_without_subnets_passes() -> None:
    assert only("AZ-NET-005", inventory(vnet(subnets=[]))).passed is True


def test_net005_absent_subnets_is_not_evaluated() -> None:
    assert only("AZ-NET-005", inventory(vnet(addressSpace={}))).passed is None
    result = only("AZ-NET-005", inventory(vnet(subnets=[{"name": "bare"}, subnet("ok", NSG_ID)])))
    assert result.passed is None
    assert "'bare'" in result.detail


@pytest.mark.parametrize("rule_id", ["AZ-NET-005", "AZ-NET-008"])
def test_unreadable_vnet_is_not_evaluated(rule_id: str) -> None:
    inv = with_unreadable(VNET, "locked", "403 AuthorizationFailed")
    result = only(rule_id, inv)
    assert result.passed is None
    assert "403" in result.detail


def test_net006_unattached_ip_fails() -> None:
    result = only("AZ-NET-006", inventory(arm(PIP, "pip1", {"ipAddress": "203.0.113.9"})))
    assert result.passed is False
    assert "203.0.113.9" in result.detail


@pytest.mark.parametrize(
    "attachment",
    [{"ipConfiguration": {"id": "/nic/ipConfigurations/ipconfig1"}}, {"natGateway": {"id": "/nat/n1"}}],
)
def test_net006_attached_ip_passes(attachment: dict[str, object]) -> None:
    assert only("AZ-NET-006", inventory(arm(PIP, "pip1", attachment))).passed is True


def test_net006_missing_properties_is_not_evaluated_and_unreadable_too() -> None:
    assert only("AZ-NET-006", inventory(arm(PIP, "bare"))).passed is None
    inv = with_unreadable(PIP, "locked", "403")
    assert only("AZ-NET-006", inv).passed is None


def appgw(**properties: object) -> dict[str, object]:
    return arm(APPGW, "agw1", dict(properties))


def test_net007_standard_tier_without_policy_fails() -> None:
    result = only("AZ-NET-007", inventory(appgw(sku={"name": "Standard_v2", "tier": "Standard_v2"})))
    assert result.passed is False
    assert "Standard_v2" in result.detail


def test_net007_disabled_waf_configuration_fails() -> None:
    gw = appgw(sku={"tier": "WAF_v2"}, webApplicationFirewallConfiguration={"enabled": False})
    result = only("AZ-NET-007", inventory(gw))
    assert result.passed is False
    assert "disabled" in result.detail


@pytest.mark.parametrize(
    "properties",
    [
        {"sku": {"tier": "WAF_v2"}, "firewallPolicy": {"id": "/policies/p1"}},
        {"sku": {"tier": "WAF"}, "webApplicationFirewallConfiguration": {"enabled": True}},
        {"sku": {"tier": "waf_v2"}},
    ],
)
def test_net007_waf_passes(properties: dict[str, object]) -> None:
    assert only("AZ-NET-007", inventory(appgw(**properties))).passed is True


def test_net007_absent_tier_is_not_evaluated_and_unreadable_too() -> None:
    assert only("AZ-NET-007", inventory(appgw(operationalState="Running"))).passed is None
    inv = with_unreadable(APPGW, "locked", "403")
    assert only("AZ-NET-007", inv).passed is None


def test_net008_ddos_disabled_or_absent_fails() -> None:
    assert only("AZ-NET-008", inventory(vnet(enableDdosProtection=False))).passed is False
    absent = only("AZ-NET-008", inventory(vnet(subnets=[])))
    assert absent.passed is False
    assert "defaults to off" in absent.detail


def test_net008_ddos_enabled_passes() -> None:
    v = vnet(enableDdosProtection=True, ddosProtectionPlan={"id": "/plans/p1"})
    result = only("AZ-NET-008", inventory(v))
    assert result.passed is True
    assert result.metadata["ddosProtectionPlan"] == "/plans/p1"


def test_net008_missing_properties_is_not_evaluated() -> None:
    assert only("AZ-NET-008", inventory(arm(VNET, "bare"))).passed is None


def test_net011_udp_open_names_rule_and_ports() -> None:
    group = nsg("n", sec_rule("ntp", 100, protocol="Udp", port=None, ports=["123", "161-162"], source="0.0.0.0/0"))
    result = only("AZ-NET-011", inventory(group))
    assert result.passed is False
    assert "UDP 123, 161-162" in result.detail and "'ntp'" in result.detail
    assert result.metadata["open_udp_ports"] == "123, 161-162"


def test_net011_compliant_when_udp_only_from_private_ranges() -> None:
    group = nsg("n", sec_rule("dns", 100, protocol="Udp", port="53", source="10.0.0.0/8"), sec_rule("ssh", 110))
    assert only("AZ-NET-011", inventory(group)).passed is True


# ------------------------------------------------------------------------------ AZ-NET-009
def watcher(region: str, state: str = "Succeeded") -> Resource:
    return arm(WATCHER_TYPE, f"NetworkWatcher_{region}", {"provisioningState": state},
               rg="NetworkWatcherRG", location=region)


def test_net009_regions_with_and_without_watchers() -> None:
    inv = inventory(watcher("westeurope"), watcher("northeurope", "Failed"))
    inv.locations = {"westeurope": 5, "northeurope": 2, "eastus": 3, "global": 4}
    results = {r.resource_name: r for r in run("AZ-NET-009", inv)}
    assert set(results) == {"westeurope", "northeurope", "eastus"}  # 'global' is no region
    assert results["westeurope"].passed is True
    assert results["eastus"].passed is False
    assert results["eastus"].detail == "3 resource(s) in eastus but no working Network Watcher"
    assert results["eastus"].resource_id == f"{SUB_SCOPE}/locations/eastus"
    assert results["eastus"].resource_type == LOCATION_TYPE
    assert results["northeurope"].passed is False and "Failed" in results["northeurope"].detail


def test_net009_unreadable_watcher_means_not_evaluated() -> None:
    inv = inventory(watcher("westeurope"))
    inv.locations = {"westeurope": 1, "eastus": 1}
    fail_resource(inv, WATCHER_TYPE, "NetworkWatcher_eastus", "HTTP 403")
    results = {r.resource_name: r.passed for r in run("AZ-NET-009", inv)}
    assert results == {"westeurope": True, "eastus": None}


# ------------------------------------------------------------------------------ AZ-NET-010
def flow_log(name: str, target: Resource, *, enabled: Any = True, retention: dict[str, Any] | None = None) -> Resource:
    props: dict[str, Any] = {"targetResourceId": target["id"].upper(), "storageId": "/x/st", "enabled": enabled}
    if retention is not None:
        props["retentionPolicy"] = retention
    return {"id": f"/x/flowLogs/{name}", "name": name, "type": "Microsoft.Network/networkWatchers/flowLogs",
            "properties": props}


def test_net010_flow_log_states() -> None:
    groups = {name: nsg(name) for name in ("nsg-90", "nsg-30", "nsg-off", "nsg-none", "nsg-forever", "nsg-two")}
    nw = watcher("westeurope")
    inv = inventory(nw, *groups.values())
    set_child(inv, FLOW_LOGS, nw, [
        flow_log("fl-90", groups["nsg-90"], retention={"enabled": True, "days": 90}),
        flow_log("fl-30", groups["nsg-30"], retention={"enabled": True, "days": 30}),
        flow_log("fl-off", groups["nsg-off"], enabled=False, retention={"enabled": True, "days": 365}),
        flow_log("fl-forever", groups["nsg-forever"], retention={"enabled": True, "days": 0}),
        flow_log("fl-two-short", groups["nsg-two"], retention={"enabled": True, "days": 7}),
        flow_log("fl-two-ok", groups["nsg-two"], retention={"enabled": False, "days": 0}),
    ])
    results = {r.resource_name: r for r in run("AZ-NET-010", inv)}
    assert {k: r.passed for k, r in results.items()} == {
        "nsg-90": True, "nsg-30": False, "nsg-off": False, "nsg-none": False, "nsg-forever": True, "nsg-two": True}
    assert results["nsg-30"].detail == "flow log fl-30 keeps 30 day(s), less than 90"
    assert results["nsg-off"].detail == "flow log fl-off is disabled"
    assert results["nsg-none"].detail == "no flow log targets this NSG"
    assert results["nsg-30"].resource_type == NSG_TYPE


def test_net010_unreadable_flow_logs_and_nsgs_not_evaluated() -> None:
    covered, other = nsg("nsg-covered"), nsg("nsg-other")
    nw_ok, nw_locked = watcher("westeurope"), watcher("eastus")
    inv = inventory(nw_ok, nw_locked, covered, other)
    set_child(inv, FLOW_LOGS, nw_ok, [flow_log("fl", covered, retention={"enabled": True, "days": 120})])
    fail_child(inv, FLOW_LOGS, nw_locked, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, NSG_TYPE, "nsg-locked", "HTTP 403")
    results = {r.resource_name: (r.passed, r.detail) for r in run("AZ-NET-010", inv)}
    assert results == {
        "nsg-covered": (True, "flow log fl enabled, kept 120 days"),
        "nsg-other": (None, "flow logs could not be read: HTTP 403 AuthorizationFailed"),
        "nsg-locked": (None, "network security group could not be read: HTTP 403"),
    }


# VNet flow logs (Microsoft stopped new NSG flow logs on 2025-06-30): a flow log on the virtual
# network, subnet or NIC an NSG filters covers it
VNET_TYPE = "Microsoft.Network/virtualNetworks"
NIC_TYPE = "Microsoft.Network/networkInterfaces"


def vnet_id(name: str) -> str:
    return str(arm(VNET_TYPE, name)["id"])


def attached_nsg(name: str, *, subnets: tuple[str, ...] = (), nics: tuple[str, ...] = ()) -> Resource:
    """An NSG with the read-only back-references Azure reports: the subnets and NICs it filters."""
    group = nsg(name)
    group["properties"]["subnets"] = [{"id": s} for s in subnets]
    group["properties"]["networkInterfaces"] = [{"id": n} for n in nics]
    return group


def nic_in(name: str, subnet_id: str) -> Resource:
    return arm(NIC_TYPE, name, {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": subnet_id}}}]})


def target(resource_id: str) -> Resource:
    return {"id": resource_id}


def test_net010_vnet_flow_log_on_the_virtual_network_covers_a_subnet_nsg() -> None:
    group = attached_nsg("nsg-app", subnets=(f"{vnet_id('vnet-a')}/subnets/app",))
    nw = watcher("westeurope")
    inv = inventory(nw, group)
    set_child(inv, FLOW_LOGS, nw, [flow_log("fl-vnet-a", target(vnet_id("vnet-a")), retention={"enabled": True, "days": 90})])
    result = only("AZ-NET-010", inv)
    assert result.passed is True
    assert result.detail == ("covered by VNet flow logs: subnet vnet-a/app: flow log fl-vnet-a enabled, kept 90 days "
                             "(on virtual network vnet-a)")


def test_net010_every_attachment_must_be_covered_and_the_finding_names_the_uncovered_one() -> None:
    group = attached_nsg("nsg-two", subnets=(f"{vnet_id('vnet-a')}/subnets/app", f"{vnet_id('vnet-b')}/subnets/db"))
    nw = watcher("westeurope")
    inv = inventory(nw, group)
    set_child(inv, FLOW_LOGS, nw, [flow_log("fl-vnet-a", target(vnet_id("vnet-a")), retention={"enabled": True, "days": 120})])
    result = only("AZ-NET-010", inv)
    assert result.passed is False
    assert result.detail == "subnet vnet-b/db: no VNet flow log on it or its virtual network"


def test_net010_vnet_flow_log_keeps_the_retention_rule_and_the_most_specific_scope_decides() -> None:
    short = attached_nsg("nsg-short", subnets=(f"{vnet_id('vnet-a')}/subnets/app",))
    overridden = attached_nsg("nsg-overridden", subnets=(f"{vnet_id('vnet-b')}/subnets/db",))
    nw = watcher("westeurope")
    inv = inventory(nw, short, overridden)
    set_child(inv, FLOW_LOGS, nw, [
        flow_log("fl-vnet-a", target(vnet_id("vnet-a")), retention={"enabled": True, "days": 30}),
        flow_log("fl-vnet-b", target(vnet_id("vnet-b")), retention={"enabled": True, "days": 365}),
        flow_log("fl-db-subnet", target(f"{vnet_id('vnet-b')}/subnets/db"), enabled=False),
    ])
    results = {r.resource_name: (r.passed, r.detail) for r in run("AZ-NET-010", inv)}
    assert results == {
        "nsg-short": (False, "subnet vnet-a/app: flow log fl-vnet-a keeps 30 day(s), less than 90"),
        "nsg-overridden": (False, "subnet vnet-b/db: flow log fl-db-subnet is disabled"),
    }


def test_net010_nic_nsg_is_covered_through_the_nics_virtual_network_and_unknown_when_the_nic_is_unreadable() -> None:
    subnet = f"{vnet_id('vnet-a')}/subnets/app"
    nic = nic_in("nic-vm1", subnet)
    locked_nic = str(arm(NIC_TYPE, "nic-locked")["id"])
    on_nic = attached_nsg("nsg-nic", nics=(nic["id"],))
    on_locked = attached_nsg("nsg-locked-nic", nics=(locked_nic,))
    nw = watcher("westeurope")
    inv = inventory(nw, nic, on_nic, on_locked)
    fail_resource(inv, NIC_TYPE, "nic-locked", "HTTP 403")
    set_child(inv, FLOW_LOGS, nw, [flow_log("fl-vnet-a", target(vnet_id("vnet-a")), retention={"enabled": False, "days": 0})])
    results = {r.resource_name: (r.passed, r.detail) for r in run("AZ-NET-010", inv)}
    assert results["nsg-nic"] == (True, "covered by VNet flow logs: network interface nic-vm1: flow log fl-vnet-a "
                                        "enabled, kept indefinitely (on virtual network vnet-a)")
    assert results["nsg-locked-nic"] == (None, "network interface nic-locked could not be read: HTTP 403")
