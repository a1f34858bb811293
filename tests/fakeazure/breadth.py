"""Demo-tenant data for the rule families of issue 17 (Cosmos DB, Defender for Cloud settings,
Entra ID policies, ...), kept apart from ``tenants.py`` so that it merges easily: ``demo_tenant``
calls :func:`plant_demo` once, after its own resources exist.

Each builder plants a violating and a compliant case of each rule it serves (subscription-wide
settings: the violating case; the compliant one is unit-tested until the demo has several
subscriptions), in the REST shape and api-version Azure documents.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

COSMOS_TYPE = "Microsoft.DocumentDB/databaseAccounts"

# name -> (public network access, IP rules, private endpoint, local auth disabled, CMK, backup type)
COSMOS_CASES: list[tuple[str, dict[str, Any]]] = [
    # COSMOS-001..005 violating: open to all networks, keys accepted, service-managed key, periodic backup
    ("cosmos-open-01", {"public": "Enabled", "ip_rules": [], "private_endpoint": False, "local_auth_off": False,
                        "cmk": False, "backup": "Periodic"}),
    # COSMOS-001 compliant (firewalled; the Azure-datacenters entry does not count by itself), 002 violating
    ("cosmos-firewalled-01", {"public": "Enabled", "ip_rules": ["0.0.0.0", "198.51.100.0/24"],
                              "private_endpoint": False, "local_auth_off": True, "cmk": False, "backup": "Continuous"}),
    # COSMOS-001 violating: only the Azure-datacenters entry
    ("cosmos-azure-dc-only-01", {"public": "Enabled", "ip_rules": ["0.0.0.0"], "private_endpoint": False,
                                 "local_auth_off": False, "cmk": False, "backup": "Periodic"}),
    # compliant everywhere
    ("cosmos-private-01", {"public": "Disabled", "ip_rules": [], "private_endpoint": True, "local_auth_off": True,
                           "cmk": True, "backup": "Continuous"}),
]


def cosmos_account(arm: Any, rg: str, name: str, location: str, *, public: str, ip_rules: list[str],
                   private_endpoint: bool, local_auth_off: bool, cmk: bool, backup: str) -> dict[str, Any]:
    """A Cosmos DB (NoSQL) account as ``GET .../databaseAccounts/{name}?api-version=2024-08-15``
    returns it."""
    aid = arm.rid(rg, COSMOS_TYPE, name)
    props: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "documentEndpoint": f"https://{name}.documents.azure.com:443/",
        "databaseAccountOfferType": "Standard",
        "consistencyPolicy": {"defaultConsistencyLevel": "Session", "maxIntervalInSeconds": 5,
                              "maxStalenessPrefix": 100},
        "locations": [{"locationName": location, "failoverPriority": 0, "isZoneRedundant": False}],
        "publicNetworkAccess": public,
        "ipRules": [{"ipAddressOrRange": r} for r in ip_rules],
        "isVirtualNetworkFilterEnabled": False,
        "virtualNetworkRules": [],
        "disableLocalAuth": local_auth_off,
        "disableKeyBasedMetadataWriteAccess": local_auth_off,
        "minimalTlsVersion": "Tls12",
        "privateEndpointConnections": [{
            "id": f"{aid}/privateEndpointConnections/pe-{name}",
            "name": f"pe-{name}",
            "properties": {
                "privateEndpoint": {"id": arm.rid(rg, "Microsoft.Network/privateEndpoints", f"pe-{name}")},
                "groupId": "Sql",
                "privateLinkServiceConnectionState": {"status": "Approved", "actionsRequired": "None"},
                "provisioningState": "Succeeded",
            },
        }] if private_endpoint else [],
        "backupPolicy": ({"type": "Continuous", "continuousModeProperties": {"tier": "Continuous7Days"}}
                         if backup == "Continuous" else
                         {"type": "Periodic", "periodicModeProperties": {
                             "backupIntervalInMinutes": 240, "backupRetentionIntervalInHours": 8,
                             "backupStorageRedundancy": "Geo"}}),
    }
    if cmk:
        props["keyVaultKeyUri"] = "https://kv-secure-01.vault.azure.net/keys/key-cmk"
    return arm.add(rg, COSMOS_TYPE, name, location, props, kind="GlobalDocumentDB")


SQL_FIREWALL_WRITE = "Microsoft.Sql/servers/firewallRules/write"
PUBLIC_IP_WRITE = "Microsoft.Network/publicIPAddresses/write"
_ADMINISTRATIVE = {"field": "category", "equals": "Administrative"}


def plant_alerts(arm: Any) -> None:
    """Activity log alerts for AZ-MON-007..009, each leaving its rule violated on the demo
    subscription: SQL firewall rule writes but not deletes; public IP writes on one resource
    group only; a service health alert that is disabled."""
    arm.activity_log_alert("rg-prod", "alert-sql-firewall-write",
                           [_ADMINISTRATIVE, {"field": "operationName", "equals": SQL_FIREWALL_WRITE}])
    arm.activity_log_alert("rg-prod", "alert-public-ip-write-rg-prod", [
        _ADMINISTRATIVE, {"field": "operationName", "equals": PUBLIC_IP_WRITE}], scope=arm.rg_id("rg-prod"))
    arm.activity_log_alert("rg-prod", "alert-service-health-disabled", [
        {"field": "category", "equals": "ServiceHealth"},
        {"anyOf": [{"field": "properties.incidentType", "equals": "Incident"},
                   {"field": "properties.incidentType", "equals": "Security"}]}], enabled=False)


def security_contact(sub: str, *, emails: str, phone: str, roles: list[str],
                     sources: list[dict[str, str]]) -> dict[str, Any]:
    """The ``default`` security contact as api-version 2023-12-01-preview lists it (Microsoft
    Learn, "Microsoft.Security securityContacts 2023-12-01-preview" template reference)."""
    return {"id": f"/subscriptions/{sub}/providers/Microsoft.Security/securityContacts/default", "name": "default",
            "type": "Microsoft.Security/securityContacts",
            "properties": {"emails": emails, "phone": phone, "isEnabled": True,
                           "notificationsByRole": {"state": "On", "roles": roles},
                           "notificationsSources": sources}}


def plant_defender_settings(arm: Any) -> None:
    """Defender for Cloud settings (AZ-DEF-001..007, 012) as their subscription-scope collections
    return them, each violating on the demo subscription: the contact has no email or phone,
    no alert or attack-path notification source and does not email Owners; auto-provisioning
    Off; MCAS disabled, WDATP absent. The contact is in the api-version 2023-12-01-preview
    shape (``isEnabled``, ``notificationsSources``)."""
    base = f"/subscriptions/{arm.sub}/providers/Microsoft.Security"
    arm.subscription_read("Microsoft.Security/securityContacts", [
        security_contact(arm.sub, emails="", phone="", roles=["AccountAdmin"], sources=[])])
    arm.subscription_read("Microsoft.Security/autoProvisioningSettings", [{
        "id": f"{base}/autoProvisioningSettings/default", "name": "default",
        "type": "Microsoft.Security/autoProvisioningSettings", "properties": {"autoProvision": "Off"},
    }])
    arm.subscription_read("Microsoft.Security/settings", [{
        "id": f"{base}/settings/MCAS", "name": "MCAS", "type": "Microsoft.Security/settings",
        "kind": "DataExportSettings", "properties": {"enabled": False},
    }, {
        "id": f"{base}/settings/Sentinel", "name": "Sentinel", "type": "Microsoft.Security/settings",
        "kind": "AlertSyncSettings", "properties": {"enabled": True},
    }])


MCSB_INITIATIVE_ID = "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"


def default_policy_assignment(arm: Any, parameters: dict[str, str], mode: str = "Default") -> None:
    """Defender for Cloud's ``SecurityCenterBuiltIn`` assignment of the Microsoft cloud security
    benchmark initiative (AZ-DEF-008) as ``GET /subscriptions/{id}/providers/
    Microsoft.Authorization/policyAssignments`` (2022-06-01) lists it; ``parameters`` only the
    ones changed from the initiative's defaults, as Azure stores them."""
    scope = f"/subscriptions/{arm.sub}"
    arm.subscription_read("Microsoft.Authorization/policyAssignments", [{
        "id": f"{scope}/providers/Microsoft.Authorization/policyAssignments/SecurityCenterBuiltIn",
        "type": "Microsoft.Authorization/policyAssignments", "name": "SecurityCenterBuiltIn",
        "properties": {
            "displayName": f"ASC Default (subscription: {arm.sub})", "policyDefinitionId": MCSB_INITIATIVE_ID,
            "scope": scope, "notScopes": [], "enforcementMode": mode,
            "parameters": {name: {"value": value} for name, value in parameters.items()},
            "metadata": {"assignedBy": "Security Center", "createdOn": "2023-03-01T09:00:00.0000000Z"},
        },
    }])


