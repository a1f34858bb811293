"""Storage account rules: anonymous access, authorization, transport, network exposure,
data protection (soft delete, versioning), encryption and redundancy.

Several properties are omitted from the REST answer when they still have their historic
default, so each rule states what an absent value means (taken from the spec): absent
``allowBlobPublicAccess`` and ``minimumTlsVersion`` mean the permissive old default, absent
``supportsHttpsTrafficOnly`` means HTTPS-only (the default since api-version 2019-04-01).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import Evaluation, resource_name, rule
from scanner.rules.support.helpers import as_dict, flag, unreadable

STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
BLOB_SERVICE = ChildSpec(STORAGE_TYPE, "blobServices/default")

_NEEDS = Needs(resource_types=frozenset({STORAGE_TYPE}))

# (passed, detail, metadata) for one account
Verdict = tuple[bool | None, str, dict[str, Any]]


def _each_account(
    inv: Inventory, judge: Callable[[dict[str, Any]], Verdict]
) -> Iterator[Evaluation]:
    for account in inv.of_type(STORAGE_TYPE):
        passed, detail, metadata = judge(account)
        yield Evaluation(
            resource_id=str(account.get("id", "")),
            resource_name=resource_name(account),
            resource_type=STORAGE_TYPE,
            passed=passed,
            detail=detail,
            metadata=metadata,
        )
    yield from unreadable(inv, STORAGE_TYPE, "storage account")


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
def blob_public_access(inv: Inventory) -> Iterable[Evaluation]:
    def judge(account: dict[str, Any]) -> Verdict:
        raw = props(account).get("allowBlobPublicAccess")
        value = flag(raw)
        metadata = {"allowBlobPublicAccess": raw}
        if value is False:
            return True, "anonymous blob access is disallowed", metadata
        if value is None:
            return (
                False,
                "allowBlobPublicAccess is not set (older accounts then allow anonymous access)",
                metadata,
            )
        return False, "allowBlobPublicAccess is true", metadata

    return _each_account(inv, judge)


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
def https_only(inv: Inventory) -> Iterable[Evaluation]:
    def judge(account: dict[str, Any]) -> Verdict:
        raw = props(account).get("supportsHttpsTrafficOnly")
        metadata = {"supportsHttpsTrafficOnly": raw}
        if flag(raw) is False:
            return False, "supportsHttpsTrafficOnly is false", metadata
        if raw is None:
            return True, "secure transfer required (not reported; default since 2019)", metadata
        return True, "secure transfer required", metadata

    return _each_account(inv, judge)


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
def minimum_tls(inv: Inventory) -> Iterable[Evaluation]:
    def judge(account: dict[str, Any]) -> Verdict:
        raw = props(account).get("minimumTlsVersion")
        metadata = {"minimumTlsVersion": raw}
        if raw is None:
            return False, "minimumTlsVersion is not set (defaults to TLS1_0)", metadata
        if str(raw).strip().upper() in _WEAK_TLS:
            return False, f"minimumTlsVersion is {raw}", metadata
        return True, f"minimumTlsVersion is {raw}", metadata

    return _each_account(inv, judge)


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
def network_default_action(inv: Inventory) -> Iterable[Evaluation]:
    def judge(account: dict[str, Any]) -> Verdict:
        acls = props(account).get("networkAcls")
        raw = acls.get("defaultAction") if isinstance(acls, dict) else None
        metadata = {"defaultAction": raw}
        if str(props(account).get("publicNetworkAccess") or "").lower() == "disabled":
            # the network rules guard the public endpoint, which is switched off
            return True, "public network access is disabled", {**metadata, "publicNetworkAccess": "Disabled"}
        if raw is None:
            return False, "no network rules configured (default action Allow)", metadata
        if str(raw).strip().lower() == "allow":
            return False, "network default action is Allow", metadata
        return True, f"network default action is {raw}", metadata

    return _each_account(inv, judge)


@rule(
    id="AZ-STOR-005",
    title="Blob soft delete is disabled",
    severity="MEDIUM",
    category="storage",
    description=(
        "Deleted or overwritten blobs cannot be recovered. An application bug, a mistaken "
        "script or an attacker with write access can destroy data permanently."
    ),
    remediation=(
        "Portal: Storage account > Data protection > 'Enable soft delete for blobs', or `az "
        "storage account blob-service-properties update -g <rg> --account-name <account> "
        "--enable-delete-retention true --delete-retention-days 14`."
    ),
    frameworks={"CIS": ["3.11"], "NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]},
    needs=Needs(resource_types=frozenset({STORAGE_TYPE}), children=(BLOB_SERVICE,)),
)
def blob_soft_delete(inv: Inventory) -> Iterable[Evaluation]:
    def judge(account: dict[str, Any]) -> Verdict:
        account_id = str(account.get("id", ""))
        service = inv.child(BLOB_SERVICE, account_id)
        if not isinstance(service, dict):
            reason = inv.child_error(BLOB_SERVICE, account_id) or "child not collected"
            return None, f"blob service properties could not be read: {reason}", {}
        policy = props(service).get("deleteRetentionPolicy")
        policy = policy if isinstance(policy, dict) else {}
        days = policy.get("days")
        metadata = {"enabled": policy.get("enabled"), "days": days}
        if flag(policy.get("enabled")) is True:
            return True, f"blob soft delete enabled ({days} days)", metadata
        return False, "blob soft delete (deleteRetentionPolicy) is not enabled", metadata

    return _each_account(inv, judge)


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
def shared_key_access(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``allowSharedKeyAccess`` fails: Azure documents null as equivalent to true."""

    def judge(account: dict[str, Any]) -> Verdict:
        raw = props(account).get("allowSharedKeyAccess")
        metadata = {"allowSharedKeyAccess": raw}
        value = flag(raw)
        if value is False:
            return True, "shared key authorization is disallowed", metadata
        if value is None:
            return False, "allowSharedKeyAccess is not set (null means allowed)", metadata
        return False, "allowSharedKeyAccess is true", metadata

    return _each_account(inv, judge)


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
def blob_versioning(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``isVersioningEnabled`` fails: versioning is off unless explicitly enabled."""

    def judge(account: dict[str, Any]) -> Verdict:
        account_id = str(account.get("id", ""))
        service = inv.child(BLOB_SERVICE, account_id)
        if not isinstance(service, dict):
            reason = inv.child_error(BLOB_SERVICE, account_id) or "child not collected"
            return None, f"blob service properties could not be read: {reason}", {}
        raw = props(service).get("isVersioningEnabled")
        metadata = {"isVersioningEnabled": raw}
        if flag(raw) is True:
            return True, "blob versioning enabled", metadata
        if raw is None:
            return False, "isVersioningEnabled is not set (versioning off by default)", metadata
        return False, "blob versioning is disabled", metadata

    return _each_account(inv, judge)


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
def infrastructure_encryption(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``encryption.requireInfrastructureEncryption`` fails: the default is false."""

    def judge(account: dict[str, Any]) -> Verdict:
        raw = as_dict(props(account).get("encryption")).get("requireInfrastructureEncryption")
        metadata = {"requireInfrastructureEncryption": raw}
        if flag(raw) is True:
            return True, "infrastructure encryption enabled", metadata
        if raw is None:
            return False, "requireInfrastructureEncryption is not set (off by default)", metadata
        return False, "infrastructure encryption is disabled", metadata

    return _each_account(inv, judge)


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
def geo_redundancy(inv: Inventory) -> Iterable[Evaluation]:
    """Judged on ``sku.name``; a missing SKU has no default and is not evaluated."""

    def judge(account: dict[str, Any]) -> Verdict:
        sku = as_dict(account.get("sku")).get("name")
        metadata = {"sku": sku}
        if not isinstance(sku, str) or not sku.strip():
            return None, "sku.name not reported", metadata
        if sku.strip().upper().endswith(_GEO_REDUNDANT):
            return True, f"replication is {sku}", metadata
        return False, f"replication is {sku} (single region)", metadata

    return _each_account(inv, judge)
