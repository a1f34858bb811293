"""ARM api-versions the rules were written against, pinned per resource type.

Pinning (rather than asking the provider for its newest version) keeps property shapes stable:
a rule reading ``properties.networkAcls.defaultAction`` must not see a different schema because
Azure shipped a preview version. Types not listed fall back to the provider's newest stable
version (see ``ArmReader.api_version_for``).
"""

from __future__ import annotations

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
}

# Extension and subscription-scope reads (not resources of the listing).
DIAGNOSTIC_SETTINGS_API_VERSION = "2021-05-01-preview"  # resource and subscription diagnostic settings
SECURITY_PRICINGS_API_VERSION = "2024-01-01"  # Microsoft Defender for Cloud plans

AUTHORIZATION_API_VERSION = "2022-04-01"