def plant_demo(arm: Any, now: datetime) -> None:
    """Every issue-17 case of the demo tenant."""
    for name, kw in COSMOS_CASES:
        cosmos_account(arm, "rg-data", name, "northeurope", **kw)
    plant_alerts(arm)
    plant_defender_settings(arm)
    # AZ-DEF-008 violating: two effects turned off (the nearly clean subscription complies)
    default_policy_assignment(arm, {"systemUpdatesMonitoringEffect": "Disabled",
                                    "endpointProtectionMonitoringEffect": "Disabled",
                                    "diskEncryptionMonitoringEffect": "AuditIfNotExists"})
    plant_server_parameters(arm)
    plant_sql_security(arm)
    plant_file_services(arm)
    plant_messaging_and_ai(arm)
    plant_failed_bastion(arm)
    plant_workspaces_and_components(arm)
    plant_vaults_and_container_apps(arm)
    plant_databricks(arm)


def _large_cosmos(arm: Any, rg: str, loc: str, i: int, v: int, plans: list[str]) -> None:
    name, kw = COSMOS_CASES[v % len(COSMOS_CASES)]
    cosmos_account(arm, rg, f"cosmos-{i:07d}", loc, **kw)


# resource builders ``large:N`` cycles through with the rule types of tenants.py
LARGE_BUILDERS = (_large_cosmos,)


