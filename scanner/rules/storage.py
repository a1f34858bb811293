"""Storage account rules: anonymous access, transport security, network exposure, soft delete.

Several properties are omitted from the REST answer when they still have their historic
default, so each rule states what an absent value means (taken from the spec): absent
``allowBlobPublicAccess`` and ``minimumTlsVersion`` mean the permissive old default, absent
``supportsHttpsTrafficOnly`` means HTTPS-only (the default since api-version 2019-04-01).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.base import Evaluation, resource_name, rule
from scanner.rules.helpers import flag, unreadable

STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
BLOB_SERVICE = ChildSpec(STORAGE_TYPE, "blobServices/default", "2023-05-01")

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
