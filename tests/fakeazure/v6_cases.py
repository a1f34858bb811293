"""Demo-tenant cases of the CIS v6.0.0 network, storage and Databricks rules (AZ-NET-015..023,
AZ-STOR-018..022; the Databricks cases are in :mod:`tests.fakeazure.breadth`): each rule gets a
violating and a compliant case, planted after the rest of the demo so the resources they adjust
(storage accounts, their file services, Network Watchers, NSGs) exist.

Shapes: "Web Application Firewall Policies - Get" (Microsoft.Network 2024-05-01), "Management
Locks - List At Subscription Level" (Microsoft.Authorization 2020-05-01: every lock in the
subscription, whatever its scope), "File Services - Get Service Properties" (``protocolSettings.smb``)
and "Flow Logs - Get" (``flowAnalyticsConfiguration``), "Virtual Network Gateways - Get"
(``vpnClientConfiguration``), "IoT Hub Resource - Get" and "IoT Security Solution - List By
Subscription"; links in tests/fakeazure/README.md.
"""

from __future__ import annotations

import uuid
from typing import Any

from . import tenants as T

WAF_POLICY_TYPE = "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies"
STORAGE_TYPE = "Microsoft.Storage/storageAccounts"

# AZ-STOR-018/019: SMB settings of the file service per account name; accounts not named keep
# the default (empty: every version and algorithm, violating)
SMB_CASES = {
    "stsecure01": ("SMB3.1.1", "AES-256-GCM"),                       # compliant
    "stsecure02": ("SMB3.1.1", "AES-256-GCM"),                       # compliant
    "stnetopen01": ("SMB3.0;SMB3.1.1", "AES-128-GCM;AES-256-GCM"),   # violating (explicitly)
}
# AZ-STOR-020/021: public network access and portal Entra authorization
LOCKED_DOWN = ("stsecure01", "stsecure02")


def _by_name(arm: Any, rtype: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in arm.resources if r["type"] == rtype}


def waf_policy(arm: Any, rg: str, name: str, location: str, *, body_check: bool, bot: bool,
               gateways: list[str]) -> dict[str, Any]:
    """An Application Gateway WAF policy as its GET returns it."""
    rule_sets: list[dict[str, Any]] = [{"ruleSetType": "OWASP", "ruleSetVersion": "3.2", "ruleGroupOverrides": []}]
    if bot:
        rule_sets.append({"ruleSetType": "Microsoft_BotManagerRuleSet", "ruleSetVersion": "1.0",
                          "ruleGroupOverrides": []})
    return arm.add(rg, WAF_POLICY_TYPE, name, location, {
        "provisioningState": "Succeeded", "resourceState": "Enabled",
        "policySettings": {"state": "Enabled", "mode": "Prevention", "requestBodyCheck": body_check,
                           "maxRequestBodySizeInKb": 128, "fileUploadLimitInMb": 100,
                           "requestBodyEnforcement": True, "requestBodyInspectLimitInKB": 128},
        "customRules": [],
        "managedRules": {"managedRuleSets": rule_sets, "exclusions": []},
        "applicationGateways": [{"id": g} for g in gateways],
    })


def plant_waf_policies(arm: Any) -> None:
    """AZ-NET-017/020: the policy appgw-waf-policy-01 links (compliant) and a detached legacy one
    with body inspection off and no bot rule set (violating)."""
    gateway = _by_name(arm, "Microsoft.Network/applicationGateways")["appgw-waf-policy-01"]
    rg = gateway["id"].split("/")[4]
    waf_policy(arm, rg, "wafpol-appgw-waf-policy-01", gateway["location"], body_check=True, bot=True,
               gateways=[gateway["id"]])
    waf_policy(arm, rg, "wafpol-legacy-01", gateway["location"], body_check=False, bot=False, gateways=[])


def plant_storage(arm: Any) -> None:
    """AZ-STOR-018..022 on the existing accounts: SMB settings, public access, portal auth, locks."""
    accounts = _by_name(arm, STORAGE_TYPE)
    for name, (versions, channel) in SMB_CASES.items():
        service = arm.children[f"{accounts[name]['id']}/fileServices/default"]
        service["properties"]["protocolSettings"]["smb"].update({"versions": versions, "channelEncryption": channel})
    for name in LOCKED_DOWN:
        accounts[name]["properties"].update({"publicNetworkAccess": "Disabled", "defaultToOAuthAuthentication": True})
    accounts["stnetopen01"]["properties"].update({"publicNetworkAccess": "Enabled",
                                                  "defaultToOAuthAuthentication": False})
    # a delete lock on stsecure01, a read-only one on stsecure02; NotSpecified does not count
    locks = [(accounts["stsecure01"]["id"], "lock-no-delete", "CanNotDelete"),
             (accounts["stsecure02"]["id"], "lock-read-only", "ReadOnly"),
             (accounts["stlrsonly01"]["id"], "lock-unspecified", "NotSpecified")]
    arm.subscription_read("Microsoft.Authorization/locks", [{
        "id": f"{scope}/providers/Microsoft.Authorization/locks/{name}", "name": name,
        "type": "Microsoft.Authorization/locks",
        "properties": {"level": level, "notes": "planted by the emulator", "owners": []},
    } for scope, name, level in locks])


