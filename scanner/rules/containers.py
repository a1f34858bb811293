"""Container rules: AKS managed clusters (API server exposure, authentication, authorization,
pod network isolation, policy enforcement, patching) and Azure Container Registry (admin
credentials, anonymous pull, network exposure).

Fields are read in the REST shape of the pinned api-versions (AKS 2024-09-01, ACR 2023-07-01).
Where Azure documents a default for an omitted property the rule judges the default; where an
omission is ambiguous the resource is reported as not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import Evaluation, rule
from scanner.rules.support.helpers import as_dict, flag, unreadable, verdict

AKS_TYPE = "Microsoft.ContainerService/managedClusters"
ACR_TYPE = "Microsoft.ContainerRegistry/registries"
_AKS_NEEDS = Needs(resource_types=frozenset({AKS_TYPE}))
_ACR_NEEDS = Needs(resource_types=frozenset({ACR_TYPE}))


def _text(value: Any) -> str:
    return str(value or "").strip().lower()


# --- AKS -------------------------------------------------------------------------------------


@rule(
    id="AZ-AKS-001",
    title="AKS API server is public and not restricted to authorized IP ranges",
    severity="HIGH",
    category="containers",
    description=(
        "The cluster's Kubernetes API server has a public endpoint that accepts connections "
        "from any address, so stolen kubeconfigs or API vulnerabilities can be exploited from "
        "anywhere on the Internet."
    ),
    remediation=(
        "Restrict the endpoint: `az aks update -g <rg> -n <cluster> "
        "--api-server-authorized-ip-ranges <cidr>[,<cidr>...]`, or make the cluster private "
        "(`az aks update -g <rg> -n <cluster> --enable-private-cluster` with API server VNet "
        "integration, or recreate it with `az aks create ... --enable-private-cluster`)."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_AKS_NEEDS,
)
def aks_public_api_server(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``apiServerAccessProfile`` is judged by the Azure default: a public API server
    reachable from all addresses (``enablePrivateCluster`` defaults to false, no ranges)."""
    for cluster in inv.of_type(AKS_TYPE):
        profile = as_dict(props(cluster).get("apiServerAccessProfile"))
        private = flag(profile.get("enablePrivateCluster")) is True
        ranges = profile.get("authorizedIPRanges")
        n_ranges = len([r for r in ranges if r]) if isinstance(ranges, list) else 0
        metadata = {"enablePrivateCluster": private, "authorizedIPRanges": n_ranges}
        if private:
            yield verdict(cluster, AKS_TYPE, True, "private cluster", metadata)
        elif n_ranges:
            yield verdict(
                cluster, AKS_TYPE, True, f"API server limited to {n_ranges} authorized range(s)",
                metadata,
            )
        else:
            yield verdict(
                cluster, AKS_TYPE, False,
                "public API server with no authorized IP ranges", metadata,
            )
    yield from unreadable(inv, AKS_TYPE, "cluster")


