"""AKS managed cluster rules: API server exposure, authentication, authorization, pod network
isolation, policy enforcement, patching, Kubernetes versions past end of support, and whether
the control plane's audit log is exported (the cluster's diagnostic settings, AZ-AKS-008).

Fields are read in the REST shape of the pinned api-version (2024-09-01). Where Azure documents
a default for an omitted property the rule judges the default; where an omission is ambiguous
the cluster is reported as not evaluated.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.diagnostic_settings import judge_log_export
from scanner.rules.support.end_of_support import judge_version
from scanner.rules.support.helpers import Judgement, Resource, as_dict, flag, judge_each_resource

AKS_TYPE = "Microsoft.ContainerService/managedClusters"
_AKS_NEEDS = Needs(resource_types=frozenset({AKS_TYPE}))
each_cluster = judge_each_resource(AKS_TYPE, "cluster")
# AKS Long Term Support keeps a minor version patched one year beyond the community's end
_AKS_LTS_EXTENSION = timedelta(days=365)


def _text(value: Any) -> str:
    return str(value or "").strip().lower()


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
@each_cluster
def aks_public_api_server(inv: Inventory, cluster: Resource) -> Judgement:
    """Absent ``apiServerAccessProfile`` is judged by the Azure default: a public API server
    reachable from all addresses (``enablePrivateCluster`` defaults to false, no ranges)."""
    profile = as_dict(props(cluster).get("apiServerAccessProfile"))
    private = flag(profile.get("enablePrivateCluster")) is True
    ranges = profile.get("authorizedIPRanges")
    n_ranges = len([r for r in ranges if r]) if isinstance(ranges, list) else 0
    metadata = {"enablePrivateCluster": private, "authorizedIPRanges": n_ranges}
    if private:
        return Judgement(True, "private cluster", metadata)
    if n_ranges:
        return Judgement(True, f"API server limited to {n_ranges} authorized range(s)", metadata)
    return Judgement(False, "public API server with no authorized IP ranges", metadata)


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
@each_cluster
def aks_local_accounts(inv: Inventory, cluster: Resource) -> Judgement:
    """Absent ``disableLocalAccounts`` fails: the documented default is false (local
    accounts enabled)."""
    raw = props(cluster).get("disableLocalAccounts")
    metadata = {"disableLocalAccounts": raw}
    if flag(raw) is True:
        return Judgement(True, "local accounts disabled", metadata)
    shown = "not set (enabled by default)" if raw is None else "false"
    return Judgement(False, f"disableLocalAccounts is {shown}", metadata)


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
@each_cluster
def aks_rbac(inv: Inventory, cluster: Resource) -> Judgement:
    """Only an explicit ``enableRBAC: false`` fails. ARM reports the field on every cluster and
    the REST spec documents no default, so an absent value is not evaluated."""
    raw = props(cluster).get("enableRBAC")
    metadata = {"enableRBAC": raw}
    value = flag(raw)
    if value is True:
        return Judgement(True, "Kubernetes RBAC enabled", metadata)
    if value is False:
        return Judgement(False, "enableRBAC is false", metadata)
    return Judgement(None, "enableRBAC not reported", metadata)


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
@each_cluster
def aks_network_policy(inv: Inventory, cluster: Resource) -> Judgement:
    """Absent ``networkProfile.networkPolicy`` fails: the documented default is that no
    network policy is enforced (same as ``none``)."""
    policy = as_dict(props(cluster).get("networkProfile")).get("networkPolicy")
    metadata = {"networkPolicy": policy}
    if _text(policy) in ("", "none"):
        shown = "not set" if policy is None else str(policy)
        return Judgement(False, f"network policy is {shown}", metadata)
    return Judgement(True, f"network policy {policy}", metadata)


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
@each_cluster
def aks_azure_policy(inv: Inventory, cluster: Resource) -> Judgement:
    """Absent add-on profile fails: add-ons are off unless enabled. The profile key is
    matched case-insensitively (Azure returns ``azurepolicy``; older clusters ``azurePolicy``)."""
    addons = as_dict(props(cluster).get("addonProfiles"))
    profile = next((as_dict(v) for k, v in addons.items() if str(k).lower() == "azurepolicy"), {})
    enabled = flag(profile.get("enabled")) is True
    metadata = {"azurepolicy": enabled}
    if enabled:
        return Judgement(True, "Azure Policy add-on enabled", metadata)
    return Judgement(False, "Azure Policy add-on not enabled", metadata)


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
@each_cluster
def aks_auto_upgrade(inv: Inventory, cluster: Resource) -> Judgement:
    """Absent ``autoUpgradeProfile.upgradeChannel`` fails: the API default is ``none``."""
    channel = as_dict(props(cluster).get("autoUpgradeProfile")).get("upgradeChannel")
    metadata = {"upgradeChannel": channel}
    if _text(channel) in ("", "none"):
        shown = "not set" if channel is None else str(channel)
        return Judgement(False, f"auto-upgrade channel is {shown}", metadata)
    return Judgement(True, f"auto-upgrade channel {channel}", metadata)


@rule(
    id="AZ-AKS-007",
    title="AKS cluster runs a Kubernetes version past end of support",
    severity="HIGH",
    category="containers",
    description=(
        "The cluster's Kubernetes minor version no longer receives security patches from the "
        "Kubernetes project, and AKS stops supporting it; known vulnerabilities in the API "
        "server, kubelet and container runtime stay open."
    ),
    remediation=(
        "Upgrade the control plane and node pools to a supported minor version "
        "(`az aks get-upgrades -g <rg> -n <cluster>`, then `az aks upgrade -g <rg> -n <cluster> "
        "--kubernetes-version <version>`), and set an auto-upgrade channel to stay current."
    ),
    frameworks={"NIST": ["PR.IP-12", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({AKS_TYPE})),
)
@each_cluster
def aks_version_out_of_support(inv: Inventory, cluster: Resource) -> Judgement:
    """``currentKubernetesVersion`` (the exact patch running) is preferred over
    ``kubernetesVersion`` (which may be an alias such as ``1.30``). Clusters on the AKS Long Term
    Support plan get one more year."""
    cluster_props = props(cluster)
    raw = cluster_props.get("currentKubernetesVersion") or cluster_props.get("kubernetesVersion")
    if str(cluster_props.get("supportPlan") or "").lower() == "akslongtermsupport":
        return judge_version("kubernetes", raw, inv.collected_at.date(), _AKS_LTS_EXTENSION, "AKS Long Term Support")
    return judge_version("kubernetes", raw, inv.collected_at.date())


AKS_DIAGNOSTIC_SETTINGS = ChildSpec(AKS_TYPE, "providers/Microsoft.Insights/diagnosticSettings", is_list=True)


@rule(
    id="AZ-AKS-008",
    title="AKS control plane audit log is not sent anywhere",
    severity="MEDIUM",
    category="containers",
    description=(
        "No diagnostic setting of the cluster sends the Kubernetes audit log (kube-audit or "
        "kube-audit-admin: every call to the API server, who made it and what changed) to a "
        "workspace, storage account or event hub. The control plane is managed by Azure, so "
        "without this export a compromised credential's actions in the cluster leave no trace."
    ),
    remediation=(
        "Portal: Kubernetes service > Diagnostic settings > Add diagnostic setting, category "
        "group 'audit' (or categories kube-audit / kube-audit-admin) to a Log Analytics "
        "workspace; or `az monitor diagnostic-settings create -n audit --resource <cluster id> "
        "--workspace <workspace id> --logs '[{\"categoryGroup\":\"audit\",\"enabled\":true}]'`."
    ),
    frameworks={"NIST": ["PR.PT-1", "DE.AE-3"], "ISO27001": ["A.8.15"]},
    # one list per cluster (an extension resource); clusters are few next to the reads they save
    needs=Needs(resource_types=frozenset({AKS_TYPE}), children=(AKS_DIAGNOSTIC_SETTINGS,)),
)
@each_cluster
def control_plane_audit_log(inv: Inventory, cluster: Resource) -> Judgement:
    """Passes when a setting with a destination enables kube-audit, kube-audit-admin, or the
    ``audit`` / ``allLogs`` category group (both contain them)."""
    return judge_log_export(inv, AKS_DIAGNOSTIC_SETTINGS, cluster, log="the Kubernetes audit log",
                            categories={"kube-audit", "kube-audit-admin"}, groups={"audit", "alllogs"},
                            metadata_key="auditLogTo")
