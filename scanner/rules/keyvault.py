"""Key Vault recoverability rules: soft delete and purge protection (CIS "Key Vault is
recoverable": both are needed before deleted keys and secrets can reliably be restored)."""

from __future__ import annotations

from typing import Any, Iterable

from scanner.inventory import Inventory, Needs, props
from scanner.rules.base import Evaluation, resource_name, rule
from scanner.rules.helpers import flag, unreadable

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
