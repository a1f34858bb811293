"""Azure Container Registry rules: admin credentials, anonymous pull and network exposure.

Fields are read in the REST shape of the pinned api-version (2023-07-01); where Azure documents
a default for an omitted property the rule judges the default.
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import Judgement, Resource, as_dict, flag, judge_each_resource

ACR_TYPE = "Microsoft.ContainerRegistry/registries"
_ACR_NEEDS = Needs(resource_types=frozenset({ACR_TYPE}))
each_registry = judge_each_resource(ACR_TYPE, "registry")


def _text(value: Any) -> str:
    return str(value or "").strip().lower()


def _fails_when_enabled(registry: Resource, field: str, enabled: str, disabled: str) -> Judgement:
    """A registry feature that is off unless switched on (absent passes: the documented
    default is false) and is a finding when on."""
    raw = props(registry).get(field)
    if flag(raw) is True:
        return Judgement(False, enabled, {field: raw})
    return Judgement(True, disabled, {field: raw})


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
@each_registry
def acr_admin_user(inv: Inventory, registry: Resource) -> Judgement:
    return _fails_when_enabled(registry, "adminUserEnabled", "admin user is enabled", "admin user disabled")


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
@each_registry
def acr_anonymous_pull(inv: Inventory, registry: Resource) -> Judgement:
    return _fails_when_enabled(registry, "anonymousPullEnabled", "anonymous pull is enabled",
                               "anonymous pull disabled")


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
@each_registry
def acr_public_network(inv: Inventory, registry: Resource) -> Judgement:
    """Absent ``publicNetworkAccess`` means Enabled and absent ``networkRuleSet`` means
    Allow (Azure defaults; Basic/Standard registries have no network rule set at all)."""
    registry_props = props(registry)
    access = registry_props.get("publicNetworkAccess")
    default_action = as_dict(registry_props.get("networkRuleSet")).get("defaultAction")
    metadata = {"publicNetworkAccess": access, "defaultAction": default_action}
    if _text(access) == "disabled":
        return Judgement(True, "public network access is disabled", metadata)
    if _text(default_action) == "deny":
        return Judgement(True, "network default action is Deny", metadata)
    detail = (
        f"public network access {access or 'Enabled (default)'}, network default "
        f"action {default_action or 'Allow (default)'}"
    )
    return Judgement(False, detail, metadata)
