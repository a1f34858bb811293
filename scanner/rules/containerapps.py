"""Container Apps rules: ingress that accepts plain HTTP, and ingress open to the whole
Internet without IP restrictions.

Both read the app's own GET (``Microsoft.App/containerApps``, ``properties.configuration.ingress``);
apps without ingress are not judged.
"""

from __future__ import annotations

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import Judgement, Resource, as_dict, judge_each_resource

CONTAINER_APP_TYPE = "Microsoft.App/containerApps"
_NEEDS = Needs(resource_types=frozenset({CONTAINER_APP_TYPE}))
each_app = judge_each_resource(CONTAINER_APP_TYPE, "container app")


def _ingress(app: Resource) -> dict[str, object]:
    return as_dict(as_dict(props(app).get("configuration")).get("ingress"))


@rule(
    id="AZ-CAPP-001",
    title="Container app ingress accepts plain HTTP",
    severity="MEDIUM",
    category="containers",
    description=(
        "Ingress allows insecure connections (`allowInsecure`), so HTTP requests are served "
        "instead of being redirected to HTTPS; credentials and session cookies can cross the "
        "network in clear text."
    ),
    remediation=(
        "`az containerapp ingress update -g <rg> -n <app> --allow-insecure false`, or portal: "
        "Container App > Ingress > clear 'Insecure connections'."
    ),
    frameworks={"NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=_NEEDS,
)
@each_app
def container_app_insecure(inv: Inventory, app: Resource) -> Judgement | None:
    """Apps without ingress (background workers) are not judged."""
    ingress = _ingress(app)
    if not ingress:
        return None
    insecure = ingress.get("allowInsecure")
    metadata = {"allowInsecure": insecure}
    if insecure is True:
        return Judgement(False, "ingress allows insecure HTTP connections", metadata)
    return Judgement(True, "ingress redirects HTTP to HTTPS", metadata)


@rule(
    id="AZ-CAPP-002",
    title="Container app ingress is open to the Internet without IP restrictions",
    severity="LOW",
    category="containers",
    description=(
        "External ingress has no IP security restriction, so the app answers any client on the "
        "Internet; internal tools and APIs meant for known callers are exposed to scanning and "
        "attack. Apps meant to be public should sit behind a WAF (Front Door or Application "
        "Gateway) whose addresses are the only ones allowed."
    ),
    remediation=(
        "Make ingress internal (`az containerapp ingress enable -g <rg> -n <app> --type "
        "internal ...`) or allow only known ranges: `az containerapp ingress access-restriction "
        "set -g <rg> -n <app> --rule-name <name> --ip-address <cidr> --action Allow`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_app
def container_app_open_ingress(inv: Inventory, app: Resource) -> Judgement | None:
    """Only external ingress is judged; any ``ipSecurityRestrictions`` entry passes."""
    ingress = _ingress(app)
    if not ingress or ingress.get("external") is not True:
        return None
    restrictions = ingress.get("ipSecurityRestrictions") or []
    metadata = {"external": True, "ipSecurityRestrictions": len(restrictions) if isinstance(restrictions, list) else 0}
    if isinstance(restrictions, list) and restrictions:
        return Judgement(True, f"external ingress limited by {len(restrictions)} IP restriction(s)", metadata)
    return Judgement(False, "external ingress accepts every address", metadata)


@rule(
    id="AZ-CAPP-003",
    title="Container app pulls images with a registry password",
    severity="MEDIUM",
    category="containers",
    description=(
        "A registry is configured with a username and a password secret (often the registry's "
        "admin credentials) instead of a managed identity, so a long-lived credential with push "
        "rights sits in the app's secrets and can be read by anyone with access to them."
    ),
    remediation=(
        "Give the app a managed identity with AcrPull on the registry, then `az containerapp "
        "registry set -g <rg> -n <app> --server <registry> --identity system` and remove the "
        "password secret; disable the registry's admin user."
    ),
    frameworks={"NIST": ["PR.AC-1"], "ISO27001": ["A.5.17"]},
    needs=_NEEDS,
)
@each_app
def container_app_registry_password(inv: Inventory, app: Resource) -> Judgement | None:
    """Apps with no private registry configured (public images) are not judged; a registry
    entry with ``passwordSecretRef`` fails, one with ``identity`` passes."""
    registries = [as_dict(r) for r in as_dict(props(app).get("configuration")).get("registries") or []]
    if not registries:
        return None
    with_password = [str(r.get("server") or "") for r in registries if r.get("passwordSecretRef")]
    metadata = {"registries": [str(r.get("server") or "") for r in registries], "withPassword": with_password}
    if with_password:
        return Judgement(False, f"registry {', '.join(with_password)} is accessed with a password secret", metadata)
    return Judgement(True, "registries are accessed with a managed identity", metadata)