def plant_flow_logs(arm: Any) -> None:
    """AZ-NET-019..023: nsg-web-only's NSG flow log sends to Log Analytics (compliant; the other
    flow logs do not), and vnet-flowlogs-ta is covered by a VNet flow log kept 90 days with
    traffic analytics (compliant for both VNet rules; every other virtual network violates)."""
    watchers = _by_name(arm, "Microsoft.Network/networkWatchers")
    workspace = next(r for r in arm.resources if r["type"] == "Microsoft.OperationalInsights/workspaces")
    storage = _by_name(arm, STORAGE_TYPE)["stsecure01"]["id"]
    west = arm.children[f"{watchers['NetworkWatcher_westeurope']['id']}/flowLogs"]
    for i, flow_log in enumerate(west):
        if flow_log["name"] == "fl-nsg-web-only":
            p = flow_log["properties"]
            west[i] = T.flow_log_body(watchers["NetworkWatcher_westeurope"], storage, flow_log["name"],
                                      p["targetResourceId"], p["enabled"], p["retentionPolicy"]["days"], workspace)
    north = watchers["NetworkWatcher_northeurope"]
    nsg = _by_name(arm, "Microsoft.Network/networkSecurityGroups")["nsg-vnet-flow-logged"]["id"]
    vnet = arm.vnet("rg-data", "vnet-flowlogs-ta", "northeurope", "10.40.0.0/16", ddos=True,
                    subnets=[("app", nsg)])
    arm.children[f"{north['id']}/flowLogs"].append(
        T.flow_log_body(north, storage, "fl-vnet-flowlogs-ta", vnet["id"], True, 90, workspace))


VPN_GATEWAY_TYPE = "Microsoft.Network/virtualNetworkGateways"


def vpn_gateway(arm: Any, rg: str, name: str, location: str, vnet: str,
                p2s: tuple[list[str], list[str]] | None) -> dict[str, Any]:
    """A route-based VPN gateway as "Virtual Network Gateways - Get" (2024-05-01) returns it;
    ``p2s`` = (vpnClientProtocols, vpnAuthenticationTypes) or None for site-to-site only (no
    ``vpnClientConfiguration``)."""
    gateway_id = arm.rid(rg, VPN_GATEWAY_TYPE, name)
    properties: dict[str, Any] = {
        "provisioningState": "Succeeded", "resourceGuid": str(uuid.uuid5(uuid.NAMESPACE_URL, gateway_id)),
        "packetCaptureDiagnosticState": "None", "enablePrivateIpAddress": False, "isMigrateToCSES": False,
        "ipConfigurations": [{
            "name": "default", "id": f"{gateway_id}/ipConfigurations/default",
            "type": "Microsoft.Network/virtualNetworkGateways/ipConfigurations",
            "properties": {"provisioningState": "Succeeded", "privateIPAllocationMethod": "Dynamic",
                           "subnet": {"id": f"{vnet}/subnets/GatewaySubnet"}},
        }],
        "natRules": [], "virtualNetworkGatewayPolicyGroups": [], "enableBgpRouteTranslationForNat": False,
        "disableIPSecReplayProtection": False,
        "sku": {"name": "VpnGw2AZ", "tier": "VpnGw2AZ", "capacity": 2},
        "gatewayType": "Vpn", "vpnType": "RouteBased", "enableBgp": False, "activeActive": False,
        "vpnGatewayGeneration": "Generation2", "allowRemoteVnetTraffic": False, "allowVirtualWanTraffic": False,
    }
    if p2s is not None:
        protocols, auth = p2s
        tenant = f"https://login.microsoftonline.com/{T.TENANT_ID}/"
        properties["vpnClientConfiguration"] = {
            "vpnClientAddressPool": {"addressPrefixes": ["172.16.201.0/24"]},
            "vpnClientProtocols": protocols, "vpnAuthenticationTypes": auth,
            "vpnClientRootCertificates": [{
                "name": "p2s-root", "id": f"{gateway_id}/vpnClientRootCertificates/p2s-root",
                "properties": {"provisioningState": "Succeeded", "publicCertData": "MIIC5zCCAc+gAwIBAgIQ"},
            }] if "Certificate" in auth else [],
            "vpnClientRevokedCertificates": [], "vpnClientIpsecPolicies": [], "radiusServers": [],
            "vngClientConnectionConfigurations": [],
            **({"aadTenant": tenant, "aadAudience": "c632b3df-fb67-4d84-bdcf-b95ad541b5c8",
                "aadIssuer": f"https://sts.windows.net/{T.TENANT_ID}/"} if "AAD" in auth else {}),
        }
    return arm.add(rg, VPN_GATEWAY_TYPE, name, location, properties)


