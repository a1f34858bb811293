"""Key Vault rules: recoverability (soft delete and purge protection: CIS "Key Vault is
recoverable" needs both before deleted keys and secrets can reliably be restored), the
authorization model, exposure of the vault's public endpoint, the lifetime of the keys and
secrets it holds, and whether its audit log is kept (AZ-KV-005).

The management plane lists a vault's keys and secrets with their attributes only (enabled,
exp, created), never key material or secret values, so no rule needs data-plane access.
Certificates are data-plane only and are not judged here.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import resource_name, rule
from scanner.rules.support.diagnostic_settings import judge_log_export
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    approved_private_endpoints,
    as_dict,
    child_of,
    flag,
    judge_each_resource,
    unread_child,
)

VAULT_TYPE = "Microsoft.KeyVault/vaults"
# The vault's keys and secrets as the management plane lists them (attributes only, never key
# material or values); diagnostic settings are an extension resource of the vault.
VAULT_KEYS = ChildSpec(VAULT_TYPE, "keys", is_list=True)
VAULT_SECRETS = ChildSpec(VAULT_TYPE, "secrets", is_list=True)
VAULT_DIAGNOSTIC_SETTINGS = ChildSpec(VAULT_TYPE, "providers/Microsoft.Insights/diagnosticSettings", is_list=True)
# what "could not be read" names for each child
_CHILD_NOUNS = {VAULT_KEYS.path: "keys", VAULT_SECRETS.path: "secrets",
                VAULT_DIAGNOSTIC_SETTINGS.path: "diagnostic settings"}

_NEEDS = Needs(resource_types=frozenset({VAULT_TYPE}))
each_vault = judge_each_resource(VAULT_TYPE, "key vault")
_FRAMEWORKS_SOFT_DELETE = {"CIS": ["8.5"], "NIST": ["PR.IP-4"], "ISO27001": ["A.8.13"]}
_FRAMEWORKS_PURGE = {"CIS": ["8.5"], "NIST": ["PR.IP-4", "PR.DS-1"], "ISO27001": ["A.8.13"]}


def _reported(vault: Resource, key: str) -> dict[str, Any]:
    """The metadata of a rule judging one vault property: that property as reported."""
    return {key: props(vault).get(key)}


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
@each_vault
def soft_delete(inv: Inventory, vault: Resource) -> Judgement:
    """Only an explicit ``false`` fails: Azure enables soft delete on every new vault and the
    property may be omitted when on (spec: violation when ``enableSoftDelete`` is false)."""
    metadata = _reported(vault, "enableSoftDelete")
    if flag(metadata["enableSoftDelete"]) is False:
        return Judgement(False, "enableSoftDelete is false", metadata)
    return Judgement(True, "soft delete enabled", metadata)


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
@each_vault
def purge_protection(inv: Inventory, vault: Resource) -> Judgement:
    """Absent counts as disabled: Azure omits ``enablePurgeProtection`` until it is turned on."""
    metadata = _reported(vault, "enablePurgeProtection")
    if flag(metadata["enablePurgeProtection"]) is True:
        return Judgement(True, "purge protection enabled", metadata)
    return Judgement(False, "purge protection is not enabled", metadata)


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
@each_vault
def rbac_authorization(inv: Inventory, vault: Resource) -> Judgement:
    """Absent ``enableRbacAuthorization`` fails: for the pinned api-version (2023-07-01) the
    default is false, i.e. the access-policy model."""
    metadata = _reported(vault, "enableRbacAuthorization")
    raw = metadata["enableRbacAuthorization"]
    if flag(raw) is True:
        return Judgement(True, "Azure RBAC authorization enabled", metadata)
    if raw is None:
        return Judgement(False, "enableRbacAuthorization is not set (access policies by default)", metadata)
    return Judgement(False, "vault uses access policies", metadata)


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
@each_vault
def public_network_access(inv: Inventory, vault: Resource) -> Judgement:
    """Passes when any one of: public access Disabled, a private endpoint connection, or a
    firewall default action of Deny. Absent ``publicNetworkAccess`` means Enabled and absent
    ``networkAcls`` means Allow (both Azure defaults)."""
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
        return Judgement(True, "public network access is disabled", metadata)
    if n_endpoints:
        return Judgement(True, f"{n_endpoints} private endpoint connection(s)", metadata)
    if str(default_action or "").strip().lower() == "deny":
        return Judgement(True, "firewall default action is Deny", metadata)
    detail = (
        f"public network access {access or 'Enabled (default)'}, firewall default action "
        f"{default_action or 'Allow (default)'}, no private endpoint"
    )
    return Judgement(False, detail, metadata)


EXPIRY_WARNING = timedelta(days=30)  # AZ-KV-007 lead time for rotating a key before it expires


def _child_list(inv: Inventory, spec: ChildSpec, vault: Resource) -> list[Any] | Judgement:
    """The vault's child collection, or the "not evaluated" judgement saying why it was not
    read (never an empty list, so an unreadable collection cannot pass as "no keys")."""
    payload = child_of(inv, spec, vault)
    if isinstance(payload, list):
        return payload
    return unread_child(inv, spec, vault, _CHILD_NOUNS[spec.path], unknown="not reported")


def _key_name(key: dict[str, Any]) -> str:
    return str(key.get("name") or str(key.get("id") or "").rsplit("/", 1)[-1])


def _enabled_keys(keys: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, attributes) of keys that can be used. Only an explicit ``enabled: false`` counts
    as disabled: Key Vault creates keys enabled, and a key whose state is not reported must not
    silently drop out of the check."""
    for key in keys:
        if not isinstance(key, dict):
            continue
        attributes = as_dict(props(key).get("attributes"))
        if flag(attributes.get("enabled")) is not False:
            yield _key_name(key), attributes


