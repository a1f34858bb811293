"""Event Hubs and Service Bus namespace rules: public network access and shared access (SAS key)
authentication.

Both read only the namespace's own GET (``publicNetworkAccess``, ``disableLocalAuth``), so no
child read is needed. IP filter and virtual network rules (the ``networkRuleSets/default``
child) are not read: a namespace whose public endpoint is on is reported even when an IP filter
narrows it, as for AZ-SQL-006.
"""

from __future__ import annotations

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import Judgement, Resource, judge_each_resource

EVENT_HUB_TYPE = "Microsoft.EventHub/namespaces"
SERVICE_BUS_TYPE = "Microsoft.ServiceBus/namespaces"


def _public_access(namespace: Resource) -> Judgement:
    """Absent ``publicNetworkAccess`` is Enabled (the Azure default); SecuredByPerimeter (a
    network security perimeter governs access) passes."""
    access = props(namespace).get("publicNetworkAccess")
    metadata = {"publicNetworkAccess": access}
    if access is None:
        return Judgement(False, "publicNetworkAccess not set (Enabled by default)", metadata)
    if str(access).strip().lower() == "enabled":
        return Judgement(False, "public network access is Enabled", metadata)
    return Judgement(True, f"public network access is {access}", metadata)


def _local_auth(namespace: Resource) -> Judgement:
    """Absent ``disableLocalAuth`` is false: SAS keys are accepted by default."""
    disabled = props(namespace).get("disableLocalAuth")
    metadata = {"disableLocalAuth": disabled}
    if disabled is True:
        return Judgement(True, "shared access keys are disabled (Microsoft Entra ID only)", metadata)
    return Judgement(False, "shared access signature (key) authentication is enabled", metadata)


@rule(
    id="AZ-MSG-001",
    title="Event Hubs namespace allows public network access",
    severity="MEDIUM",
    category="messaging",
    description=(
        "The namespace's public endpoint is on, so producers and consumers anywhere on the "
        "Internet can reach it; a leaked connection string is then usable from anywhere. IP "
        "filter rules (networkRuleSets) are not read."
    ),
    remediation=(
        "Reach the namespace over private endpoints, then portal: Event Hubs namespace > "
        "Networking > Public network access = Disabled, or `az eventhubs namespace update -g <rg> "
        "-n <namespace> --public-network-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({EVENT_HUB_TYPE})),
)
@judge_each_resource(EVENT_HUB_TYPE, "Event Hubs namespace")
def event_hub_public_access(inv: Inventory, namespace: Resource) -> Judgement:
    return _public_access(namespace)


@rule(
    id="AZ-MSG-002",
    title="Event Hubs namespace accepts shared access keys",
    severity="MEDIUM",
    category="messaging",
    description=(
        "Local (SAS key) authentication is on: connection strings with long-lived keys grant "
        "access without Microsoft Entra ID, so they bypass MFA, Conditional Access and RBAC, "
        "and are copied into code and configuration where they leak."
    ),
    remediation=(
        "Move clients to Microsoft Entra ID (managed identities with the Event Hubs Data roles), "
        "then `az eventhubs namespace update -g <rg> -n <namespace> --disable-local-auth true`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.5.17", "A.8.5"]},
    needs=Needs(resource_types=frozenset({EVENT_HUB_TYPE})),
)
@judge_each_resource(EVENT_HUB_TYPE, "Event Hubs namespace")
def event_hub_local_auth(inv: Inventory, namespace: Resource) -> Judgement:
    return _local_auth(namespace)


@rule(
    id="AZ-MSG-003",
    title="Service Bus namespace allows public network access",
    severity="MEDIUM",
    category="messaging",
    description=(
        "The namespace's public endpoint is on, so senders and receivers anywhere on the "
        "Internet can reach its queues and topics; a leaked connection string is then usable "
        "from anywhere. IP filter rules (networkRuleSets) are not read."
    ),
    remediation=(
        "Reach the namespace over private endpoints (Premium tier), then portal: Service Bus "
        "namespace > Networking > Public network access = Disabled, or `az servicebus namespace "
        "update -g <rg> -n <namespace> --public-network-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({SERVICE_BUS_TYPE})),
)
@judge_each_resource(SERVICE_BUS_TYPE, "Service Bus namespace")
def service_bus_public_access(inv: Inventory, namespace: Resource) -> Judgement:
    return _public_access(namespace)


@rule(
    id="AZ-MSG-004",
    title="Service Bus namespace accepts shared access keys",
    severity="MEDIUM",
    category="messaging",
    description=(
        "Local (SAS key) authentication is on: connection strings with long-lived keys grant "
        "access without Microsoft Entra ID, so they bypass MFA, Conditional Access and RBAC, "
        "and are copied into code and configuration where they leak."
    ),
    remediation=(
        "Move clients to Microsoft Entra ID (managed identities with the Service Bus Data "
        "roles), then `az servicebus namespace update -g <rg> -n <namespace> "
        "--disable-local-auth true`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.5.17", "A.8.5"]},
    needs=Needs(resource_types=frozenset({SERVICE_BUS_TYPE})),
)
@judge_each_resource(SERVICE_BUS_TYPE, "Service Bus namespace")
def service_bus_local_auth(inv: Inventory, namespace: Resource) -> Judgement:
    return _local_auth(namespace)
