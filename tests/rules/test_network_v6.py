"""AZ-NET-015..022 (CIS v6 7.8, 7.9, 7.12-7.15, 6.1.1.5-6.1.1.6): Application Gateway TLS policy and
HTTP/2, WAF policy body inspection and bot protection, flow logs per virtual network and to Log
Analytics, VPN gateway point-to-site authentication."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.network import APP_GATEWAY_TYPE, FLOW_LOGS, VNET_TYPE, VPN_GATEWAY_TYPE, WAF_POLICY_TYPE
from tests.rules.builders import Resource, arm, fail_child, inventory, only, run, set_child, with_unreadable
from tests.rules.test_network import attached_nsg, flow_log, nsg, target, vnet_id, watcher


def gateway(**properties: Any) -> Resource:
    return arm(APP_GATEWAY_TYPE, "agw1", {"provisioningState": "Succeeded", **properties})


# ------------------------------------------------------------------------------ AZ-NET-015
@pytest.mark.parametrize(("policy", "passed"), [
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"}, False),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20170401"}, False),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20170401S"}, True),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101"}, True),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101S"}, True),
    ({"policyType": "CustomV2", "minProtocolVersion": "TLSv1_3", "cipherSuites": []}, True),
    ({"policyType": "Custom", "minProtocolVersion": "TLSv1_1", "cipherSuites": []}, False),
    (None, False),
])
def test_net017_tls_policy(policy: dict[str, Any] | None, passed: bool) -> None:
    result = only("AZ-NET-015", inventory(gateway(**({"sslPolicy": policy} if policy else {}))))
    assert result.passed is passed


def test_net017_names_the_weak_version_and_leaves_unknown_policies_open() -> None:
    weak = only("AZ-NET-015", inventory(gateway(sslPolicy={"policyType": "Predefined",
                                                           "policyName": "AppGwSslPolicy20170401"})))
    assert weak.detail == "predefined policy AppGwSslPolicy20170401 accepts TLSv1_1"
    unknown = only("AZ-NET-015", inventory(gateway(sslPolicy={"policyType": "Predefined",
                                                              "policyName": "AppGwSslPolicy20990101"})))
    assert unknown.passed is None


# ------------------------------------------------------------------------------ AZ-NET-016
@pytest.mark.parametrize(("value", "passed"), [(True, True), (False, False), (None, False)])
def test_net018_http2(value: bool | None, passed: bool) -> None:
    result = only("AZ-NET-016", inventory(gateway(**({} if value is None else {"enableHttp2": value}))))
    assert result.passed is passed


@pytest.mark.parametrize("rule_id", ["AZ-NET-015", "AZ-NET-016"])
def test_gateway_rules_unreadable(rule_id: str) -> None:
    result = only(rule_id, with_unreadable(APP_GATEWAY_TYPE, "agw9", "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "403" in result.detail


# ------------------------------------------------------------------------------ AZ-NET-017/020
def waf_policy(*, body_check: Any = True, rule_sets: tuple[str, ...] = ("OWASP",)) -> Resource:
    """``GET .../ApplicationGatewayWebApplicationFirewallPolicies/{name}`` (2024-05-01)."""
    settings: dict[str, Any] = {"state": "Enabled", "mode": "Prevention"}
    if body_check is not None:
        settings["requestBodyCheck"] = body_check
    return arm(WAF_POLICY_TYPE, "wafpol1", {
        "policySettings": settings, "customRules": [],
        "managedRules": {"managedRuleSets": [{"ruleSetType": t, "ruleSetVersion": "1.0"} for t in rule_sets],
                         "exclusions": []}})


@pytest.mark.parametrize(("body_check", "passed"), [(True, True), (False, False), (None, None)])
def test_net019_request_body_check(body_check: Any, passed: bool | None) -> None:
    assert only("AZ-NET-017", inventory(waf_policy(body_check=body_check))).passed is passed


@pytest.mark.parametrize(("rule_sets", "passed"), [
    (("OWASP", "Microsoft_BotManagerRuleSet"), True), (("Microsoft_DefaultRuleSet",), False), ((), False)])
def test_net020_bot_protection(rule_sets: tuple[str, ...], passed: bool) -> None:
    assert only("AZ-NET-018", inventory(waf_policy(rule_sets=rule_sets))).passed is passed


@pytest.mark.parametrize("rule_id", ["AZ-NET-017", "AZ-NET-018"])
def test_waf_rules_unreadable(rule_id: str) -> None:
    result = only(rule_id, with_unreadable(WAF_POLICY_TYPE, "wafpol9", "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "WAF policy could not be read" in result.detail


# ------------------------------------------------------------------------------ flow logs
WORKSPACE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law1"


def analysed(log: Resource, *, enabled: bool = True, workspace: str | None = WORKSPACE) -> Resource:
    config: dict[str, Any] = {"enabled": enabled, "trafficAnalyticsInterval": 60}
    if workspace:
        config["workspaceResourceId"] = workspace
    log["properties"]["flowAnalyticsConfiguration"] = {"networkWatcherFlowAnalyticsConfiguration": config}
    return log


def test_net021_nsg_flow_log_must_send_to_a_workspace() -> None:
    groups = {n: nsg(n) for n in ("nsg-ta", "nsg-plain", "nsg-no-ws")}
    nw = watcher("westeurope")
    inv = inventory(nw, *groups.values())
    set_child(inv, FLOW_LOGS, nw, [
        analysed(flow_log("fl-ta", groups["nsg-ta"])),
        flow_log("fl-plain", groups["nsg-plain"]),
        analysed(flow_log("fl-no-ws", groups["nsg-no-ws"]), workspace=None),
    ])
    results = {r.resource_name: r for r in run("AZ-NET-019", inv)}
    assert {k: r.passed for k, r in results.items()} == {"nsg-ta": True, "nsg-plain": False, "nsg-no-ws": False}
    assert results["nsg-ta"].detail == "flow log fl-ta sends to workspace law1"
    assert "traffic analytics off" in results["nsg-plain"].detail


def test_net021_vnet_flow_log_with_traffic_analytics_covers_a_subnet_nsg_and_unread_is_open() -> None:
    group = attached_nsg("nsg-app", subnets=(f"{vnet_id('vnet-a')}/subnets/app",))
    other = nsg("nsg-other")
    nw, locked = watcher("westeurope"), watcher("eastus")
    inv = inventory(nw, locked, group, other)
    set_child(inv, FLOW_LOGS, nw, [analysed(flow_log("fl-vnet-a", target(vnet_id("vnet-a"))))])
    fail_child(inv, FLOW_LOGS, locked, "HTTP 403 AuthorizationFailed")
    results = {r.resource_name: r.passed for r in run("AZ-NET-019", inv)}
    assert results == {"nsg-app": True, "nsg-other": None}


def vnet(name: str, subnets: tuple[str, ...]) -> Resource:
    vid = vnet_id(name)
    return arm(VNET_TYPE, name, {"subnets": [{"id": f"{vid}/subnets/{s}", "name": s, "properties": {}}
                                             for s in subnets]})


def test_net022_vnet_retention_per_subnet_most_specific_decides() -> None:
    logged, short, bare, empty = (vnet("vnet-logged", ("a", "b")), vnet("vnet-short", ("a", "b")),
                                  vnet("vnet-bare", ("a",)), vnet("vnet-empty", ()))
    nw = watcher("westeurope")
    inv = inventory(nw, logged, short, bare, empty)
    set_child(inv, FLOW_LOGS, nw, [
        flow_log("fl-logged", logged, retention={"enabled": True, "days": 90}),
        flow_log("fl-short", short, retention={"enabled": True, "days": 365}),
        flow_log("fl-short-b", target(f"{short['id']}/subnets/b"), retention={"enabled": True, "days": 30}),
        flow_log("fl-empty", empty, retention={"enabled": False, "days": 0}),
    ])
    results = {r.resource_name: r for r in run("AZ-NET-020", inv)}
    assert {k: r.passed for k, r in results.items()} == {
        "vnet-logged": True, "vnet-short": False, "vnet-bare": False, "vnet-empty": True}
    assert results["vnet-short"].detail == "subnet vnet-short/b: flow log fl-short-b keeps 30 day(s), less than 90"
    assert results["vnet-bare"].detail == "subnet vnet-bare/a: no flow log on it or its virtual network"


def test_net022_023_unreadable() -> None:
    net = vnet("vnet-a", ("a",))
    locked = watcher("eastus")
    inv = inventory(locked, net)
    fail_child(inv, FLOW_LOGS, locked, "HTTP 403 AuthorizationFailed")
    for rule_id in ("AZ-NET-020", "AZ-NET-021"):
        assert only(rule_id, inv).passed is None
    gone = with_unreadable(VNET_TYPE, "vnet9", "HTTP 403")
    assert only("AZ-NET-020", gone).detail == "virtual network could not be read: HTTP 403"


def test_net023_vnet_traffic_analytics() -> None:
    sent, kept = vnet("vnet-sent", ("a",)), vnet("vnet-kept", ("a",))
    nw = watcher("westeurope")
    inv = inventory(nw, sent, kept)
    set_child(inv, FLOW_LOGS, nw, [analysed(flow_log("fl-sent", sent)),
                                   flow_log("fl-kept", kept, retention={"enabled": True, "days": 365})])
    results = {r.resource_name: r.passed for r in run("AZ-NET-021", inv)}
    assert results == {"vnet-sent": True, "vnet-kept": False}


# ------------------------------------------------------------------------------ AZ-NET-022
def vpn_gateway(name: str, client: dict[str, Any] | None) -> Resource:
    properties: dict[str, Any] = {"provisioningState": "Succeeded", "gatewayType": "Vpn", "vpnType": "RouteBased"}
    if client is not None:
        properties["vpnClientConfiguration"] = client
    return arm(VPN_GATEWAY_TYPE, name, properties)


P2S_POOL = {"vpnClientAddressPool": {"addressPrefixes": ["172.16.201.0/24"]}}


@pytest.mark.parametrize(("client", "passed", "detail"), [
    ({**P2S_POOL, "vpnAuthenticationTypes": ["AAD"], "aadTenant": "https://login.microsoftonline.com/t/"},
     True, "point-to-site authenticates with Microsoft Entra ID only"),
    ({**P2S_POOL, "vpnAuthenticationTypes": ["Certificate", "AAD"]}, False,
     "point-to-site accepts Certificate besides Entra ID"),
    ({**P2S_POOL, "vpnAuthenticationTypes": ["Radius"]}, False, "point-to-site accepts Radius (not Entra ID)"),
    # no vpnAuthenticationTypes (older gateways): inferred from the configured fields
    ({**P2S_POOL, "vpnClientRootCertificates": [{"name": "root"}]}, False,
     "point-to-site accepts Certificate (not Entra ID)"),
    ({**P2S_POOL, "aadTenant": "https://login.microsoftonline.com/t/"}, True,
     "point-to-site authenticates with Microsoft Entra ID only"),
    ({**P2S_POOL}, None, "point-to-site authentication types not reported"),
])
def test_net022_p2s_authentication(client: dict[str, Any], passed: bool | None, detail: str) -> None:
    result = only("AZ-NET-022", inventory(vpn_gateway("vgw1", client)))
    assert (result.passed, result.detail) == (passed, detail)


def test_net022_gateways_without_p2s_not_judged_unreadable_not_evaluated() -> None:
    inv = inventory(vpn_gateway("s2s", None), vpn_gateway("pool-empty", {"vpnClientAddressPool": {"addressPrefixes": []},
                                                                         "vpnAuthenticationTypes": ["Certificate"]}),
                    vpn_gateway("p2s", {**P2S_POOL, "vpnAuthenticationTypes": ["Certificate"]}))
    assert {r.resource_name: r.passed for r in run("AZ-NET-022", inv)} == {"p2s": False}
    locked = with_unreadable(VPN_GATEWAY_TYPE, "locked", "HTTP 403 AuthorizationFailed")
    assert [(r.passed, r.detail) for r in run("AZ-NET-022", locked)] == [
        (None, "virtual network gateway could not be read: HTTP 403 AuthorizationFailed")]