# Entra ID tenant-wide policies (AZ-IAM-013..020), as Graph v1.0 returns them
AZURE_MANAGEMENT_APP = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"


def plant_graph(graph: dict[str, Any], *, extra_global_admins: int = 3) -> None:
    """The demo tenant's policies, each leaving its rule violated (one tenant, one verdict; the
    compliant shapes are unit-tested): users may consent to any app, register apps, create
    groups and tenants, invite guests; guests see the directory like members; security defaults
    off; Conditional Access requires MFA for admins only in report-only mode and protects Azure
    management with a compliant device rather than MFA. ``extra_global_admins`` enabled members
    join the Global Administrator role, above the four AZ-IAM-021 allows. Users may create
    Microsoft 365 groups (AZ-IAM-023)."""
    admins = next((r for r in graph.get("directoryRoles", []) if r.get("roleTemplateId") == GLOBAL_ADMIN_TEMPLATE), None)
    if admins is not None:
        present = {m["id"] for m in admins["members"]}
        extra = [u for u in graph.get("users", []) if u.get("userType") == "Member" and u.get("accountEnabled")
                 and u["id"] not in present][:extra_global_admins]
        admins["members"] += [{"@odata.type": "#microsoft.graph.user", "id": u["id"], "displayName": u["displayName"],
                               "userPrincipalName": u["userPrincipalName"]} for u in extra]
    graph["authorizationPolicy"] = [{
        "id": "authorizationPolicy",
        "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.",
        "allowInvitesFrom": "everyone",
        "allowedToSignUpEmailBasedSubscriptions": True,
        "allowedToUseSSPR": True,
        "allowEmailVerifiedUsersToJoinOrganization": False,
        "blockMsolPowerShell": False,
        "guestUserRoleId": "a0b1b346-4d3e-4e8b-98f8-753987be4970",
        "defaultUserRolePermissions": {
            "allowedToCreateApps": True,
            "allowedToCreateSecurityGroups": True,
            "allowedToCreateTenants": True,
            "allowedToReadBitlockerKeysForOwnedDevice": True,
            "allowedToReadOtherUsers": True,
            "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"],
        },
    }]
    graph["securityDefaults"] = [{
        "id": "00000000-0000-0000-0000-000000000005",
        "displayName": "Security Defaults",
        "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft.",
        "isEnabled": False,
    }]
    graph["conditionalAccessPolicies"] = [
        _ca_policy("ca-mfa-admins-report-only", "enabledForReportingButNotEnforced",
                   {"includeRoles": [GLOBAL_ADMIN_TEMPLATE]}, ["All"], ["mfa"]),
        _ca_policy("ca-azure-management-compliant-device", "enabled",
                   {"includeUsers": ["All"]}, [AZURE_MANAGEMENT_APP], ["compliantDevice"]),
    ]
    # AZ-IAM-023: a Group.Unified object exists (for a usage guideline) but leaves M365 group
    # creation on ("List settings", GET /groupSettings, v1.0; values are strings)
    graph["groupSettings"] = [{
        "id": "1d7a1a3e-5b0c-4b7e-9a5e-2c8f0b6d4e11", "displayName": "Group.Unified",
        "templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
        "values": [{"name": n, "value": v} for n, v in (
            ("EnableMIPLabels", "false"), ("CustomBlockedWordsList", ""), ("EnableMSStandardBlockedWords", "false"),
            ("ClassificationDescriptions", ""), ("DefaultClassification", ""), ("PrefixSuffixNamingRequirement", ""),
            ("AllowGuestsToBeGroupOwner", "false"), ("AllowGuestsToAccessGroups", "true"),
            ("GuestUsageGuidelinesUrl", ""), ("GroupCreationAllowedGroupId", ""), ("AllowToAddGuests", "true"),
            ("UsageGuidelinesUrl", "https://contoso.example/groups-policy"), ("ClassificationList", ""),
            ("EnableGroupCreation", "true"))],
    }]


def _ca_policy(name: str, state: str, users: dict[str, list[str]], apps: list[str],
               controls: list[str]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ca:{name}")),
        "displayName": name,
        "createdDateTime": "2023-03-01T09:00:00Z",
        "modifiedDateTime": None,
        "state": state,
        "conditions": {
            "clientAppTypes": ["all"],
            "applications": {"includeApplications": apps, "excludeApplications": []},
            "users": {"includeUsers": [], "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
                      "includeRoles": [], "excludeRoles": [], **users},
        },
        "grantControls": {"operator": "OR", "builtInControls": controls, "customAuthenticationFactors": [],
                          "termsOfUse": [], "authenticationStrength": None},
        "sessionControls": None,
    }


