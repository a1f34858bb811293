"""Azure Container Registry rules: admin credentials, anonymous pull and network exposure.

Fields are read in the REST shape of the pinned api-version (2023-07-01); where Azure documents
a default for an omitted property the rule judges the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import Evaluation, rule
from scanner.rules.support.helpers import as_dict, flag, unreadable, verdict

ACR_TYPE = "Microsoft.ContainerRegistry/registries"
_ACR_NEEDS = Needs(resource_types=frozenset({ACR_TYPE}))


def _text(value: Any) -> str:
    return str(value or "").strip().lower()


@rule(
    id="AZ-ACR-001",
    title="Container registry admin user is enabled",
    severity="HIGH",
    category="containers",
    description=(
        "The admin user is a shared username/password with push and pull rights on every "
        "repository; it is not tied to a person, cannot be scoped, and a leaked password lets "
        "anyone replace images that clusters deploy."
    ),
    remediation=(
        "Move clients to Entra identities (managed identity + AcrPull/AcrPush roles), then "
        "`az acr update -n <registry> --admin-enabled false`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-4"], "ISO27001": ["A.8.2", "A.8.5"]},
    needs=_ACR_NEEDS,
)
def acr_admin_user(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``adminUserEnabled`` passes: the documented default is false."""
    for registry in inv.of_type(ACR_TYPE):
        raw = props(registry).get("adminUserEnabled")
        metadata = {"adminUserEnabled": raw}
        if flag(raw) is True:
            yield verdict(registry, ACR_TYPE, False, "admin user is enabled", metadata)
        else:
            yield verdict(registry, ACR_TYPE, True, "admin user disabled", metadata)
    yield from unreadable(inv, ACR_TYPE, "registry")


@rule(
    id="AZ-ACR-002",
    title="Container registry allows anonymous pull",
    severity="HIGH",
    category="containers",
    description=(
        "Anyone who can reach the registry can pull every image without authenticating, "
        "exposing proprietary code and any secrets or configuration baked into images."
    ),
    remediation="`az acr update -n <registry> --anonymous-pull-enabled false`.",
    frameworks={"NIST": ["PR.AC-4", "PR.DS-5"], "ISO27001": ["A.8.3"]},
    needs=_ACR_NEEDS,
)
def acr_anonymous_pull(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``anonymousPullEnabled`` passes: the documented default is false."""
    for registry in inv.of_type(ACR_TYPE):
        raw = props(registry).get("anonymousPullEnabled")
        metadata = {"anonymousPullEnabled": raw}
        if flag(raw) is True:
            yield verdict(registry, ACR_TYPE, False, "anonymous pull is enabled", metadata)
        else:
            yield verdict(registry, ACR_TYPE, True, "anonymous pull disabled", metadata)
    yield from unreadable(inv, ACR_TYPE, "registry")


@rule(
    id="AZ-ACR-003",
    title="Container registry is reachable from all networks",
    severity="MEDIUM",
    category="containers",
    description=(
        "The registry's public endpoint accepts connections from any network, so leaked "
        "credentials or tokens can be used to pull or push images from anywhere."
    ),
    remediation=(
        "Use private endpoints and `az acr update -n <registry> --public-network-enabled "
        "false`, or (Premium) restrict it with `az acr update -n <registry> --default-action "
        "Deny` plus `az acr network-rule add` for the allowed ranges."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_ACR_NEEDS,
)
def acr_public_network(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``publicNetworkAccess`` means Enabled and absent ``networkRuleSet`` means
    Allow (Azure defaults; Basic/Standard registries have no network rule set at all)."""
    for registry in inv.of_type(ACR_TYPE):
        registry_props = props(registry)
        access = registry_props.get("publicNetworkAccess")
        default_action = as_dict(registry_props.get("networkRuleSet")).get("defaultAction")
        metadata = {"publicNetworkAccess": access, "defaultAction": default_action}
        if _text(access) == "disabled":
            yield verdict(registry, ACR_TYPE, True, "public network access is disabled", metadata)
        elif _text(default_action) == "deny":
            yield verdict(registry, ACR_TYPE, True, "network default action is Deny", metadata)
        else:
            detail = (
                f"public network access {access or 'Enabled (default)'}, network default "
                f"action {default_action or 'Allow (default)'}"
            )
            yield verdict(registry, ACR_TYPE, False, detail, metadata)
    yield from unreadable(inv, ACR_TYPE, "registry")
