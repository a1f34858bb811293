"""Tenants served by the emulator: plain JSON-able data in Azure REST shape.

A tenant is a dict::

    {"tenantId", "subscriptionId", "clientId",
     "resources": [ARM resources {id, name, type, location, tags, sku, kind, properties}],
     "children": {"<parent resource id>/<child path>": object | [list items]},
     "roleAssignments": [...], "roleDefinitions": [...],
     "graph": {"users": [...], "userRegistrationDetails": [...],
               "directoryRoles": [... each with "members": [...]],
               "applications": [...], "servicePrincipals": [...]}}

Optional extra keys (``name``, ``generatedAt``) are informational. ``demo_tenant()`` plants, for
every rule of the rules spec (rules-spec.md), resources that violate it and resources that comply, named
so that the name says which; ``large_tenant(n)`` makes exactly ``n`` ARM resources for load tests.
Everything is deterministic except Graph credential dates, which are relative to the
generation time (so "200 days old" stays 200 days old).
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

# Fixed identities (the same for every generated tenant).
TENANT_ID = "3f6c2b1a-8d4e-4c7b-9a51-0e2d4f6a8b10"
SUBSCRIPTION_ID = "9b2e7c41-5a3d-4f86-b0c2-7d1e9f3a5c64"
CLIENT_ID = "d4a1f0c7-2b6e-4e93-8c5f-1a7b3d9e0f52"
DEFAULT_CLIENT_SECRET = "fakeazure-demo-secret"
TENANT_DOMAIN = "fakeazure.onmicrosoft.com"
MANAGEMENT_GROUP = "mg-openshield-demo"

GRAPH_COLLECTIONS = (
    "users",
    "userRegistrationDetails",
    "directoryRoles",
    "applications",
    "servicePrincipals",
    "authorizationPolicy",         # a singleton: one item
    "securityDefaults",            # a singleton: one item
    "conditionalAccessPolicies",
    "groupSettings",               # tenant-wide group settings (Group.Unified)
)

# Built-in role definition ids (the same in every tenant).
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"

# Directory role template ids.
ROLE_TEMPLATES = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
}

# api-versions ARM accepts per resource type. Children are checked against their parent type's
# list (``ns/type`` of the id). Types not listed accept any well-formed api-version.
# Types whose provider documents a "List" per resource group only (no subscription-scope list):
# "Virtual Network Gateways - List" is GET .../resourceGroups/{rg}/providers/Microsoft.Network/
# virtualNetworkGateways. The emulator refuses the subscription-scope collection of these.
GROUP_LIST_ONLY: frozenset[str] = frozenset({"microsoft.network/virtualnetworkgateways"})

API_VERSIONS: dict[str, list[str]] = {
    "Microsoft.Storage/storageAccounts": [
        "2021-04-01", "2021-06-01", "2021-08-01", "2021-09-01", "2022-05-01", "2022-09-01",
        "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01",
    ],
    "Microsoft.Network/networkSecurityGroups": [
        "2022-07-01", "2022-09-01", "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01",
        "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01",
    ],
    "Microsoft.Network/virtualNetworks": [
        "2023-04-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01",
    ],
    "Microsoft.Network/publicIPAddresses": [
        "2023-04-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01",
    ],
    "Microsoft.Network/applicationGateways": [
        "2023-04-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01",
    ],
    "Microsoft.Compute/virtualMachines": [
        "2022-08-01", "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01",
        "2024-07-01",
    ],
    "Microsoft.Compute/disks": [
        "2022-03-02", "2022-07-02", "2023-01-02", "2023-04-02", "2023-10-02", "2024-03-02",
    ],
    "Microsoft.KeyVault/vaults": ["2022-07-01", "2022-11-01", "2023-02-01", "2023-07-01"],
    "Microsoft.Sql/servers": [
        "2021-02-01-preview", "2021-05-01-preview", "2021-08-01-preview", "2021-11-01",
        "2022-05-01-preview", "2023-05-01-preview", "2023-08-01", "2023-08-01-preview",
    ],
    "Microsoft.DBforPostgreSQL/flexibleServers": [
        "2021-06-01", "2022-12-01", "2023-03-01-preview", "2023-06-01-preview", "2024-08-01",
    ],
    "Microsoft.Web/sites": [
        "2021-02-01", "2022-03-01", "2022-09-01", "2023-01-01", "2023-12-01", "2024-04-01",
    ],
    "Microsoft.ContainerService/managedClusters": [
        "2023-10-01", "2024-01-01", "2024-02-01", "2024-05-01", "2024-07-01", "2024-08-01", "2024-09-01",
    ],
    "Microsoft.ContainerRegistry/registries": ["2022-12-01", "2023-01-01-preview", "2023-07-01", "2023-11-01-preview"],
    "Microsoft.DBforMySQL/flexibleServers": ["2022-01-01", "2023-06-30", "2023-10-01-preview", "2023-12-30"],
    "Microsoft.Network/networkWatchers": [
        "2023-04-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01",
    ],
    "Microsoft.Insights/activityLogAlerts": ["2017-04-01", "2020-10-01", "2023-01-01-preview"],
    "Microsoft.DocumentDB/databaseAccounts": ["2023-04-15", "2023-11-15", "2024-05-15", "2024-08-15", "2024-11-15"],
    "Microsoft.EventHub/namespaces": ["2021-11-01", "2022-10-01-preview", "2024-01-01"],
    "Microsoft.Network/bastionHosts": ["2023-09-01", "2024-01-01", "2024-05-01"],
    "Microsoft.Network/virtualNetworkGateways": ["2023-09-01", "2024-01-01", "2024-05-01"],
    "Microsoft.OperationalInsights/workspaces": ["2022-10-01", "2023-09-01"],
    "Microsoft.Insights/components": ["2015-05-01", "2020-02-02"],
    "Microsoft.RecoveryServices/vaults": ["2023-04-01", "2024-04-01"],
    "Microsoft.App/containerApps": ["2023-05-01", "2024-03-01"],
    "Microsoft.Databricks/workspaces": ["2023-02-01", "2024-05-01"],
    "Microsoft.ServiceBus/namespaces": ["2021-11-01", "2022-10-01-preview"],
    "Microsoft.CognitiveServices/accounts": ["2023-05-01", "2024-10-01"],
    "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies": ["2023-09-01", "2024-01-01", "2024-05-01"],
    # management locks: at subscription scope the list holds every lock in the subscription
    "Microsoft.Authorization/locks": ["2016-09-01", "2020-05-01"],
    # an extension resource: under a resource ({id}/providers/...) and at subscription scope
    "Microsoft.Insights/diagnosticSettings": ["2016-09-01", "2017-05-01-preview", "2020-01-01-preview",
                                              "2021-05-01-preview"],
    "Microsoft.Security/pricings": ["2018-06-01", "2022-03-01", "2023-01-01", "2024-01-01"],
    "Microsoft.Security/securityContacts": ["2017-08-01-preview", "2020-01-01-preview", "2023-12-01-preview"],
    "Microsoft.Security/autoProvisioningSettings": ["2017-08-01-preview"],
    "Microsoft.Security/settings": ["2019-01-01", "2021-06-01", "2021-07-01", "2022-05-01"],
    "Microsoft.Authorization/policyAssignments": ["2021-06-01", "2022-06-01", "2023-04-01", "2024-04-01"],
    # tenant scope only: GET /providers/Microsoft.Subscription/policies/default
    "Microsoft.Subscription/policies": ["2021-01-01-privatepreview", "2021-10-01"],
    "Microsoft.Security/serverVulnerabilityAssessmentsSettings": ["2022-01-01-preview", "2023-05-01"],
    "Microsoft.Security/iotSecuritySolutions": ["2019-08-01"],
    "Microsoft.Devices/IotHubs": ["2022-04-30-preview", "2023-06-30"],
    # tenant-level (``/providers/microsoft.aadiam/diagnosticSettings``): Entra ID's own
    "microsoft.aadiam/diagnosticSettings": ["2017-04-01", "2017-04-01-preview"],
}
# Subscription-scope collections (``/subscriptions/{id}/providers/<type>``) the emulator serves
# from ``children`` keyed by that path ({"value": []} when the tenant has none), by short name
# (what ``--forbid-arm`` takes).
SUBSCRIPTION_READS = {
    "diagnosticSettings": "Microsoft.Insights/diagnosticSettings",
    "pricings": "Microsoft.Security/pricings",
    "securityContacts": "Microsoft.Security/securityContacts",
    "autoProvisioningSettings": "Microsoft.Security/autoProvisioningSettings",
    "settings": "Microsoft.Security/settings",
    "policyAssignments": "Microsoft.Authorization/policyAssignments",
    "locks": "Microsoft.Authorization/locks",
    "serverVulnerabilityAssessmentsSettings": "Microsoft.Security/serverVulnerabilityAssessmentsSettings",
    "iotSecuritySolutions": "Microsoft.Security/iotSecuritySolutions",
}
# Tenant-level collections (``/providers/<type>``, no subscription in the path), served from
# ``children`` keyed by that path; ``--forbid-arm`` names them like the subscription reads.
TENANT_COLLECTIONS = {
    "aadiamDiagnosticSettings": "microsoft.aadiam/diagnosticSettings",
}
SUBSCRIPTION_READS.update(TENANT_COLLECTIONS)
# Tenant-scope ARM objects (``/providers/...``) by short name (``--forbid-arm`` takes these too),
# served from the tenant's optional key of the same name (the object's ``properties``).
TENANT_READS = {"subscriptionPolicy": "Microsoft.Subscription/policies"}
FORBIDDABLE_ARM_READS = {**SUBSCRIPTION_READS, **TENANT_READS}
# Provider api-version lists for the types no rule reads (per namespace).
NAMESPACE_API_VERSIONS: dict[str, list[str]] = {
    "Microsoft.Network": ["2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01"],
    "Microsoft.Compute": ["2023-09-01", "2024-03-01", "2024-07-01"],
    "Microsoft.Storage": ["2023-01-01", "2023-05-01"],
    "Microsoft.KeyVault": ["2023-02-01", "2023-07-01"],
    "Microsoft.Sql": ["2021-11-01", "2023-08-01-preview"],
    "Microsoft.DBforPostgreSQL": ["2022-12-01", "2024-08-01"],
    "Microsoft.Web": ["2022-09-01", "2023-01-01", "2023-12-01", "2024-04-01"],
    "Microsoft.Authorization": ["2020-04-01-preview", "2022-04-01"],
}
# child types listed in provider answers, per parent type
CHILD_TYPES = {
    "Microsoft.Storage/storageAccounts": ["blobServices", "fileServices"],
    "Microsoft.Sql/servers": ["firewallRules", "auditingSettings", "databases", "vulnerabilityAssessments",
                              "encryptionProtector", "securityAlertPolicies", "sqlVulnerabilityAssessments"],
    "Microsoft.RecoveryServices/vaults": ["backupProtectedItems"],
    "Microsoft.Web/sites": ["config"],
    "Microsoft.Network/networkSecurityGroups": ["securityRules"],
    "Microsoft.Network/virtualNetworks": ["subnets"],
    "Microsoft.Compute/virtualMachines": ["extensions"],
    "Microsoft.KeyVault/vaults": ["keys", "secrets"],
    "Microsoft.DBforPostgreSQL/flexibleServers": ["configurations", "firewallRules"],
    "Microsoft.DBforMySQL/flexibleServers": ["configurations"],
    "Microsoft.Network/networkWatchers": ["flowLogs"],
}

_ABSENT = object()  # "leave this property out"
_NS = uuid.UUID("5d0f3c64-1b2a-4e8e-9f5d-7a6b2c3d4e5f")
_FIXED_TIME = "2023-03-01T09:00:00Z"


def guid(kind: str, name: str) -> str:
    """A deterministic GUID for (kind, name)."""
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _put(props: dict[str, Any], key: str, value: Any) -> None:
    if value is not _ABSENT:
        props[key] = value


def flow_log_body(watcher: dict[str, Any], storage: str, name: str, target: str, enabled: Any, days: Any,
                  workspace: dict[str, Any] | None = None) -> dict[str, Any]:
    """A flow log as ``GET {watcher}/flowLogs`` lists it (Network Watcher 2024-05-01); with
    ``workspace`` (a Log Analytics workspace resource) traffic analytics sends it there."""
    props: dict[str, Any] = {
        "targetResourceId": target,
        "targetResourceGuid": guid("flow-log-target", target),
        "storageId": storage,
        "enabled": enabled,
        "retentionPolicy": {"days": days or 0, "enabled": days is not None},
        "format": {"type": "JSON", "version": 2},
        "provisioningState": "Succeeded",
    }
    if workspace is not None:
        props["flowAnalyticsConfiguration"] = {"networkWatcherFlowAnalyticsConfiguration": {
            "enabled": True, "workspaceId": workspace["properties"].get("customerId") or guid("workspace", workspace["id"]),
            "workspaceRegion": workspace["location"], "workspaceResourceId": workspace["id"],
            "trafficAnalyticsInterval": 60}}
    return {"id": f"{watcher['id']}/flowLogs/{name}", "name": name,
            "type": "Microsoft.Network/networkWatchers/flowLogs", "location": watcher["location"], "properties": props}


# ---------------------------------------------------------------------------------------------
# ARM builders
# ---------------------------------------------------------------------------------------------


class _Arm:
    """Accumulates resources and children for one subscription."""

    def __init__(self, subscription_id: str) -> None:
        self.sub = subscription_id
        self.resources: list[dict[str, Any]] = []
        self.children: dict[str, Any] = {}
        # large:N wires resources built in different slots together (a VM to the newest NIC,
        # a NIC to the newest subnet): kind -> the newest one built (an id, or a resource)
        self.latest: dict[str, Any] = {}

    def rg_id(self, rg: str) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{rg}"

    def rid(self, rg: str, rtype: str, name: str) -> str:
        return f"{self.rg_id(rg)}/providers/{rtype}/{name}"

    def add(
        self,
        rg: str,
        rtype: str,
        name: str,
        location: str,
        properties: dict[str, Any],
        *,
        sku: Any = _ABSENT,
        kind: Any = _ABSENT,
        tags: dict[str, str] | None = None,
        managed_by: Any = _ABSENT,
        rid: str | None = None,
    ) -> dict[str, Any]:
        res: dict[str, Any] = {
            "id": rid or self.rid(rg, rtype, name),
            "name": name,
            "type": rtype,
            "location": location,
            "tags": tags if tags is not None else {"env": rg.removeprefix("rg-")},
        }
        _put(res, "sku", sku)
        _put(res, "kind", kind)
        _put(res, "managedBy", managed_by)
        res["properties"] = properties
        self.resources.append(res)
        return res

    def child(self, parent: dict[str, Any], path: str, payload: Any) -> None:
        self.children[f"{parent['id']}/{path}"] = payload

    # --- storage -------------------------------------------------------------------------------
    def storage(
        self,
        rg: str,
        name: str,
        location: str,
        *,
        public: Any = False,
        https: Any = True,
        tls: Any = "TLS1_2",
        acl: Any = "Deny",
        soft_delete: bool | None = True,
        container_soft_delete: bool | None = None,
        versioning: bool = True,
        shared_key: Any = False,
        infra_encryption: Any = True,
        sku_name: str = "Standard_RAGRS",
        cross_tenant: Any = False,
        private_endpoint: bool = False,
        key_policy_days: Any = 90,
        sas_period: Any = "0.01:00:00",
        bypass: str = "AzureServices",
        cmk: bool = False,
    ) -> dict[str, Any]:
        aid = self.rid(rg, "Microsoft.Storage/storageAccounts", name)
        props: dict[str, Any] = {
            "keyCreationTime": {"key1": _FIXED_TIME, "key2": _FIXED_TIME},
            "privateEndpointConnections": [{
                "id": f"{aid}/privateEndpointConnections/pe-{name}-blob",
                "name": f"pe-{name}-blob",
                "type": "Microsoft.Storage/storageAccounts/privateEndpointConnections",
                "properties": {
                    "privateEndpoint": {"id": self.rid(rg, "Microsoft.Network/privateEndpoints", f"pe-{name}-blob")},
                    "privateLinkServiceConnectionState": {"status": "Approved", "description": "", "actionRequired": "None"},
                    "provisioningState": "Succeeded",
                },
            }] if private_endpoint else [],
            "provisioningState": "Succeeded",
            "creationTime": _FIXED_TIME,
            "primaryEndpoints": {
                svc: f"https://{name}.{svc}.core.windows.net/"
                for svc in ("blob", "queue", "table", "file", "dfs", "web")
            },
            "primaryLocation": location,
            "statusOfPrimary": "available",
            "accessTier": "Hot",
            "encryption": {
                "services": {
                    "blob": {"keyType": "Account", "enabled": True},
                    "file": {"keyType": "Account", "enabled": True},
                },
                "keySource": "Microsoft.Keyvault" if cmk else "Microsoft.Storage",
            },
        }
        if cmk:
            props["encryption"]["keyvaultproperties"] = {
                "keyname": "key-storage-cmk", "keyvaulturi": "https://kv-secure-01.vault.azure.net/"}
        _put(props, "allowCrossTenantReplication", cross_tenant)
        if key_policy_days is not _ABSENT:
            props["keyPolicy"] = {"keyExpirationPeriodInDays": key_policy_days}
        if sas_period is not _ABSENT:
            props["sasPolicy"] = {"sasExpirationPeriod": sas_period, "expirationAction": "Log"}
        _put(props["encryption"], "requireInfrastructureEncryption", infra_encryption)
        _put(props, "allowSharedKeyAccess", shared_key)
        _put(props, "allowBlobPublicAccess", public)
        _put(props, "supportsHttpsTrafficOnly", https)
        _put(props, "minimumTlsVersion", tls)
        if acl is not _ABSENT:
            props["networkAcls"] = {
                "bypass": bypass,
                "virtualNetworkRules": [],
                "ipRules": [] if acl == "Allow" else [{"value": "203.0.113.0/24", "action": "Allow"}],
                "defaultAction": acl,
            }
        sku = {"name": sku_name, "tier": sku_name.split("_")[0]}
        res = self.add(rg, "Microsoft.Storage/storageAccounts", name, location, props,
                       sku=sku, kind="StorageV2")
        # container soft delete follows blob soft delete unless the case sets it
        container = soft_delete if container_soft_delete is None else container_soft_delete
        if soft_delete is not None:
            policy: dict[str, Any] = {"allowPermanentDelete": False, "enabled": soft_delete}
            if soft_delete:
                policy["days"] = 7
            self.child(res, "blobServices/default", {
                "id": f"{res['id']}/blobServices/default",
                "name": "default",
                "type": "Microsoft.Storage/storageAccounts/blobServices",
                "sku": sku,
                "properties": {
                    "cors": {"corsRules": []},
                    "deleteRetentionPolicy": policy,
                    "containerDeleteRetentionPolicy": {"enabled": container, **({"days": 7} if container else {})},
                    "isVersioningEnabled": versioning,
                },
            })
        return res

    # --- network -------------------------------------------------------------------------------
    def nsg(self, rg: str, name: str, location: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
        nsg_id = self.rid(rg, "Microsoft.Network/networkSecurityGroups", name)
        security_rules = [_nsg_rule(nsg_id, r) for r in rules]
        defaults = [
            _nsg_rule(nsg_id, r, "defaultSecurityRules")
            for r in (
                rule("AllowVnetInBound", 65000, src="VirtualNetwork", ports="*", proto="*", dst="VirtualNetwork"),
                rule("AllowAzureLoadBalancerInBound", 65001, src="AzureLoadBalancer", ports="*", proto="*"),
                rule("DenyAllInBound", 65500, src="*", ports="*", proto="*", access="Deny"),
                rule("AllowVnetOutBound", 65000, src="VirtualNetwork", ports="*", proto="*",
                     dst="VirtualNetwork", direction="Outbound"),
                rule("AllowInternetOutBound", 65001, src="*", ports="*", proto="*", dst="Internet",
                     direction="Outbound"),
                rule("DenyAllOutBound", 65500, src="*", ports="*", proto="*", access="Deny",
                     direction="Outbound"),
            )
        ]
        props = {
            "provisioningState": "Succeeded",
            "resourceGuid": guid("nsg", nsg_id),
            "securityRules": security_rules,
            "defaultSecurityRules": defaults,
        }
        return self.add(rg, "Microsoft.Network/networkSecurityGroups", name, location, props)

    def link_nsg_associations(self) -> None:
        """Fill each NSG's read-only ``subnets`` and ``networkInterfaces`` (``[{"id": ...}]``), as
        an NSG GET reports the subnets and NICs that reference it; call once every resource is
        built."""
        by_id = {r["id"].lower(): r for r in self.resources
                 if r["type"] == "Microsoft.Network/networkSecurityGroups"}
        for res in self.resources:
            if res["type"] == "Microsoft.Network/virtualNetworks":
                refs = [(s["id"], s.get("properties", {}).get("networkSecurityGroup")) for s in res["properties"]["subnets"]]
                kind = "subnets"
            elif res["type"] == "Microsoft.Network/networkInterfaces":
                refs = [(res["id"], res["properties"].get("networkSecurityGroup"))]
                kind = "networkInterfaces"
            else:
                continue
            for ref_id, group in refs:
                target = by_id.get(str((group or {}).get("id", "")).lower())
                if target is not None:
                    target["properties"].setdefault(kind, []).append({"id": ref_id})

    def vnet(self, rg: str, name: str, location: str, prefix: str, *,
             subnets: list[tuple[str, str | None]] | None = None, ddos: Any = False) -> dict[str, Any]:
        """``subnets``: (name, NSG id or None) pairs; default one "default" subnet without NSG.
        ``ddos``: enableDdosProtection (True also links a DDoS protection plan)."""
        vid = self.rid(rg, "Microsoft.Network/virtualNetworks", name)
        base = prefix.rsplit(".", 3)[0]  # "10.10.0.0/16" -> "10"
        second = prefix.split(".")[1]
        subnet_docs = []
        for k, (sname, nsg_id) in enumerate(subnets if subnets is not None else [("default", None)]):
            sprops: dict[str, Any] = {"provisioningState": "Succeeded",
                                      "addressPrefix": f"{base}.{second}.{k}.0/24"}
            if nsg_id:
                sprops["networkSecurityGroup"] = {"id": nsg_id}
            subnet_docs.append({
                "name": sname,
                "id": f"{vid}/subnets/{sname}",
                "type": "Microsoft.Network/virtualNetworks/subnets",
                "properties": sprops,
            })
        props: dict[str, Any] = {
            "provisioningState": "Succeeded",
            "resourceGuid": guid("vnet", vid),
            "addressSpace": {"addressPrefixes": [prefix]},
            "subnets": subnet_docs,
            "virtualNetworkPeerings": [],
        }
        _put(props, "enableDdosProtection", ddos)
        if ddos is True:
            props["ddosProtectionPlan"] = {"id": self.rid(rg, "Microsoft.Network/ddosProtectionPlans", "ddos-plan-01")}
        return self.add(rg, "Microsoft.Network/virtualNetworks", name, location, props)

    def public_ip(self, rg: str, name: str, location: str, address: str, *,
                  ip_config_id: str | None = None, nat_gateway_id: str | None = None) -> dict[str, Any]:
        """Attached when ``ip_config_id`` (a NIC/gateway IP configuration) or ``nat_gateway_id`` is given."""
        props: dict[str, Any] = {
            "provisioningState": "Succeeded",
            "ipAddress": address,
            "publicIPAddressVersion": "IPv4",
            "publicIPAllocationMethod": "Static",
            "idleTimeoutInMinutes": 4,
        }
        if ip_config_id:
            props["ipConfiguration"] = {"id": ip_config_id}
        if nat_gateway_id:
            props["natGateway"] = {"id": nat_gateway_id}
        return self.add(rg, "Microsoft.Network/publicIPAddresses", name, location, props,
                        sku={"name": "Standard", "tier": "Regional"})

    def nic(self, rg: str, name: str, location: str, subnet_id: str, private_ip: str,
            vm_id: str | None = None, nsg_id: str | None = None, pip_id: str | None = None) -> dict[str, Any]:
        ipconf: dict[str, Any] = {
            "privateIPAddress": private_ip,
            "privateIPAllocationMethod": "Dynamic",
            "subnet": {"id": subnet_id},
            "primary": True,
            "privateIPAddressVersion": "IPv4",
        }
        if pip_id:
            ipconf["publicIPAddress"] = {"id": pip_id}
        nic_id = self.rid(rg, "Microsoft.Network/networkInterfaces", name)
        props: dict[str, Any] = {
            "provisioningState": "Succeeded",
            "ipConfigurations": [{"name": "ipconfig1", "id": f"{nic_id}/ipConfigurations/ipconfig1",
                                  "properties": ipconf}],
            "enableAcceleratedNetworking": False,
            "enableIPForwarding": False,
        }
        if vm_id:
            props["virtualMachine"] = {"id": vm_id}
        if nsg_id:
            props["networkSecurityGroup"] = {"id": nsg_id}
        return self.add(rg, "Microsoft.Network/networkInterfaces", name, location, props)

    def app_gateway(self, rg: str, name: str, location: str, *, tier: str, pip_id: str,
                    subnet_id: str, policy: bool = False, waf_enabled: bool | None = None,
                    ssl_policy: str = "AppGwSslPolicy20220101", http2: bool = True) -> dict[str, Any]:
        """``policy`` links a WAF policy; ``waf_enabled`` sets the legacy WAF configuration;
        ``ssl_policy`` names the predefined TLS policy; ``http2`` is ``enableHttp2``."""
        gid = self.rid(rg, "Microsoft.Network/applicationGateways", name)
        props: dict[str, Any] = {
            "provisioningState": "Succeeded",
            "resourceGuid": guid("appgw", gid),
            "operationalState": "Running",
            "sku": {"name": tier, "tier": tier, "capacity": 2},
            "gatewayIPConfigurations": [{"name": "gwipc", "id": f"{gid}/gatewayIPConfigurations/gwipc",
                                         "properties": {"subnet": {"id": subnet_id}}}],
            "frontendIPConfigurations": [{"name": "fe-public", "id": f"{gid}/frontendIPConfigurations/fe-public",
                                          "properties": {"privateIPAllocationMethod": "Dynamic",
                                                         "publicIPAddress": {"id": pip_id}}}],
            "frontendPorts": [{"name": "https", "id": f"{gid}/frontendPorts/https", "properties": {"port": 443}}],
            "backendAddressPools": [],
            "httpListeners": [],
            "requestRoutingRules": [],
            "sslPolicy": {"policyType": "Predefined", "policyName": ssl_policy},
            "enableHttp2": http2,
        }
        if policy:
            props["firewallPolicy"] = {"id": self.rid(
                rg, "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies", f"wafpol-{name}")}
        if waf_enabled is not None:
            props["webApplicationFirewallConfiguration"] = {
                "enabled": waf_enabled, "firewallMode": "Prevention", "ruleSetType": "OWASP",
                "ruleSetVersion": "3.2", "disabledRuleGroups": [], "requestBodyCheck": True,
            }
        return self.add(rg, "Microsoft.Network/applicationGateways", name, location, props)

    # --- compute -------------------------------------------------------------------------------
    def vm(self, rg: str, name: str, location: str, *, linux: bool = True,
           disable_password: Any = True, nic_id: str = "", os_disk_id: str = "",
           os_disk_name: str = "", managed: bool = True, patch_mode: Any = None,
           extensions: Any = _ABSENT, trusted_launch: bool = True, host_encryption: bool = True) -> dict[str, Any]:
        """``trusted_launch``: securityType TrustedLaunch with secure boot and vTPM (else no
        securityProfile type, a Standard VM); ``host_encryption``: encryptionAtHost.
        ``patch_mode`` overrides the OS default (Linux ImageDefault, Windows AutomaticByOS);
        ``extensions``: (publisher, type) pairs served as the extensions child, None for no child
        (404), default Defender for Endpoint deployed by Defender for Servers."""
        if extensions is _ABSENT:
            extensions = [("Microsoft.Azure.AzureDefenderForServers", "MDE.Linux" if linux else "MDE.Windows")]
        # periodic update assessment (AZ-CMP-010) goes with platform patching in the demo
        assessment = "AutomaticByPlatform" if patch_mode == "AutomaticByPlatform" else "ImageDefault"
        os_profile: dict[str, Any] = {"computerName": name, "adminUsername": "azureuser",
                                      "secrets": [], "allowExtensionOperations": True}
        if linux:
            lc: dict[str, Any] = {"provisionVMAgent": True,
                                  "patchSettings": {"patchMode": patch_mode or "ImageDefault",
                                                    "assessmentMode": assessment}}
            _put(lc, "disablePasswordAuthentication", disable_password)
            if disable_password is True:
                lc["ssh"] = {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys",
                                             "keyData": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKEFAKEFAKE fakeazure"}]}
            os_profile["linuxConfiguration"] = lc
            image = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
        else:
            os_profile["windowsConfiguration"] = {"provisionVMAgent": True,
                                                  "enableAutomaticUpdates": patch_mode != "Manual",
                                                  "patchSettings": {"patchMode": patch_mode or "AutomaticByOS",
                                                                    "assessmentMode": assessment}}
            image = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                     "sku": "2022-datacenter-azure-edition", "version": "latest"}
        security: dict[str, Any] = {"encryptionAtHost": host_encryption}
        if trusted_launch:
            security.update({"securityType": "TrustedLaunch",
                             "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}})
        props = {
            "vmId": guid("vm", name),
            "securityProfile": security,
            "hardwareProfile": {"vmSize": "Standard_B2s"},
            "storageProfile": {
                "imageReference": image,
                "osDisk": {
                    "osType": "Linux" if linux else "Windows",
                    "name": os_disk_name,
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "managedDisk": {"storageAccountType": "Premium_LRS", "id": os_disk_id},
                    "deleteOption": "Delete",
                    "diskSizeGB": 30 if linux else 127,
                },
                "dataDisks": [],
            },
            "osProfile": os_profile,
            "networkProfile": {"networkInterfaces": [{"id": nic_id}]},
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
            "provisioningState": "Succeeded",
            "timeCreated": _FIXED_TIME,
        }
        if not managed:  # a classic VHD page blob instead of a managed disk
            os_disk = props["storageProfile"]["osDisk"]
            del os_disk["managedDisk"]
            os_disk["name"] = f"{name}-osdisk"
            os_disk["vhd"] = {"uri": f"https://stvhds{guid('vhd', name)[:8]}.blob.core.windows.net/vhds/{name}-osdisk.vhd"}
        res = self.add(rg, "Microsoft.Compute/virtualMachines", name, location, props)
        if extensions is None:
            self.child(res, "extensions", None)  # null: the emulator answers 404 for this read
        else:
            self.child(res, "extensions", [
                {
                    "id": f"{res['id']}/extensions/{ext_type}",
                    "name": ext_type,
                    "type": "Microsoft.Compute/virtualMachines/extensions",
                    "location": location,
                    "properties": {"publisher": publisher, "type": ext_type, "typeHandlerVersion": "1.0",
                                   "autoUpgradeMinorVersion": True, "provisioningState": "Succeeded"},
                }
                for publisher, ext_type in extensions
            ])
        return res

    def disk(self, rg: str, name: str, location: str, *, encryption: Any = "EncryptionAtRestWithPlatformKey",
             ade: bool | None = None, managed_by: Any = _ABSENT, os_type: Any = _ABSENT,
             size_gb: int = 128) -> dict[str, Any]:
        props: dict[str, Any] = {
            "creationData": {"createOption": "FromImage" if os_type is not _ABSENT else "Empty"},
            "diskSizeGB": size_gb,
            "diskIOPSReadWrite": 500,
            "diskMBpsReadWrite": 100,
            "diskState": "Attached" if managed_by is not _ABSENT else "Unattached",
            "networkAccessPolicy": "AllowAll",
            "publicNetworkAccess": "Enabled",
            "timeCreated": _FIXED_TIME,
            "provisioningState": "Succeeded",
            "uniqueId": guid("disk", name),
        }
        _put(props, "osType", os_type)
        if encryption is not _ABSENT:
            enc: dict[str, Any] = {"type": encryption}
            if "Customer" in encryption:
                enc["diskEncryptionSetId"] = self.rid(rg, "Microsoft.Compute/diskEncryptionSets", "des-cmk-01")
            props["encryption"] = enc
        if ade is not None:
            props["encryptionSettingsCollection"] = {
                "enabled": ade,
                "encryptionSettings": [{
                    "diskEncryptionKey": {
                        "secretUrl": f"https://kv-secure-01.vault.azure.net/secrets/{name}/0000",
                        "sourceVault": {"id": self.rid(rg, "Microsoft.KeyVault/vaults", "kv-secure-01")},
                    }
                }] if ade else [],
                "encryptionSettingsVersion": "1.1",
            }
        return self.add(rg, "Microsoft.Compute/disks", name, location, props,
                        sku={"name": "Premium_LRS", "tier": "Premium"}, managed_by=managed_by)

    # --- key vault -----------------------------------------------------------------------------
    def vault(self, rg: str, name: str, location: str, tenant_id: str, *,
              soft_delete: Any = True, purge_protection: Any = True, rbac: Any = True,
              network: str = "firewall", keys: Any = _ABSENT, secrets: Any = _ABSENT,
              diagnostics: Any = _ABSENT, rotation: bool = True) -> dict[str, Any]:
        """``rotation``: every key's rotation policy rotates it (else only the default notify
        action). ``network``: "firewall" (public, default action Deny), "private" (public access
        Disabled + a private endpoint), "open" (public, Allow) or "unset" (properties omitted).
        ``keys``: (name, exp epoch or None, enabled) served as the keys list; default one enabled
        key expiring in 2099. Expiry dates are fixed (not relative to "now") so the demo's
        children stay deterministic. ``diagnostics``: (setting name, logs) pairs served as the
        vault's diagnostic settings, all to the demo workspace; default the ``audit`` category
        group."""
        props: dict[str, Any] = {
            "sku": {"family": "A", "name": "standard"},
            "tenantId": tenant_id,
            "accessPolicies": [],
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
            "vaultUri": f"https://{name}.vault.azure.net/",
            "provisioningState": "Succeeded",
        }
        _put(props, "enableRbacAuthorization", rbac)
        vault_id = self.rid(rg, "Microsoft.KeyVault/vaults", name)
        if network != "unset":
            props["publicNetworkAccess"] = "Disabled" if network == "private" else "Enabled"
            props["networkAcls"] = {
                "bypass": "AzureServices",
                "defaultAction": "Allow" if network == "open" else "Deny",
                "ipRules": [{"value": "203.0.113.0/24"}] if network == "firewall" else [],
                "virtualNetworkRules": [],
            }
        if network == "private":
            pe_id = self.rid(rg, "Microsoft.Network/privateEndpoints", f"pe-{name}")
            props["privateEndpointConnections"] = [{
                "id": f"{vault_id}/privateEndpointConnections/pe-{name}",
                "properties": {
                    "privateEndpoint": {"id": pe_id},
                    "privateLinkServiceConnectionState": {"status": "Approved", "actionsRequired": "None"},
                    "provisioningState": "Succeeded",
                },
            }]
        _put(props, "enableSoftDelete", soft_delete)
        if soft_delete is not False:
            props["softDeleteRetentionInDays"] = 90
        _put(props, "enablePurgeProtection", purge_protection)
        res = self.add(rg, "Microsoft.KeyVault/vaults", name, location, props)
        if keys is _ABSENT:
            keys = [("key-cmk", KEY_EXP_FAR, True)]
        self.child(res, "keys", [
            {
                "id": f"{vault_id}/keys/{key_name}",
                "name": key_name,
                "type": "Microsoft.KeyVault/vaults/keys",
                "location": location,
                "tags": {},
                "properties": {
                    "attributes": {"enabled": enabled, "created": KEY_CREATED, "updated": KEY_CREATED,
                                   "recoveryLevel": "Recoverable", "exportable": False,
                                   **({} if exp is None else {"exp": exp})},
                    "kty": "RSA",
                    "rotationPolicy": _rotation_policy(rotation),
                    "keyUri": f"https://{name}.vault.azure.net/keys/{key_name}",
                    "keyUriWithVersion": f"https://{name}.vault.azure.net/keys/{key_name}/{guid('kv-key', key_name).replace('-', '')}",
                },
            }
            for key_name, exp, enabled in keys
        ])
        if secrets is _ABSENT:
            secrets = [("app-connection-string", KEY_EXP_FAR, True)]
        # the management plane lists secrets' attributes only, never their values
        self.child(res, "secrets", [
            {
                "id": f"{vault_id}/secrets/{secret_name}",
                "name": secret_name,
                "type": "Microsoft.KeyVault/vaults/secrets",
                "location": location,
                "properties": {
                    "attributes": {"enabled": enabled, "created": KEY_CREATED, "updated": KEY_CREATED,
                                   **({} if exp is None else {"exp": exp})},
                    "contentType": "text/plain",
                    "secretUri": f"https://{name}.vault.azure.net/secrets/{secret_name}",
                },
            }
            for secret_name, exp, enabled in secrets
        ])
        if diagnostics is _ABSENT:
            diagnostics = [("audit-to-law", [{"categoryGroup": "audit", "enabled": True}])]
        self.child(res, "providers/Microsoft.Insights/diagnosticSettings",
                   [diagnostic_setting(f"{vault_id}/providers/microsoft.insights/diagnosticSettings/{n}", n, logs,
                                       workspace=self.rid("rg-prod", "Microsoft.OperationalInsights/workspaces",
                                                          "law-security"))
                    for n, logs in diagnostics])
        return res

    # --- monitoring ----------------------------------------------------------------------------
    def network_watcher(self, rg: str, location: str,
                        flow_logs: list[tuple[Any, ...]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        """The region's Network Watcher; ``flow_logs``: (name, target id, enabled, retention days
        or None for no retention policy[, traffic analytics workspace]) served as its ``flowLogs`` list. The target is an NSG
        (an NSG flow log) or a virtual network, subnet or network interface (a VNet flow log)."""
        name = f"NetworkWatcher_{location}"
        res = self.add(rg, "Microsoft.Network/networkWatchers", name, location,
                       {"provisioningState": "Succeeded"}, tags={})
        storage = self.rid("rg-data", "Microsoft.Storage/storageAccounts", "stsecure01")
        self.child(res, "flowLogs", [flow_log_body(res, storage, *case) for case in flow_logs])
        return res

    def activity_log_alert(self, rg: str, name: str, clauses: list[dict[str, Any]], *, enabled: bool = True,
                           scope: str | None = None) -> dict[str, Any]:
        """An activity log alert (location Global) with ``clauses`` as its ``condition.allOf``."""
        return self.add(rg, "Microsoft.Insights/activityLogAlerts", name, "Global", {
            "scopes": [scope or f"/subscriptions/{self.sub}"],
            "condition": {"allOf": clauses},
            "actions": {"actionGroups": [{
                "actionGroupId": self.rid("rg-prod", "Microsoft.Insights/actionGroups", "ag-security-team"),
                "webhookProperties": {},
            }]},
            "enabled": enabled,
            "description": "",
        })

    def subscription_read(self, rtype: str, items: list[dict[str, Any]]) -> None:
        """A subscription-scope collection (``/subscriptions/{id}/providers/<rtype>``)."""
        self.children[f"/subscriptions/{self.sub}/providers/{rtype}"] = items

    # --- databases -----------------------------------------------------------------------------
    def sql_server(self, rg: str, name: str, location: str, *,
                   firewall: list[tuple[str, str, str]] | None, audit: str | None,
                   entra_admin: bool = True, public: str = "Enabled",
                   retention: int = 90, tls: Any = "1.2", entra_only: bool = False) -> dict[str, Any]:
        props: dict[str, Any] = {
            "administratorLogin": "sqladmin",
            "version": "12.0",
            "state": "Ready",
            "fullyQualifiedDomainName": f"{name}.database.windows.net",
            "privateEndpointConnections": [],
            "publicNetworkAccess": public,
            "restrictOutboundNetworkAccess": "Disabled",
        }
        if entra_admin:
            props["administrators"] = {
                "administratorType": "ActiveDirectory",
                "principalType": "Group",
                "login": "grp-sql-admins",
                "sid": guid("group", "grp-sql-admins"),
                "tenantId": TENANT_ID,
                "azureADOnlyAuthentication": entra_only,
            }
        _put(props, "minimalTlsVersion", tls)
        res = self.add(rg, "Microsoft.Sql/servers", name, location, props, kind="v12.0")
        if firewall is not None:
            self.child(res, "firewallRules", [
                {
                    "id": f"{res['id']}/firewallRules/{rname}",
                    "name": rname,
                    "type": "Microsoft.Sql/servers/firewallRules",
                    "properties": {"startIpAddress": start, "endIpAddress": end},
                }
                for rname, start, end in firewall
            ])
        if audit is not None:
            enabled = audit == "Enabled"
            self.child(res, "auditingSettings/default", {
                "id": f"{res['id']}/auditingSettings/Default",
                "name": "Default",
                "type": "Microsoft.Sql/servers/auditingSettings",
                "properties": {
                    "state": audit,
                    "retentionDays": retention if enabled else 0,
                    "auditActionsAndGroups": [
                        "SUCCESSFUL_DATABASE_AUTHENTICATION_GROUP",
                        "FAILED_DATABASE_AUTHENTICATION_GROUP",
                        "BATCH_COMPLETED_GROUP",
                    ] if enabled else [],
                    "isStorageSecondaryKeyInUse": False,
                    "isAzureMonitorTargetEnabled": enabled,
                    "isManagedIdentityInUse": False,
                    "storageAccountSubscriptionId": "00000000-0000-0000-0000-000000000000",
                },
            })
        return res

    def sql_database(self, server: dict[str, Any], name: str, *, tde: str | None = "Enabled") -> dict[str, Any]:
        props = {
            "collation": "SQL_Latin1_General_CP1_CI_AS",
            "maxSizeBytes": 268435456000,
            "status": "Online",
            "databaseId": guid("sqldb", f"{server['id']}/{name}"),
            "creationDate": _FIXED_TIME,
            "currentServiceObjectiveName": "S0",
            "requestedBackupStorageRedundancy": "Geo",
            "zoneRedundant": False,
        }
        res = self.add("", "Microsoft.Sql/servers/databases", name, server["location"], props,
                       sku={"name": "Standard", "tier": "Standard", "capacity": 10},
                       kind="v12.0,user", tags=dict(server["tags"]),
                       rid=f"{server['id']}/databases/{name}")
        if tde is not None:
            self.child(res, "transparentDataEncryption/current", {
                "id": f"{res['id']}/transparentDataEncryption/Current",
                "name": "Current",
                "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
                "properties": {"state": tde},
            })
        return res

    def postgres(self, rg: str, name: str, location: str, *, public: str,
                 secure_transport: str | None = "on", version: str = "16",
                 firewall: list[tuple[str, str, str]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        network: dict[str, Any] = {"publicNetworkAccess": public}
        if public == "Disabled":
            network["delegatedSubnetResourceId"] = (
                self.rid(rg, "Microsoft.Network/virtualNetworks", "vnet-data") + "/subnets/postgres")
            network["privateDnsZoneArmResourceId"] = (
                self.rid(rg, "Microsoft.Network/privateDnsZones", f"{name}.private.postgres.database.azure.com"))
        props = {
            "administratorLogin": "pgadmin",
            "version": version,
            "state": "Ready",
            "fullyQualifiedDomainName": f"{name}.postgres.database.azure.com",
            "storage": {"storageSizeGB": 32, "autoGrow": "Disabled", "tier": "P4", "iops": 120},
            "authConfig": {"activeDirectoryAuth": "Disabled", "passwordAuth": "Enabled"},
            "dataEncryption": {"type": "SystemManaged"},
            "backup": {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"},
            "network": network,
            "highAvailability": {"mode": "Disabled"},
            "replicationRole": "Primary",
        }
        res = self.add(rg, "Microsoft.DBforPostgreSQL/flexibleServers", name, location, props,
                       sku={"name": "Standard_B1ms", "tier": "Burstable"})
        self.child(res, "firewallRules", [
            {"id": f"{res['id']}/firewallRules/{rule_name}", "name": rule_name,
             "type": "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules",
             "properties": {"startIpAddress": start, "endIpAddress": end}}
            for rule_name, start, end in firewall
        ])
        if secure_transport is not None:
            self.child(res, "configurations/require_secure_transport", {
                "id": f"{res['id']}/configurations/require_secure_transport",
                "name": "require_secure_transport",
                "type": "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
                "properties": {
                    "value": secure_transport,
                    "description": "Whether client connections to the server are required to use some form "
                                   "of secure transport.",
                    "defaultValue": "on",
                    "dataType": "Boolean",
                    "allowedValues": "on,off",
                    "source": "system-default" if secure_transport == "on" else "user-override",
                    "isDynamicConfig": True,
                    "isReadOnly": False,
                    "isConfigPendingRestart": False,
                },
            })
        return res

    # --- app service ---------------------------------------------------------------------------
    def plan(self, rg: str, name: str, location: str) -> dict[str, Any]:
        props = {"status": "Ready", "maximumNumberOfWorkers": 3, "numberOfSites": 0,
                 "reserved": True, "provisioningState": "Succeeded"}
        return self.add(rg, "Microsoft.Web/serverfarms", name, location, props,
                        sku={"name": "B1", "tier": "Basic", "size": "B1", "family": "B", "capacity": 1},
                        kind="linux")

    def site(self, rg: str, name: str, location: str, plan_id: str, *, https_only: Any = True,
             min_tls: Any = "1.2", ftps: Any = "Disabled", remote_debugging: bool = False,
             config: bool = True, identity: str | None = "SystemAssigned",
             runtime: str = "PYTHON|3.13", kind: str = "app,linux", client_cert: str | None = "Required",
             http2: bool = True, easy_auth: bool | None = True) -> dict[str, Any]:
        """``client_cert``: clientCertMode with client certificates on (None: off); ``easy_auth``:
        App Service Authentication on/off, None for no config/authsettingsV2 child."""
        props: dict[str, Any] = {
            "name": name,
            "state": "Running",
            "hostNames": [f"{name}.azurewebsites.net"],
            "enabledHostNames": [f"{name}.azurewebsites.net", f"{name}.scm.azurewebsites.net"],
            "defaultHostName": f"{name}.azurewebsites.net",
            "serverFarmId": plan_id,
            "enabled": True,
            "reserved": True,
            "clientCertEnabled": client_cert is not None,
            "clientCertMode": client_cert or "Required",
            "publicNetworkAccess": "Enabled",
            # a site GET reports siteConfig mostly as nulls: the real values live in config/web
            "siteConfig": {"numberOfWorkers": 1, "linuxFxVersion": runtime,
                           "minTlsVersion": None, "ftpsState": None, "http20Enabled": False},
        }
        _put(props, "httpsOnly", https_only)
        res = self.add(rg, "Microsoft.Web/sites", name, location, props, kind=kind)
        if easy_auth is not None:
            self.child(res, "config/authsettingsV2", {
                "id": f"{res['id']}/config/authsettingsV2",
                "name": "authsettingsV2",
                "type": "Microsoft.Web/sites/config",
                "location": location,
                "properties": {
                    "platform": {"enabled": easy_auth, "runtimeVersion": "~1"},
                    "globalValidation": {"requireAuthentication": easy_auth,
                                         "unauthenticatedClientAction": "RedirectToLoginPage" if easy_auth
                                         else "AllowAnonymous"},
                    "identityProviders": {"azureActiveDirectory": {"enabled": easy_auth}} if easy_auth else {},
                },
            })
        if identity is not None:
            res["identity"] = {"type": identity, "principalId": guid("siteIdentity", res["id"]),
                               "tenantId": TENANT_ID}
        if config:
            cprops: dict[str, Any] = {
                "numberOfWorkers": 1,
                "netFrameworkVersion": "v4.0",
                "linuxFxVersion": runtime,
                "requestTracingEnabled": False,
                "remoteDebuggingEnabled": remote_debugging,
                "httpLoggingEnabled": False,
                "http20Enabled": http2,
                "alwaysOn": False,
                "scmMinTlsVersion": "1.2",
            }
            _put(cprops, "minTlsVersion", min_tls)
            _put(cprops, "ftpsState", ftps)
            self.child(res, "config/web", {
                "id": f"{res['id']}/config/web",
                "name": name,
                "type": "Microsoft.Web/sites/config",
                "location": location,
                "properties": cprops,
            })
        return res


def _rotation_policy(rotates: bool) -> dict[str, Any]:
    """A key's ``properties.rotationPolicy``: rotate 90 days after creation, or the default
    policy Key Vault gives every key (notify 30 days before expiry)."""
    actions = [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "notify"}}]
    if rotates:
        actions.insert(0, {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "rotate"}})
    return {"attributes": {"created": KEY_CREATED, "updated": KEY_CREATED, "expiryTime": "P1Y"},
            "lifetimeActions": actions}


def diagnostic_setting(sid: str, name: str, logs: list[dict[str, Any]], *, workspace: str | None) -> dict[str, Any]:
    """A diagnostic setting in REST shape; ``workspace`` None sends nowhere."""
    props: dict[str, Any] = {"logs": logs, "metrics": [], "logAnalyticsDestinationType": None}
    if workspace:
        props["workspaceId"] = workspace
    return {"id": sid, "name": name, "type": "Microsoft.Insights/diagnosticSettings", "properties": props}


def entra_diagnostic_setting(name: str, logs: dict[str, bool], workspace: str | None) -> dict[str, Any]:
    """An Entra ID diagnostic setting as ``GET /providers/microsoft.aadiam/diagnosticSettings``
    (api-version 2017-04-01) lists it: destinations and ``logs`` with a retention policy each."""
    props: dict[str, Any] = {"logs": [{"category": c, "enabled": on, "retentionPolicy": {"days": 0, "enabled": False}}
                                      for c, on in logs.items()]}
    if workspace:
        props["workspaceId"] = workspace
    return {"id": f"/providers/microsoft.aadiam/diagnosticSettings/{name}", "name": name,
            "type": TENANT_COLLECTIONS["aadiamDiagnosticSettings"], "properties": props}


def rule(name: str, priority: int, *, src: str | list[str] = "*", ports: str | list[str] = "22",
         proto: str = "Tcp", access: str = "Allow", direction: str = "Inbound",
         dst: str = "*") -> dict[str, Any]:
    """Compact NSG rule description, expanded by :func:`_nsg_rule`."""
    return {"name": name, "priority": priority, "src": src, "ports": ports, "proto": proto,
            "access": access, "direction": direction, "dst": dst}


def _nsg_rule(nsg_id: str, r: dict[str, Any], kind: str = "securityRules") -> dict[str, Any]:
    props: dict[str, Any] = {"provisioningState": "Succeeded", "protocol": r["proto"], "sourcePortRange": "*"}
    if isinstance(r["ports"], list):
        props["destinationPortRanges"] = list(r["ports"])
    else:
        props["destinationPortRange"] = r["ports"]
    if isinstance(r["src"], list):
        props["sourceAddressPrefixes"] = list(r["src"])
    else:
        props["sourceAddressPrefix"] = r["src"]
    props["destinationAddressPrefix"] = r["dst"]
    props["access"] = r["access"]
    props["priority"] = r["priority"]
    props["direction"] = r["direction"]
    props["sourcePortRanges"] = []
    props.setdefault("destinationPortRanges", [])
    props.setdefault("sourceAddressPrefixes", [])
    props["destinationAddressPrefixes"] = []
    rid = f"{nsg_id}/{kind}/{r['name']}"
    return {
        "name": r["name"],
        "id": rid,
        "etag": f'W/"{guid("etag", rid)}"',
        "type": f"Microsoft.Network/networkSecurityGroups/{kind}",
        "properties": props,
    }


# ---------------------------------------------------------------------------------------------
# Planted cases (shared by demo and large)
# ---------------------------------------------------------------------------------------------

# name -> storage() keyword arguments
STORAGE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("stpublicblob01", {"public": True}),                 # STOR-001 violating
    ("stpublicunset01", {"public": _ABSENT}),             # STOR-001 violating (absent = allowed)
    ("sthttpallowed01", {"https": False}),                # STOR-002 violating
    ("sthttpsunset01", {"https": _ABSENT}),               # STOR-002 compliant (absent = true)
    ("sttls10legacy01", {"tls": "TLS1_0"}),               # STOR-003 violating
    ("sttls11legacy01", {"tls": "TLS1_1", "bypass": "None"}),  # STOR-003, STOR-015 violating
    ("sttlsunset01", {"tls": _ABSENT}),                   # STOR-003 violating (absent = TLS1_0)
    ("stnetopen01", {"acl": "Allow"}),                    # STOR-004 violating
    ("stnetaclunset01", {"acl": _ABSENT}),                # STOR-004 violating (absent = Allow)
    ("stnosoftdelete01", {"soft_delete": False}),         # STOR-005 violating
    ("stnocontainersd01", {"container_soft_delete": False}),  # STOR-005 violating (container only)
    ("stblobsvcmissing01", {"soft_delete": None}),        # STOR-005 unreadable (child 404) -> None
    ("stsharedkeyon01", {"shared_key": True}),           # STOR-006 violating
    ("stsharedkeyunset01", {"shared_key": _ABSENT}),      # STOR-006 violating (absent = allowed)
    ("stnoversioning01", {"versioning": False}),          # STOR-007 violating
    ("stnoinfraenc01", {"infra_encryption": False}),      # STOR-008 violating
    ("stinfraencunset01", {"infra_encryption": _ABSENT}), # STOR-008 violating (absent = off)
    ("stlrsonly01", {"sku_name": "Standard_LRS", "cross_tenant": True}),  # STOR-009, STOR-010 violating
    # STOR-009 violating; STOR-013 and STOR-014 violating (no key / SAS expiration policy)
    ("stzrsonly01", {"sku_name": "Standard_ZRS", "key_policy_days": _ABSENT, "sas_period": _ABSENT}),
    # compliant everywhere (RA-GRS; private endpoint, customer-managed key: STOR-011, STOR-016)
    ("stsecure01", {"private_endpoint": True, "cmk": True}),
    ("stsecure02", {"sku_name": "Standard_GZRS", "private_endpoint": True, "cmk": True}),
]

# name -> rules; comments give the expected outcome for NET-001/002/003/004
NSG_CASES: list[tuple[str, list[dict[str, Any]]]] = [
    ("nsg-ssh-open-star", [rule("AllowSSH", 100, src="*")]),
    ("nsg-ssh-open-cidr-any", [rule("AllowSSH", 100, src="0.0.0.0/0")]),
    ("nsg-ssh-open-internet", [rule("AllowSSH", 100, src="Internet")]),
    ("nsg-ssh-open-any-tag", [rule("AllowSSH", 110, src="Any", proto="*")]),
    ("nsg-ssh-open-ipv6-any", [rule("AllowSSH", 120, src="::/0")]),
    ("nsg-ssh-open-source-list", [rule("AllowSSH", 130, src=["10.0.0.0/8", "0.0.0.0/0"])]),
    ("nsg-ssh-open-range", [rule("AllowMgmtRange", 140, src="*", ports="20-30")]),
    ("nsg-ssh-open-port-list", [rule("AllowWebAndSSH", 150, src="Internet", ports=["80", "443", "22"])]),
    # all TCP ports from the Internet: SSH, RDP and DB ports open; not NET-004 (TCP only)
    ("nsg-all-tcp-ports-open", [rule("AllowAllTcp", 160, src="Internet", ports="*")]),
    # a private-source Deny neither opens nor closes: the later Allow from * decides
    ("nsg-ssh-open-private-deny-skipped", [
        rule("DenySSHFromCorp", 100, src="10.0.0.0/8", access="Deny"),
        rule("AllowSSH", 200, src="*"),
    ]),
    # compliant SSH cases
    ("nsg-ssh-deny-shadows-allow", [
        rule("DenySSHAll", 100, src="*", proto="*", access="Deny"),
        rule("AllowSSHInternet", 200, src="Internet"),
    ]),
    ("nsg-ssh-private-only", [rule("AllowSSHCorp", 100, src="10.0.0.0/8")]),
    ("nsg-ssh-udp-only", [rule("AllowUdp22", 100, src="*", proto="Udp")]),
    ("nsg-ssh-outbound-only", [rule("AllowSSHOut", 100, src="*", direction="Outbound")]),
    # RDP
    ("nsg-rdp-open", [rule("AllowRDP", 100, src="Internet", ports="3389")]),
    ("nsg-rdp-private-only", [rule("AllowRDPCorp", 100, src="192.168.0.0/16", ports="3389")]),
    # databases
    ("nsg-db-open-mssql-postgres", [rule("AllowDb", 100, src="*", ports=["1433", "5432"])]),
    ("nsg-db-open-mysql-range", [rule("AllowMySqlRange", 100, src="Internet", ports="3300-3310")]),
    ("nsg-db-private-only", [rule("AllowDbVnet", 100, src="VirtualNetwork", ports=["1433", "5432"])]),
    # any-any
    ("nsg-any-any-allow", [rule("AllowAnyAny", 100, src="*", ports="*", proto="*")]),
    ("nsg-any-any-full-range", [rule("AllowEverything", 4000, src="Internet", ports="0-65535", proto="*")]),
    ("nsg-any-any-shadowed", [
        rule("DenyAllFirst", 100, src="*", ports="*", proto="*", access="Deny"),
        rule("AllowAnyAnyLate", 4000, src="*", ports="*", proto="*"),
    ]),
    # fully compliant
    ("nsg-web-only", [rule("AllowHttp", 100, src="Internet", ports="80"),
                      rule("AllowHttps", 110, src="Internet", ports="443")]),
    ("nsg-empty", []),
]

# name -> (disable_password, linux)
# CMP-004: default extensions are Defender for Endpoint (compliant); CMP-005: Linux defaults to
# ImageDefault (violating), Windows to AutomaticByOS (compliant)
_MONITOR_ONLY = [("Microsoft.Azure.Monitor", "AzureMonitorLinuxAgent")]
VM_CASES: list[tuple[str, dict[str, Any]]] = [
    # CMP-001 violating, CMP-004 violating (monitoring agent only)
    # ... and CMP-007 (Standard security type), CMP-008 (no encryption at host) violating
    ("vm-linux-password-auth", {"disable_password": False, "extensions": _MONITOR_ONLY, "trusted_launch": False,
                                "host_encryption": False}),
    # CMP-001 violating (absent), CMP-004 not evaluated (extensions list 404)
    ("vm-linux-password-unset", {"disable_password": _ABSENT, "extensions": None}),
    # CMP-001 compliant, CMP-005 compliant
    ("vm-linux-sshkey-only", {"disable_password": True, "patch_mode": "AutomaticByPlatform"}),
    # CMP-001 not applicable, CMP-004 compliant (Microsoft Antimalware)
    ("vm-windows-01", {"linux": False, "extensions": [("Microsoft.Azure.Security", "IaaSAntimalware")]}),
    # CMP-003 violating, CMP-004 violating (no extensions), CMP-005 violating (Manual)
    ("vm-unmanaged-vhd-01", {"linux": False, "managed": False, "extensions": [], "patch_mode": "Manual"}),
]

DISK_CASES: list[tuple[str, dict[str, Any]]] = [
    ("disk-platform-key-01", {"encryption": "EncryptionAtRestWithPlatformKey"}),  # CMP-002 violating
    ("disk-encryption-unset-01", {"encryption": _ABSENT}),                       # CMP-002 violating
    ("disk-cmk-01", {"encryption": "EncryptionAtRestWithCustomerKey"}),          # compliant
    ("disk-ade-enabled-01", {"encryption": "EncryptionAtRestWithPlatformKey", "ade": True}),  # compliant
    ("disk-double-encryption-01", {"encryption": "EncryptionAtRestWithPlatformAndCustomerKeys"}),  # compliant
]

KEY_CREATED = 1677661200      # 2023-03-01T09:00:00Z
KEY_EXP_PAST = 1685610000     # 2023-06-01T09:00:00Z: expired
KEY_EXP_FAR = 4070941200      # 2099-01-01T09:00:00Z

# AZ-KV-005: vaults whose audit log goes nowhere; the default setting sends the audit group
_KV_POLICY_LOGS_ONLY = [("policy-evaluations", [{"category": "AzurePolicyEvaluationDetails", "enabled": True}])]
_KV_AUDIT_EVENT = [("auditevent-to-law", [{"category": "AuditEvent", "enabled": True}])]

VAULT_CASES: list[tuple[str, dict[str, Any]]] = [
    # KV-001 + KV-002 violating, KV-005 violating (no diagnostic setting)
    ("kv-nosoftdelete-01", {"soft_delete": False, "purge_protection": _ABSENT, "diagnostics": []}),
    ("kv-nopurgeprot-01", {"soft_delete": True, "purge_protection": _ABSENT}),    # KV-002 violating
    ("kv-purgeprot-false-01", {"soft_delete": True, "purge_protection": False}),  # KV-002 violating
    # KV-003 violating, KV-006 violating (an enabled key without exp; the disabled one is ignored)
    # ... and KV-009 violating (keys without a rotate action)
    ("kv-accesspolicies-01", {"rbac": False, "keys": [("key-noexp", None, True), ("key-old-noexp", None, False),
                                                      ("key-cmk", KEY_EXP_FAR, True)], "rotation": False}),
    # KV-003 violating (absent), KV-007 violating (expired key still enabled)
    ("kv-rbac-unset-01", {"rbac": _ABSENT, "keys": [("key-expired", KEY_EXP_PAST, True),
                                                    ("key-expired-disabled", KEY_EXP_PAST, False)]}),
    # KV-004 violating, KV-005 violating (only the policy category is logged), KV-008 violating
    ("kv-public-open-01", {"network": "open", "diagnostics": _KV_POLICY_LOGS_ONLY,
                           "secrets": [("db-password", None, True), ("old-token", None, False)]}),
    ("kv-network-unset-01", {"network": "unset"}),                                # KV-004 violating (absent)
    ("kv-private-endpoint-01", {"network": "private", "keys": []}),              # compliant (no keys)
    # compliant (firewall Deny; AuditEvent by category rather than group)
    ("kv-secure-01", {"soft_delete": True, "purge_protection": True, "diagnostics": _KV_AUDIT_EVENT}),
]

# --- monitoring (AZ-MON-*, AZ-NET-009/010) ---------------------------------------------------
_ACTIVITY_CATEGORIES = ("Administrative", "Security", "ServiceHealth", "Alert", "Recommendation", "Policy",
                        "Autoscale", "ResourceHealth")
POLICY_WRITE = "Microsoft.Authorization/policyAssignments/write"
NSG_WRITE = "Microsoft.Network/networkSecurityGroups/write"
NSG_DELETE = "Microsoft.Network/networkSecurityGroups/delete"
SECURITY_SOLUTION_WRITE = "Microsoft.Security/securitySolutions/write"
_ADMINISTRATIVE = {"field": "category", "equals": "Administrative"}
# (name, allOf clauses, enabled, scoped to rg-prod only). None covers a rule's operations
# completely, so AZ-MON-003..005 are violated, each with a different flaw:
ALERT_CASES: list[tuple[str, list[dict[str, Any]], bool, bool]] = [
    # AZ-MON-003: policy assignment writes covered, deletes not
    ("alert-policy-assignment-write", [_ADMINISTRATIVE, {"field": "operationName", "equals": POLICY_WRITE}],
     True, False),
    # AZ-MON-004: both NSG operations, but the alert is disabled...
    ("alert-nsg-changes-disabled", [_ADMINISTRATIVE, {"anyOf": [{"field": "operationName", "equals": NSG_WRITE},
                                                                {"field": "operationName", "equals": NSG_DELETE}]}],
     False, False),
    # ...and this one watches one resource group only
    ("alert-nsg-write-rg-prod-only", [_ADMINISTRATIVE, {"field": "operationName", "equals": NSG_WRITE}], True, True),
    # AZ-MON-005: security solution writes covered, deletes not
    ("alert-security-solution-write", [_ADMINISTRATIVE, {"field": "operationName",
                                                         "equals": SECURITY_SOLUTION_WRITE}], True, False),
]
# Defender for Cloud plans (AZ-MON-006): (name, tier, sub-plan); Dns and Api are not judged;
# SqlServers off, so AZ-SQL-015 judges each server's own Defender for SQL setting
DEFENDER_TIERS: list[tuple[str, str, str | None]] = [
    ("VirtualMachines", "Standard", "P2"), ("AppServices", "Free", None), ("SqlServers", "Free", None),
    ("SqlServerVirtualMachines", "Free", None), ("OpenSourceRelationalDatabases", "Free", None),
    ("StorageAccounts", "Standard", "DefenderForStorageV2"), ("Containers", "Free", None),
    ("CosmosDbs", "Free", None), ("KeyVaults", "Standard", "PerKeyVault"), ("Arm", "Standard", "PerSubscription"),
    ("Dns", "Free", None), ("Api", "Free", None), ("CloudPosture", "Free", None),
]


def servers_extensions(*, agentless: bool, fim: bool) -> list[dict[str, Any]]:
    """The components of the VirtualMachines pricing (api-version 2023-01-01+ lists them as
    ``extensions`` with a string ``isEnabled``): AZ-DEF-009 (agentless scanning) and AZ-DEF-010
    (file integrity monitoring)."""
    return [{"name": "MdeDesignatedSubscription", "isEnabled": "False"},
            {"name": "AgentlessVmScanning", "isEnabled": str(agentless),
             "additionalExtensionProperties": {"ExclusionTags": "[]"}},
            {"name": "FileIntegrityMonitoring", "isEnabled": str(fim)}]
# NSG flow logs in large tenants, cycled over the NSGs of the region with a watcher (AZ-NET-010):
# (enabled, retention days or None for no policy); None = no flow log at all
FLOW_LOG_CASES: list[tuple[bool, int | None] | None] = [(True, 90), None, (True, 30), (False, 365), (True, None)]


def _subscription_monitoring(arm: _Arm) -> None:
    """Subscription-scope data: activity-log diagnostic settings (AZ-MON-001 and 002 violated:
    one setting sends nowhere, the other sends with every category off) and Defender plans."""
    base = f"/subscriptions/{arm.sub}/providers/microsoft.insights/diagnosticSettings"
    workspace = arm.rid("rg-prod", "Microsoft.OperationalInsights/workspaces", "law-security")
    arm.subscription_read("Microsoft.Insights/diagnosticSettings", [
        diagnostic_setting(f"{base}/activity-log-to-nowhere", "activity-log-to-nowhere",
                           [{"category": c, "enabled": True} for c in _ACTIVITY_CATEGORIES], workspace=None),
        diagnostic_setting(f"{base}/activity-log-all-disabled", "activity-log-all-disabled",
                           [{"category": c, "enabled": False} for c in _ACTIVITY_CATEGORIES], workspace=workspace),
    ])
    # Entra ID diagnostic settings (tenant-level): audit logs to the workspace, sign-in logs
    # off, no Microsoft Graph activity logs: AZ-MON-017 and AZ-MON-018 violating
    arm.children[f"/providers/{TENANT_COLLECTIONS['aadiamDiagnosticSettings']}"] = [
        entra_diagnostic_setting("entra-audit-to-law", {"AuditLogs": True, "SignInLogs": False}, workspace)]
    arm.subscription_read("Microsoft.Security/pricings", [
        {
            "id": f"/subscriptions/{arm.sub}/providers/Microsoft.Security/pricings/{name}",
            "name": name,
            "type": "Microsoft.Security/pricings",
            "properties": {"pricingTier": tier, "freeTrialRemainingTime": "PT0S",
                           **({"subPlan": sub_plan} if sub_plan else {}),
                           # AZ-DEF-009 and AZ-DEF-010 violating (compliant in the estate's clean one)
                           **({"extensions": servers_extensions(agentless=False, fim=False)}
                              if name == "VirtualMachines" else {})},
        }
        for name, tier, sub_plan in DEFENDER_TIERS
    ])


def activity_log_to_storage(arm: _Arm, setting: dict[str, Any], account: dict[str, Any], access: str) -> None:
    """Send the activity log (diagnostic ``setting``) to ``account`` too, whose
    ``insights-activity-logs`` container has ``publicAccess`` ``access`` (AZ-MON-014/015; item
    shape of "Blob Containers - List", 2023-05-01)."""
    setting["properties"]["storageAccountId"] = account["id"]
    arm.child(account, "blobServices/default/containers", [{
        "id": f"{account['id']}/blobServices/default/containers/insights-activity-logs",
        "name": "insights-activity-logs", "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
        "etag": '"0x8DB1A2B3C4D5E6F"',
        "properties": {"publicAccess": access, "leaseStatus": "Unlocked", "leaseState": "Available",
                       "lastModifiedTime": "2023-03-01T09:00:00.0000000Z", "hasImmutabilityPolicy": False,
                       "hasLegalHold": False, "deleted": False, "remainingRetentionDays": 0}}])


def _activity_log_destinations(arm: _Arm) -> None:
    """AZ-MON-014/015 on the demo: the all-disabled setting also names stpublicblob01 (Microsoft-
    managed key, public container: violating), a third setting archives to stsecure01
    (customer-managed key, anonymous access off: compliant). Every category stays off, so
    AZ-MON-001/002 stay violated."""
    settings = arm.children[f"/subscriptions/{arm.sub}/providers/Microsoft.Insights/diagnosticSettings"]
    accounts = {r["name"]: r for r in arm.resources if r["type"] == "Microsoft.Storage/storageAccounts"}
    activity_log_to_storage(arm, settings[1], accounts["stpublicblob01"], "Blob")
    archive = diagnostic_setting(settings[1]["id"].rsplit("/", 1)[0] + "/activity-log-archive", "activity-log-archive",
                                 [{"category": c, "enabled": False} for c in _ACTIVITY_CATEGORIES], workspace=None)
    activity_log_to_storage(arm, archive, accounts["stsecure01"], "None")
    settings.append(archive)


def _alert(arm: _Arm, rg: str, name: str, case: tuple[str, list[dict[str, Any]], bool, bool]) -> None:
    _, clauses, enabled, rg_only = case
    arm.activity_log_alert(rg, name, clauses, enabled=enabled, scope=arm.rg_id("rg-prod") if rg_only else None)

_AZURE_SERVICES = ("AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0")
_ALLOW_ALL = ("AllowAll", "0.0.0.0", "255.255.255.255")
_MANY_RULES = [(f"office-{i:02d}", f"198.51.100.{i}", f"198.51.100.{i}") for i in range(1, 31)]

SQL_CASES: list[tuple[str, dict[str, Any]]] = [
    # SQL-001 violating, SQL-002 compliant
    ("sql-fw-allowall-audit-on", {"firewall": [_ALLOW_ALL, ("ClientIp", "203.0.113.5", "203.0.113.5")],
                                  "audit": "Enabled"}),
    # SQL-001 compliant (Azure services rule is not "allow all"), SQL-002 violating
    # ... and SQL-008 violating (TLS 1.0)
    ("sql-fw-azureonly-audit-off", {"firewall": [_AZURE_SERVICES, ("office", "198.51.100.0", "198.51.100.255")],
                                    "audit": "Disabled", "tls": "1.0"}),
    # SQL-001 violating only on the last page when --page-size is small
    ("sql-fw-manyrules-allowall", {"firewall": _MANY_RULES + [_ALLOW_ALL], "audit": "Enabled"}),
    # no firewall rules at all: compliant
    # ... and SQL-009 compliant (Entra-only), SQL-008 violating (minimalTlsVersion unset)
    ("sql-fw-none-audit-on", {"firewall": [], "audit": "Enabled", "entra_only": True, "tls": _ABSENT}),
    # SQL-003 violating (SQL login only), SQL-005 violating (30-day audit retention)
    ("sql-no-entra-admin-retention-30d", {"firewall": [], "audit": "Enabled", "entra_admin": False,
                                          "retention": 30}),
    # SQL-006 compliant (public access disabled), SQL-005 compliant (0 = unlimited retention)
    ("sql-private-retention-unlimited", {"firewall": [_AZURE_SERVICES], "audit": "Enabled",
                                         "public": "Disabled", "retention": 0}),
]

PG_CASES: list[tuple[str, dict[str, Any]]] = [
    # PG-001, PG-003 (version 11) and PG-004 (Azure services rule) violating
    ("psql-public-access-01", {"public": "Enabled", "version": "11", "firewall": [
        ("AllowAllAzureServicesAndResourcesWithinAzureIps_2024-3-1_9-0-0", "0.0.0.0", "0.0.0.0")]}),
    # PG-001 violating; PG-004 compliant (one narrow rule)
    ("psql-public-narrow-fw-01", {"public": "Enabled", "firewall": [("office", "198.51.100.0", "198.51.100.255")]}),
    ("psql-private-vnet-01", {"public": "Disabled"}),   # PG-001 compliant
    ("psql-tls-not-required-01", {"public": "Disabled", "secure_transport": "off"}),  # PG-002 violating
]


# --- containers (AKS, ACR) and MySQL flexible servers -----------------------------------------
# Module-level builders (rather than _Arm methods) keep these additions in one block.

def _aks(arm: _Arm, rg: str, name: str, location: str, *, private: bool = False,
         ranges: Any = _ABSENT, local_accounts: bool = True, rbac: Any = True,
         policy: Any = _ABSENT, azure_policy: bool = False, channel: Any = _ABSENT,
         version: str = "1.36.1", plan: str = "AKSLongTermSupport") -> dict[str, Any]:
    """An AKS managed cluster as GET ...?api-version=2024-09-01 returns it."""
    access: dict[str, Any] = {"enablePrivateCluster": private}
    _put(access, "authorizedIPRanges", ranges)
    network: dict[str, Any] = {"networkPlugin": "azure", "serviceCidr": "10.0.0.0/16",
                               "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer",
                               "loadBalancerSku": "standard"}
    _put(network, "networkPolicy", policy)
    props: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "kubernetesVersion": version,
        "currentKubernetesVersion": version,
        "dnsPrefix": name,
        "azurePortalFQDN": f"{name}-portal.hcp.{location}.azmk8s.io",
        "agentPoolProfiles": [{"name": "system", "count": 3, "vmSize": "Standard_D4s_v5", "osType": "Linux",
                               "osSKU": "AzureLinux", "mode": "System", "type": "VirtualMachineScaleSets",
                               "orchestratorVersion": version, "enableNodePublicIP": False}],
        "nodeResourceGroup": f"MC_{rg}_{name}_{location}",
        "enableRBAC": rbac,
        "supportPlan": plan,
        "networkProfile": network,
        "apiServerAccessProfile": access,
        "addonProfiles": {"azurepolicy": {"enabled": azure_policy, "config": None}},
        "disableLocalAccounts": not local_accounts,
        "oidcIssuerProfile": {"enabled": False},
    }
    if private:
        props["privateFQDN"] = f"{name}-priv.privatelink.{location}.azmk8s.io"
    else:
        props["fqdn"] = f"{name}.hcp.{location}.azmk8s.io"
    if rbac is _ABSENT:
        del props["enableRBAC"]
    if channel is not _ABSENT:
        props["autoUpgradeProfile"] = {"upgradeChannel": channel, "nodeOSUpgradeChannel": "NodeImage"}
    return arm.add(rg, "Microsoft.ContainerService/managedClusters", name, location, props,
                   sku={"name": "Base", "tier": "Standard"})


def _acr(arm: _Arm, rg: str, name: str, location: str, *, admin: Any = False, anonymous: Any = False,
         public: Any = "Enabled", default_action: Any = _ABSENT) -> dict[str, Any]:
    """A container registry as GET ...?api-version=2023-07-01 returns it (Premium: network rules)."""
    props: dict[str, Any] = {
        "loginServer": f"{name}.azurecr.io",
        "creationDate": _FIXED_TIME,
        "provisioningState": "Succeeded",
        "policies": {"quarantinePolicy": {"status": "disabled"},
                     "retentionPolicy": {"days": 7, "status": "disabled"}},
        "encryption": {"status": "disabled"},
        "dataEndpointEnabled": False,
        "privateEndpointConnections": [],
        "networkRuleBypassOptions": "AzureServices",
        "zoneRedundancy": "Disabled",
    }
    _put(props, "adminUserEnabled", admin)
    _put(props, "anonymousPullEnabled", anonymous)
    _put(props, "publicNetworkAccess", public)
    if default_action is not _ABSENT:
        props["networkRuleSet"] = {"defaultAction": default_action, "ipRules": []}
    return arm.add(rg, "Microsoft.ContainerRegistry/registries", name, location, props,
                   sku={"name": "Premium", "tier": "Premium"})


def _mysql(arm: _Arm, rg: str, name: str, location: str, *, public: str,
           secure_transport: str | None = "ON", version: str = "8.4") -> dict[str, Any]:
    """A MySQL flexible server (api-version 2023-12-30) and its require_secure_transport
    parameter; ``secure_transport=None`` leaves the child out (the emulator answers 404)."""
    network: dict[str, Any] = {"publicNetworkAccess": public}
    if public == "Disabled":
        network["delegatedSubnetResourceId"] = (
            arm.rid(rg, "Microsoft.Network/virtualNetworks", "vnet-data") + "/subnets/mysql")
        network["privateDnsZoneResourceId"] = (
            arm.rid(rg, "Microsoft.Network/privateDnsZones", f"{name}.private.mysql.database.azure.com"))
    props = {
        "administratorLogin": "mysqladmin",
        "version": version,
        "state": "Ready",
        "fullyQualifiedDomainName": f"{name}.mysql.database.azure.com",
        "storage": {"storageSizeGB": 20, "iops": 360, "autoGrow": "Enabled", "autoIoScaling": "Disabled",
                    "storageSku": "Premium_LRS"},
        "backup": {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"},
        "highAvailability": {"mode": "Disabled", "state": "NotEnabled"},
        "network": network,
        "replicationRole": "None",
        "dataEncryption": {"type": "SystemManaged"},
    }
    res = arm.add(rg, "Microsoft.DBforMySQL/flexibleServers", name, location, props,
                  sku={"name": "Standard_B1ms", "tier": "Burstable"})
    if secure_transport is not None:
        arm.child(res, "configurations/require_secure_transport", {
            "id": f"{res['id']}/configurations/require_secure_transport",
            "name": "require_secure_transport",
            "type": "Microsoft.DBforMySQL/flexibleServers/configurations",
            "properties": {
                "value": secure_transport,
                "description": "Whether client connections to the server are required to use some form of "
                               "secure transport.",
                "defaultValue": "ON",
                "dataType": "Enumeration",
                "allowedValues": "ON,OFF",
                "source": "system-default" if secure_transport == "ON" else "user-override",
                "isReadOnly": "False",
                "isConfigPendingRestart": "False",
                "isDynamicConfig": "True",
            },
        })
    return res


_AKS_HARDENED: dict[str, Any] = {"private": True, "local_accounts": False, "policy": "azure",
                                 "azure_policy": True, "channel": "patch"}
AKS_CASES: list[tuple[str, dict[str, Any]]] = [
    # AKS-001..007 violating (1.26 is long out of support)
    ("aks-insecure-01", {"rbac": False, "channel": "none", "version": "1.26.6", "plan": "KubernetesOfficial"}),
    ("aks-hardened-01", _AKS_HARDENED),                           # AKS-001..006 compliant
    ("aks-authorized-ranges-01", {"ranges": ["203.0.113.0/24"], "policy": "calico",
                                  "channel": "stable"}),          # AKS-002 + 005 violating, rest compliant
]
ACR_CASES: list[tuple[str, dict[str, Any]]] = [
    ("acrinsecure01", {"admin": True, "anonymous": True, "default_action": "Allow"}),  # ACR-001..003 violating
    ("acrprivate01", {"public": "Disabled", "default_action": "Allow"}),               # ACR-001..003 compliant
    ("acrdefaults01", {"admin": _ABSENT, "anonymous": _ABSENT, "public": _ABSENT}),     # ACR-003 violating
    ("acrfirewalled01", {"default_action": "Deny"}),                                   # ACR-003 compliant
]
MYSQL_CASES: list[tuple[str, dict[str, Any]]] = [
    # MYSQL-001 + 002 + 003 violating
    ("mysql-public-tls-off-01", {"public": "Enabled", "secure_transport": "OFF", "version": "5.7"}),
    ("mysql-private-01", {"public": "Disabled"}),                                 # MYSQL-001 + 002 compliant
    ("mysql-tls-unreported-01", {"public": "Disabled", "secure_transport": None}),  # MYSQL-002 not evaluated
]

SITE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("app-http-allowed-01", {"https_only": False}),                                   # APP-001 violating
    ("app-httpsonly-unset-01", {"https_only": _ABSENT}),                              # APP-001 violating
    ("app-tls10-ftp-allowed", {"min_tls": "1.0", "ftps": "AllAllowed"}),              # APP-002 + APP-003 violating
    ("app-tls11-ftps-only", {"min_tls": "1.1", "ftps": "FtpsOnly"}),                  # APP-002 violating
    ("app-secure-01", {}),                                                            # compliant
    ("app-tls13-01", {"min_tls": "1.3", "ftps": "FtpsOnly"}),                         # compliant
    ("app-tls-unreported-01", {"min_tls": _ABSENT}),                                  # APP-002 -> None
    ("app-remote-debugging-on-01", {"remote_debugging": True}),                       # APP-004 violating
    ("app-no-managed-identity-01", {"identity": None}),                               # APP-005 violating
    # APP-003 applies to function apps too: FTP allowed on one (violating)
    ("func-ftp-allowed-01", {"kind": "functionapp,linux", "ftps": "AllAllowed"}),
    # APP-007 (optional mode, off), APP-008 (HTTP/1.1), APP-009 (Easy Auth off) violating
    ("app-client-cert-optional-01", {"client_cert": "Optional", "http2": False, "easy_auth": False}),
    ("app-client-cert-off-01", {"client_cert": None}),
    ("app-easyauth-unread-01", {"easy_auth": None}),                                  # APP-009 -> None
    ("app-user-identity-01", {"identity": "UserAssigned"}),                           # compliant
    ("app-python38-01", {"runtime": "PYTHON|3.8"}),                                   # APP-006 violating
    ("app-node14-01", {"runtime": "NODE|14-lts"}),                                    # APP-006 violating
]


# ---------------------------------------------------------------------------------------------
# Graph builders
# ---------------------------------------------------------------------------------------------


def _user(name: str, display: str, *, guest: bool = False, ext_upn: bool | None = None,
          enabled: bool = True, domain: str = TENANT_DOMAIN, pending: bool = False) -> dict[str, Any]:
    ext = guest if ext_upn is None else ext_upn
    if ext:
        local, _, home = name.partition("@")
        upn = f"{local}_{home}#EXT#@{domain}"
        mail: Any = name
    else:
        upn = f"{name}@{domain}"
        mail = upn
    return {
        "id": guid("user", name),
        "displayName": display,
        "userPrincipalName": upn,
        "mail": mail,
        "userType": "Guest" if guest else "Member",
        "accountEnabled": enabled,
        "createdDateTime": _FIXED_TIME,
        # Graph reports invitation state for B2B guests only (null for members)
        "externalUserState": ("PendingAcceptance" if pending else "Accepted") if guest else None,
        "externalUserStateChangeDateTime": _FIXED_TIME if guest else None,
    }


def _registration(user: dict[str, Any], *, mfa: bool, admin: bool = False) -> dict[str, Any]:
    methods = ["password", "microsoftAuthenticatorPush", "softwareOneTimePasscode"] if mfa else ["password"]
    return {
        "id": user["id"],
        "userPrincipalName": user["userPrincipalName"],
        "userDisplayName": user["displayName"],
        "userType": user["userType"].lower(),
        "isAdmin": admin,
        "isSsprRegistered": mfa,
        "isSsprEnabled": True,
        "isSsprCapable": mfa,
        "isMfaRegistered": mfa,
        "isMfaCapable": mfa,
        "isPasswordlessCapable": False,
        "methodsRegistered": methods,
        "isSystemPreferredAuthenticationMethodEnabled": True,
        "systemPreferredAuthenticationMethods": ["push"] if mfa else [],
        "userPreferredMethodForSecondaryAuthentication": "push" if mfa else "none",
        "lastUpdatedDateTime": _FIXED_TIME,
    }


def _user_member(user: dict[str, Any]) -> dict[str, Any]:
    # $expand=members returns the default directoryObject properties (no userType)
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": user["id"],
        "businessPhones": [],
        "displayName": user["displayName"],
        "givenName": None,
        "jobTitle": None,
        "mail": user["mail"],
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": None,
        "userPrincipalName": user["userPrincipalName"],
    }


def _owner(user: dict[str, Any]) -> dict[str, Any]:
    # an application owner as $expand=owners($select=id,displayName) returns it
    return {"@odata.type": "#microsoft.graph.user", "id": user["id"], "displayName": user["displayName"]}


def _sp_member(sp: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.servicePrincipal",
        "id": sp["id"],
        "appId": sp["appId"],
        "displayName": sp["displayName"],
        "servicePrincipalType": sp["servicePrincipalType"],
    }


def _directory_role(name: str, members: list[dict[str, Any]], tag: str = "") -> dict[str, Any]:
    return {
        "id": guid("directoryRole", name + tag),
        "deletedDateTime": None,
        "description": f"{name} directory role.",
        "displayName": name,
        "roleTemplateId": ROLE_TEMPLATES[name],
        "members": members,
    }


def _password(name: str, start: datetime, lifetime_days: int = 730) -> dict[str, Any]:
    return {
        "customKeyIdentifier": None,
        "displayName": name,
        "endDateTime": _iso(start + timedelta(days=lifetime_days)),
        "hint": name[:3],
        "keyId": guid("secret", name),
        "secretText": None,
        "startDateTime": _iso(start),
    }


def _key_credential(name: str, start: datetime, lifetime_days: int = 365) -> dict[str, Any]:
    return {
        "customKeyIdentifier": guid("thumb", name).replace("-", "")[:40].upper(),
        "displayName": f"CN={name}",
        "endDateTime": _iso(start + timedelta(days=lifetime_days)),
        "key": None,
        "keyId": guid("cert", name),
        "startDateTime": _iso(start),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    }


def _application(name: str, *, app_id: str | None = None, passwords: list[dict[str, Any]] = (),  # type: ignore[assignment]
                 keys: list[dict[str, Any]] = (),  # type: ignore[assignment]
                 redirect_uris: list[str] = (),  # type: ignore[assignment]
                 implicit_access: bool = False, implicit_id: bool = False) -> dict[str, Any]:
    return {
        "id": guid("application", name),
        "appId": app_id or guid("appId", name),
        "displayName": name,
        "createdDateTime": _FIXED_TIME,
        "signInAudience": "AzureADMyOrg",
        "passwordCredentials": list(passwords),
        "keyCredentials": list(keys),
        "web": {
            "homePageUrl": None,
            "logoutUrl": None,
            "redirectUris": list(redirect_uris),
            "redirectUriSettings": [{"uri": u, "index": None} for u in redirect_uris],
            "implicitGrantSettings": {"enableAccessTokenIssuance": implicit_access,
                                      "enableIdTokenIssuance": implicit_id},
        },
    }


def _service_principal(name: str, *, app_id: str | None = None, sp_type: str = "Application",
                       tenant_id: str = TENANT_ID) -> dict[str, Any]:
    app = app_id or guid("appId", name)
    return {
        "id": guid("servicePrincipal", name),
        "appId": app,
        "displayName": name,
        "servicePrincipalType": sp_type,
        "accountEnabled": True,
        "appOwnerOrganizationId": tenant_id,
        "servicePrincipalNames": [app],
        "tags": [],
    }


def _role_definitions(sub: str) -> list[dict[str, Any]]:
    def rd(guid_: str, name: str, kind: str, actions: list[str], not_actions: list[str],
           scopes: list[str], description: str) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid_}",
            "name": guid_,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {
                "roleName": name,
                "type": kind,
                "description": description,
                "assignableScopes": scopes,
                "permissions": [{"actions": actions, "notActions": not_actions,
                                 "dataActions": [], "notDataActions": []}],
                "createdOn": "2015-02-02T21:55:09.8806423Z",
                "updatedOn": "2024-01-01T00:00:00.0000000Z",
                "createdBy": None,
                "updatedBy": None,
            },
        }

    return [
        rd(OWNER, "Owner", "BuiltInRole", ["*"], [], ["/"],
           "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC."),
        rd(CONTRIBUTOR, "Contributor", "BuiltInRole", ["*"],
           ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action"],
           ["/"], "Grants full access to manage all resources, but does not allow you to assign roles."),
        rd(READER, "Reader", "BuiltInRole", ["*/read"], [], ["/"],
           "View all resources, but does not allow you to make any changes."),
        rd(USER_ACCESS_ADMIN, "User Access Administrator", "BuiltInRole",
           ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"], [], ["/"],
           "Lets you manage user access to Azure resources."),
        rd(guid("roleDefinition", "OpenShield Demo VM Operator"), "OpenShield Demo VM Operator", "CustomRole",
           ["Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/start/action",
            "Microsoft.Compute/virtualMachines/restart/action", "Microsoft.Compute/virtualMachines/deallocate/action"],
           [], [f"/subscriptions/{sub}"], "Start, restart and stop virtual machines (demo custom role)."),
        rd(guid("roleDefinition", "OpenShield Demo All Actions Admin"), "OpenShield Demo All Actions Admin",
           "CustomRole", ["*"], [], [f"/subscriptions/{sub}"],
           "Custom subscription administrator role granting '*' (AZ-IAM-010 violating)."),
    ]


def _assignment(sub: str, key: str, scope: str, role: str, principal_id: str,
                principal_type: str) -> dict[str, Any]:
    name = guid("roleAssignment", key)
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principalId": principal_id,
            "principalType": principal_type,
            "scope": scope,
            "condition": None,
            "conditionVersion": None,
            "createdOn": "2024-02-01T10:00:00.0000000Z",
            "updatedOn": "2024-02-01T10:00:00.0000000Z",
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": None,
        },
    }


def _envelope(name: str, now: datetime) -> dict[str, Any]:
    return {
        "name": name,
        "generatedAt": _iso(now),
        "tenantId": TENANT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "clientId": CLIENT_ID,
    }


# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------


def demo_tenant(now: datetime | None = None) -> dict[str, Any]:
    """The hand-planted tenant: every rule has violating and compliant objects."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    sub = SUBSCRIPTION_ID
    arm = _Arm(sub)
    prod, data, dev = "rg-prod", "rg-data", "rg-dev"
    weu, neu, eus = "westeurope", "northeurope", "eastus"

    nsg_ids: dict[str, str] = {}
    for i, (name, rules_) in enumerate(NSG_CASES):
        nsg_ids[name] = arm.nsg(prod if i % 3 else dev, name, weu if i % 3 else eus, rules_)["id"]
    web_nsg = nsg_ids["nsg-web-only"]

    # network: NET-005 (subnet NSGs), NET-006 (idle public IPs), NET-007 (WAF), NET-008 (DDoS)
    # vnet-prod: 'default' subnet without NSG (NET-005 violating), no DDoS plan (NET-008 violating)
    vnet_prod = arm.vnet(prod, "vnet-prod", weu, "10.10.0.0/16",
                         subnets=[("default", None), ("appgw", web_nsg), ("GatewaySubnet", None),
                                  ("dbw-public", None), ("dbw-private", None)])  # + DBW-006 violating
    # vnet-data: every subnet protected or exempt (NET-005 compliant), DDoS plan (NET-008 compliant)
    arm.vnet(data, "vnet-data", neu, "10.20.0.0/16", ddos=True,
             subnets=[("default", web_nsg), ("postgres", web_nsg), ("AzureBastionSubnet", None),
                      ("dbw-host", web_nsg), ("dbw-container", web_nsg)])  # + DBW-006 compliant
    nic_win = arm.rid(prod, "Microsoft.Network/networkInterfaces", "nic-vm-windows-01")
    pip_win = arm.public_ip(prod, "pip-vm-windows-01", weu, "203.0.113.10",
                            ip_config_id=f"{nic_win}/ipConfigurations/ipconfig1")     # NET-006 compliant
    appgw_subnet = vnet_prod["properties"]["subnets"][1]["id"]
    # appgw-standard-01 also violates NET-017 (TLS 1.1 policy) and NET-018 (HTTP/2 off)
    for gw_name, tier, address, policy in (("appgw-waf-policy-01", "WAF_v2", "203.0.113.11", True),   # NET-007 compliant
                                           ("appgw-standard-01", "Standard_v2", "203.0.113.12", False)):  # violating
        gw_id = arm.rid(prod, "Microsoft.Network/applicationGateways", gw_name)
        pip = arm.public_ip(prod, f"pip-{gw_name}", weu, address,
                            ip_config_id=f"{gw_id}/frontendIPConfigurations/fe-public")
        arm.app_gateway(prod, gw_name, weu, tier=tier, pip_id=pip["id"], subnet_id=appgw_subnet, policy=policy,
                        ssl_policy="AppGwSslPolicy20220101S" if policy else "AppGwSslPolicy20170401", http2=policy)
    arm.public_ip(prod, "pip-orphaned-01", weu, "203.0.113.13")                      # NET-006 violating

    for name, kw in STORAGE_CASES:
        arm.storage(data, name, neu, **kw)

    subnet_id = vnet_prod["properties"]["subnets"][0]["id"]
    # CMP-006: vm-windows-01's public IP is filtered by its NIC's NSG (compliant); the password-auth
    # Linux VM gets a public IP on a NIC without NSG in vnet-prod's unprotected 'default' subnet
    exposed_vm = "vm-linux-password-auth"
    nic_exposed = arm.rid(prod, "Microsoft.Network/networkInterfaces", f"nic-{exposed_vm}")
    pip_exposed = arm.public_ip(prod, f"pip-{exposed_vm}", weu, "203.0.113.14",
                                ip_config_id=f"{nic_exposed}/ipConfigurations/ipconfig1")
    for i, (name, kw) in enumerate(VM_CASES):
        vm_id = arm.rid(prod, "Microsoft.Compute/virtualMachines", name)
        pip_id = {"vm-windows-01": pip_win["id"], exposed_vm: pip_exposed["id"]}.get(name)
        nic = arm.nic(prod, f"nic-{name}", weu, subnet_id, f"10.10.0.{4 + i}", vm_id=vm_id,
                      nsg_id=None if name == exposed_vm else nsg_ids["nsg-web-only"], pip_id=pip_id)
        if kw.get("managed") is False:  # OS disk is a VHD blob, not a disk resource
            arm.vm(prod, name, weu, nic_id=nic["id"], **kw)
            continue
        disk = arm.disk(prod, f"{name}-osdisk-cmk", weu, encryption="EncryptionAtRestWithCustomerKey",
                        managed_by=vm_id, os_type="Windows" if kw.get("linux") is False else "Linux",
                        size_gb=30)
        arm.vm(prod, name, weu, nic_id=nic["id"], os_disk_id=disk["id"], os_disk_name=disk["name"], **kw)
    for name, kw in DISK_CASES:
        arm.disk(prod, name, weu, **kw)

    for name, kw in VAULT_CASES:
        arm.vault(data, name, neu, TENANT_ID, **kw)

    sql_servers = [arm.sql_server(data, name, neu, **kw) for name, kw in SQL_CASES]
    arm.sql_database(sql_servers[0], "appdb")                                # SQL-007 compliant
    arm.sql_database(sql_servers[1], "reportsdb", tde="Disabled")            # SQL-007 violating
    for name, kw in PG_CASES:
        arm.postgres(data, name, neu, **kw)
    for name, kw in MYSQL_CASES:
        _mysql(arm, data, name, neu, **kw)
    for name, kw in AKS_CASES:
        _aks(arm, prod, name, weu, **kw)
    for name, kw in ACR_CASES:
        _acr(arm, prod, name, weu, **kw)

    plan = arm.plan(prod, "plan-linux-01", weu)
    for name, kw in SITE_CASES:
        arm.site(prod, name, weu, plan["id"], **kw)

    # monitoring: watchers in westeurope and northeurope, none in eastus (AZ-NET-009 violating);
    # flow logs for four westeurope NSGs (AZ-NET-010: 90 days and no retention policy comply,
    # 30 days and disabled violate; every other NSG has none)
    arm.network_watcher(prod, weu, flow_logs=[
        ("fl-nsg-web-only", nsg_ids["nsg-web-only"], True, 90),
        ("fl-nsg-ssh-private-only", nsg_ids["nsg-ssh-private-only"], True, None),
        ("fl-nsg-rdp-open", nsg_ids["nsg-rdp-open"], True, 30),
        ("fl-nsg-ssh-deny-shadows-allow", nsg_ids["nsg-ssh-deny-shadows-allow"], False, 365),
    ])
    # VNet flow logs (AZ-NET-010): vnet-flowlogs is logged for 365 days, its 'batch' subnet by a
    # subnet flow log of 30 days that overrides it, so nsg-vnet-flow-logged (on 'app') complies
    # through the VNet flow log and nsg-vnet-flow-short (on 'batch') violates
    logged = arm.nsg(data, "nsg-vnet-flow-logged", neu, [])["id"]
    short = arm.nsg(data, "nsg-vnet-flow-short", neu, [])["id"]
    vnet_logged = arm.vnet(data, "vnet-flowlogs", neu, "10.30.0.0/16", ddos=True,
                           subnets=[("app", logged), ("batch", short)])
    arm.network_watcher(prod, neu, flow_logs=[
        ("fl-vnet-flowlogs", vnet_logged["id"], True, 365),
        ("fl-vnet-flowlogs-batch", vnet_logged["properties"]["subnets"][1]["id"], True, 30),
    ])
    for case in ALERT_CASES:
        _alert(arm, prod, case[0], case)
    _subscription_monitoring(arm)
    _activity_log_destinations(arm)
    from tests.fakeazure import breadth, resource_reads  # issue-17 families: own modules, merged here once
    breadth.plant_demo(arm, now)
    resource_reads.plant(arm)
    from tests.fakeazure import v6_cases  # CIS v6 network / storage / Databricks cases
    v6_cases.plant_demo(arm)
    arm.link_nsg_associations()

    graph, assignments = _demo_identity(sub, now)
    breadth.plant_graph(graph)
    breadth.plant_assignments(assignments, sub, graph)
    v6_cases.plant_assignments(assignments, sub, graph)
    tenant = _envelope("demo", now)
    tenant.update({
        "resources": arm.resources,
        "children": arm.children,
        "roleAssignments": assignments,
        "roleDefinitions": _role_definitions(sub),
        "graph": graph,
        # AZ-IAM-024 violating: leaving is blocked, entering is not (one tenant, one verdict)
        "subscriptionPolicy": {"blockSubscriptionsLeavingTenant": True, "blockSubscriptionsIntoTenant": False,
                               "exemptedPrincipals": []},
    })
    return tenant