def plant_assignments(assignments: list[dict[str, Any]], sub: str, graph: dict[str, Any]) -> None:
    """A User Access Administrator assignment limited to one resource group (AZ-IAM-022
    compliant; the demo's subscription-wide one violates)."""
    from tests.fakeazure import tenants as T

    grace = next(u for u in graph["users"] if u["userPrincipalName"].startswith("grace.appadmin@"))
    assignments.append(T._assignment(sub, "uaa-rg-dev", f"/subscriptions/{sub}/resourceGroups/rg-dev",
                                     T.USER_ACCESS_ADMIN, grace["id"], "User"))


# Server parameters of flexible servers, served as each server's ``configurations`` list (a
# paged ARM collection, "Configurations - List By Server"); the defaults Azure reports, with the
# demo's violating cases overriding some (AZ-PG-005..009, AZ-MYSQL-004..006)
PG_TYPE = "Microsoft.DBforPostgreSQL/flexibleServers"
MYSQL_TYPE = "Microsoft.DBforMySQL/flexibleServers"
PG_DEFAULTS = {"log_checkpoints": "on", "log_connections": "on", "log_disconnections": "on",
               "connection_throttle.enable": "on", "logfiles.retention_days": "7", "require_secure_transport": "on"}
MYSQL_DEFAULTS = {"tls_version": "TLSv1.2,TLSv1.3", "audit_log_enabled": "ON",
                  "audit_log_events": "CONNECTION,ADMIN,DDL", "require_secure_transport": "ON"}
# server name (demo) or index modulo the list (large:N) -> overrides
PG_PARAMETER_CASES: list[dict[str, str]] = [
    {"log_checkpoints": "off", "log_connections": "off", "log_disconnections": "off",
     "connection_throttle.enable": "off", "logfiles.retention_days": "3"},
    {}, {}, {"logfiles.retention_days": "1"},
]
MYSQL_PARAMETER_CASES: list[dict[str, str]] = [
    {"tls_version": "TLSv1,TLSv1.1,TLSv1.2", "audit_log_enabled": "OFF"},
    {}, {"audit_log_events": "ADMIN,DDL"},
]


