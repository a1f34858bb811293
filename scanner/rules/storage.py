"""Storage account rules: anonymous access, authorization, transport, network exposure,
data protection (soft delete, versioning), encryption and redundancy.

Several properties are omitted from the REST answer when they still have their historic
default, so each rule states what an absent value means (taken from the spec): absent
``allowBlobPublicAccess`` and ``minimumTlsVersion`` mean the permissive old default, absent
``supportsHttpsTrafficOnly`` means HTTPS-only (the default since api-version 2019-04-01).
"""

from __future__ import annotations

from datetime import datetime, timezone

from scanner.inventory import ChildSpec, Inventory, Needs, SubscriptionRead, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import (
    Judgement,
    approved_private_endpoints,
    Resource,
    as_dict,
    child_of,
    flag,
    judge_each_resource,
    unread_child,
)

STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
BLOB_SERVICE = ChildSpec(STORAGE_TYPE, "blobServices/default")
FILE_SERVICE = ChildSpec(STORAGE_TYPE, "fileServices/default")

_NEEDS = Needs(resource_types=frozenset({STORAGE_TYPE}))
each_account = judge_each_resource(STORAGE_TYPE, "storage account")


@rule(
    id="AZ-STOR-001",
    title="Storage account allows anonymous blob access",
    severity="HIGH",
    category="storage",
    description=(
        "The account lets containers be made publicly readable without authentication. One "
        "container set to 'Blob' or 'Container' access level then exposes its data to anyone "
        "who guesses or finds the URL."
    ),
    remediation=(
        "Portal: Storage account > Configuration > 'Allow Blob anonymous access' = Disabled, or "
        "`az storage account update -g <rg> -n <account> --allow-blob-public-access false`."
    ),
    frameworks={"CIS": ["3.7"], "NIST": ["PR.AC-3", "PR.DS-5"], "ISO27001": ["A.8.3"]},
    needs=_NEEDS,
)
@each_account
def blob_public_access(inv: Inventory, account: Resource) -> Judgement:
    raw = props(account).get("allowBlobPublicAccess")
    value = flag(raw)
    metadata = {"allowBlobPublicAccess": raw}
    if value is False:
        return Judgement(True, "anonymous blob access is disallowed", metadata)
    if value is None:
        return Judgement(False, "allowBlobPublicAccess is not set (older accounts then allow anonymous access)",
                         metadata)
    return Judgement(False, "allowBlobPublicAccess is true", metadata)


