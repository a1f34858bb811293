"""Azure Cosmos DB rules: network exposure (firewall, private endpoints), key-based (local)
authentication, customer-managed keys and continuous backup.

Every rule reads the database account's own GET (``Microsoft.DocumentDB/databaseAccounts``), so
no child read is needed.
"""

from __future__ import annotations

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    approved_private_endpoints,
    as_dict,
    flag,
    judge_each_resource,
)

COSMOS_TYPE = "Microsoft.DocumentDB/databaseAccounts"
_NEEDS = Needs(resource_types=frozenset({COSMOS_TYPE}))
each_account = judge_each_resource(COSMOS_TYPE, "Cosmos DB account")
# "0.0.0.0" in ipRules is the portal's "Accept connections from within public Azure datacenters"
AZURE_DATACENTERS = "0.0.0.0"


@rule(
    id="AZ-COSMOS-001",
    title="Cosmos DB account accepts traffic from all networks",
    severity="HIGH",
    category="database",
    description=(
        "Public network access is on with no IP firewall rule and no virtual network filter, so "
        "the account's endpoint answers any client on the Internet; a leaked key is then usable "
        "from anywhere."
    ),
    remediation=(
        "Portal: Azure Cosmos DB account > Networking > 'Selected networks' (add the client "
        "networks and IP ranges) or 'Disabled' with private endpoints; or `az cosmosdb update -g "
        "<rg> -n <account> --ip-range-filter <ranges> --enable-virtual-network true`."
    ),
    frameworks={"CIS": ["4.5.1"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_account
def cosmos_network(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``publicNetworkAccess`` is Enabled (the default). The Azure-datacenters entry
    (``0.0.0.0``) alone does not restrict anything a tenant controls, so it does not count."""
    p = props(account)
    access = p.get("publicNetworkAccess")
    ip_rules = [str(as_dict(r).get("ipAddressOrRange") or "") for r in p.get("ipRules") or []]
    narrowing = [r for r in ip_rules if r and r != AZURE_DATACENTERS]
    vnet_filter = flag(p.get("isVirtualNetworkFilterEnabled")) is True
    metadata = {"publicNetworkAccess": access, "ipRules": ip_rules, "isVirtualNetworkFilterEnabled": vnet_filter}
    if str(access or "").lower() == "disabled":
        return Judgement(True, "public network access is Disabled", metadata)
    if narrowing or vnet_filter:
        return Judgement(True, f"restricted to {len(narrowing)} IP rule(s)"
                         + (" and virtual network rules" if vnet_filter else ""), metadata)
    return Judgement(False, "public network access is enabled with no IP or virtual network rule", metadata)


@rule(
    id="AZ-COSMOS-002",
    title="Cosmos DB account has no private endpoint",
    severity="LOW",
    category="database",
    description=(
        "No approved private endpoint connects the account to a virtual network, so clients "
        "reach it through its public endpoint rather than over private addresses."
    ),
    remediation=(
        "Portal: Azure Cosmos DB account > Networking > Private access > + Private endpoint, or "
        "`az network private-endpoint create ... --private-connection-resource-id <account id> "
        "--group-id Sql`."
    ),
    frameworks={"CIS": ["4.5.2"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_account
def cosmos_private_endpoint(inv: Inventory, account: Resource) -> Judgement:
    endpoints = approved_private_endpoints(account)
    metadata = {"privateEndpoints": endpoints}
    if endpoints:
        return Judgement(True, "approved private endpoint(s): " + ", ".join(endpoints), metadata)
    return Judgement(False, "no approved private endpoint connection", metadata)


@rule(
    id="AZ-COSMOS-003",
    title="Cosmos DB account allows key-based (local) authentication",
    severity="MEDIUM",
    category="database",
    description=(
        "Data-plane requests may be signed with the account's primary or read-only keys, which "
        "grant access without an identity, MFA or per-user audit; Entra ID with Cosmos DB RBAC "
        "is bypassed whenever a key leaks."
    ),
    remediation=(
        "Move clients to Microsoft Entra ID with Cosmos DB data-plane RBAC, then set "
        "`disableLocalAuth` to true: `az resource update --ids <account id> --set "
        "properties.disableLocalAuth=true`."
    ),
    frameworks={"CIS": ["4.5.3"], "NIST": ["PR.AC-1", "PR.AC-4"], "ISO27001": ["A.5.17", "A.8.5"]},
    needs=_NEEDS,
)
@each_account
def cosmos_local_auth(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``disableLocalAuth`` fails: keys are accepted by default."""
    raw = props(account).get("disableLocalAuth")
    metadata = {"disableLocalAuth": raw}
    if flag(raw) is True:
        return Judgement(True, "local (key) authentication is disabled", metadata)
    return Judgement(False, "disableLocalAuth is not true (account keys are accepted)", metadata)


@rule(
    id="AZ-COSMOS-004",
    title="Cosmos DB account is not encrypted with a customer-managed key",
    severity="LOW",
    category="database",
    description=(
        "Data is encrypted with Microsoft-managed keys only; the organisation cannot rotate, "
        "audit or revoke the key that protects it."
    ),
    remediation=(
        "Customer-managed keys are chosen when the account is created: create one with "
        "`--key-uri <key vault key uri>` (a vault with purge protection) and migrate the data."
    ),
    frameworks={"NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=_NEEDS,
)
@each_account
def cosmos_customer_managed_key(inv: Inventory, account: Resource) -> Judgement:
    uri = props(account).get("keyVaultKeyUri")
    metadata = {"keyVaultKeyUri": uri}
    if isinstance(uri, str) and uri.strip():
        return Judgement(True, "encrypted with a customer-managed key", metadata)
    return Judgement(False, "no keyVaultKeyUri (service-managed keys)", metadata)


@rule(
    id="AZ-COSMOS-005",
    title="Cosmos DB account has no continuous backup",
    severity="LOW",
    category="database",
    description=(
        "The account uses periodic backup only: restores go through a support request, to the "
        "last backup interval, rather than to any point in time; accidental deletes or "
        "corrupting writes between backups are lost."
    ),
    remediation=(
        "Portal: Azure Cosmos DB account > Backup & Restore > change to Continuous (7 or 30 "
        "days), or `az cosmosdb update -g <rg> -n <account> --backup-policy-type Continuous`."
    ),
    frameworks={"NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]},
    needs=_NEEDS,
)
@each_account
def cosmos_backup(inv: Inventory, account: Resource) -> Judgement | None:
    """Judged on ``backupPolicy.type``; absent is Periodic (the default)."""
    policy = as_dict(props(account).get("backupPolicy"))
    kind = policy.get("type") or "Periodic"
    metadata = {"backupPolicyType": kind}
    if str(kind).lower() == "continuous":
        tier = as_dict(policy.get("continuousModeProperties")).get("tier")
        return Judgement(True, f"continuous backup ({tier or 'Continuous30Days'})", metadata)
    return Judgement(False, f"backup policy is {kind} (no point-in-time restore)", metadata)