@rule(
    id="AZ-AKS-002",
    title="AKS local accounts are enabled",
    severity="MEDIUM",
    category="containers",
    description=(
        "The cluster keeps its local admin account, whose static cluster-admin credential "
        "(`az aks get-credentials --admin`) bypasses Microsoft Entra ID, Conditional Access and "
        "audit by user identity, and cannot be revoked short of rotating cluster certificates."
    ),
    remediation=(
        "Enable Microsoft Entra integration, then `az aks update -g <rg> -n <cluster> "
        "--disable-local-accounts`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.8.5"]},
    needs=_AKS_NEEDS,
)
def aks_local_accounts(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``disableLocalAccounts`` fails: the documented default is false (local
    accounts enabled)."""
    for cluster in inv.of_type(AKS_TYPE):
        raw = props(cluster).get("disableLocalAccounts")
        metadata = {"disableLocalAccounts": raw}
        if flag(raw) is True:
            yield verdict(cluster, AKS_TYPE, True, "local accounts disabled", metadata)
        else:
            shown = "not set (enabled by default)" if raw is None else "false"
            yield verdict(cluster, AKS_TYPE, False, f"disableLocalAccounts is {shown}", metadata)
    yield from unreadable(inv, AKS_TYPE, "cluster")


@rule(
    id="AZ-AKS-003",
    title="AKS Kubernetes RBAC is disabled",
    severity="HIGH",
    category="containers",
    description=(
        "Without Kubernetes RBAC every authenticated identity has unrestricted access to the "
        "cluster API, so any credential or compromised workload token can control all "
        "workloads and read all secrets."
    ),
    remediation=(
        "Kubernetes RBAC cannot be switched on in place: recreate the cluster with RBAC "
        "(the default of `az aks create`, optionally `--enable-aad --enable-azure-rbac`) and "
        "migrate workloads to it."
    ),
    frameworks={"NIST": ["PR.AC-4"], "ISO27001": ["A.5.15", "A.8.2"]},
    needs=_AKS_NEEDS,
)
def aks_rbac(inv: Inventory) -> Iterable[Evaluation]:
    """Only an explicit ``enableRBAC: false`` fails. ARM reports the field on every cluster and
    the REST spec documents no default, so an absent value is not evaluated."""
    for cluster in inv.of_type(AKS_TYPE):
        raw = props(cluster).get("enableRBAC")
        metadata = {"enableRBAC": raw}
        value = flag(raw)
        if value is True:
            yield verdict(cluster, AKS_TYPE, True, "Kubernetes RBAC enabled", metadata)
        elif value is False:
            yield verdict(cluster, AKS_TYPE, False, "enableRBAC is false", metadata)
        else:
            yield verdict(cluster, AKS_TYPE, None, "enableRBAC not reported", metadata)
    yield from unreadable(inv, AKS_TYPE, "cluster")


@rule(
    id="AZ-AKS-004",
    title="AKS cluster has no network policy engine",
    severity="MEDIUM",
    category="containers",
    description=(
        "With no network policy engine every pod can reach every other pod and service in the "
        "cluster, so one compromised workload can move laterally to databases, internal APIs "
        "and other namespaces."
    ),
    remediation=(
        "Enable a network policy engine, e.g. `az aks update -g <rg> -n <cluster> "
        "--network-policy azure` (or `cilium` / `calico` depending on the network plugin), then "
        "apply default-deny NetworkPolicies per namespace."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.22"]},
    needs=_AKS_NEEDS,
)
def aks_network_policy(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``networkProfile.networkPolicy`` fails: the documented default is that no
    network policy is enforced (same as ``none``)."""
    for cluster in inv.of_type(AKS_TYPE):
        policy = as_dict(props(cluster).get("networkProfile")).get("networkPolicy")
        metadata = {"networkPolicy": policy}
        if _text(policy) in ("", "none"):
            shown = "not set" if policy is None else str(policy)
            yield verdict(cluster, AKS_TYPE, False, f"network policy is {shown}", metadata)
        else:
            yield verdict(cluster, AKS_TYPE, True, f"network policy {policy}", metadata)
    yield from unreadable(inv, AKS_TYPE, "cluster")


@rule(
    id="AZ-AKS-005",
    title="AKS Azure Policy add-on is disabled",
    severity="LOW",
    category="containers",
    description=(
        "Without the Azure Policy add-on, policies such as 'no privileged containers' or "
        "'allowed registries' are neither enforced nor audited inside the cluster, so insecure "
        "pod specs are admitted unnoticed."
    ),
    remediation="`az aks enable-addons -g <rg> -n <cluster> --addons azure-policy`.",
    frameworks={"NIST": ["PR.IP-1"], "ISO27001": ["A.8.9"]},
    needs=_AKS_NEEDS,
)
def aks_azure_policy(inv: Inventory) -> Iterable[Evaluation]:
    """Absent add-on profile fails: add-ons are off unless enabled. The profile key is
    matched case-insensitively (Azure returns ``azurepolicy``; older clusters ``azurePolicy``)."""
    for cluster in inv.of_type(AKS_TYPE):
        addons = as_dict(props(cluster).get("addonProfiles"))
        profile = next(
            (as_dict(v) for k, v in addons.items() if str(k).lower() == "azurepolicy"), {}
        )
        enabled = flag(profile.get("enabled")) is True
        metadata = {"azurepolicy": enabled}
        if enabled:
            yield verdict(cluster, AKS_TYPE, True, "Azure Policy add-on enabled", metadata)
        else:
            yield verdict(cluster, AKS_TYPE, False, "Azure Policy add-on not enabled", metadata)
    yield from unreadable(inv, AKS_TYPE, "cluster")


@rule(
    id="AZ-AKS-006",
    title="AKS automatic upgrades are off",
    severity="LOW",
    category="containers",
    description=(
        "With no auto-upgrade channel the cluster stays on its Kubernetes version until someone "
        "upgrades it by hand, so security patches are missed and the version drifts out of "
        "support."
    ),
    remediation=(
        "`az aks update -g <rg> -n <cluster> --auto-upgrade-channel patch` (or `stable`), "
        "ideally with a planned maintenance window."
    ),
    frameworks={"NIST": ["PR.IP-12"], "ISO27001": ["A.8.8"]},
    needs=_AKS_NEEDS,
)
def aks_auto_upgrade(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``autoUpgradeProfile.upgradeChannel`` fails: the API default is ``none``."""
    for cluster in inv.of_type(AKS_TYPE):
        channel = as_dict(props(cluster).get("autoUpgradeProfile")).get("upgradeChannel")
        metadata = {"upgradeChannel": channel}
        if _text(channel) in ("", "none"):
            shown = "not set" if channel is None else str(channel)
            yield verdict(cluster, AKS_TYPE, False, f"auto-upgrade channel is {shown}", metadata)
        else:
            yield verdict(cluster, AKS_TYPE, True, f"auto-upgrade channel {channel}", metadata)
    yield from unreadable(inv, AKS_TYPE, "cluster")


# --- Container Registry --------------------------------------------------------------------


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