def _configurations(server: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    ctype = f"{server['type']}/configurations"
    return [{
        "id": f"{server['id']}/configurations/{name}",
        "name": name,
        "type": ctype,
        "properties": {"value": value, "defaultValue": value, "dataType": "String",
                       "source": "system-default", "isReadOnly": False, "isConfigPendingRestart": False},
    } for name, value in sorted(values.items())]


def plant_server_parameters(arm: Any) -> None:
    """Every PostgreSQL and MySQL flexible server gets its ``configurations`` list, cycling the
    parameter cases (in build order). ``require_secure_transport`` is the very object the
    single-parameter child already is (Azure's list holds each parameter as its GET answers it:
    "Configurations - List By Server"), so both reads agree; absent there, absent here."""
    counters = {PG_TYPE: 0, MYSQL_TYPE: 0}
    for res in arm.resources:
        if res["type"] not in counters:
            continue
        pg = res["type"] == PG_TYPE
        cases = PG_PARAMETER_CASES if pg else MYSQL_PARAMETER_CASES
        values = {**(PG_DEFAULTS if pg else MYSQL_DEFAULTS), **cases[counters[res["type"]] % len(cases)]}
        counters[res["type"]] += 1
        single = arm.children.get(f"{res['id']}/configurations/require_secure_transport")
        values.pop("require_secure_transport", None)
        items = _configurations(res, values)
        if single is not None:
            items = sorted([*items, single], key=lambda item: item["name"])
        arm.child(res, "configurations", items)


# SQL server vulnerability assessment (classic, ``vulnerabilityAssessments/default``) and TDE
# protector (``encryptionProtector/current``) per server, cycled in build order (AZ-SQL-010..014):
# (storage container set, recurring scans, email admins, report recipients, customer-managed key)
SQL_SECURITY_CASES: list[tuple[bool, bool, bool, list[str], bool]] = [
    (False, False, True, [], False),                            # SQL-010, 014 violating
    (True, True, True, ["secops@contoso.example"], True),       # all compliant
    (True, False, False, [], False),                            # SQL-011, 012, 013, 014 violating
]
SQL_TYPE = "Microsoft.Sql/servers"


def plant_sql_security(arm: Any) -> None:
    """Every SQL server's VA settings and TDE protector, as Azure returns them. A server whose VA
    was never configured still answers the GET, with no ``storageContainerPath``."""
    index = 0
    for res in arm.resources:
        if res["type"] != SQL_TYPE:
            continue
        va, recurring, admins, emails, cmk = SQL_SECURITY_CASES[index % len(SQL_SECURITY_CASES)]
        index += 1
        va_props: dict[str, Any] = {"recurringScans": {"isEnabled": recurring, "emailSubscriptionAdmins": admins,
                                                       "emails": emails}}
        if va:
            va_props["storageContainerPath"] = "https://stvulnassess01.blob.core.windows.net/vulnerability-assessment/"
        arm.child(res, "vulnerabilityAssessments/default", {
            "id": f"{res['id']}/vulnerabilityAssessments/default", "name": "default",
            "type": "Microsoft.Sql/servers/vulnerabilityAssessments", "properties": va_props})
        key_name = "kv-secure-01_key-sql-tde_0123456789abcdef0123456789abcdef" if cmk else "ServiceManaged"
        protector: dict[str, Any] = {"serverKeyName": key_name,
                                     "serverKeyType": "AzureKeyVault" if cmk else "ServiceManaged",
                                     "autoRotationEnabled": cmk}
        if cmk:
            protector["uri"] = "https://kv-secure-01.vault.azure.net/keys/key-sql-tde/0123456789abcdef0123456789abcdef"
        arm.child(res, "encryptionProtector/current", {
            "id": f"{res['id']}/encryptionProtector/current", "name": "current",
            "type": "Microsoft.Sql/servers/encryptionProtector",
            "kind": "azurekeyvault" if cmk else "servicemanaged", "location": res["location"],
            "properties": protector})


# Azure Files service properties per StorageV2 account (AZ-STOR-017), cycled in build order:
# share soft delete on (14 days), off, absent (off)
FILE_SHARE_SOFT_DELETE_CASES: list[bool | None] = [True, False, None]
STORAGE_TYPE = "Microsoft.Storage/storageAccounts"


def plant_file_services(arm: Any) -> None:
    """``fileServices/default`` of every account that can hold file shares, as "File Services -
    Get Service Properties" returns it; ``shareDeleteRetentionPolicy`` is left out in the
    absent case, as Azure does for accounts that never set it."""
    index = 0
    for res in arm.resources:
        if res["type"] != STORAGE_TYPE or str(res.get("kind", "")).lower() in ("blockblobstorage", "blobstorage"):
            continue
        case = FILE_SHARE_SOFT_DELETE_CASES[index % len(FILE_SHARE_SOFT_DELETE_CASES)]
        index += 1
        properties: dict[str, Any] = {"cors": {"corsRules": []},
                                      "protocolSettings": {"smb": {"multichannel": {"enabled": False}}}}
        if case is not None:
            properties["shareDeleteRetentionPolicy"] = {"enabled": case, **({"days": 14} if case else {})}
        arm.child(res, "fileServices/default", {
            "id": f"{res['id']}/fileServices/default", "name": "default",
            "type": "Microsoft.Storage/storageAccounts/fileServices", "sku": res.get("sku"),
            "properties": properties})


EVENT_HUB_TYPE = "Microsoft.EventHub/namespaces"
SERVICE_BUS_TYPE = "Microsoft.ServiceBus/namespaces"
COGNITIVE_TYPE = "Microsoft.CognitiveServices/accounts"
_CREATED = "2023-03-01T09:00:00Z"


def messaging_namespace(arm: Any, rtype: str, rg: str, name: str, location: str, *, public: str,
                        local_auth_off: bool) -> dict[str, Any]:
    """An Event Hubs (2024-01-01) or Service Bus (2022-10-01-preview) namespace as its GET
    returns it."""
    props: dict[str, Any] = {
        "minimumTlsVersion": "1.2", "publicNetworkAccess": public, "disableLocalAuth": local_auth_off,
        "zoneRedundant": False, "provisioningState": "Succeeded", "status": "Active",
        "createdAt": _CREATED, "updatedAt": _CREATED,
        "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/", "metricId": f"{arm.sub}:{name}",
        "privateEndpointConnections": [],
    }
    if rtype == EVENT_HUB_TYPE:
        props.update({"isAutoInflateEnabled": False, "maximumThroughputUnits": 0, "kafkaEnabled": True})
    return arm.add(rg, rtype, name, location, props, sku={"name": "Standard", "tier": "Standard", "capacity": 1})


def ai_account(arm: Any, rg: str, name: str, location: str, *, kind: str, public: str, default_action: str,
               local_auth_off: bool, cmk: bool) -> dict[str, Any]:
    """An AI services account as ``GET .../Microsoft.CognitiveServices/accounts/{name}``
    (2024-10-01) returns it."""
    props: dict[str, Any] = {
        "endpoint": f"https://{name}.cognitiveservices.azure.com/", "customSubDomainName": name,
        "provisioningState": "Succeeded", "publicNetworkAccess": public,
        "networkAcls": {"defaultAction": default_action, "virtualNetworkRules": [],
                        "ipRules": [] if default_action == "Allow" else [{"value": "203.0.113.0/24"}]},
        "disableLocalAuth": local_auth_off, "privateEndpointConnections": [],
        "encryption": ({"keySource": "Microsoft.KeyVault", "keyVaultProperties": {
            "keyName": "key-ai-cmk", "keyVersion": "", "keyVaultUri": "https://kv-secure-01.vault.azure.net/"}}
            if cmk else {"keySource": "Microsoft.CognitiveServices"}),
    }
    return arm.add(rg, COGNITIVE_TYPE, name, location, props, sku={"name": "S0"}, kind=kind)


def plant_messaging_and_ai(arm: Any) -> None:
    """AZ-MSG-001..004 and AZ-AI-001..003: a violating and a compliant resource of each type."""
    for rtype, prefix in ((EVENT_HUB_TYPE, "evhns"), (SERVICE_BUS_TYPE, "sbns")):
        messaging_namespace(arm, rtype, "rg-prod", f"{prefix}-public-keys-01", "westeurope",
                            public="Enabled", local_auth_off=False)                      # violating
        messaging_namespace(arm, rtype, "rg-prod", f"{prefix}-private-entra-01", "westeurope",
                            public="Disabled", local_auth_off=True)                      # compliant
    ai_account(arm, "rg-prod", "oai-open-keys-01", "westeurope", kind="OpenAI", public="Enabled",
               default_action="Allow", local_auth_off=False, cmk=False)                  # AI-001..003 violating
    ai_account(arm, "rg-prod", "ais-locked-cmk-01", "westeurope", kind="AIServices", public="Enabled",
               default_action="Deny", local_auth_off=True, cmk=True)                     # AI-001..003 compliant


BASTION_TYPE = "Microsoft.Network/bastionHosts"


def plant_failed_bastion(arm: Any) -> None:
    """A Bastion host in vnet-data's ``AzureBastionSubnet`` whose deployment failed
    (``provisioningState`` Failed), as "Bastion Hosts - Get" (2024-05-01) returns it: the
    subscription has VMs and no working Bastion, so AZ-NET-012 is violated."""
    rg, name = "rg-data", "bas-vnet-data-01"
    bid = arm.rid(rg, BASTION_TYPE, name)
    subnet = arm.rid(rg, "Microsoft.Network/virtualNetworks", "vnet-data") + "/subnets/AzureBastionSubnet"
    arm.add(rg, BASTION_TYPE, name, "northeurope", {
        "provisioningState": "Failed",
        "dnsName": "bst-3f6c1d2e-5a7b-4c8d-9e0f-1a2b3c4d5e6f.bastion.azure.com",
        "scaleUnits": 2, "disableCopyPaste": False, "enableFileCopy": False, "enableIpConnect": False,
        "enableShareableLink": False, "enableTunneling": False, "enableKerberos": False,
        "ipConfigurations": [{
            "id": f"{bid}/bastionHostIpConfigurations/IpConf", "name": "IpConf",
            "type": "Microsoft.Network/bastionHosts/bastionHostIpConfigurations",
            "properties": {"provisioningState": "Failed", "privateIPAllocationMethod": "Dynamic",
                           "publicIPAddress": {"id": arm.rid(rg, "Microsoft.Network/publicIPAddresses", f"pip-{name}")},
                           "subnet": {"id": subnet}},
        }],
    }, sku={"name": "Basic"})


WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces"
COMPONENT_TYPE = "Microsoft.Insights/components"


def log_analytics_workspace(arm: Any, rg: str, name: str, location: str, *, public: str,
                            local_auth_off: bool) -> dict[str, Any]:
    """A workspace as ``GET .../Microsoft.OperationalInsights/workspaces/{name}`` (2023-09-01)."""
    return arm.add(rg, WORKSPACE_TYPE, name, location, {
        "customerId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"law:{name}")),
        "provisioningState": "Succeeded", "sku": {"name": "PerGB2018", "lastSkuUpdate": _CREATED},
        "retentionInDays": 90, "workspaceCapping": {"dailyQuotaGb": -1.0, "dataIngestionStatus": "RespectQuota"},
        "publicNetworkAccessForIngestion": public, "publicNetworkAccessForQuery": public,
        "features": {"legacy": 0, "searchVersion": 1, "enableLogAccessUsingOnlyResourcePermissions": True,
                     "disableLocalAuth": local_auth_off},
        "createdDate": _CREATED, "modifiedDate": _CREATED,
    })


def app_insights(arm: Any, rg: str, name: str, location: str, *, workspace_id: str, public: str,
                 local_auth_off: bool) -> dict[str, Any]:
    """A workspace-based component as ``GET .../Microsoft.Insights/components/{name}``
    (2020-02-02); note the schema's ``DisableLocalAuth`` spelling."""
    app_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"appi:{name}"))
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ikey:{name}"))
    return arm.add(rg, COMPONENT_TYPE, name, location, {
        "ApplicationId": name, "AppId": app_id, "Application_Type": "web", "Flow_Type": "Bluefield",
        "Request_Source": "rest", "InstrumentationKey": key,
        "ConnectionString": f"InstrumentationKey={key};IngestionEndpoint=https://{location}-5.in.applicationinsights.azure.com/",
        "CreationDate": _CREATED, "TenantId": arm.sub, "provisioningState": "Succeeded",
        "WorkspaceResourceId": workspace_id, "IngestionMode": "LogAnalytics",
        "publicNetworkAccessForIngestion": public, "publicNetworkAccessForQuery": public,
        "DisableLocalAuth": local_auth_off,
    }, kind="web")