@rule(
    id="AZ-STOR-002",
    title="Storage account accepts unencrypted HTTP requests",
    severity="HIGH",
    category="storage",
    description=(
        "'Secure transfer required' is off, so clients may talk to the account over plain HTTP "
        "(and SMB without encryption). Shared keys, SAS tokens and data then cross the network "
        "in clear text."
    ),
    remediation=(
        "Portal: Storage account > Configuration > 'Secure transfer required' = Enabled, or "
        "`az storage account update -g <rg> -n <account> --https-only true`."
    ),
    frameworks={"CIS": ["3.1"], "NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=_NEEDS,
)
@each_account
def https_only(inv: Inventory, account: Resource) -> Judgement:
    raw = props(account).get("supportsHttpsTrafficOnly")
    metadata = {"supportsHttpsTrafficOnly": raw}
    if flag(raw) is False:
        return Judgement(False, "supportsHttpsTrafficOnly is false", metadata)
    if raw is None:
        return Judgement(True, "secure transfer required (not reported; default since 2019)", metadata)
    return Judgement(True, "secure transfer required", metadata)


_WEAK_TLS = ("TLS1_0", "TLS1_1")


@rule(
    id="AZ-STOR-003",
    title="Storage account accepts TLS versions below 1.2",
    severity="MEDIUM",
    category="storage",
    description=(
        "The account's minimum TLS version allows TLS 1.0 or 1.1, deprecated protocols with "
        "known weaknesses that let a network attacker downgrade and attack client connections."
    ),
    remediation=(
        "Portal: Storage account > Configuration > 'Minimum TLS version' = Version 1.2, or "
        "`az storage account update -g <rg> -n <account> --min-tls-version TLS1_2` (check that "
        "no client still needs an older version first)."
    ),
    frameworks={"CIS": ["3.15"], "NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=_NEEDS,
)
@each_account
def minimum_tls(inv: Inventory, account: Resource) -> Judgement:
    raw = props(account).get("minimumTlsVersion")
    metadata = {"minimumTlsVersion": raw}
    if raw is None:
        return Judgement(False, "minimumTlsVersion is not set (defaults to TLS1_0)", metadata)
    if str(raw).strip().upper() in _WEAK_TLS:
        return Judgement(False, f"minimumTlsVersion is {raw}", metadata)
    return Judgement(True, f"minimumTlsVersion is {raw}", metadata)


@rule(
    id="AZ-STOR-004",
    title="Storage account accepts traffic from all networks",
    severity="MEDIUM",
    category="storage",
    description=(
        "The account firewall's default action is Allow, so its endpoints answer requests from "
        "any network on the Internet; a leaked key or SAS token can be used from anywhere."
    ),
    remediation=(
        "Add virtual-network or IP rules (or private endpoints) for legitimate clients, then set "
        "the default action to Deny: portal: Storage account > Networking > 'Enabled from "
        "selected virtual networks and IP addresses', or `az storage account update -g <rg> -n "
        "<account> --default-action Deny`."
    ),
    frameworks={"CIS": ["3.8"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_account
def network_default_action(inv: Inventory, account: Resource) -> Judgement:
    acls = props(account).get("networkAcls")
    raw = acls.get("defaultAction") if isinstance(acls, dict) else None
    metadata = {"defaultAction": raw}
    if str(props(account).get("publicNetworkAccess") or "").lower() == "disabled":
        # the network rules guard the public endpoint, which is switched off
        return Judgement(True, "public network access is disabled", {**metadata, "publicNetworkAccess": "Disabled"})
    if raw is None:
        return Judgement(False, "no network rules configured (default action Allow)", metadata)
    if str(raw).strip().lower() == "allow":
        return Judgement(False, "network default action is Allow", metadata)
    return Judgement(True, f"network default action is {raw}", metadata)


_SOFT_DELETE_POLICIES = (("blob", "deleteRetentionPolicy"), ("container", "containerDeleteRetentionPolicy"))


@rule(
    id="AZ-STOR-005",
    title="Blob or container soft delete is disabled",
    severity="MEDIUM",
    category="storage",
    description=(
        "Deleted or overwritten blobs (blob soft delete, ``deleteRetentionPolicy``) or deleted "
        "containers (container soft delete, ``containerDeleteRetentionPolicy``) cannot be "
        "recovered. An application bug, a mistaken script or an attacker with write access can "
        "destroy data permanently; deleting a container takes every blob in it at once, which "
        "blob soft delete alone does not undo. Both must be on; the finding says which is off."
    ),
    remediation=(
        "Portal: Storage account > Data protection > 'Enable soft delete for blobs' and 'Enable "
        "soft delete for containers', or `az storage account blob-service-properties update -g "
        "<rg> --account-name <account> --enable-delete-retention true --delete-retention-days 14 "
        "--enable-container-delete-retention true --container-delete-retention-days 14`."
    ),
    frameworks={"CIS": ["3.11"], "NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]},
    needs=Needs(resource_types=frozenset({STORAGE_TYPE}), children=(BLOB_SERVICE,)),
)
@each_account
def blob_soft_delete(inv: Inventory, account: Resource) -> Judgement:
    """An absent policy is off (both default to disabled)."""
    service = child_of(inv, BLOB_SERVICE, account)
    if not isinstance(service, dict):
        return unread_child(inv, BLOB_SERVICE, account, "blob service properties")
    metadata: dict[str, dict[str, object]] = {}
    on: list[str] = []
    off: list[str] = []
    for what, key in _SOFT_DELETE_POLICIES:
        policy = as_dict(props(service).get(key))
        metadata[what] = {"enabled": policy.get("enabled"), "days": policy.get("days")}
        if flag(policy.get("enabled")) is True:
            on.append(f"{what} soft delete enabled ({policy.get('days')} days)")
        else:
            off.append(f"{what} soft delete ({key})")
    if off:
        return Judgement(False, " and ".join(off) + (" is" if len(off) == 1 else " are") + " not enabled", metadata)
    return Judgement(True, ", ".join(on), metadata)


@rule(
    id="AZ-STOR-006",
    title="Storage account allows shared key authorization",
    severity="MEDIUM",
    category="storage",
    description=(
        "Requests may be signed with the account access keys (and SAS tokens derived from them), "
        "which grant full data access, cannot be scoped to an identity and leave no per-user "
        "trail; Entra ID authorization is bypassed whenever a key leaks."
    ),
    remediation=(
        "Move clients to Entra ID (RBAC data roles) or user-delegation SAS, then portal: Storage "
        "account > Configuration > 'Allow storage account key access' = Disabled, or `az storage "
        "account update -g <rg> -n <account> --allow-shared-key-access false`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-4"], "ISO27001": ["A.5.17", "A.8.5"]},
    needs=_NEEDS,
)
@each_account
def shared_key_access(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``allowSharedKeyAccess`` fails: Azure documents null as equivalent to true."""
    raw = props(account).get("allowSharedKeyAccess")
    metadata = {"allowSharedKeyAccess": raw}
    value = flag(raw)
    if value is False:
        return Judgement(True, "shared key authorization is disallowed", metadata)
    if value is None:
        return Judgement(False, "allowSharedKeyAccess is not set (null means allowed)", metadata)
    return Judgement(False, "allowSharedKeyAccess is true", metadata)


@rule(
    id="AZ-STOR-007",
    title="Blob versioning is disabled",
    severity="LOW",
    category="storage",
    description=(
        "Overwritten or deleted blobs keep no previous versions, so data changed by a faulty "
        "application or encrypted by ransomware with write access cannot be rolled back."
    ),
    remediation=(
        "Portal: Storage account > Data protection > 'Enable versioning for blobs', or `az "
        "storage account blob-service-properties update -g <rg> --account-name <account> "
        "--enable-versioning true` (add a lifecycle rule to expire old versions)."
    ),
    frameworks={"NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]},
    needs=Needs(resource_types=frozenset({STORAGE_TYPE}), children=(BLOB_SERVICE,)),
)
@each_account
def blob_versioning(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``isVersioningEnabled`` fails: versioning is off unless explicitly enabled."""
    service = child_of(inv, BLOB_SERVICE, account)
    if not isinstance(service, dict):
        return unread_child(inv, BLOB_SERVICE, account, "blob service properties")
    raw = props(service).get("isVersioningEnabled")
    metadata = {"isVersioningEnabled": raw}
    if flag(raw) is True:
        return Judgement(True, "blob versioning enabled", metadata)
    if raw is None:
        return Judgement(False, "isVersioningEnabled is not set (versioning off by default)", metadata)
    return Judgement(False, "blob versioning is disabled", metadata)


@rule(
    id="AZ-STOR-008",
    title="Storage account infrastructure encryption is disabled",
    severity="LOW",
    category="storage",
    description=(
        "Data is encrypted once at the service level only; without infrastructure encryption "
        "there is no second, independently keyed layer if one algorithm, key or implementation "
        "is compromised. It can only be chosen when the account is created."
    ),
    remediation=(
        "Create a new account with infrastructure encryption (portal: Create storage account > "
        "Encryption > 'Enable infrastructure encryption', or `az storage account create ... "
        "--require-infrastructure-encryption`) and migrate the data (e.g. with AzCopy)."
    ),
    frameworks={"CIS": ["3.2"], "NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=_NEEDS,
)
@each_account
def infrastructure_encryption(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``encryption.requireInfrastructureEncryption`` fails: the default is false."""
    raw = as_dict(props(account).get("encryption")).get("requireInfrastructureEncryption")
    metadata = {"requireInfrastructureEncryption": raw}
    if flag(raw) is True:
        return Judgement(True, "infrastructure encryption enabled", metadata)
    if raw is None:
        return Judgement(False, "requireInfrastructureEncryption is not set (off by default)", metadata)
    return Judgement(False, "infrastructure encryption is disabled", metadata)


# SKU name suffixes that replicate to a paired region
_GEO_REDUNDANT = ("_GRS", "_RAGRS", "_GZRS", "_RAGZRS")


@rule(
    id="AZ-STOR-009",
    title="Storage account is not geo-redundant",
    severity="LOW",
    category="storage",
    description=(
        "The account keeps its data in one region only (LRS or ZRS), so a regional outage or "
        "disaster makes it unavailable, or loses it, with no secondary copy to fail over to."
    ),
    remediation=(
        "For data that must survive a regional outage, change redundancy: portal: Storage "
        "account > Data management > Redundancy > GRS/RA-GRS (or GZRS/RA-GZRS), or `az storage "
        "account update -g <rg> -n <account> --sku Standard_RAGRS`."
    ),
    frameworks={"NIST": ["PR.PT-5", "PR.IP-4"], "ISO27001": ["A.8.14"]},
    needs=_NEEDS,
)
@each_account
def geo_redundancy(inv: Inventory, account: Resource) -> Judgement:
    """Judged on ``sku.name``; a missing SKU has no default and is not evaluated."""
    sku = as_dict(account.get("sku")).get("name")
    metadata = {"sku": sku}
    if not isinstance(sku, str) or not sku.strip():
        return Judgement(None, "sku.name not reported", metadata)
    if sku.strip().upper().endswith(_GEO_REDUNDANT):
        return Judgement(True, f"replication is {sku}", metadata)
    return Judgement(False, f"replication is {sku} (single region)", metadata)


@rule(
    id="AZ-STOR-010",
    title="Storage account allows cross-tenant object replication",
    severity="MEDIUM",
    category="storage",
    description=(
        "Object replication policies may copy this account's blobs to storage accounts in other "
        "Microsoft Entra tenants, so someone able to write a replication policy can move data out "
        "of the organisation's tenant without any network path being involved."
    ),
    remediation=(
        "Unless replication to another tenant is intended, portal: Storage account > Object "
        "replication > Advanced settings > clear 'Allow cross-tenant replication', or `az storage "
        "account update -g <rg> -n <account> --allow-cross-tenant-replication false`."
    ),
    frameworks={"NIST": ["PR.DS-5"], "ISO27001": ["A.8.12"]},
    needs=_NEEDS,
)
@each_account
def cross_tenant_replication(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``allowCrossTenantReplication`` passes: the REST reference documents the default
    interpretation as false."""
    raw = props(account).get("allowCrossTenantReplication")
    metadata = {"allowCrossTenantReplication": raw}
    if flag(raw) is True:
        return Judgement(False, "allowCrossTenantReplication is true", metadata)
    if raw is None:
        return Judgement(True, "allowCrossTenantReplication not set (false by default)", metadata)
    return Judgement(True, "cross-tenant replication is disallowed", metadata)


@rule(
    id="AZ-STOR-011",
    title="Storage account has no private endpoint",
    severity="LOW",
    category="storage",
    description=(
        "No approved private endpoint connects the account to a virtual network, so every client "
        "reaches it over its public endpoint and traffic cannot be kept on private addresses."
    ),
    remediation=(
        "Portal: Storage account > Networking > Private endpoint connections > + Private endpoint "
        "(one per sub-resource used: blob, file, ...), or `az network private-endpoint create ... "
        "--private-connection-resource-id <account id> --group-id blob`."
    ),
    frameworks={"CIS": ["3.10"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_account
def storage_private_endpoint(inv: Inventory, account: Resource) -> Judgement:
    endpoints = approved_private_endpoints(account)
    metadata = {"privateEndpoints": endpoints}
    if endpoints:
        return Judgement(True, "approved private endpoint(s): " + ", ".join(endpoints), metadata)
    return Judgement(False, "no approved private endpoint connection", metadata)


KEY_MAX_AGE_DAYS = 90


@rule(
    id="AZ-STOR-012",
    title="Storage account access keys not regenerated for 90 days",
    severity="MEDIUM",
    category="storage",
    description=(
        "An access key grants full control of the account's data. Keys that are never "
        "regenerated stay valid in every script, config file and leaked copy that ever held them."
    ),
    remediation=(
        "Regenerate each key after moving its users to the other one: portal: Storage account > "
        "Access keys > Rotate key, or `az storage account keys renew -g <rg> -n <account> --key "
        "primary` (then secondary); better, disallow shared keys (AZ-STOR-006)."
    ),
    frameworks={"CIS": ["3.4"], "NIST": ["PR.AC-1"], "ISO27001": ["A.5.17"]},
    needs=_NEEDS,
)
@each_account
def storage_key_age(inv: Inventory, account: Resource) -> Judgement:
    """Judged on ``keyCreationTime.key1/key2`` against the collection time. Azure reports null for
    keys not regenerated since before it recorded the time: not evaluated, as the age is unknown.
    Accounts that disallow shared keys (``allowSharedKeyAccess`` false) pass: their keys open
    nothing."""
    if flag(props(account).get("allowSharedKeyAccess")) is False:
        return Judgement(True, "shared key access is disallowed, so the keys authorize nothing")
    times = as_dict(props(account).get("keyCreationTime"))
    ages: dict[str, int] = {}
    for key in ("key1", "key2"):
        created = _parse_time(times.get(key))
        if created is None:
            return Judgement(None, f"keyCreationTime.{key} not reported", {"keyCreationTime": times})
        ages[key] = (inv.collected_at - created).days
    old = {k: d for k, d in ages.items() if d > KEY_MAX_AGE_DAYS}
    metadata = {"keyAgeDays": ages}
    if old:
        return Judgement(False, ", ".join(f"{k} is {d} days old" for k, d in old.items()), metadata)
    return Judgement(True, f"keys regenerated within {KEY_MAX_AGE_DAYS} days", metadata)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@rule(
    id="AZ-STOR-013",
    title="Storage account has no key expiration policy (rotation reminders)",
    severity="LOW",
    category="storage",
    description=(
        "No key expiration policy is set, so Azure never flags access keys that are due for "
        "rotation and old keys go unnoticed."
    ),
    remediation=(
        "Portal: Storage account > Access keys > Set rotation reminder (e.g. 90 days), or `az "
        "storage account update -g <rg> -n <account> --key-exp-days 90`."
    ),
    frameworks={"CIS": ["3.3"], "NIST": ["PR.AC-1"], "ISO27001": ["A.5.17"]},
    needs=_NEEDS,
)
@each_account
def storage_key_policy(inv: Inventory, account: Resource) -> Judgement:
    days = as_dict(props(account).get("keyPolicy")).get("keyExpirationPeriodInDays")
    metadata = {"keyExpirationPeriodInDays": days}
    if isinstance(days, int) and not isinstance(days, bool) and days > 0:
        return Judgement(True, f"keys flagged for rotation after {days} days", metadata)
    return Judgement(False, "keyPolicy.keyExpirationPeriodInDays not set", metadata)


@rule(
    id="AZ-STOR-014",
    title="Storage account has no SAS expiration policy",
    severity="LOW",
    category="storage",
    description=(
        "No SAS expiration policy bounds the validity of account and service SAS tokens, so a "
        "token can be issued to stay valid for years and a leaked one keeps working."
    ),
    remediation=(
        "Portal: Storage account > Configuration > 'Allow recommended upper limit for shared "
        "access signature (SAS) expiry interval', or `az storage account update -g <rg> -n "
        "<account> --sas-expiration-period 0.01:00:00 --sas-expiration-action Block`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-4"], "ISO27001": ["A.5.17"]},
    needs=_NEEDS,
)
@each_account
def storage_sas_policy(inv: Inventory, account: Resource) -> Judgement:
    policy = as_dict(props(account).get("sasPolicy"))
    period = policy.get("sasExpirationPeriod")
    metadata = {"sasExpirationPeriod": period, "expirationAction": policy.get("expirationAction")}
    if isinstance(period, str) and period.strip():
        return Judgement(True, f"SAS expiration period {period} ({policy.get('expirationAction') or 'Log'})", metadata)
    return Judgement(False, "sasPolicy.sasExpirationPeriod not set", metadata)


@rule(
    id="AZ-STOR-015",
    title="Storage firewall does not let trusted Azure services through",
    severity="LOW",
    category="storage",
    description=(
        "With the firewall on, the 'Allow trusted Microsoft services' exception is off, so Azure "
        "Backup, Defender for Cloud, Azure Monitor and other trusted services cannot reach the "
        "account; teams then tend to open the firewall instead."
    ),
    remediation=(
        "Portal: Storage account > Networking > Exceptions > 'Allow Azure services on the trusted "
        "services list to access this storage account', or `az storage account update -g <rg> -n "
        "<account> --bypass AzureServices`."
    ),
    frameworks={"CIS": ["3.9"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_account
def trusted_services_bypass(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``networkAcls`` or ``bypass`` passes: the default bypass is AzureServices."""
    acls = as_dict(props(account).get("networkAcls"))
    raw = acls.get("bypass")
    metadata = {"bypass": raw}
    if raw is None:
        return Judgement(True, "bypass not set (AzureServices by default)", metadata)
    entries = {part.strip().lower() for part in str(raw).split(",")}
    if "azureservices" in entries:
        return Judgement(True, f"bypass is {raw}", metadata)
    return Judgement(False, f"bypass is {raw} (trusted Azure services blocked)", metadata)


@rule(
    id="AZ-STOR-016",
    title="Storage account is not encrypted with a customer-managed key",
    severity="LOW",
    category="storage",
    description=(
        "Data is encrypted with Microsoft-managed keys only; the organisation cannot rotate, "
        "audit or revoke the key that protects it. CIS asks for customer-managed keys for "
        "critical data."
    ),
    remediation=(
        "Portal: Storage account > Encryption > Customer-managed keys (a key in a Key Vault with "
        "purge protection, accessed by the account's managed identity), or `az storage account "
        "update -g <rg> -n <account> --encryption-key-source Microsoft.Keyvault "
        "--encryption-key-vault <uri> --encryption-key-name <key>`."
    ),
    frameworks={"CIS": ["3.12"], "NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=_NEEDS,
)
@each_account
def storage_customer_managed_key(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``encryption.keySource`` is Microsoft.Storage (the default)."""
    source = as_dict(props(account).get("encryption")).get("keySource")
    metadata = {"keySource": source}
    if str(source or "").lower() == "microsoft.keyvault":
        return Judgement(True, "encrypted with a customer-managed key", metadata)
    return Judgement(False, f"keySource is {source or 'Microsoft.Storage (default)'}", metadata)


# account kinds without Azure Files (premium block blob and legacy blob-only accounts)
_NO_FILE_SERVICE_KINDS = frozenset({"blockblobstorage", "blobstorage"})


@rule(
    id="AZ-STOR-017",
    title="File share soft delete is disabled",
    severity="MEDIUM",
    category="storage",
    description=(
        "Deleted Azure file shares (``shareDeleteRetentionPolicy``) cannot be recovered: a "
        "mistaken script, a compromised key or ransomware that deletes a share destroys every "
        "file and snapshot in it at once. Accounts that cannot hold file shares (BlockBlobStorage, "
        "BlobStorage) are not judged."
    ),
    remediation=(
        "Portal: Storage account > Data protection (File shares) > 'Enable soft delete for file "
        "shares', or `az storage account file-service-properties update -g <rg> --account-name "
        "<account> --enable-delete-retention true --delete-retention-days 14`."
    ),
    frameworks={"NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]},
    needs=Needs(resource_types=frozenset({STORAGE_TYPE}), children=(FILE_SERVICE,)),
)
@each_account
def file_share_soft_delete(inv: Inventory, account: Resource) -> Judgement | None:
    """An absent policy is off (Azure's default for accounts created before 2020 and by the
    REST API; the portal turns it on for new accounts)."""
    if str(account.get("kind") or "").strip().lower() in _NO_FILE_SERVICE_KINDS:
        return None
    service = child_of(inv, FILE_SERVICE, account)
    if not isinstance(service, dict):
        return unread_child(inv, FILE_SERVICE, account, "file service properties")
    policy = as_dict(props(service).get("shareDeleteRetentionPolicy"))
    metadata = {"enabled": policy.get("enabled"), "days": policy.get("days")}
    if flag(policy.get("enabled")) is True:
        return Judgement(True, f"file share soft delete enabled ({policy.get('days')} days)", metadata)
    return Judgement(False, "file share soft delete (shareDeleteRetentionPolicy) is not enabled", metadata)


# ---------------------------------------------------------------------------------------------
# CIS v6: SMB settings of the file service, public network access, Entra authorization in the
# portal, delete locks
# ---------------------------------------------------------------------------------------------


def _smb_setting(inv: Inventory, account: Resource, key: str) -> tuple[list[str] | None, Judgement | None]:
    """The ``;``-separated values of ``protocolSettings.smb.<key>`` of the account's file service
    (read once, with AZ-STOR-017), or the Judgement to return instead: None (out of scope) for
    accounts without Azure Files, not evaluated when the file service could not be read. An
    absent value is Azure's default: every version / algorithm allowed (empty list)."""
    if str(account.get("kind") or "").strip().lower() in _NO_FILE_SERVICE_KINDS:
        return None, None
    service = child_of(inv, FILE_SERVICE, account)
    if not isinstance(service, dict):
        return None, unread_child(inv, FILE_SERVICE, account, "file service properties")
    smb = as_dict(as_dict(props(service).get("protocolSettings")).get("smb"))
    raw = smb.get(key)
    values = [v.strip() for v in str(raw or "").split(";") if v.strip()]
    return values, None


_SMB_FILE_NEEDS = Needs(resource_types=frozenset({STORAGE_TYPE}), children=(FILE_SERVICE,))


@rule(
    id="AZ-STOR-018",
    title="File service accepts SMB versions older than 3.1.1",
    severity="MEDIUM",
    category="storage",
    description=(
        "The account's Azure Files SMB settings (`protocolSettings.smb.versions`) allow SMB 2.1 "
        "or 3.0 (all versions are allowed when the setting is empty, the default), which lack "
        "SMB 3.1.1's pre-authentication integrity and AES-GCM encryption and can be downgraded. "
        "Accounts that cannot hold file shares are not judged."
    ),
    remediation=(
        "Portal: Storage account > File shares > Security: profile 'Maximum security' or a custom "
        "profile with only SMB 3.1.1, or `az storage account file-service-properties update -g "
        "<rg> --account-name <account> --versions SMB3.1.1`."
    ),
    frameworks={"NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=_SMB_FILE_NEEDS,
)
@each_account
def smb_versions(inv: Inventory, account: Resource) -> Judgement | None:
    versions, other = _smb_setting(inv, account, "versions")
    if versions is None:
        return other
    metadata = {"versions": versions}
    older = [v for v in versions if v.upper() != "SMB3.1.1"]
    if not versions:
        return Judgement(False, "SMB versions not restricted (every version allowed)", metadata)
    if older:
        return Judgement(False, "SMB versions older than 3.1.1 allowed: " + ", ".join(older), metadata)
    return Judgement(True, "only SMB 3.1.1 allowed", metadata)


@rule(
    id="AZ-STOR-019",
    title="File service allows SMB channel encryption weaker than AES-256-GCM",
    severity="MEDIUM",
    category="storage",
    description=(
        "The account's Azure Files SMB settings (`protocolSettings.smb.channelEncryption`) allow "
        "AES-128-CCM or AES-128-GCM (all are allowed when the setting is empty, the default), so "
        "a client can negotiate weaker encryption of file traffic than AES-256-GCM. Accounts that "
        "cannot hold file shares are not judged."
    ),
    remediation=(
        "Portal: Storage account > File shares > Security: SMB channel encryption AES-256-GCM "
        "only, or `az storage account file-service-properties update -g <rg> --account-name "
        "<account> --channel-encryption AES-256-GCM`."
    ),
    frameworks={"NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=_SMB_FILE_NEEDS,
)
@each_account
def smb_channel_encryption(inv: Inventory, account: Resource) -> Judgement | None:
    algorithms, other = _smb_setting(inv, account, "channelEncryption")
    if algorithms is None:
        return other
    metadata = {"channelEncryption": algorithms}
    weaker = [a for a in algorithms if a.upper() != "AES-256-GCM"]
    if not algorithms:
        return Judgement(False, "SMB channel encryption not restricted (AES-128 allowed)", metadata)
    if weaker:
        return Judgement(False, "weaker SMB channel encryption allowed: " + ", ".join(weaker), metadata)
    return Judgement(True, "only AES-256-GCM SMB channel encryption allowed", metadata)


@rule(
    id="AZ-STOR-020",
    title="Storage account public network access is not disabled",
    severity="MEDIUM",
    category="storage",
    description=(
        "`publicNetworkAccess` is not Disabled, so the account's public endpoint is reachable "
        "(its firewall may still filter it, which AZ-STOR-004 judges); with public access "
        "disabled only private endpoints reach the data. Absent means Enabled."
    ),
    remediation=(
        "After creating private endpoints for the clients: portal: Storage account > Networking "
        "> Public network access = Disabled, or `az storage account update -g <rg> -n <account> "
        "--public-network-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_account
def storage_public_network_access(inv: Inventory, account: Resource) -> Judgement:
    raw = props(account).get("publicNetworkAccess")
    metadata = {"publicNetworkAccess": raw}
    if str(raw or "").strip().lower() == "disabled":
        return Judgement(True, "public network access is disabled", metadata)
    return Judgement(False, f"public network access is {raw or 'Enabled (not set)'}", metadata)


@rule(
    id="AZ-STOR-021",
    title="Portal does not default to Microsoft Entra authorization",
    severity="LOW",
    category="storage",
    description=(
        "`defaultToOAuthAuthentication` is off (absent is off), so the Azure portal reads blobs, "
        "files and queues with the account key by default, instead of the user's Entra identity "
        "and RBAC roles; every portal user with key access bypasses data-plane role checks and "
        "leaves no per-user audit trail."
    ),
    remediation=(
        "Portal: Storage account > Configuration > 'Default to Microsoft Entra authorization in "
        "the Azure portal' = Enabled, or `az storage account update -g <rg> -n <account> "
        "--set defaultToOAuthAuthentication=true`."
    ),
    frameworks={"NIST": ["PR.AC-4"], "ISO27001": ["A.5.15", "A.8.5"]},
    needs=_NEEDS,
)
@each_account
def default_to_entra_authorization(inv: Inventory, account: Resource) -> Judgement:
    raw = props(account).get("defaultToOAuthAuthentication")
    metadata = {"defaultToOAuthAuthentication": raw}
    if flag(raw) is True:
        return Judgement(True, "portal defaults to Microsoft Entra authorization", metadata)
    return Judgement(False, "defaultToOAuthAuthentication is " + ("false" if raw is not None else "not set (off)"),
                     metadata)


MANAGEMENT_LOCKS = SubscriptionRead("providers/Microsoft.Authorization/locks",
                                    "management locks (Microsoft.Authorization/locks)")
_LOCK_MARKER = "/providers/microsoft.authorization/locks/"
_DELETE_LOCK_LEVELS = frozenset({"cannotdelete", "readonly"})


def _delete_locks_by_scope(locks: list[object]) -> dict[str, list[str]]:
    """Lower-cased lock scope (the id before ``/providers/Microsoft.Authorization/locks/``) ->
    names of its CanNotDelete / ReadOnly locks."""
    by_scope: dict[str, list[str]] = {}
    for lock in locks:
        lock = as_dict(lock)
        lock_id = str(lock.get("id") or "").lower()
        scope, sep, _ = lock_id.rpartition(_LOCK_MARKER)
        level = str(props(lock).get("level") or "").lower()
        if sep and level in _DELETE_LOCK_LEVELS:
            by_scope.setdefault(scope.rstrip("/"), []).append(f"{lock.get('name')} ({props(lock).get('level')})")
    return by_scope


@rule(
    id="AZ-STOR-022",
    title="Storage account has no delete lock",
    severity="LOW",
    category="storage",
    description=(
        "No CanNotDelete or ReadOnly management lock on the account, its resource group or the "
        "subscription, so one mistaken or malicious delete by anyone with write access removes "
        "the account and every blob, file, queue and table in it at once (soft delete does not "
        "bring back a deleted account's data reliably)."
    ),
    remediation=(
        "Portal: Storage account > Locks > Add, lock type Delete, or `az lock create -n "
        "<name> -t CanNotDelete -g <rg> --resource <account> --resource-type "
        "Microsoft.Storage/storageAccounts`."
    ),
    frameworks={"NIST": ["PR.IP-4", "PR.PT-3"], "ISO27001": ["A.8.13"]},
    needs=Needs(resource_types=frozenset({STORAGE_TYPE}), subscription_reads=(MANAGEMENT_LOCKS,)),
)
@each_account
def storage_delete_lock(inv: Inventory, account: Resource) -> Judgement:
    """One subscription-scope list returns every lock in the subscription (on the subscription,
    its resource groups and resources); a lock on the account, its group or the subscription
    covers it."""
    payload = inv.subscription_read(MANAGEMENT_LOCKS)
    if not isinstance(payload, list):
        return Judgement(None, "management locks could not be read")
    by_scope = _delete_locks_by_scope(payload)
    account_id = str(account.get("id") or "").rstrip("/").lower()
    group = account_id.split("/providers/", 1)[0]
    for scope, what in ((account_id, "account"), (group, "resource group"),
                        (f"/subscriptions/{inv.subscription_id}".lower(), "subscription")):
        if by_scope.get(scope):
            return Judgement(True, f"{what} lock {by_scope[scope][0]}", {"locks": by_scope[scope], "scope": what})
    return Judgement(False, "no CanNotDelete or ReadOnly lock on the account, its resource group or the subscription")
