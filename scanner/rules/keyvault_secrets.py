"""AZ-KV-008: key vault secrets without an expiration date.

The management plane lists a vault's secrets with their attributes only (enabled, exp,
created), never their values, so this rule needs no data-plane access. Certificates are
data-plane only and are not judged here.
"""

from __future__ import annotations

from typing import Iterable

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.base import Evaluation, rule
from scanner.rules.helpers import flag, unreadable, verdict
from scanner.rules.keyvault import VAULT_TYPE, _child_list, _enabled_keys, _not_read

VAULT_SECRETS = ChildSpec(VAULT_TYPE, "secrets", "2023-07-01", is_list=True)


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
def secrets_without_expiry(inv: Inventory) -> Iterable[Evaluation]:
    """One verdict per vault naming its enabled secrets without ``exp``. CIS 8.3 covers RBAC
    vaults and 8.4 access-policy vaults: metadata says which applies."""
    for vault in inv.of_type(VAULT_TYPE):
        secrets = _child_list(inv, VAULT_SECRETS, vault)
        if secrets is None:
            yield _not_read(inv, VAULT_SECRETS, vault, "secrets")
            continue
        missing = sorted(name for name, attrs in _enabled_keys(secrets) if attrs.get("exp") is None)
        rbac = flag(props(vault).get("enableRbacAuthorization")) is True
        metadata = {"secrets": len(secrets), "withoutExpiry": missing, "cis": "8.3" if rbac else "8.4"}
        if missing:
            detail = f"{len(missing)} enabled secret(s) without expiration date: {', '.join(missing)}"
            yield verdict(vault, VAULT_TYPE, False, detail, metadata)
        else:
            yield verdict(vault, VAULT_TYPE, True, "every enabled secret has an expiration date", metadata)
    yield from unreadable(inv, VAULT_TYPE, "key vault")