def plant_workspaces_and_components(arm: Any) -> None:
    """AZ-MON-010..013: the ``law-security`` workspace that the demo's diagnostic settings and
    flow logs already name, locked down (compliant), an open one (violating), and an
    Application Insights component on each."""
    secure = log_analytics_workspace(arm, "rg-prod", "law-security", "westeurope", public="Disabled",
                                     local_auth_off=True)
    open_ws = log_analytics_workspace(arm, "rg-prod", "law-open-01", "westeurope", public="Enabled",
                                      local_auth_off=False)
    app_insights(arm, "rg-prod", "appi-private-01", "westeurope", workspace_id=secure["id"], public="Disabled",
                 local_auth_off=True)
    app_insights(arm, "rg-prod", "appi-open-keys-01", "westeurope", workspace_id=open_ws["id"], public="Enabled",
                 local_auth_off=False)


RSV_TYPE = "Microsoft.RecoveryServices/vaults"
CONTAINER_APP_TYPE = "Microsoft.App/containerApps"


def recovery_vault(arm: Any, rg: str, name: str, location: str, *, soft_delete: str, immutability: str,
                   public: str) -> dict[str, Any]:
    """A vault as ``GET .../Microsoft.RecoveryServices/vaults/{name}`` (2024-04-01) returns it."""
    return arm.add(rg, RSV_TYPE, name, location, {
        "provisioningState": "Succeeded", "privateEndpointStateForBackup": "None",
        "privateEndpointStateForSiteRecovery": "None", "publicNetworkAccess": public,
        "securitySettings": {
            "immutabilitySettings": {"state": immutability},
            "softDeleteSettings": {"softDeleteState": soft_delete, "softDeleteRetentionPeriodInDays": 14,
                                   "enhancedSecurityState": "Enabled"},
            "multiUserAuthorization": "Disabled",
        },
        "redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant", "crossRegionRestore": "Disabled"},
        "secureScore": "Minimum", "backupStorageVersion": "V2",
    }, sku={"name": "RS0", "tier": "Standard"})


