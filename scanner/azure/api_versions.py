"""Every ARM api-version a scan uses, pinned: per resource type, per child read under a type, and
per subscription-scope read. Rules only say *what* they read (``scanner.inventory.Needs``);
this module says which version of the REST shape that is, so the rule layer never depends on how
Azure is read.

Pinning (rather than asking the provider for its newest version) keeps property shapes stable:
a rule reading ``properties.networkAcls.defaultAction`` must not see a different schema because
Azure shipped a preview version. Resource types not listed fall back to the provider's newest
stable version (see ``ArmReader.api_version_for``); child and subscription-scope reads have no
such fallback: one without a pinned version makes the collector fail before its first request
(:func:`unpinned_reads`), and a test walks every rule's needs so that happens in CI, not in a scan.
"""

from __future__ import annotations

from typing import Iterable

from scanner.inventory import ChildSpec, Needs, SubscriptionRead, TenantRead

RESOURCE_API_VERSIONS: dict[str, str] = {
    "microsoft.storage/storageaccounts": "2023-05-01",
    "microsoft.network/networksecuritygroups": "2024-05-01",
    "microsoft.network/virtualnetworks": "2024-05-01",
    "microsoft.network/publicipaddresses": "2024-05-01",
    "microsoft.network/applicationgateways": "2024-05-01",
    "microsoft.compute/virtualmachines": "2024-07-01",
    "microsoft.compute/disks": "2024-03-02",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.sql/servers": "2021-11-01",
    "microsoft.sql/servers/databases": "2021-11-01",
    "microsoft.network/networkinterfaces": "2024-05-01",
    "microsoft.dbforpostgresql/flexibleservers": "2024-08-01",
    "microsoft.web/sites": "2023-12-01",
    "microsoft.containerservice/managedclusters": "2024-09-01",
    "microsoft.containerregistry/registries": "2023-07-01",
    "microsoft.dbformysql/flexibleservers": "2023-12-30",
    "microsoft.network/networkwatchers": "2024-05-01",
    "microsoft.insights/activitylogalerts": "2020-10-01",
    "microsoft.documentdb/databaseaccounts": "2024-08-15",
    "microsoft.eventhub/namespaces": "2024-01-01",
    "microsoft.network/bastionhosts": "2024-05-01",
    "microsoft.network/virtualnetworkgateways": "2024-05-01",  # read per gateway: no subscription list
    "microsoft.devices/iothubs": "2023-06-30",
    "microsoft.operationalinsights/workspaces": "2023-09-01",
    "microsoft.insights/components": "2020-02-02",
    "microsoft.recoveryservices/vaults": "2024-04-01",
    "microsoft.app/containerapps": "2024-03-01",
    "microsoft.databricks/workspaces": "2024-05-01",
    "microsoft.servicebus/namespaces": "2022-10-01-preview",
    "microsoft.cognitiveservices/accounts": "2024-10-01",
    "microsoft.network/applicationgatewaywebapplicationfirewallpolicies": "2024-05-01",
}

DIAGNOSTIC_SETTINGS_API_VERSION = "2021-05-01-preview"  # resource and subscription diagnostic settings
SECURITY_PRICINGS_API_VERSION = "2024-01-01"  # Microsoft Defender for Cloud plans
AUTHORIZATION_API_VERSION = "2022-04-01"

# (parent resource type, child path) -> api-version of ``GET {parent id}/{child path}``.
# Extension resources (``providers/Microsoft.Insights/...``) are children too.
CHILD_API_VERSIONS: dict[tuple[str, str], str] = {
    ("Microsoft.Storage/storageAccounts", "blobServices/default"): "2023-05-01",
    ("Microsoft.Storage/storageAccounts", "fileServices/default"): "2023-05-01",
    # read only under the activity log's destination accounts (DestinationRead)
    ("Microsoft.Storage/storageAccounts", "blobServices/default/containers"): "2023-05-01",
    ("Microsoft.Sql/servers", "firewallRules"): "2021-11-01",
    ("Microsoft.Sql/servers", "auditingSettings/default"): "2021-11-01",
    ("Microsoft.Sql/servers/databases", "transparentDataEncryption/current"): "2021-11-01",
    ("Microsoft.Sql/servers", "vulnerabilityAssessments/default"): "2021-11-01",
    ("Microsoft.Sql/servers", "encryptionProtector/current"): "2021-11-01",
    ("Microsoft.Sql/servers", "securityAlertPolicies/Default"): "2021-11-01",
    ("Microsoft.Sql/servers", "sqlVulnerabilityAssessments/default"): "2023-08-01",  # first GA version
    ("Microsoft.DBforPostgreSQL/flexibleServers", "configurations/require_secure_transport"): "2024-08-01",
    ("Microsoft.DBforPostgreSQL/flexibleServers", "firewallRules"): "2024-08-01",
    ("Microsoft.DBforPostgreSQL/flexibleServers", "configurations"): "2024-08-01",
    ("Microsoft.DBforMySQL/flexibleServers", "configurations"): "2023-12-30",
    ("Microsoft.DBforMySQL/flexibleServers", "configurations/require_secure_transport"): "2023-12-30",
    ("Microsoft.Web/sites", "config/web"): "2023-12-01",
    ("Microsoft.Web/sites", "config/authsettingsV2"): "2023-12-01",
    ("Microsoft.Compute/virtualMachines", "extensions"): "2024-07-01",
    ("Microsoft.KeyVault/vaults", "keys"): "2023-07-01",
    ("Microsoft.KeyVault/vaults", "secrets"): "2023-07-01",
    ("Microsoft.KeyVault/vaults", "providers/Microsoft.Insights/diagnosticSettings"): DIAGNOSTIC_SETTINGS_API_VERSION,
    ("Microsoft.Network/networkWatchers", "flowLogs"): "2024-05-01",
    ("Microsoft.Web/sites", "providers/Microsoft.Insights/diagnosticSettings"): DIAGNOSTIC_SETTINGS_API_VERSION,
    ("Microsoft.ContainerService/managedClusters", "providers/Microsoft.Insights/diagnosticSettings"):
        DIAGNOSTIC_SETTINGS_API_VERSION,
    ("Microsoft.Network/applicationGateways", "providers/Microsoft.Insights/diagnosticSettings"):
        DIAGNOSTIC_SETTINGS_API_VERSION,
    ("Microsoft.Databricks/workspaces", "providers/Microsoft.Insights/diagnosticSettings"):
        DIAGNOSTIC_SETTINGS_API_VERSION,
    ("Microsoft.RecoveryServices/vaults",
     "backupProtectedItems?$filter=backupManagementType%20eq%20%27AzureIaasVM%27"): "2024-04-01",
}

