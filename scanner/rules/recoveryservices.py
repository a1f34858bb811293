"""Recovery Services vault rules: the backups themselves must survive an attacker (soft delete,
immutability) and the vault must not face the Internet.

Every vault rule reads the vault's own GET (``Microsoft.RecoveryServices/vaults``,
``properties.securitySettings`` and ``publicNetworkAccess``). The vault's list of protected
Azure VMs (:data:`VAULT_PROTECTED_VMS`, one paged list per vault) is read for the VM backup rule
(AZ-CMP-009, a VM rule, so it lives in ``compute.py``); :func:`protected_vms` indexes it.
"""

from __future__ import annotations

from typing import NamedTuple

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import resource_name, rule
from scanner.rules.support.helpers import Judgement, Resource, as_dict, judge_each_resource, public_network_access

VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
# The vault's backed-up Azure VMs (``Backup Protected Items - List``, filtered server-side to the
# AzureIaasVM backup management type so SQL-in-VM, file share and SAP items are not paged through).
VAULT_PROTECTED_VMS = ChildSpec(
    VAULT_TYPE, "backupProtectedItems?$filter=backupManagementType%20eq%20%27AzureIaasVM%27", is_list=True)
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
    return public_network_access(vault)


class ProtectedVms(NamedTuple):
    """Every vault's protected Azure VMs, joined once per evaluation: lower-cased VM id ->
    (protectionState, vault name), and vault name -> why its list could not be read."""

    items: dict[str, tuple[str, str]]
    unread_vaults: dict[str, str]


def protected_vms(inv: Inventory) -> ProtectedVms:
    """Index the protected-items lists of all vaults by the VM they protect
    (``properties.sourceResourceId``, else ``virtualMachineId``), case-insensitively: Azure
    Backup reports ids in its own casing. A VM protected in two vaults keeps the first
    ``Protected`` state seen."""
    items: dict[str, tuple[str, str]] = {}
    unread: dict[str, str] = {}
    # a vault whose own GET failed may still have answered its list (the list is what counts)
    vaults = [(str(v.get("id", "")), resource_name(v), "") for v in inv.of_type(VAULT_TYPE)]
    vaults += [(rid, rid.rsplit("/", 1)[-1], f"vault could not be read: {reason}")
               for rid, reason in inv.unreadable_of_type(VAULT_TYPE).items()]
    for vault_id, name, vault_error in vaults:
        payload = inv.child(VAULT_PROTECTED_VMS, vault_id)
        if not isinstance(payload, list):
            unread[name] = inv.child_error(VAULT_PROTECTED_VMS, vault_id) or vault_error or \
                "protected items not collected"
            continue
        for item in payload:
            p = props(as_dict(item))
            source = str(p.get("sourceResourceId") or p.get("virtualMachineId") or "").lower()
            if not source:
                continue
            state = str(p.get("protectionState") or "not reported")
            if source not in items or state.lower() == "protected":
                items[source] = (state, name)
    return ProtectedVms(items, unread)
