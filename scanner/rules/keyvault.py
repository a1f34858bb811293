"""Key Vault rules: recoverability (soft delete and purge protection: CIS "Key Vault is
recoverable" needs both before deleted keys and secrets can reliably be restored), the
authorization model, and exposure of the vault's public endpoint."""

from __future__ import annotations

from typing import Any, Iterable

from scanner.inventory import Inventory, Needs, props
from scanner.rules.base import Evaluation, resource_name, rule
from scanner.rules.helpers import as_dict, flag, unreadable, verdict

VAULT_TYPE = "Microsoft.KeyVault/vaults"
_NEEDS = Needs(resource_types=frozenset({VAULT_TYPE}))
_FRAMEWORKS_SOFT_DELETE = {"CIS": ["8.5"], "NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]}
_FRAMEWORKS_PURGE = {"CIS": ["8.5"], "NIST": ["PR.IP-4", "PR.DS-1"], "ISO27001": ["A.8.13"]}


def _verdict(vault: dict[str, Any], passed: bool, detail: str, key: str) -> Evaluation:
    return Evaluation(
        resource_id=str(vault.get("id", "")),
        resource_name=resource_name(vault),
        resource_type=VAULT_TYPE,
        passed=passed,
        detail=detail,
        metadata={key: props(vault).get(key)},
    )


@rule(
    id="AZ-KV-001",
    title="Key vault soft delete is disabled",
    severity="HIGH",
    category="keyvault",
    description=(
        "Deleting the vault, or a key, secret or certificate in it, is immediate and permanent. "
        "An accident or a malicious delete destroys the keys that data and services depend on."
    ),
    remediation=(
        "Enable soft delete (it cannot be turned off again): `az keyvault update -g <rg> -n "
        "<vault> --enable-soft-delete true`, or recreate the vault with soft delete on."
    ),
    frameworks=_FRAMEWORKS_SOFT_DELETE,
    needs=_NEEDS,
)
def soft_delete(inv: Inventory) -> Iterable[Evaluation]:
    """Only an explicit ``false`` fails: Azure enables soft delete on every new vault and the
    property may be omitted when on (spec: violation when ``enableSoftDelete`` is false)."""
    for vault in inv.of_type(VAULT_TYPE):
        if flag(props(vault).get("enableSoftDelete")) is False:
            yield _verdict(vault, False, "enableSoftDelete is false", "enableSoftDelete")
        else:
            yield _verdict(vault, True, "soft delete enabled", "enableSoftDelete")
    yield from unreadable(inv, VAULT_TYPE, "key vault")


@rule(
    id="AZ-KV-002",
    title="Key vault purge protection is disabled",
    severity="MEDIUM",
    category="keyvault",
    description=(
        "Without purge protection, soft-deleted vaults and objects can be purged before the "
        "retention period ends, so an attacker or a mistake with enough rights can still "
        "destroy keys irrecoverably."
    ),
    remediation=(
        "Portal: Key vault > Properties > 'Enable purge protection', or `az keyvault update -g "
        "<rg> -n <vault> --enable-purge-protection true` (irreversible by design)."
    ),
    frameworks=_FRAMEWORKS_PURGE,
    needs=_NEEDS,
)
def purge_protection(inv: Inventory) -> Iterable[Evaluation]:
    """Absent counts as disabled: Azure omits ``enablePurgeProtection`` until it is turned on."""
    for vault in inv.of_type(VAULT_TYPE):
        if flag(props(vault).get("enablePurgeProtection")) is True:
            yield _verdict(vault, True, "purge protection enabled", "enablePurgeProtection")
        else:
            yield _verdict(vault, False, "purge protection is not enabled", "enablePurgeProtection")
    yield from unreadable(inv, VAULT_TYPE, "key vault")


@rule(
    id="AZ-KV-003",
    title="Key vault uses access policies instead of Azure RBAC",
    severity="MEDIUM",
    category="keyvault",
    description=(
        "The vault authorizes data-plane access with vault access policies, which cannot be "
        "scoped below the vault, are invisible to Azure RBAC reviews and PIM, and let anyone "
        "with Contributor on the vault grant themselves access to every secret."
    ),
    remediation=(
        "Grant the equivalent Key Vault data roles (Key Vault Secrets User, Crypto User, ...) "
        "first, then portal: Key vault > Access configuration > 'Azure role-based access "
        "control', or `az keyvault update -g <rg> -n <vault> --enable-rbac-authorization true`."
    ),
    frameworks={"CIS": ["8.6"], "NIST": ["PR.AC-4"], "ISO27001": ["A.5.15", "A.8.2"]},
    needs=_NEEDS,
)
def rbac_authorization(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``enableRbacAuthorization`` fails: for the pinned api-version (2023-07-01) the
    default is false, i.e. the access-policy model."""
    for vault in inv.of_type(VAULT_TYPE):
        raw = props(vault).get("enableRbacAuthorization")
        if flag(raw) is True:
            yield _verdict(vault, True, "Azure RBAC authorization enabled", "enableRbacAuthorization")
        elif raw is None:
            yield _verdict(
                vault, False, "enableRbacAuthorization is not set (access policies by default)",
                "enableRbacAuthorization",
            )
        else:
            yield _verdict(vault, False, "vault uses access policies", "enableRbacAuthorization")
    yield from unreadable(inv, VAULT_TYPE, "key vault")


@rule(
    id="AZ-KV-004",
    title="Key vault is reachable from all networks without a private endpoint",
    severity="MEDIUM",
    category="keyvault",
    description=(
        "The vault's public endpoint accepts connections from any network and no private "
        "endpoint or firewall restricts it, so a stolen token can read secrets from anywhere "
        "and the vault is exposed to password-spray and denial-of-service traffic."
    ),
    remediation=(
        "Add a private endpoint (`az network private-endpoint create ... --group-id vault`) and "
        "disable public access (`az keyvault update -g <rg> -n <vault> --public-network-access "
        "Disabled`), or at least restrict it: portal: Key vault > Networking > 'Allow public "
        "access from specific virtual networks and IP addresses' (`--default-action Deny`)."
    ),
    frameworks={"CIS": ["8.7"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
def public_network_access(inv: Inventory) -> Iterable[Evaluation]:
    """Passes when any one of: public access Disabled, a private endpoint connection, or a
    firewall default action of Deny. Absent ``publicNetworkAccess`` means Enabled and absent
    ``networkAcls`` means Allow (both Azure defaults)."""
    for vault in inv.of_type(VAULT_TYPE):
        vault_props = props(vault)
        access = vault_props.get("publicNetworkAccess")
        endpoints = vault_props.get("privateEndpointConnections")
        n_endpoints = len(endpoints) if isinstance(endpoints, list) else 0
        default_action = as_dict(vault_props.get("networkAcls")).get("defaultAction")
        metadata = {
            "publicNetworkAccess": access,
            "privateEndpointConnections": n_endpoints,
            "defaultAction": default_action,
        }
        if str(access or "").strip().lower() == "disabled":
            passed, detail = True, "public network access is disabled"
        elif n_endpoints:
            passed, detail = True, f"{n_endpoints} private endpoint connection(s)"
        elif str(default_action or "").strip().lower() == "deny":
            passed, detail = True, "firewall default action is Deny"
        else:
            passed = False
            detail = (
                f"public network access {access or 'Enabled (default)'}, firewall default action "
                f"{default_action or 'Allow (default)'}, no private endpoint"
            )
        yield verdict(vault, VAULT_TYPE, passed, detail, metadata)
    yield from unreadable(inv, VAULT_TYPE, "key vault")