def plant_vpn_gateways(arm: Any) -> None:
    """AZ-NET-022: Entra ID only (compliant), certificates beside Entra ID (violating), and a
    site-to-site gateway without point-to-site (not judged)."""
    vnet = _by_name(arm, "Microsoft.Network/virtualNetworks")["vnet-prod"]
    location = vnet["location"]
    vpn_gateway(arm, "rg-prod", "vgw-p2s-entra-01", location, vnet["id"], (["OpenVPN"], ["AAD"]))
    vpn_gateway(arm, "rg-prod", "vgw-p2s-cert-01", location, vnet["id"], (["OpenVPN"], ["AAD", "Certificate"]))
    vpn_gateway(arm, "rg-prod", "vgw-s2s-01", location, vnet["id"], None)


IOT_HUB_TYPE = "Microsoft.Devices/IotHubs"


def iot_hub(arm: Any, rg: str, name: str, location: str) -> dict[str, Any]:
    """An IoT hub as "IoT Hub Resource - Get" (Microsoft.Devices 2023-06-30) returns it."""
    return arm.add(rg, IOT_HUB_TYPE, name, location, {
        "provisioningState": "Succeeded", "state": "Active", "hostName": f"{name}.azure-devices.net",
        "publicNetworkAccess": "Enabled", "ipFilterRules": [], "networkRuleSets": None, "minTlsVersion": "1.2",
        "disableLocalAuth": False, "allowedFqdnList": [], "features": "None", "enableFileUploadNotifications": False,
        "eventHubEndpoints": {"events": {"retentionTimeInDays": 1, "partitionCount": 4,
                                         "path": name, "endpoint": f"sb://iothub-ns-{name}.servicebus.windows.net/"}},
        "routing": {"endpoints": {"serviceBusQueues": [], "serviceBusTopics": [], "eventHubs": [],
                                  "storageContainers": [], "cosmosDBSqlContainers": []},
                    "routes": [], "fallbackRoute": {"name": "$fallback", "source": "DeviceMessages",
                                                    "condition": "true", "endpointNames": ["events"],
                                                    "isEnabled": True}},
        "cloudToDevice": {"maxDeliveryCount": 10, "defaultTtlAsIso8601": "PT1H",
                          "feedback": {"lockDurationAsIso8601": "PT1M", "ttlAsIso8601": "PT1H", "maxDeliveryCount": 10}},
        "locations": [{"location": location, "role": "primary"}],
    }, sku={"name": "S1", "tier": "Standard", "capacity": 1})


def plant_iot(arm: Any) -> None:
    """AZ-DEF-013: iot-defended-01 is named by an enabled IoT security solution ("IoT Security
    Solution - List By Subscription", Microsoft.Security 2019-08-01); iot-undefended-01 by none."""
    covered = iot_hub(arm, "rg-prod", "iot-defended-01", "westeurope")
    iot_hub(arm, "rg-data", "iot-undefended-01", "northeurope")
    workspace = next(r for r in arm.resources if r["type"] == "Microsoft.OperationalInsights/workspaces")
    arm.subscription_read("Microsoft.Security/iotSecuritySolutions", [{
        "id": f"/subscriptions/{arm.sub}/resourceGroups/rg-prod/providers/Microsoft.Security/iotSecuritySolutions/"
              "iotsec-prod",
        "name": "iotsec-prod", "type": "Microsoft.Security/iotSecuritySolutions", "location": "westeurope",
        "tags": {},
        "properties": {"workspace": workspace["id"], "displayName": "iotsec-prod", "status": "Enabled",
                       "export": [], "disabledDataSources": [], "iotHubs": [covered["id"]],
                       "userDefinedResources": {"query": "", "querySubscriptions": []},
                       "autoDiscoveredResources": [], "recommendationsConfiguration": [],
                       "unmaskedIpLoggingStatus": "Disabled", "additionalWorkspaces": []},
    }])


def plant_demo(arm: Any) -> None:
    plant_waf_policies(arm)
    plant_storage(arm)
    plant_flow_logs(arm)
    plant_vpn_gateways(arm)
    plant_iot(arm)


# AZ-IAM-027: Entra ID VM sign-in roles (built-in role definition GUIDs)
VM_ADMIN_LOGIN = "1c0163c0-47e6-4577-8991-ea5c82e286e4"
VM_USER_LOGIN = "fb879df8-f326-4884-b1cf-06f3ad86be52"


def plant_assignments(assignments: list[dict[str, Any]], sub: str, graph: dict[str, Any]) -> None:
    """AZ-IAM-027: dave.user (MFA registered) is Virtual Machine Administrator Login on rg-prod
    (compliant); bob.nomfa (no MFA) is Virtual Machine User Login on rg-dev (violating)."""
    users = {u["userPrincipalName"].split("@")[0]: u for u in graph["users"]}
    assignments.append(T._assignment(sub, "dave-vm-admin-login", f"/subscriptions/{sub}/resourceGroups/rg-prod",
                                     VM_ADMIN_LOGIN, users["dave.user"]["id"], "User"))
    assignments.append(T._assignment(sub, "bob-vm-user-login", f"/subscriptions/{sub}/resourceGroups/rg-dev",
                                     VM_USER_LOGIN, users["bob.nomfa"]["id"], "User"))
