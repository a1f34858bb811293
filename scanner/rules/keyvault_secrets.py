"""AZ-KV-008: key vault secrets without an expiration date.

The management plane lists a vault's secrets with their attributes only (enabled, exp,
created), never their values, so this rule needs no data-plane access. Certificates are
data-plane only and are not judged here.
"""

from __future__ import annotations

from typing import Iterable

from scanner.inventory import ChildSpec, Inventory, Needs
from scanner.rules.support.base import Evaluation, rule
from scanner.rules.keyvault import VAULT_TYPE, items_without_expiry

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
    """CIS 8.3 covers RBAC vaults and 8.4 access-policy vaults."""
    return items_without_expiry(inv, VAULT_SECRETS, "secret", cis_rbac="8.3", cis_access_policies="8.4")
