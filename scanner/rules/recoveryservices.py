"""Recovery Services vault rules: the backups themselves must survive an attacker (soft delete,
immutability) and the vault must not face the Internet.

Every rule reads the vault's own GET (``Microsoft.RecoveryServices/vaults``,
``properties.securitySettings`` and ``publicNetworkAccess``), so no child read is needed.
"""

from __future__ import annotations

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import Judgement, Resource, as_dict, judge_each_resource

VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
_NEEDS = Needs(resource_types=frozenset({VAULT_TYPE}))
each_vault = judge_each_resource(VAULT_TYPE, "Recovery Services vault")


def _security(vault: Resource) -> dict[str, object]:
    return as_dict(props(vault).get("securitySettings"))


@rule(
    id="AZ-RSV-001",
    title="Recovery Services vault soft delete is disabled",
    severity="HIGH",
    category="backup",
    description=(
        "Deleted backup items are purged at once: an attacker or a mistaken script that stops "
        "protection and deletes the data leaves nothing to restore, which is how ransomware "
        "operators remove the way back."
    ),
    remediation=(
        "Portal: Recovery Services vault > Properties > Security settings > Soft delete = "
        "Enable (or 'Always on'), or `az backup vault backup-properties set -g <rg> -n <vault> "
        "--soft-delete-feature-state Enable`."
    ),
    frameworks={"NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]},
    needs=_NEEDS,
)
@each_vault
def vault_soft_delete(inv: Inventory, vault: Resource) -> Judgement:
    """``softDeleteSettings.softDeleteState`` Enabled or AlwaysON passes; Disabled fails;
    absent is not evaluated (older api-versions do not report it)."""
    state = as_dict(_security(vault).get("softDeleteSettings")).get("softDeleteState")
    metadata = {"softDeleteState": state}
    value = str(state or "").strip().lower()
    if value in ("enabled", "alwayson"):
        return Judgement(True, f"soft delete is {state}", metadata)
    if value == "disabled":
        return Judgement(False, "soft delete is Disabled", metadata)
    shown = "not reported" if state is None else f"unrecognised ({state!r})"
    return Judgement(None, f"softDeleteState {shown}", metadata)


@rule(
    id="AZ-RSV-002",
    title="Recovery Services vault is not immutable",
    severity="MEDIUM",
    category="backup",
    description=(
        "Immutability is off, so recovery points can be deleted or have their retention reduced "
        "before they expire by anyone with enough vault rights, including a compromised admin."
    ),
    remediation=(
        "Portal: Recovery Services vault > Properties > Immutable vault > Enable (and lock it "
        "once tested), or `az backup vault update -g <rg> -n <vault> --immutability-state "
        "Unlocked` (then `Locked`)."
    ),
    frameworks={"NIST": ["PR.IP-4", "PR.DS-1"], "ISO27001": ["A.8.13"]},
    needs=_NEEDS,
)
@each_vault
def vault_immutability(inv: Inventory, vault: Resource) -> Judgement:
    """``immutabilitySettings.state`` Unlocked or Locked passes; Disabled or absent (the
    default) fails."""
    state = as_dict(_security(vault).get("immutabilitySettings")).get("state")
    metadata = {"immutabilityState": state}
    if str(state or "").strip().lower() in ("unlocked", "locked"):
        return Judgement(True, f"immutability is {state}", metadata)
    return Judgement(False, f"immutability is {state or 'not set (Disabled)'}", metadata)


@rule(
    id="AZ-RSV-003",
    title="Recovery Services vault allows public network access",
    severity="LOW",
    category="backup",
    description=(
        "Backup and restore traffic may use the vault's public endpoint; with private "
        "endpoints and public access disabled, backups are reachable only from the networks "
        "that need them."
    ),
    remediation=(
        "Create private endpoints for the vault, then portal: Recovery Services vault > "
        "Networking > Public access = Deny, or `az backup vault update -g <rg> -n <vault> "
        "--public-network-access Disable`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_vault
def vault_public_access(inv: Inventory, vault: Resource) -> Judgement:
    """Absent ``publicNetworkAccess`` is Enabled (the default)."""
    access = props(vault).get("publicNetworkAccess")
    metadata = {"publicNetworkAccess": access}
    if str(access or "Enabled").strip().lower() == "enabled":
        return Judgement(False, f"public network access is {access or 'Enabled (default)'}", metadata)
    return Judgement(True, f"public network access is {access}", metadata)