def container_app(arm: Any, rg: str, name: str, location: str, *, insecure: bool,
                  allowed: list[str], registry_password: bool) -> dict[str, Any]:
    """A container app with external ingress as ``GET .../Microsoft.App/containerApps/{name}``
    (2024-03-01) returns it."""
    env = arm.rid(rg, "Microsoft.App/managedEnvironments", "cae-prod-01")
    return arm.add(rg, CONTAINER_APP_TYPE, name, location, {
        "provisioningState": "Succeeded", "runningStatus": "Running",
        "managedEnvironmentId": env, "environmentId": env, "workloadProfileName": "Consumption",
        "latestRevisionName": f"{name}--r1", "latestReadyRevisionName": f"{name}--r1",
        "configuration": {
            "secrets": [{"name": "acr-password"}] if registry_password else [],
            "activeRevisionsMode": "Single", "maxInactiveRevisions": 100,
            "registries": [{"server": "acrprod01.azurecr.io", "username": "acrprod01" if registry_password else "",
                            "passwordSecretRef": "acr-password" if registry_password else "",
                            "identity": "" if registry_password else "system"}],
            "ingress": {
                "fqdn": f"{name}.kindforest-12ab34cd.{location}.azurecontainerapps.io", "external": True,
                "targetPort": 8080, "exposedPort": 0, "transport": "Auto",
                "traffic": [{"weight": 100, "latestRevision": True}], "allowInsecure": insecure,
                "ipSecurityRestrictions": [{"name": f"allow-{i}", "ipAddressRange": cidr, "action": "Allow"}
                                           for i, cidr in enumerate(allowed)] or None,
                "clientCertificateMode": "Ignore", "stickySessions": {"affinity": "none"},
            },
        },
        "template": {"containers": [{"image": "mcr.microsoft.com/k8se/quickstart:latest", "name": name,
                                     "resources": {"cpu": 0.5, "memory": "1Gi"}}],
                     "scale": {"minReplicas": 0, "maxReplicas": 10}},
    })