def _demo_identity(sub: str, now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    # (name, display, guest, ext_upn, enabled, mfa, admin)
    people = [
        ("alice.admin", "Alice Admin", False, None, True, True, True),
        ("bob.nomfa", "Bob No-MFA", False, None, True, False, False),
        ("carol.secadmin", "Carol Security Admin", False, None, True, True, True),
        ("dave.user", "Dave User", False, None, True, True, False),
        ("erin.admin.nomfa", "Erin Admin No-MFA", False, None, True, False, True),
        ("frank.disabled", "Frank Disabled", False, None, False, False, False),
        ("grace.appadmin", "Grace App Admin", False, None, True, True, True),
        ("guest.globaladmin@contoso.com", "Guest Global Admin (contoso)", True, None, True, True, True),
        ("guest.dirreader@partner.example", "Guest Directory Reader", True, None, True, True, False),
        ("guest.nomfa@partner.example", "Guest No-MFA", True, None, True, False, False),
        # userType Member but an #EXT# UPN: still an external identity
        ("ext.member@vendor.example", "External Member User Admin", False, True, True, True, True),
    ]
    users: dict[str, dict[str, Any]] = {}
    registrations = []
    for name, display, guest, ext, enabled, mfa, admin in people:
        u = _user(name, display, guest=guest, ext_upn=ext, enabled=enabled)
        users[name] = u
        registrations.append(_registration(u, mfa=mfa, admin=admin))
    # AZ-IAM-005 violating: invited in 2023, never redeemed (so no MFA either); the other guests accepted
    pending = _user("guest.pending.invite@partner.example", "Guest Invitation Never Accepted", guest=True,
                    pending=True)
    users["guest.pending.invite@partner.example"] = pending
    registrations.append(_registration(pending, mfa=False))

    old = now - timedelta(days=200)
    fresh = now - timedelta(days=10)
    applications = [
        _application("openshield-scanner", app_id=CLIENT_ID, passwords=[_password("scanner-secret", fresh)]),
        _application("app-old-secret", passwords=[_password("ci-secret-2023", old)]),            # IAM-003 violating
        _application("app-fresh-secret", passwords=[_password("rotated-secret", fresh)]),       # compliant
        _application("app-cert-only", keys=[_key_credential("app-cert-only", old)]),            # compliant
        _application("app-mixed-old-and-fresh",                                                   # violating
                     passwords=[_password("legacy-secret", old), _password("new-secret", fresh)]),
        # AZ-IAM-006 violating: a secret expiring in 10 days, a certificate expired 35 days ago
        _application("app-secret-expiring-in-10-days",
                     passwords=[_password("expiring-secret", now - timedelta(days=80), lifetime_days=90)]),
        _application("app-cert-expired-still-present",
                     keys=[_key_credential("expired-cert", now - timedelta(days=400))]),
        # AZ-IAM-008: plain-http and wildcard / URL-shortener redirects (violating); https + http://localhost ok
        _application("app-redirect-http-and-wildcard",
                     redirect_uris=["http://intranet.contoso.example/signin-oidc",
                                    "https://*.contoso.example/callback"]),
        _application("app-redirect-url-shortener", redirect_uris=["https://bit.ly/3openshield"]),
        _application("app-redirect-https-and-localhost",
                     redirect_uris=["https://portal.contoso.example/signin-oidc", "http://localhost:5000/signin-oidc"]),
        # AZ-IAM-009: implicit flow issuing access tokens (violating); ID tokens only (compliant)
        _application("app-implicit-access-tokens", redirect_uris=["https://spa.contoso.example/"],
                     implicit_access=True, implicit_id=True),
        _application("app-implicit-id-tokens-only", redirect_uris=["https://signin.contoso.example/"],
                     implicit_id=True),
        _application("app-without-owners", passwords=[_password("orphan-secret", fresh)]),  # IAM-007 violating
    ]
    # owners (served only with $expand=owners): Grace owns every app but the orphan (AZ-IAM-007)
    for app in applications:
        app["owners"] = [] if app["displayName"] == "app-without-owners" else [_owner(users["grace.appadmin"])]
    sps = {a["displayName"]: _service_principal(a["displayName"], app_id=a["appId"]) for a in applications}
    for name in ("sp-automation-owner", "sp-monitoring-reader", "sp-rg-owner", "sp-mg-owner-inherited"):
        sps[name] = _service_principal(name)
    sps["mi-vm-linux-sshkey-only"] = _service_principal("mi-vm-linux-sshkey-only", sp_type="ManagedIdentity")
    sps["mi-contributor-on-subscription"] = _service_principal("mi-contributor-on-subscription",
                                                               sp_type="ManagedIdentity")

    roles = [
        _directory_role("Global Administrator", [_user_member(users["alice.admin"]),
                                                 _user_member(users["guest.globaladmin@contoso.com"])]),
        _directory_role("Security Administrator", [_user_member(users["carol.secadmin"])]),
        _directory_role("Privileged Role Administrator", [_user_member(users["erin.admin.nomfa"]),
                                                          _sp_member(sps["sp-automation-owner"])]),
        _directory_role("User Administrator", [_user_member(users["ext.member@vendor.example"])]),
        _directory_role("Application Administrator", [_user_member(users["grace.appadmin"])]),
        _directory_role("Directory Readers", [_user_member(users["guest.dirreader@partner.example"])]),
    ]

    sub_scope = f"/subscriptions/{sub}"
    custom = guid("roleDefinition", "OpenShield Demo VM Operator")
    group_id = guid("group", "grp-platform-engineers")
    assignments = [
        _assignment(sub, "sp-automation-owner", sub_scope, OWNER, sps["sp-automation-owner"]["id"],
                    "ServicePrincipal"),                                                   # IAM-004 violating
        _assignment(sub, "sp-monitoring-reader", sub_scope, READER, sps["sp-monitoring-reader"]["id"],
                    "ServicePrincipal"),                                                   # compliant
        _assignment(sub, "alice-owner", sub_scope, OWNER, users["alice.admin"]["id"], "User"),  # compliant
        # a fourth Owner over the subscription (with sp-automation-owner and the management-group
        # one): IAM-011 violating
        _assignment(sub, "carol-owner", sub_scope, OWNER, users["carol.secadmin"]["id"], "User"),
        _assignment(sub, "sp-rg-owner", f"{sub_scope}/resourceGroups/rg-prod", OWNER,
                    sps["sp-rg-owner"]["id"], "ServicePrincipal"),                         # compliant (RG scope)
        _assignment(sub, "sp-mg-owner", f"/providers/Microsoft.Management/managementGroups/{MANAGEMENT_GROUP}",
                    OWNER, sps["sp-mg-owner-inherited"]["id"], "ServicePrincipal"),       # compliant (not exact)
        _assignment(sub, "grp-contributor", sub_scope, CONTRIBUTOR, group_id, "Group"),
        _assignment(sub, "scanner-reader", sub_scope, READER, sps["openshield-scanner"]["id"], "ServicePrincipal"),
        _assignment(sub, "carol-uaa", sub_scope, USER_ACCESS_ADMIN, users["carol.secadmin"]["id"], "User"),
        _assignment(sub, "automation-vmop", f"{sub_scope}/resourceGroups/rg-dev", custom,
                    sps["sp-automation-owner"]["id"], "ServicePrincipal"),
        _assignment(sub, "mi-contributor-on-subscription", sub_scope, CONTRIBUTOR,
                    sps["mi-contributor-on-subscription"]["id"], "ServicePrincipal"),      # IAM-012 violating
        _assignment(sub, "mi-vm-reader-on-subscription", sub_scope, READER,
                    sps["mi-vm-linux-sshkey-only"]["id"], "ServicePrincipal"),             # IAM-012 compliant
        # a leaver's disabled account kept its Reader role on rg-data: IAM-026 violating (the
        # estate's other subscriptions have no disabled holder: compliant)
        _assignment(sub, "frank-disabled-reader", f"{sub_scope}/resourceGroups/rg-data", READER,
                    users["frank.disabled"]["id"], "User"),
    ]
    graph = {
        "users": list(users.values()),
        "userRegistrationDetails": registrations,
        "directoryRoles": roles,
        "applications": applications,
        "servicePrincipals": list(sps.values()),
    }
    return graph, assignments


# ---------------------------------------------------------------------------------------------
# large:N
# ---------------------------------------------------------------------------------------------

_LOCATIONS = ("westeurope", "northeurope", "eastus")


def large_tenant(n: int, now: datetime | None = None) -> dict[str, Any]:
    """Exactly ``n`` ARM resources: ~90% across the rule types, ~10% other types."""
    if n < 0:
        raise ValueError("large:N needs N >= 0")
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    sub = SUBSCRIPTION_ID
    arm = _Arm(sub)
    from tests.fakeazure import breadth, resource_reads  # issue-17 types
    builders = (_large_storage, _large_nsg, _large_vm, _large_disk, _large_vault, _large_sql,
                _large_pg, _large_site, _large_aks, _large_acr, _large_mysql, *breadth.LARGE_BUILDERS,
                *resource_reads.LARGE_BUILDERS)
    others = (_large_vnet, _large_pip, _large_nic, _large_plan, _large_appgw, _large_alert)
    plan_ids: list[str] = []
    rule_slot = other_slot = 0
    watchers: list[dict[str, Any]] = []
    for i in range(n):
        rg = f"rg-large-{i // 250:03d}"
        loc = _LOCATIONS[(i // 250) % len(_LOCATIONS)]
        if i % 10 == 9 and len(watchers) < 2:
            # the first two "other" slots: Network Watchers for westeurope and northeurope only,
            # so eastus (from resource 500 on) has none (AZ-NET-009)
            watchers.append(arm.network_watcher(rg, _LOCATIONS[len(watchers)]))
        elif i % 10 == 9:
            others[other_slot % len(others)](arm, rg, loc, i, other_slot // len(others), plan_ids)
            other_slot += 1
        else:
            builders[rule_slot % len(builders)](arm, rg, loc, i, rule_slot // len(builders), plan_ids)
            rule_slot += 1

    if watchers:
        _large_flow_logs(arm, watchers[0])
    breadth.plant_server_parameters(arm)
    breadth.plant_sql_security(arm)
    breadth.plant_file_services(arm)
    resource_reads.plant(arm)
    _subscription_monitoring(arm)
    arm.link_nsg_associations()

    graph, assignments = _large_identity(sub, n, now)
    breadth.plant_graph(graph)
    tenant = _envelope(f"large:{n}", now)
    tenant.update({
        "resources": arm.resources,
        "children": arm.children,
        "roleAssignments": assignments,
        "roleDefinitions": _role_definitions(sub),
        "graph": graph,
    })
    return tenant


def _case(cases: list[tuple[str, Any]], variant: int) -> Any:
    return cases[variant % len(cases)][1]


def _large_storage(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    arm.storage(rg, f"st{i:07d}", loc, **_case(STORAGE_CASES, v))


def _large_nsg(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    arm.nsg(rg, f"nsg-{i:07d}", loc, _case(NSG_CASES, v))


def _large_vm(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    name = f"vm-{i:07d}"
    nic_id = arm.latest.get("nic") or arm.rid(rg, "Microsoft.Network/networkInterfaces", f"nic-{name}")
    arm.vm(rg, name, loc, nic_id=nic_id,
           os_disk_id=arm.rid(rg, "Microsoft.Compute/disks", f"{name}-osdisk"), os_disk_name=f"{name}-osdisk",
           **_case(VM_CASES, v))


def _large_disk(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    arm.disk(rg, f"disk-{i:07d}", loc, **_case(DISK_CASES, v))


def _large_vault(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    arm.vault(rg, f"kv-{i:07d}", loc, TENANT_ID, **_case(VAULT_CASES, v))


def _large_sql(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    kw = dict(_case(SQL_CASES, v))
    if len(kw["firewall"]) > 5:  # keep large tenants' child payloads small
        kw["firewall"] = kw["firewall"][-3:]
    server = arm.latest.get("sql")
    if v % 4 == 3 and server is not None:  # SQL-007: every fourth slot is a database of the newest server
        arm.sql_database(server, f"db-{i:07d}", tde="Disabled" if v % 8 == 3 else "Enabled")
        return
    arm.latest["sql"] = arm.sql_server(rg, f"sql-{i:07d}", loc, **kw)


def _large_pg(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    arm.postgres(rg, f"psql-{i:07d}", loc, **_case(PG_CASES, v))


def _large_aks(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    _aks(arm, rg, f"aks-{i:07d}", loc, **_case(AKS_CASES, v))


def _large_acr(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    _acr(arm, rg, f"acr{i:07d}", loc, **_case(ACR_CASES, v))


def _large_mysql(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    _mysql(arm, rg, f"mysql-{i:07d}", loc, **_case(MYSQL_CASES, v))


def _large_site(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    plan_id = plans[-1] if plans else arm.rid(rg, "Microsoft.Web/serverfarms", "plan-large-default")
    arm.site(rg, f"app-{i:07d}", loc, plan_id, **_case(SITE_CASES, v))


def _large_vnet(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    # a mix for NET-005 / NET-008: unprotected default subnet, protected + exempt subnets, DDoS on
    nsg = arm.rid(rg, "Microsoft.Network/networkSecurityGroups", "nsg-shared")
    layouts: list[list[tuple[str, str | None]] | None] = [
        None, [("default", nsg), ("GatewaySubnet", None)], [("default", nsg)]]
    subnets = layouts[v % 3]
    vnet = arm.vnet(rg, f"vnet-{i:07d}", loc, f"10.{v % 250}.0.0/16", subnets=subnets, ddos=v % 4 == 2)
    arm.latest["subnet"] = vnet["properties"]["subnets"][0]["id"]


def _large_pip(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    # NET-006: every third address is idle, the others belong to a NIC or a NAT gateway
    nic = arm.rid(rg, "Microsoft.Network/networkInterfaces", f"nic-pip-{i:07d}")
    nat = arm.rid(rg, "Microsoft.Network/natGateways", "nat-shared")
    attachments: list[dict[str, str]] = [
        {}, {"ip_config_id": f"{nic}/ipConfigurations/ipconfig1"}, {"nat_gateway_id": nat}]
    attach = attachments[v % 3]
    arm.public_ip(rg, f"pip-{i:07d}", loc, f"203.0.{(v // 250) % 256}.{v % 250 + 1}", **attach)


def _large_appgw(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    # NET-007: WAF_v2 + policy, Standard_v2 (no WAF), WAF tier with its configuration disabled
    name = f"agw-{i:07d}"
    subnet = arm.rid(rg, "Microsoft.Network/virtualNetworks", "vnet-shared") + "/subnets/appgw"
    pip = arm.rid(rg, "Microsoft.Network/publicIPAddresses", f"pip-{name}")
    cases: list[dict[str, Any]] = [{"tier": "WAF_v2", "policy": True}, {"tier": "Standard_v2"},
                                   {"tier": "WAF_v2", "waf_enabled": False}]
    kw = cases[v % 3]
    arm.app_gateway(rg, name, loc, pip_id=pip, subnet_id=subnet, **kw)


def _large_nic(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    # CMP-006: a public IP on every other NIC, an NSG on every fourth; the subnet is the newest
    # VNet's first one (with or without an NSG)
    subnet = arm.latest.get("subnet") or (
        arm.rid(rg, "Microsoft.Network/virtualNetworks", "vnet-shared") + "/subnets/default")
    pip = arm.rid(rg, "Microsoft.Network/publicIPAddresses", f"pip-nic-{i:07d}") if v % 2 == 0 else None
    nsg = arm.rid(rg, "Microsoft.Network/networkSecurityGroups", "nsg-shared") if v % 4 == 0 else None
    nic = arm.nic(rg, f"nic-{i:07d}", loc, subnet, f"10.0.{(v // 250) % 256}.{v % 250 + 4}", pip_id=pip, nsg_id=nsg)
    arm.latest["nic"] = nic["id"]


def _large_plan(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    plans.append(arm.plan(rg, f"plan-{i:07d}", loc)["id"])


def _large_alert(arm: _Arm, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    _alert(arm, rg, f"alert-{i:07d}", ALERT_CASES[v % len(ALERT_CASES)])


def _large_flow_logs(arm: _Arm, watcher: dict[str, Any]) -> None:
    """Flow logs (a child list, not resources) for the NSGs in the watcher's region."""
    region = watcher["location"]
    nsgs = [r["id"] for r in arm.resources
            if r["type"] == "Microsoft.Network/networkSecurityGroups" and r["location"] == region]
    flow_logs = []
    for k, nsg_id in enumerate(nsgs):
        case = FLOW_LOG_CASES[k % len(FLOW_LOG_CASES)]
        if case is not None:
            flow_logs.append({
                "id": f"{watcher['id']}/flowLogs/fl-{nsg_id.rsplit('/', 1)[1]}",
                "name": f"fl-{nsg_id.rsplit('/', 1)[1]}",
                "type": "Microsoft.Network/networkWatchers/flowLogs",
                "location": region,
                "properties": {"targetResourceId": nsg_id, "enabled": case[0],
                               "retentionPolicy": {"days": case[1] or 0, "enabled": case[1] is not None},
                               "provisioningState": "Succeeded"},
            })
    arm.child(watcher, "flowLogs", flow_logs)


def _large_identity(sub: str, n: int, now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    n_users = max(50, n // 20)
    users, registrations = [], []
    for k in range(n_users):
        guest = k % 7 == 3
        name = f"guest{k:05d}@partner.example" if guest else f"user{k:05d}"
        u = _user(name, f"{'Guest' if guest else 'User'} {k:05d}", guest=guest, enabled=k % 23 != 5,
                  pending=k % 14 == 3)  # every other guest never accepted its invitation (AZ-IAM-005)
        users.append(u)
        registrations.append(_registration(u, mfa=k % 5 != 1, admin=k < 12))

    ages = (200, 10, 400, 45, 95, 1)
    n_apps = max(10, n // 100)
    applications = []
    for k in range(n_apps):
        start = now - timedelta(days=ages[k % len(ages)])
        # web settings mix: plain-http redirect (AZ-IAM-008), implicit access tokens (AZ-IAM-009)
        web: dict[str, Any] = {"redirect_uris": [f"https://app{k:05d}.contoso.example/signin-oidc"]}
        if k % 8 == 5:
            web["redirect_uris"] = [f"http://app{k:05d}.contoso.example/signin-oidc"]
        elif k % 8 == 6:
            web["implicit_access"] = True
        # AZ-IAM-006: some secrets expire 20 days after the generation time
        lifetime = ages[k % len(ages)] + 20 if k % 9 == 7 else 730
        if k % 9 == 4:
            applications.append(_application(f"app-large-{k:05d}", keys=[_key_credential(f"c{k}", start)], **web))
        else:
            applications.append(_application(f"app-large-{k:05d}",
                                             passwords=[_password(f"s{k}", start, lifetime_days=lifetime)], **web))
    for k, app in enumerate(applications):  # every sixth app has no owner (AZ-IAM-007)
        app["owners"] = [] if k % 6 == 2 else [_owner(users[k % len(users)])]
    sps = [_service_principal(a["displayName"], app_id=a["appId"]) for a in applications]
    sps += [_service_principal(f"mi-large-{k:03d}", sp_type="ManagedIdentity") for k in range(5)]

    members = [_user_member(u) for u in users]
    guests = [m for m, u in zip(members, users) if u["userType"] == "Guest"]
    plain = [m for m, u in zip(members, users) if u["userType"] != "Guest"]
    roles = [
        _directory_role("Global Administrator", plain[:3] + guests[:1]),
        _directory_role("Security Administrator", plain[3:5]),
        _directory_role("Privileged Role Administrator", plain[5:6] + [_sp_member(sps[0])]),
        _directory_role("User Administrator", plain[6:8] + guests[1:2]),
        _directory_role("Application Administrator", plain[8:12]),
        _directory_role("Directory Readers", guests[2:6] + plain[12:20]),
    ]

    sub_scope = f"/subscriptions/{sub}"
    patterns = (
        (sub_scope, OWNER, "ServicePrincipal"),
        (sub_scope, READER, "ServicePrincipal"),
        (sub_scope, OWNER, "User"),
        ("rg", OWNER, "ServicePrincipal"),
        ("rg", CONTRIBUTOR, "Group"),
        (sub_scope, USER_ACCESS_ADMIN, "User"),
        (sub_scope, CONTRIBUTOR, "ServicePrincipal"),
    )
    n_rgs = max(1, (n + 249) // 250)
    assignments = []
    for k in range(max(10, n // 50)):
        scope, role, ptype = patterns[k % len(patterns)]
        if scope == "rg":
            scope = f"{sub_scope}/resourceGroups/rg-large-{k % n_rgs:03d}"
        if ptype == "ServicePrincipal":
            principal = sps[k % len(sps)]["id"]
        elif ptype == "User":
            principal = users[k % len(users)]["id"]
        else:
            principal = guid("group", f"large-{k}")
        assignments.append(_assignment(sub, f"large-{k}", scope, role, principal, ptype))
    # AZ-IAM-012: managed identities at subscription scope, Contributor (violating) or Reader
    for j, mi in enumerate(sp for sp in sps if sp["servicePrincipalType"] == "ManagedIdentity"):
        assignments.append(_assignment(sub, f"large-mi-{j}", sub_scope, CONTRIBUTOR if j % 2 == 0 else READER,
                                       mi["id"], "ServicePrincipal"))

    graph = {
        "users": users,
        "userRegistrationDetails": registrations,
        "directoryRoles": roles,
        "applications": applications,
        "servicePrincipals": sps,
    }
    return graph, assignments


# ---------------------------------------------------------------------------------------------
# files and summaries
# ---------------------------------------------------------------------------------------------


class TenantError(ValueError):
    pass


def normalize(data: Any, source: str = "tenant") -> dict[str, Any]:
    """Check a tenant's shape and fill optional parts; raises :class:`TenantError`."""
    if not isinstance(data, dict):
        raise TenantError(f"{source}: a tenant must be a JSON object")
    tenant = dict(data)
    tenant.setdefault("tenantId", TENANT_ID)
    tenant.setdefault("subscriptionId", SUBSCRIPTION_ID)
    tenant.setdefault("clientId", CLIENT_ID)
    for key in ("tenantId", "subscriptionId", "clientId"):
        if not isinstance(tenant[key], str) or not tenant[key]:
            raise TenantError(f"{source}: {key} must be a non-empty string")
    for key, kind in (("resources", list), ("children", dict), ("roleAssignments", list),
                      ("roleDefinitions", list), ("graph", dict)):
        tenant.setdefault(key, kind())
        if not isinstance(tenant[key], kind):
            raise TenantError(f"{source}: {key} must be a JSON {'array' if kind is list else 'object'}")
    seen: set[str] = set()
    for i, res in enumerate(tenant["resources"]):
        if not isinstance(res, dict) or not all(isinstance(res.get(k), str) and res.get(k) for k in ("id", "name", "type")):
            raise TenantError(f"{source}: resources[{i}] needs string id, name and type")
        rid = res["id"].lower().rstrip("/")
        if rid in seen:
            raise TenantError(f"{source}: duplicate resource id {res['id']}")
        seen.add(rid)
    graph = dict(tenant["graph"])
    for coll, items in graph.items():
        if not isinstance(items, list):
            raise TenantError(f"{source}: graph.{coll} must be a JSON array")
    for coll in GRAPH_COLLECTIONS:
        graph.setdefault(coll, [])
    tenant["graph"] = graph
    for key in ("roleAssignments", "roleDefinitions"):
        for i, item in enumerate(tenant[key]):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise TenantError(f"{source}: {key}[{i}] needs a string id")
    return tenant


def load_tenant(spec: str, now: datetime | None = None) -> tuple[str, dict[str, Any]]:
    """``demo`` | ``large:N`` | path to a tenant JSON file -> (display name, tenant)."""
    if spec == "demo":
        return "demo", demo_tenant(now)
    if spec.startswith("large:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            raise TenantError(f"bad tenant spec {spec!r}: expected large:N") from None
        return spec, large_tenant(n, now)
    if not os.path.isfile(spec):
        raise TenantError(f"tenant {spec!r} is neither 'demo', 'large:N' nor an existing JSON file")
    try:
        with open(spec, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise TenantError(f"{spec}: invalid JSON: {exc}") from None
    return os.path.basename(spec), normalize(data, spec)


def dump_tenant(tenant: dict[str, Any], path: str) -> None:
    """Write a tenant file (atomically) that ``--tenant PATH`` reads back unchanged."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(tenant, fh, indent=1)
        fh.write("\n")
    os.replace(tmp, path)


def summary(tenant: dict[str, Any]) -> dict[str, Any]:
    """Counts per ARM type, children, role data and Graph collections."""
    by_type = Counter(r["type"] for r in tenant["resources"])
    child_kinds: Counter[str] = Counter()
    for key in tenant["children"]:
        child_kinds[_child_kind(key)] += 1
    return {
        "tenantId": tenant["tenantId"],
        "subscriptionId": tenant["subscriptionId"],
        "resources": len(tenant["resources"]),
        "byType": dict(sorted(by_type.items())),
        "children": dict(sorted(child_kinds.items())),
        "roleAssignments": len(tenant["roleAssignments"]),
        "roleDefinitions": len(tenant["roleDefinitions"]),
        "graph": {k: len(v) for k, v in tenant["graph"].items()},
    }


def _child_kind(key: str) -> str:
    """``/subscriptions/s/resourceGroups/g/providers/NS/t/n/a/b`` -> ``NS/t/a/b`` (child path kept)."""
    parts = key.strip("/").split("/")
    try:
        idx = [p.lower() for p in parts].index("providers")
    except ValueError:
        return key
    tail = parts[idx + 1:]
    # namespace, then type/name pairs for the parent (first 3 elements), rest is the child path
    return "/".join([tail[0], tail[1]] + tail[3:])
