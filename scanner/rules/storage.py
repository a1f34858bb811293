"""Storage account rules: anonymous access, authorization, transport, network exposure,
data protection (soft delete, versioning), encryption and redundancy.

Several properties are omitted from the REST answer when they still have their historic
default, so each rule states what an absent value means (taken from the spec): absent
``allowBlobPublicAccess`` and ``minimumTlsVersion`` mean the permissive old default, absent
``supportsHttpsTrafficOnly`` means HTTPS-only (the default since api-version 2019-04-01).
"""

from __future__ import annotations

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    as_dict,
    child_of,
    flag,
    judge_each_resource,
    unread_child,
)

STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
BLOB_SERVICE = ChildSpec(STORAGE_TYPE, "blobServices/default")

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