def plant_vaults_and_container_apps(arm: Any) -> None:
    """AZ-RSV-001..003 and AZ-CAPP-001..003: a violating and a compliant resource of each type."""
    recovery_vault(arm, "rg-prod", "rsv-unprotected-01", "westeurope", soft_delete="Disabled",
                   immutability="Disabled", public="Enabled")                             # violating
    recovery_vault(arm, "rg-prod", "rsv-locked-01", "westeurope", soft_delete="AlwaysON",
                   immutability="Locked", public="Disabled")                              # compliant
    container_app(arm, "rg-prod", "ca-open-http-01", "westeurope", insecure=True, allowed=[],
                  registry_password=True)   # violating
    container_app(arm, "rg-prod", "ca-restricted-01", "westeurope", insecure=False,
                  allowed=["203.0.113.0/24"], registry_password=False)                                             # compliant


DATABRICKS_TYPE = "Microsoft.Databricks/workspaces"


def databricks_workspace(arm: Any, rg: str, name: str, location: str, *, public: str, no_public_ip: bool,
                         cmk: bool, vnet_id: str = "", subnets: tuple[str, str] = ("dbw-host", "dbw-container"),
                         private_endpoint: bool = False) -> dict[str, Any]:
    """A workspace as ``GET .../Microsoft.Databricks/workspaces/{name}`` (2024-05-01) returns it;
    ``vnet_id``: VNet injection (``customVirtualNetworkId`` and the two subnet names);
    ``private_endpoint``: one approved front-end private endpoint connection."""
    number = uuid.uuid5(uuid.NAMESPACE_URL, f"dbw:{name}").int % 10**16  # deterministic across processes
    props: dict[str, Any] = {
        "managedResourceGroupId": f"/subscriptions/{arm.sub}/resourceGroups/databricks-rg-{name}",
        "parameters": {"enableNoPublicIp": {"type": "Bool", "value": no_public_ip},
                       "prepareEncryption": {"type": "Bool", "value": False},
                       "requireInfrastructureEncryption": {"type": "Bool", "value": False}},
        "provisioningState": "Succeeded",
        "workspaceId": str(number),
        "workspaceUrl": f"adb-{number}.7.azuredatabricks.net",
        "publicNetworkAccess": public,
        "requiredNsgRules": "AllRules" if public == "Enabled" else "NoAzureDatabricksRules",
        "createdDateTime": _CREATED,
    }
    if vnet_id:
        props["parameters"].update({"customVirtualNetworkId": {"type": "String", "value": vnet_id},
                                    "customPublicSubnetName": {"type": "String", "value": subnets[0]},
                                    "customPrivateSubnetName": {"type": "String", "value": subnets[1]}})
    wid = arm.rid(rg, DATABRICKS_TYPE, name)
    props["privateEndpointConnections"] = [{
        "id": f"{wid}/privateEndpointConnections/pe-{name}-ui", "name": f"pe-{name}-ui",
        "type": "Microsoft.Databricks/workspaces/privateEndpointConnections",
        "properties": {"privateEndpoint": {"id": arm.rid(rg, "Microsoft.Network/privateEndpoints", f"pe-{name}-ui")},
                       "groupIds": ["databricks_ui_api"], "provisioningState": "Succeeded",
                       "privateLinkServiceConnectionState": {"status": "Approved", "description": "",
                                                             "actionsRequired": "None"}},
    }] if private_endpoint else []
    if cmk:
        props["encryption"] = {"entities": {"managedServices": {"keySource": "Microsoft.Keyvault", "keyVaultProperties": {
            "keyName": "key-dbw-cmk", "keyVersion": "0123456789abcdef0123456789abcdef",
            "keyVaultUri": "https://kv-secure-01.vault.azure.net/"}}}}
    return arm.add(rg, DATABRICKS_TYPE, name, location, props, sku={"name": "premium"})


def plant_databricks(arm: Any) -> None:
    """AZ-DBW-001..006: an open workspace (violating) and a locked-down one (compliant: VNet
    injection into vnet-data's NSG-protected subnets, a private endpoint); dbw-injected-01 is
    injected into vnet-prod's subnets without NSG (AZ-DBW-006 violating)."""
    databricks_workspace(arm, "rg-data", "dbw-open-01", "northeurope", public="Enabled", no_public_ip=False, cmk=False)
    databricks_workspace(arm, "rg-prod", "dbw-injected-01", "westeurope", public="Disabled", no_public_ip=True,
                         cmk=False, vnet_id=arm.rid("rg-prod", "Microsoft.Network/virtualNetworks", "vnet-prod"),
                         subnets=("dbw-public", "dbw-private"))
    databricks_workspace(arm, "rg-data", "dbw-private-01", "northeurope", public="Disabled", no_public_ip=True,
                         cmk=True, vnet_id=arm.rid("rg-data", "Microsoft.Network/virtualNetworks", "vnet-data"),
                         private_endpoint=True)