def _expiry(value: Any) -> datetime | None:
    """``attributes.exp`` (epoch seconds, tolerating numeric strings) as a UTC datetime."""
    if isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@rule(
    id="AZ-KV-006",
    title="Key vault keys have no expiration date",
    severity="MEDIUM",
    category="keyvault",
    description=(
        "Enabled keys in the vault never expire, so nothing forces them to be rotated: a key "
        "that leaked or was weakened stays valid for as long as nobody notices."
    ),
    remediation=(
        "Set an expiration date on each key (portal: Key vault > Keys > <key> > current version "
        "> 'Set expiration date', or `az keyvault key set-attributes --vault-name <vault> -n "
        "<key> --expires <UTC date>`) and add a rotation policy so new versions replace it."
    ),
    frameworks={"CIS": ["8.1", "8.2"], "NIST": ["PR.AC-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({VAULT_TYPE}), children=(VAULT_KEYS,)),
)
@each_vault
def keys_without_expiry(inv: Inventory, vault: Resource) -> Judgement:
    """One verdict per vault naming its enabled keys without ``exp``; disabled keys cannot be
    used and are ignored. CIS 8.1 covers RBAC vaults and 8.2 access-policy vaults: metadata
    says which applies."""
    return items_without_expiry(inv, vault, VAULT_KEYS, "key", cis_rbac="8.1", cis_access_policies="8.2")


def items_without_expiry(inv: Inventory, vault: Resource, spec: ChildSpec, noun: str, *, cis_rbac: str,
                         cis_access_policies: str) -> Judgement:
    """The judgement on one vault naming its enabled ``noun``s (keys or secrets, listed by
    ``spec``) that have no ``exp`` attribute. CIS numbers the control differently for RBAC and
    access-policy vaults; metadata says which applies."""
    items = _child_list(inv, spec, vault)
    if isinstance(items, Judgement):
        return items
    missing = sorted(name for name, attrs in _enabled_keys(items) if attrs.get("exp") is None)
    rbac = flag(props(vault).get("enableRbacAuthorization")) is True
    metadata = {f"{noun}s": len(items), "withoutExpiry": missing, "cis": cis_rbac if rbac else cis_access_policies}
    if missing:
        return Judgement(False, f"{len(missing)} enabled {noun}(s) without expiration date: {', '.join(missing)}",
                         metadata)
    return Judgement(True, f"every enabled {noun} has an expiration date", metadata)


@rule(
    id="AZ-KV-008",
    title="Key vault secrets have no expiration date",
    severity="MEDIUM",
    category="keyvault",
    description=(
        "Enabled secrets in the vault never expire, so passwords, connection strings and API "
        "keys stored there are never forced through rotation and stay valid after a leak."
    ),
    remediation=(
        "Set an expiration date on each secret (`az keyvault secret set-attributes --vault-name "
        "<vault> -n <secret> --expires <UTC date>`) and rotate it before then, ideally with an "
        "Event Grid 'near expiry' notification driving the rotation."
    ),
    frameworks={"CIS": ["8.3", "8.4"], "NIST": ["PR.AC-1"], "ISO27001": ["A.5.17", "A.8.24"]},
    needs=Needs(resource_types=frozenset({VAULT_TYPE}), children=(VAULT_SECRETS,)),
)
@each_vault
def secrets_without_expiry(inv: Inventory, vault: Resource) -> Judgement:
    """CIS 8.3 covers RBAC vaults and 8.4 access-policy vaults."""
    return items_without_expiry(inv, vault, VAULT_SECRETS, "secret", cis_rbac="8.3", cis_access_policies="8.4")


@rule(
    id="AZ-KV-007",
    title="Key vault keys are expired or expire within 30 days",
    severity="LOW",
    category="keyvault",
    description=(
        "Enabled keys in the vault have expired or will within 30 days. Operations that need "
        "them (decrypt, unwrap, sign) start failing at expiry, and an expired key left enabled "
        "shows that rotation is not happening."
    ),
    remediation=(
        "Rotate the key (`az keyvault key rotate --vault-name <vault> -n <key>`), move its "
        "consumers to the new version, then disable the old one; configure a rotation policy "
        "(`az keyvault key rotation-policy update`) so it happens before expiry."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({VAULT_TYPE}), children=(VAULT_KEYS,)),
)
@each_vault
def keys_expiring(inv: Inventory, vault: Resource) -> Judgement:
    """Judged against ``collected_at`` (not the wall clock) so a saved inventory re-scans the
    same. Keys without ``exp`` are AZ-KV-006's concern and do not fail here."""
    keys = _child_list(inv, VAULT_KEYS, vault)
    if isinstance(keys, Judgement):
        return keys
    horizon = inv.collected_at + EXPIRY_WARNING
    expired: list[str] = []
    expiring: list[str] = []
    for name, attributes in _enabled_keys(keys):
        expires = _expiry(attributes.get("exp"))
        if expires is None or expires > horizon:
            continue
        (expired if expires <= inv.collected_at else expiring).append(name)
    metadata = {"keys": len(keys), "expired": sorted(expired), "expiring": sorted(expiring)}
    if not (expired or expiring):
        return Judgement(True, "no enabled key expires within 30 days", metadata)
    parts = [f"expired: {', '.join(sorted(expired))}"] if expired else []
    parts += [f"expiring within 30 days: {', '.join(sorted(expiring))}"] if expiring else []
    return Judgement(False, "; ".join(parts), metadata)


# What captures the AuditEvent log: the category itself or a category group containing it.
_AUDIT_CATEGORIES = {"auditevent"}
_AUDIT_GROUPS = {"audit", "alllogs"}


@rule(
    id="AZ-KV-005",
    title="Key vault audit logging is not sent anywhere",
    severity="MEDIUM",
    category="keyvault",
    description=(
        "No diagnostic setting of the vault sends its AuditEvent log (every read of a secret, "
        "key or certificate and every change of access) to a workspace, storage account or event "
        "hub, so who used which secret cannot be established after a leak."
    ),
    remediation=(
        "Portal: Key vault > Diagnostic settings > Add diagnostic setting, category group 'audit' "
        "(or category AuditEvent) to a Log Analytics workspace; or `az monitor diagnostic-settings "
        "create -n audit --resource <vault id> --workspace <workspace id> --logs "
        "'[{\"categoryGroup\":\"audit\",\"enabled\":true}]'`."
    ),
    frameworks={"CIS": ["5.1.5"], "NIST": ["PR.PT-1", "DE.AE-3"], "ISO27001": ["A.8.15"]},
    needs=Needs(resource_types=frozenset({VAULT_TYPE}), children=(VAULT_DIAGNOSTIC_SETTINGS,)),
)
@each_vault
def audit_logging(inv: Inventory, vault: Resource) -> Judgement:
    """Passes when one setting has a destination and enables the AuditEvent category or the
    ``audit`` / ``allLogs`` category group (both contain AuditEvent)."""
    return judge_log_export(inv, VAULT_DIAGNOSTIC_SETTINGS, vault, log="AuditEvent", categories=_AUDIT_CATEGORIES,
                            groups=_AUDIT_GROUPS, metadata_key="auditLogTo")


def _rotates(key: dict[str, Any]) -> bool:
    """The key's rotation policy (``properties.rotationPolicy`` of the ARM key) has a lifetime
    action of type rotate; the default policy only notifies."""
    policy = as_dict(props(key).get("rotationPolicy"))
    for action in policy.get("lifetimeActions") or []:
        if str(as_dict(as_dict(action).get("action")).get("type") or "").lower() == "rotate":
            return True
    return False


@rule(
    id="AZ-KV-009",
    title="Key vault keys have no automatic rotation policy",
    severity="MEDIUM",
    category="keyvault",
    description=(
        "Enabled keys have no rotation policy that rotates them, so the same key material "
        "protects data indefinitely and rotation depends on someone remembering it. Disabled "
        "keys are ignored."
    ),
    remediation=(
        "Portal: Key vault > Keys > <key> > Rotation policy > 'Enable auto rotation' (e.g. rotate "
        "90 days after creation), or `az keyvault key rotation-policy update --vault-name <vault> "
        "-n <key> --value <policy.json>`."
    ),
    frameworks={"CIS": ["8.8"], "NIST": ["PR.AC-1", "PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({VAULT_TYPE}), children=(VAULT_KEYS,)),
)
@each_vault
def keys_without_rotation(inv: Inventory, vault: Resource) -> Judgement:
    keys = _child_list(inv, VAULT_KEYS, vault)
    if isinstance(keys, Judgement):
        return keys
    enabled = [key for key in keys if isinstance(key, dict)
               and flag(as_dict(props(key).get("attributes")).get("enabled")) is not False]
    manual = sorted(_key_name(key) for key in enabled if not _rotates(key))
    metadata = {"keysWithoutRotation": manual, "enabledKeys": len(enabled)}
    if manual:
        return Judgement(False, "keys without automatic rotation: " + ", ".join(manual), metadata)
    if not enabled:
        return Judgement(True, "no enabled keys", metadata)
    return Judgement(True, f"all {len(enabled)} enabled key(s) rotate automatically", metadata)


@rule(
    id="AZ-KV-010",
    title="Key vault has no private endpoint",
    severity="LOW",
    category="keyvault",
    description=(
        "No approved private endpoint connects the vault to a virtual network, so clients reach "
        "keys and secrets through its public endpoint rather than over private addresses."
    ),
    remediation=(
        "Portal: Key vault > Networking > Private endpoint connections > + Create, or `az network "
        "private-endpoint create ... --private-connection-resource-id <vault id> --group-id "
        "vault`; then disable public access (AZ-KV-011)."
    ),
    frameworks={"CIS": ["8.7"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({VAULT_TYPE})),
)
@each_vault
def vault_private_endpoint(inv: Inventory, vault: Resource) -> Judgement:
    endpoints = approved_private_endpoints(vault)
    metadata = {"privateEndpoints": endpoints}
    if endpoints:
        return Judgement(True, "approved private endpoint(s): " + ", ".join(endpoints), metadata)
    return Judgement(False, "no approved private endpoint connection", metadata)


@rule(
    id="AZ-KV-011",
    title="Key vault public network access is enabled",
    severity="LOW",
    category="keyvault",
    description=(
        "The vault's public endpoint is on (even if a firewall narrows it), so it answers on the "
        "Internet; with private endpoints in place, switching it off removes that surface."
    ),
    remediation=(
        "After clients use a private endpoint: portal: Key vault > Networking > 'Disable public "
        "access', or `az keyvault update -g <rg> -n <vault> --public-network-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({VAULT_TYPE})),
)
@each_vault
def vault_public_network_access(inv: Inventory, vault: Resource) -> Judgement:
    """Absent ``publicNetworkAccess`` fails: the default is Enabled."""
    raw = props(vault).get("publicNetworkAccess")
    metadata = {"publicNetworkAccess": raw}
    if str(raw or "").lower() == "disabled":
        return Judgement(True, "public network access is Disabled", metadata)
    return Judgement(False, f"public network access is {raw or 'Enabled (default)'}", metadata)