# subscription-scope path (relative to ``/subscriptions/{id}/``) -> api-version
SUBSCRIPTION_READ_API_VERSIONS: dict[str, str] = {
    "providers/Microsoft.Insights/diagnosticSettings": DIAGNOSTIC_SETTINGS_API_VERSION,
    "providers/Microsoft.Security/pricings": SECURITY_PRICINGS_API_VERSION,
    # 2023-12-01-preview: notificationsSources (Alert, AttackPath) replace alertNotifications
    "providers/Microsoft.Security/securityContacts": "2023-12-01-preview",
    "providers/Microsoft.Security/autoProvisioningSettings": "2017-08-01-preview",
    "providers/Microsoft.Security/settings": "2022-05-01",
    "providers/Microsoft.Authorization/policyAssignments": "2022-06-01",
    "providers/Microsoft.Authorization/locks": "2020-05-01",  # management locks, every scope
    "providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings": "2023-05-01",
    "providers/Microsoft.Security/iotSecuritySolutions": "2019-08-01",  # Defender for IoT hubs
}

# tenant-scope objects (TenantRead) and tenant-level collections (a SubscriptionRead whose path
# starts with ``/``), by ARM path from the root -> api-version
TENANT_READ_API_VERSIONS: dict[str, str] = {
    "/providers/Microsoft.Subscription/policies/default": "2021-10-01",
    "/providers/microsoft.aadiam/diagnosticSettings": "2017-04-01",  # Entra ID diagnostic settings
}

_CHILDREN = {(parent.lower(), path.lower()): version for (parent, path), version in CHILD_API_VERSIONS.items()}
_SUBSCRIPTION_READS = {path.lower(): version
                       for path, version in {**SUBSCRIPTION_READ_API_VERSIONS, **TENANT_READ_API_VERSIONS}.items()}


_TENANT_READS = {path.lower(): version for path, version in TENANT_READ_API_VERSIONS.items()}


class UnpinnedRead(LookupError):
    """A child or subscription-scope read that no api-version is pinned for."""


def child_api_version(spec: ChildSpec) -> str:
    """The pinned api-version of a child read (case-insensitive); :class:`UnpinnedRead` if none."""
    try:
        return _CHILDREN[(spec.parent_type.lower(), spec.path.lower())]
    except KeyError:
        raise UnpinnedRead(f"no api-version pinned for child {spec.path} of {spec.parent_type}") from None


def subscription_read_api_version(read: SubscriptionRead) -> str:
    """The pinned api-version of a subscription-scope read; :class:`UnpinnedRead` if none."""
    try:
        return _SUBSCRIPTION_READS[read.path.lower()]
    except KeyError:
        raise UnpinnedRead(f"no api-version pinned for subscription read {read.path}") from None


def tenant_read_api_version(read: TenantRead) -> str:
    """The pinned api-version of a tenant-scope read; :class:`UnpinnedRead` if none."""
    try:
        return _TENANT_READS[read.path.lower()]
    except KeyError:
        raise UnpinnedRead(f"no api-version pinned for tenant read {read.path}") from None


def unpinned_reads(needs: Needs | Iterable[Needs]) -> list[str]:
    """Why each child and subscription-scope read of ``needs`` has no pinned api-version (empty
    when all are pinned): collected before any request, so a missing entry fails the scan
    loudly instead of as a 400 per resource."""
    reasons: list[str] = []
    for need in [needs] if isinstance(needs, Needs) else list(needs):
        for spec in list(need.children) + [d.child for d in need.destination_reads]:
            try:
                child_api_version(spec)
            except UnpinnedRead as exc:
                reasons.append(str(exc))
        for read in need.subscription_reads:
            try:
                subscription_read_api_version(read)
            except UnpinnedRead as exc:
                reasons.append(str(exc))
        for tenant_read in need.tenant_reads:
            try:
                tenant_read_api_version(tenant_read)
            except UnpinnedRead as exc:
                reasons.append(str(exc))
    return sorted(set(reasons))
