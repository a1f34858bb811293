"""Azure Databricks workspace rules: public network access, secure cluster connectivity (no
public IPs on cluster nodes), customer-managed keys for managed services, VNet injection and
private endpoints, and NSGs on the injected subnets.

Every rule but one reads the workspace's own GET (``Microsoft.Databricks/workspaces``); AZ-DBW-006
joins it with the virtual networks already read for the network rules, and AZ-DBW-007 reads the
workspace's diagnostic settings (one list per workspace) for audit-log delivery.
"""

from __future__ import annotations

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.diagnostic_settings import judge_log_export
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    approved_private_endpoints,
    as_dict,
    judge_each_resource,
    public_network_access,
)

DATABRICKS_TYPE = "Microsoft.Databricks/workspaces"
_NEEDS = Needs(resource_types=frozenset({DATABRICKS_TYPE}))
each_workspace = judge_each_resource(DATABRICKS_TYPE, "Databricks workspace")


@rule(
    id="AZ-DBW-001",
    title="Databricks workspace allows public network access",
    severity="MEDIUM",
    category="analytics",
    description=(
        "The workspace's web application and REST API answer on the Internet, so a stolen "
        "personal access token or session works from anywhere; with Private Link and public "
        "access disabled only the organisation's networks reach it."
    ),
    remediation=(
        "Deploy the workspace with VNet injection and Private Link (front-end private endpoint), "
        "then `az databricks workspace update -g <rg> -n <ws> --public-network-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_workspace
def databricks_public_access(inv: Inventory, workspace: Resource) -> Judgement:
    """Absent ``publicNetworkAccess`` is Enabled (the default)."""
    return public_network_access(workspace)


@rule(
    id="AZ-DBW-002",
    title="Databricks clusters get public IP addresses (no secure cluster connectivity)",
    severity="MEDIUM",
    category="analytics",
    description=(
        "Secure cluster connectivity is off (`enableNoPublicIp` false): every cluster node gets a "
        "public IP and the control plane reaches it through open inbound ports, instead of the "
        "nodes connecting out through a relay with no inbound exposure."
    ),
    remediation=(
        "Enable secure cluster connectivity: `az databricks workspace update -g <rg> -n <ws> "
        "--enable-no-public-ip true` (VNet-injected workspaces need a NAT gateway or firewall for "
        "egress)."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_workspace
def databricks_no_public_ip(inv: Inventory, workspace: Resource) -> Judgement:
    """Read from ``parameters.enableNoPublicIp.value``; absent is not evaluated (its default
    changed across api-versions)."""
    value = as_dict(as_dict(props(workspace).get("parameters")).get("enableNoPublicIp")).get("value")
    metadata = {"enableNoPublicIp": value}
    if value is True:
        return Judgement(True, "secure cluster connectivity is enabled (no public IPs)", metadata)
    if value is False:
        return Judgement(False, "cluster nodes get public IPs (enableNoPublicIp is false)", metadata)
    return Judgement(None, "enableNoPublicIp not reported", metadata)


@rule(
    id="AZ-DBW-003",
    title="Databricks managed services are not encrypted with a customer-managed key",
    severity="LOW",
    category="analytics",
    description=(
        "Notebooks, secrets and query results kept in the control plane are encrypted with "
        "Microsoft-managed keys only; the organisation cannot rotate, audit or revoke the key."
    ),
    remediation=(
        "Premium tier: `az databricks workspace update -g <rg> -n <ws> --key-source "
        "Microsoft.Keyvault --key-name <key> --key-vault <uri> --key-version <version>` for "
        "managed services (encryption.entities.managedServices)."
    ),
    frameworks={"NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=_NEEDS,
)
@each_workspace
def databricks_cmk(inv: Inventory, workspace: Resource) -> Judgement:
    """``encryption.entities.managedServices.keySource`` Microsoft.Keyvault passes; absent fails."""
    entities = as_dict(as_dict(props(workspace).get("encryption")).get("entities"))
    source = as_dict(entities.get("managedServices")).get("keySource")
    metadata = {"managedServicesKeySource": source}
    if str(source or "").strip().lower() == "microsoft.keyvault":
        return Judgement(True, "managed services use a customer-managed key", metadata)
    return Judgement(False, "managed services use Microsoft-managed keys", metadata)


@rule(
    id="AZ-DBW-004",
    title="Databricks workspace is not deployed in a customer-managed virtual network",
    severity="MEDIUM",
    category="analytics",
    description=(
        "The workspace's clusters run in a virtual network Azure Databricks manages "
        "(no `parameters.customVirtualNetworkId`), so the organisation cannot apply its own NSG "
        "rules, route egress through its firewall, peer to on-premises networks or add private "
        "endpoints to the data plane. VNet injection is chosen at creation."
    ),
    remediation=(
        "Re-create the workspace with VNet injection: `az databricks workspace create -g <rg> -n "
        "<ws> --vnet <vnet id> --public-subnet <name> --private-subnet <name> ...` (portal: "
        "Networking > 'Deploy Azure Databricks workspace in your own Virtual Network'), then "
        "migrate notebooks and jobs."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20", "A.8.22"]},
    needs=_NEEDS,
)
@each_workspace
def databricks_vnet_injection(inv: Inventory, workspace: Resource) -> Judgement:
    """``parameters.customVirtualNetworkId.value``: a virtual network id passes; absent fails
    (Azure reports the parameter only for injected workspaces)."""
    parameters = props(workspace).get("parameters")
    if not isinstance(parameters, dict):
        return Judgement(None, "parameters not reported")
    vnet = as_dict(parameters.get("customVirtualNetworkId")).get("value")
    metadata = {"customVirtualNetworkId": vnet}
    if isinstance(vnet, str) and vnet.strip():
        return Judgement(True, f"deployed in virtual network {vnet.rstrip('/').rsplit('/', 1)[-1]}", metadata)
    return Judgement(False, "not deployed in a customer-managed virtual network", metadata)


@rule(
    id="AZ-DBW-005",
    title="Databricks workspace has no private endpoint",
    severity="LOW",
    category="analytics",
    description=(
        "No approved private endpoint connection (`privateEndpointConnections`) links the "
        "workspace to a virtual network, so users and clusters reach its web application and "
        "REST API over the public endpoint instead of private addresses."
    ),
    remediation=(
        "Premium tier, VNet-injected workspace: portal: Workspace > Networking > Private endpoint "
        "connections > + Private endpoint (sub-resource databricks_ui_api), or `az network "
        "private-endpoint create ... --private-connection-resource-id <workspace id> --group-id "
        "databricks_ui_api`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_workspace
def databricks_private_endpoint(inv: Inventory, workspace: Resource) -> Judgement:
    endpoints = approved_private_endpoints(workspace)
    metadata = {"privateEndpoints": endpoints}
    if endpoints:
        return Judgement(True, "approved private endpoint(s): " + ", ".join(endpoints), metadata)
    return Judgement(False, "no approved private endpoint connection", metadata)


VNET_TYPE = "Microsoft.Network/virtualNetworks"


def _parameter(workspace: Resource, name: str) -> str:
    value = as_dict(as_dict(props(workspace).get("parameters")).get(name)).get("value")
    return value.strip() if isinstance(value, str) else ""


@rule(
    id="AZ-DBW-006",
    title="Databricks workspace subnets have no network security group",
    severity="MEDIUM",
    category="analytics",
    description=(
        "A subnet the VNet-injected workspace runs its clusters in (`customPublicSubnetName`, "
        "`customPrivateSubnetName` of `customVirtualNetworkId`) has no network security group, "
        "so cluster traffic is not filtered and the rules Databricks needs cannot be enforced "
        "alongside the organisation's own. Workspaces without VNet injection are not judged "
        "(AZ-DBW-004 flags them); a virtual network outside the scanned subscription is not "
        "evaluated."
    ),
    remediation=(
        "Associate an NSG with both Databricks subnets: `az network vnet subnet update -g <rg> "
        "--vnet-name <vnet> -n <subnet> --network-security-group <nsg>` (portal: Virtual network "
        "> Subnets > <subnet> > Network security group)."
    ),
    frameworks={"NIST": ["PR.AC-5", "PR.PT-4"], "ISO27001": ["A.8.20", "A.8.22"]},
    needs=Needs(resource_types=frozenset({DATABRICKS_TYPE, VNET_TYPE})),
)
@each_workspace
def databricks_subnet_nsgs(inv: Inventory, workspace: Resource) -> Judgement | None:
    vnet_id = _parameter(workspace, "customVirtualNetworkId").rstrip("/").lower()
    if not vnet_id:
        return None
    names = [n for n in (_parameter(workspace, "customPublicSubnetName"),
                         _parameter(workspace, "customPrivateSubnetName")) if n]
    vnet = next((v for v in inv.of_type(VNET_TYPE) if str(v.get("id", "")).rstrip("/").lower() == vnet_id), None)
    metadata = {"virtualNetwork": vnet_id, "subnets": names}
    if vnet is None:
        reason = inv.unreadable_of_type(VNET_TYPE).get(vnet_id, "not in the scanned subscription")
        return Judgement(None, f"virtual network {vnet_id.rsplit('/', 1)[-1]} could not be read: {reason}", metadata)
    subnets = {str(as_dict(s).get("name") or "").lower(): as_dict(s) for s in props(vnet).get("subnets") or []}
    missing = [n for n in names if n.lower() not in subnets]
    bare = [n for n in names if n.lower() in subnets
            and not as_dict(as_dict(subnets[n.lower()].get("properties")).get("networkSecurityGroup")).get("id")]
    if bare:
        return Judgement(False, "subnets without an NSG: " + ", ".join(bare), metadata)
    if missing or not names:
        return Judgement(None, "injected subnets not found: " + (", ".join(missing) or "names not reported"), metadata)
    return Judgement(True, "both Databricks subnets have an NSG", metadata)


DATABRICKS_DIAGNOSTIC_SETTINGS = ChildSpec(DATABRICKS_TYPE, "providers/Microsoft.Insights/diagnosticSettings",
                                           is_list=True)
# The workspace audit categories that record who signed in and who changed what (Azure Monitor
# "Supported logs for Microsoft.Databricks/workspaces"): a setting enabling one of them, or the
# ``audit`` / ``allLogs`` group that contains them, delivers the audit trail CIS 2.1.7 asks for.
# Operational-only categories (dbfs, clusterLibraries, ...) alone do not count.
DATABRICKS_AUDIT_CATEGORIES = frozenset({"accounts", "clusters", "jobs", "notebook", "secrets", "workspace"})


@rule(
    id="AZ-DBW-007",
    title="Databricks workspace diagnostic logs are not delivered anywhere",
    severity="MEDIUM",
    category="analytics",
    description=(
        "No diagnostic setting of the workspace sends its audit logs (the `allLogs` or `audit` "
        "category group, or one of the audit categories accounts, clusters, jobs, notebook, "
        "secrets, workspace) to a Log Analytics workspace, storage account or event hub, so "
        "sign-ins, permission changes and cluster, job and notebook activity leave no record "
        "outside the workspace."
    ),
    remediation=(
        "Premium tier: portal: Databricks workspace > Diagnostic settings > Add diagnostic "
        "setting, category group 'allLogs' (or 'audit') to a Log Analytics workspace; or `az "
        "monitor diagnostic-settings create -n audit --resource <workspace id> --workspace "
        "<log analytics id> --logs '[{\"categoryGroup\":\"allLogs\",\"enabled\":true}]'`."
    ),
    frameworks={"NIST": ["PR.PT-1", "DE.AE-3"], "ISO27001": ["A.8.15"]},
    # one list per workspace (an extension resource); workspaces are few
    needs=Needs(resource_types=frozenset({DATABRICKS_TYPE}), children=(DATABRICKS_DIAGNOSTIC_SETTINGS,)),
)
@each_workspace
def databricks_diagnostic_logs(inv: Inventory, workspace: Resource) -> Judgement:
    """Passes when a setting with a destination enables an audit category or the ``audit`` /
    ``allLogs`` group."""
    return judge_log_export(inv, DATABRICKS_DIAGNOSTIC_SETTINGS, workspace, log="the workspace audit logs",
                            categories={c.lower() for c in DATABRICKS_AUDIT_CATEGORIES},
                            groups={"audit", "alllogs"}, metadata_key="auditLogsTo")
