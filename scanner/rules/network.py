"""Network rules: NSGs exposing management and database ports to the Internet, subnets without
NSGs, idle public IPs, Application Gateways without a WAF, VNets without DDoS protection, and
whether network traffic can be investigated (Network Watcher in every region in use, NSG or
virtual network flow logs kept long enough, Application Gateway access logs exported).

The four NSG rules (AZ-NET-001..004) judge each NSG with the priority-ordered evaluation in :mod:`scanner.rules.support.nsg`,
so a port that an Allow opens but an earlier any-source Deny closes is reported as closed, and
rules restricted to a specific source are ignored (they do not expose the port to the Internet).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from scanner.inventory import ChildSpec, Inventory, Needs, normalise_location, props
from scanner.rules.support import nsg
from scanner.rules.support.base import Evaluation, resource_name, rule
from scanner.rules.support.diagnostic_settings import judge_log_export
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    as_dict,
    flag,
    judge_each_resource,
    judge_subscription,
    unreadable,
    verdict,
)

NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
_NEEDS = Needs(resource_types=frozenset({NSG_TYPE}))
each_nsg = judge_each_resource(NSG_TYPE, "network security group")

# Default ports of SQL Server (+ browser), MySQL, PostgreSQL, MongoDB, Redis, Cassandra,
# CouchDB and Oracle: services that should never face the whole Internet.
DATABASE_PORTS = (1433, 1434, 3306, 5432, 27017, 6379, 9042, 5984, 1521)


def _source_text(opener: nsg.NsgRule) -> str:
    source = opener.any_source or "*"
    return "Internet" if source.lower() == "internet" else f"any source ('{source}')"


def _exposed_ports(group: Resource, ports: tuple[int, ...]) -> Judgement:
    """Failed when any of ``ports`` is reachable over TCP from anywhere."""
    exposed = nsg.exposed_tcp_ports(group, ports)
    if not exposed:
        return Judgement(True, f"inbound TCP {', '.join(str(p) for p in ports)} not reachable from the Internet")
    # one clause per opening rule: "TCP 1433, 1434 allowed from ... by rule 'sql' (...)"
    by_rule: dict[nsg.NsgRule, list[int]] = {}
    for port, opener in exposed.items():
        by_rule.setdefault(opener, []).append(port)
    parts = [
        f"TCP {', '.join(map(str, open_ports))} allowed from {_source_text(opener)} by rule {opener.describe()}"
        for opener, open_ports in by_rule.items()
    ]
    metadata = {
        "open_ports": sorted(exposed),
        "rules": [{"port": port, **opener.as_metadata()} for port, opener in exposed.items()],
    }
    return Judgement(False, "inbound " + "; ".join(parts), metadata)


@rule(
    id="AZ-NET-001",
    title="Network security group allows SSH from the Internet",
    severity="HIGH",
    category="network",
    description=(
        "An inbound rule lets anyone on the Internet open TCP connections to port 22. Exposed "
        "SSH endpoints are scanned and brute-forced continuously, and any weak credential or "
        "unpatched sshd becomes a direct way into the network."
    ),
    remediation=(
        "Delete the rule or restrict its source to trusted addresses (portal: Network security "
        "group > Inbound security rules), e.g. `az network nsg rule update -g <rg> --nsg-name "
        "<nsg> -n <rule> --source-address-prefixes <trusted-cidr>`; prefer Azure Bastion or "
        "just-in-time VM access for administration."
    ),
    frameworks={"CIS": ["6.2"], "NIST": ["PR.AC-3", "PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_nsg
def ssh_open_to_internet(inv: Inventory, group: Resource) -> Judgement:
    return _exposed_ports(group, (22,))


@rule(
    id="AZ-NET-002",
    title="Network security group allows RDP from the Internet",
    severity="HIGH",
    category="network",
    description=(
        "An inbound rule lets anyone on the Internet reach TCP port 3389. RDP is one of the most "
        "attacked services on the Internet (password spraying, BlueKeep-class vulnerabilities) "
        "and a common ransomware entry point."
    ),
    remediation=(
        "Delete the rule or restrict its source to trusted addresses (portal: Network security "
        "group > Inbound security rules), e.g. `az network nsg rule update -g <rg> --nsg-name "
        "<nsg> -n <rule> --source-address-prefixes <trusted-cidr>`; use Azure Bastion or "
        "just-in-time VM access instead of exposing RDP."
    ),
    frameworks={"CIS": ["6.1"], "NIST": ["PR.AC-3", "PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_nsg
def rdp_open_to_internet(inv: Inventory, group: Resource) -> Judgement:
    return _exposed_ports(group, (3389,))


@rule(
    id="AZ-NET-003",
    title="Network security group exposes database ports to the Internet",
    severity="HIGH",
    category="network",
    description=(
        "An inbound rule lets anyone on the Internet reach a database port (SQL Server, MySQL, "
        "PostgreSQL, MongoDB, Redis, Cassandra, CouchDB or Oracle). Databases reachable from "
        "the Internet are routinely found by scanners and attacked for data theft or ransom."
    ),
    remediation=(
        "Remove the rule or restrict its source to the application subnets that need the "
        "database, e.g. `az network nsg rule update -g <rg> --nsg-name <nsg> -n <rule> "
        "--source-address-prefixes <app-subnet-cidr>`; reach databases over private endpoints "
        "or a VPN instead."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_nsg
def database_ports_open_to_internet(inv: Inventory, group: Resource) -> Judgement:
    return _exposed_ports(group, DATABASE_PORTS)


@rule(
    id="AZ-NET-004",
    title="Network security group allows all inbound traffic from the Internet",
    severity="CRITICAL",
    category="network",
    description=(
        "An inbound Allow rule admits every protocol on every port from any source, so every "
        "service listening on the protected VMs and subnets is exposed to the Internet and the "
        "NSG provides no filtering at all."
    ),
    remediation=(
        "Delete the rule (`az network nsg rule delete -g <rg> --nsg-name <nsg> -n <rule>`) and "
        "add narrow Allow rules for only the ports and source ranges the workload needs."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_nsg
def all_traffic_open_to_internet(inv: Inventory, group: Resource) -> Judgement:
    opener = nsg.allow_all_rule(group)
    if opener is None:
        return Judgement(True, "no unshadowed allow-all inbound rule")
    detail = (f"inbound traffic on all protocols and ports allowed from {_source_text(opener)} "
              f"by rule {opener.describe()}")
    return Judgement(False, detail, opener.as_metadata())


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


@rule(
    id="AZ-NET-011",
    title="Network security group allows UDP from the Internet",
    severity="MEDIUM",
    category="network",
    description=(
        "An inbound Allow rule admits UDP from any source. Internet-facing UDP services (DNS, "
        "NTP, SSDP, CLDAP, Memcached) are abused for reflection and amplification DDoS attacks "
        "and are rarely meant to be public."
    ),
    remediation=(
        "Restrict the rule's source to known ranges or remove it (`az network nsg rule update -g "
        "<rg> --nsg-name <nsg> -n <rule> --source-address-prefixes <cidr>`); publish UDP services "
        "through a load balancer or gateway designed for it when they must be public."
    ),
    frameworks={"CIS": ["6.3"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_nsg
def udp_open_to_internet(inv: Inventory, group: Resource) -> Judgement:
    exposure = nsg.udp_exposure(group)
    if exposure is None:
        return Judgement(True, "no inbound UDP reachable from the Internet")
    opener, ranges = exposure
    detail = f"inbound UDP {_ranges_text(ranges)} allowed from {_source_text(opener)} by rule {opener.describe()}"
    return Judgement(False, detail, {**opener.as_metadata(), "open_udp_ports": _ranges_text(ranges)})


# ---------------------------------------------------------------------------------------------
# Virtual networks, public IP addresses and application gateways
# ---------------------------------------------------------------------------------------------

VNET_TYPE = "Microsoft.Network/virtualNetworks"
PUBLIC_IP_TYPE = "Microsoft.Network/publicIPAddresses"
APP_GATEWAY_TYPE = "Microsoft.Network/applicationGateways"
each_vnet = judge_each_resource(VNET_TYPE, "virtual network")

# Azure reserves these subnet names for platform services that either reject an NSG outright
# (GatewaySubnet, AzureFirewall*, RouteServerSubnet) or need a very specific one (Bastion), so a
# missing NSG there is by design, not an oversight.
NSG_EXEMPT_SUBNETS = frozenset(
    name.lower()
    for name in (
        "GatewaySubnet",
        "AzureFirewallSubnet",
        "AzureFirewallManagementSubnet",
        "AzureBastionSubnet",
        "RouteServerSubnet",
    )
)

WAF_TIERS = frozenset({"waf", "waf_v2"})


def _properties_or_none(resource: dict[str, Any]) -> dict[str, Any] | None:
    """``properties`` when the GET reported them, else None (nothing can be decided)."""
    value = resource.get("properties")
    return value if isinstance(value, dict) else None


@rule(
    id="AZ-NET-005",
    title="Virtual network subnet has no network security group",
    severity="MEDIUM",
    category="network",
    description=(
        "Traffic to and from the subnet is not filtered by any network security group, so every "
        "VM or service placed in it relies solely on its own host firewall and lateral movement "
        "inside the virtual network is unrestricted."
    ),
    remediation=(
        "Associate an NSG with each listed subnet (portal: Virtual network > Subnets > <subnet> > "
        "Network security group), e.g. `az network vnet subnet update -g <rg> --vnet-name "
        "<vnet> -n <subnet> --network-security-group <nsg>`."
    ),
    frameworks={"NIST": ["PR.AC-5", "PR.PT-4"], "ISO27001": ["A.8.20", "A.8.22"]},
    needs=Needs(resource_types=frozenset({VNET_TYPE})),
)
@each_vnet
def subnet_without_nsg(inv: Inventory, vnet: Resource) -> Judgement:
    """One evaluation per VNet listing its unprotected subnets.

    Subnets reserved for gateways, firewalls, Bastion and Route Server are exempt. A subnet entry
    without ``properties`` (or a VNet without a ``subnets`` list) cannot be judged, so it yields
    "not evaluated" unless another subnet of the VNet already fails.
    """
    vnet_props = _properties_or_none(vnet)
    subnets = vnet_props.get("subnets") if vnet_props is not None else None
    if not isinstance(subnets, list):
        return Judgement(None, "subnets not reported")
    unprotected: list[str] = []
    unknown: list[str] = []
    exempt: list[str] = []
    for subnet in subnets:
        if not isinstance(subnet, dict):
            continue
        name = str(subnet.get("name") or str(subnet.get("id", "")).rsplit("/", 1)[-1])
        if name.lower() in NSG_EXEMPT_SUBNETS:
            exempt.append(name)
            continue
        subnet_props = subnet.get("properties")
        if not isinstance(subnet_props, dict):
            unknown.append(name)
        elif not as_dict(subnet_props.get("networkSecurityGroup")).get("id"):
            unprotected.append(name)
    metadata = {"unprotected_subnets": unprotected, "exempt_subnets": exempt}
    if unprotected:
        return Judgement(False, "subnets without an NSG: " + ", ".join(f"'{n}'" for n in unprotected), metadata)
    if unknown:
        return Judgement(None, "subnet properties not reported: " + ", ".join(f"'{n}'" for n in unknown), metadata)
    return Judgement(True, "every subnet has an NSG (or is exempt)", metadata)


@rule(
    id="AZ-NET-006",
    title="Public IP address is not attached to any resource",
    severity="LOW",
    category="network",
    description=(
        "The public IP address is allocated but not associated with a network interface, load "
        "balancer, gateway or NAT gateway. It costs money, is easily attached to something by "
        "mistake, and forgotten addresses blur the inventory of what faces the Internet."
    ),
    remediation=(
        "Delete the address if it is no longer needed (`az network public-ip delete -g <rg> -n "
        "<pip>`; portal: Public IP address > Overview > Delete), or associate it with the "
        "resource it was reserved for."
    ),
    frameworks={"NIST": ["ID.AM-2", "PR.AC-5"], "ISO27001": ["A.5.9", "A.8.20"]},
    needs=Needs(resource_types=frozenset({PUBLIC_IP_TYPE})),
)
@judge_each_resource(PUBLIC_IP_TYPE, "public IP address")
def public_ip_unattached(inv: Inventory, pip: Resource) -> Judgement:
    """ARM reports the association in ``properties.ipConfiguration`` (NICs, load balancers,
    gateways, Bastion) or ``properties.natGateway``; both missing means unattached. A document
    without ``properties`` at all says nothing and is not evaluated."""
    pip_props = _properties_or_none(pip)
    if pip_props is None:
        return Judgement(None, "properties not reported")
    ip_config = as_dict(pip_props.get("ipConfiguration")).get("id")
    nat_gateway = as_dict(pip_props.get("natGateway")).get("id")
    metadata = {"ipAddress": pip_props.get("ipAddress"), "ipConfiguration": ip_config, "natGateway": nat_gateway}
    if ip_config:
        return Judgement(True, f"attached to {ip_config}", metadata)
    if nat_gateway:
        return Judgement(True, f"attached to NAT gateway {nat_gateway}", metadata)
    shown = pip_props.get("ipAddress") or "no address allocated"
    return Judgement(False, f"not attached to any resource ({shown})", metadata)


@rule(
    id="AZ-NET-007",
    title="Application Gateway has no web application firewall",
    severity="HIGH",
    category="network",
    description=(
        "The Application Gateway publishes web applications without a web application firewall, "
        "so common attacks (SQL injection, cross-site scripting, known CVE exploits) reach the "
        "back ends unfiltered."
    ),
    remediation=(
        "Move the gateway to the WAF_v2 tier and associate a WAF policy in Prevention mode "
        "(portal: Application Gateway > Web application firewall), e.g. `az network "
        "application-gateway update -g <rg> -n <agw> --sku WAF_v2` then `az network "
        "application-gateway update -g <rg> -n <agw> --set firewallPolicy.id=<waf-policy-id>`."
    ),
    frameworks={"NIST": ["PR.PT-4", "DE.CM-1"], "ISO27001": ["A.8.20", "A.8.26"]},
    needs=Needs(resource_types=frozenset({APP_GATEWAY_TYPE})),
)
@judge_each_resource(APP_GATEWAY_TYPE, "application gateway")
def app_gateway_without_waf(inv: Inventory, gateway: Resource) -> Judgement:
    """Fails when the tier is not WAF/WAF_v2 and no WAF policy is associated, or when the
    gateway's own WAF configuration is explicitly disabled. A gateway reporting neither tier,
    policy nor WAF configuration is not evaluated."""
    gw_props = _properties_or_none(gateway) or {}
    tier = as_dict(gw_props.get("sku")).get("tier")
    policy = as_dict(gw_props.get("firewallPolicy")).get("id")
    waf_config = gw_props.get("webApplicationFirewallConfiguration")
    waf_enabled = flag(as_dict(waf_config).get("enabled"))
    metadata = {
        "tier": tier,
        "firewallPolicy": policy,
        "wafConfigurationEnabled": waf_enabled,
        "wafMode": as_dict(waf_config).get("firewallMode"),
    }
    if waf_enabled is False:
        return Judgement(False, "web application firewall configuration is disabled", metadata)
    if policy or waf_enabled is True:
        return Judgement(True, f"WAF policy {policy}" if policy else "WAF configuration enabled", metadata)
    if tier is None:
        return Judgement(None, "sku.tier not reported", metadata)
    if str(tier).strip().lower() in WAF_TIERS:
        return Judgement(True, f"tier {tier}", metadata)
    return Judgement(False, f"tier {tier} without a WAF policy", metadata)


@rule(
    id="AZ-NET-008",
    title="Virtual network is not protected by DDoS Network Protection",
    severity="LOW",
    category="network",
    description=(
        "Only the free infrastructure-level DDoS defence covers the virtual network's public "
        "endpoints; without DDoS Network Protection there is no adaptive tuning, attack "
        "telemetry or rapid-response support when an attack targets the workload."
    ),
    remediation=(
        "Create or reuse a DDoS protection plan and enable it on the virtual network (portal: "
        "Virtual network > DDoS protection > Enable), e.g. `az network vnet update -g <rg> -n "
        "<vnet> --ddos-protection true --ddos-protection-plan <plan-id>`."
    ),
    frameworks={"NIST": ["PR.DS-4"], "ISO27001": ["A.8.20", "A.8.6"]},
    needs=Needs(resource_types=frozenset({VNET_TYPE})),
)
@each_vnet
def vnet_without_ddos_protection(inv: Inventory, vnet: Resource) -> Judgement:
    """``enableDdosProtection`` defaults to false, so its absence fails; a VNet document without
    ``properties`` is not evaluated."""
    vnet_props = _properties_or_none(vnet)
    if vnet_props is None:
        return Judgement(None, "properties not reported")
    raw = vnet_props.get("enableDdosProtection")
    plan = as_dict(vnet_props.get("ddosProtectionPlan")).get("id")
    metadata = {"enableDdosProtection": raw, "ddosProtectionPlan": plan}
    if flag(raw) is True:
        return Judgement(True, "DDoS Network Protection enabled", metadata)
    if raw is None:
        return Judgement(False, "enableDdosProtection not set (defaults to off)", metadata)
    return Judgement(False, "DDoS Network Protection disabled", metadata)


# ---------------------------------------------------------------------------------------------
# Network Watcher and NSG flow logs: can traffic be investigated after the fact
# ---------------------------------------------------------------------------------------------

LOCATION_TYPE = "Microsoft.Resources/locations"
WATCHER_TYPE = "Microsoft.Network/networkWatchers"
# NSG flow logs live under the Network Watcher of the NSG's region.
FLOW_LOGS = ChildSpec(WATCHER_TYPE, "flowLogs", is_list=True)
FLOW_LOG_MIN_DAYS = 90


@rule(
    id="AZ-NET-009",
    title="Network Watcher is not enabled in a region with resources",
    severity="LOW",
    category="network",
    description=(
        "A region holds resources but has no Network Watcher, so NSG flow logs, connection "
        "troubleshooting, packet capture and topology are unavailable there when an incident "
        "needs them."
    ),
    remediation=(
        "`az network watcher configure --locations <region> --enabled true -g NetworkWatcherRG`, "
        "or portal: Network Watcher > Overview > Enable in the region. Azure enables it "
        "automatically unless that was opted out of."
    ),
    frameworks={"CIS": ["6.6"], "NIST": ["DE.CM-1"], "ISO27001": ["A.8.16"]},
    needs=Needs(resource_types=frozenset({WATCHER_TYPE})),
)
def network_watcher_regions(inv: Inventory) -> Iterable[Evaluation]:
    """One verdict per region the subscription listing showed resources in (``global`` is not a
    region). The resource is the location (``/subscriptions/{id}/locations/{region}``)."""
    watchers: dict[str, list[dict[str, Any]]] = {}
    for watcher in inv.of_type(WATCHER_TYPE):
        watchers.setdefault(normalise_location(watcher.get("location")), []).append(watcher)
    failed_reads = inv.unreadable_of_type(WATCHER_TYPE)
    for region, count in sorted(inv.locations.items()):
        if region in ("", "global"):
            continue
        here = watchers.get(region, [])
        working = [w for w in here if str(props(w).get("provisioningState") or "Succeeded").lower() == "succeeded"]
        metadata = {"resources": count, "networkWatchers": sorted(resource_name(w) for w in here)}
        if working:
            judgement = Judgement(True, f"Network Watcher {resource_name(working[0])} enabled", metadata)
        elif failed_reads and not here:
            reason = sorted(set(failed_reads.values()))[0]
            judgement = Judgement(None, f"{len(failed_reads)} network watcher(s) could not be read: {reason}", metadata)
        else:
            state = f" (provisioning state {props(here[0]).get('provisioningState')})" if here else ""
            judgement = Judgement(False, f"{count} resource(s) in {region} but no working Network Watcher{state}",
                                  metadata)
        yield Evaluation(f"/subscriptions/{inv.subscription_id}/locations/{region}", region, LOCATION_TYPE, *judgement)


def _flow_log_retention(flow_log: Mapping[str, Any]) -> int | None:
    """Days kept, or None for "kept indefinitely" (no retention policy, or 0 days: Azure then
    never deletes the records)."""
    policy = as_dict(props(dict(flow_log)).get("retentionPolicy"))
    if flag(policy.get("enabled")) is not True:
        return None
    days = policy.get("days")
    if isinstance(days, bool) or not isinstance(days, (int, float, str)):
        return None
    try:
        value = int(float(days))
    except ValueError:
        return None
    return value or None


def _flow_log_verdict(flow_log: Mapping[str, Any]) -> tuple[bool, str]:
    name = resource_name(flow_log)
    if flag(props(dict(flow_log)).get("enabled")) is not True:
        return False, f"flow log {name} is disabled"
    days = _flow_log_retention(flow_log)
    if days is None:
        return True, f"flow log {name} enabled, kept indefinitely"
    if days < FLOW_LOG_MIN_DAYS:
        return False, f"flow log {name} keeps {days} day(s), less than {FLOW_LOG_MIN_DAYS}"
    return True, f"flow log {name} enabled, kept {days} days"


NIC_TYPE = "Microsoft.Network/networkInterfaces"


def _flow_logs_by_target(inv: Inventory) -> dict[str, list[dict[str, Any]]]:
    """Every flow log read under any watcher, by lower-cased ``targetResourceId`` (an NSG for an
    NSG flow log; a virtual network, subnet or network interface for a VNet flow log)."""
    by_target: dict[str, list[dict[str, Any]]] = {}
    for payload in inv.children.get(FLOW_LOGS.key, {}).values():
        for flow_log in payload if isinstance(payload, list) else []:
            if isinstance(flow_log, dict):
                target = str(props(flow_log).get("targetResourceId") or "").rstrip("/").lower()
                by_target.setdefault(target, []).append(flow_log)
    return by_target


def _subnet_scopes(subnet_id: str) -> list[str]:
    """``.../virtualNetworks/v/subnets/s`` -> [the subnet, its virtual network], lower-cased."""
    subnet_id = subnet_id.rstrip("/").lower()
    vnet_id, sep, _ = subnet_id.rpartition("/subnets/")
    return [subnet_id, vnet_id] if sep else [subnet_id]


def _nic_scopes(nic_id: str, nics: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], bool]:
    """[the NIC, its subnet, its virtual network] (most specific first) and whether the NIC's own
    GET told us its subnet (False: only a flow log on the NIC itself can be attributed)."""
    nic = nics.get(nic_id)
    if nic is None:
        return [nic_id], False
    for ip_config in props(dict(nic)).get("ipConfigurations") or []:
        subnet_id = as_dict(as_dict(as_dict(ip_config).get("properties")).get("subnet")).get("id")
        if isinstance(subnet_id, str) and subnet_id:
            return [nic_id, *_subnet_scopes(subnet_id)], True
    return [nic_id], True


def _attachment_name(scope_id: str) -> str:
    parts = scope_id.rstrip("/").split("/")
    kind = {"subnets": "subnet", "networkinterfaces": "network interface",
            "virtualnetworks": "virtual network"}.get(parts[-2].lower() if len(parts) > 1 else "", "resource")
    if kind == "subnet":
        return f"subnet {parts[-3]}/{parts[-1]}"
    return f"{kind} {parts[-1]}"


FlowLogJudge = Callable[[Mapping[str, Any]], tuple[bool, str]]


def _vnet_flow_log_coverage(scopes: list[str], by_target: Mapping[str, list[dict[str, Any]]],
                            judge: FlowLogJudge = _flow_log_verdict) -> tuple[bool | None, str]:
    """Whether VNet flow logs cover one attachment of an NSG (or one subnet). The most specific
    scope that has a flow log decides (a flow log on the NIC or subnet overrides the virtual
    network's); one flow log at that scope that ``judge`` accepts is enough. None: no flow log at
    any scope."""
    for scope in scopes:
        logs = by_target.get(scope)
        if logs:
            verdicts = [judge(f) for f in logs]
            good = [detail for ok, detail in verdicts if ok]
            if good:
                return True, f"{good[0]} (on {_attachment_name(scope)})"
            return False, "; ".join(detail for _, detail in verdicts)
    return None, ""


def _nsg_flow_log_verdicts(inv: Inventory, judge: FlowLogJudge) -> Iterable[Evaluation]:
    """One verdict per NSG: its own NSG flow logs, else the VNet flow logs on every subnet and
    network interface it filters, each accepted or refused by ``judge`` (AZ-NET-010: retention,
    AZ-NET-019: traffic analytics)."""
    by_target = _flow_logs_by_target(inv)
    failed = sorted({r for k, r in inv.unreadable.items() if k.startswith(FLOW_LOGS.key + "|")})
    nics = {str(nic.get("id", "")).rstrip("/").lower(): nic for nic in inv.of_type(NIC_TYPE)}
    unreadable_nics = inv.unreadable_of_type(NIC_TYPE)
    for group in inv.of_type(NSG_TYPE):
        own_logs = by_target.get(str(group.get("id", "")).rstrip("/").lower(), [])
        own = [judge(f) for f in own_logs]
        metadata: dict[str, Any] = {
            "flowLogs": [
                {"name": resource_name(f), "enabled": flag(props(f).get("enabled")), "retentionDays": _flow_log_retention(f)}
                for f in own_logs
            ]
        }
        good = [detail for ok, detail in own if ok]
        if good:
            yield verdict(group, NSG_TYPE, True, good[0], metadata)
            continue
        attachments: list[tuple[list[str], bool]] = []
        for ref in props(group).get("subnets") or []:
            if isinstance(as_dict(ref).get("id"), str):
                attachments.append((_subnet_scopes(ref["id"]), True))
        for ref in props(group).get("networkInterfaces") or []:
            if isinstance(as_dict(ref).get("id"), str):
                attachments.append(_nic_scopes(ref["id"].rstrip("/").lower(), nics))
        covered: list[str] = []
        problems: list[str] = []
        unknown: list[str] = []
        for scopes, known in attachments:
            ok, detail = _vnet_flow_log_coverage(scopes, by_target, judge)
            name = _attachment_name(scopes[0])
            if ok:
                covered.append(f"{name}: {detail}")
            elif ok is False:
                problems.append(f"{name}: {detail}")
            elif not known:
                reason = unreadable_nics.get(scopes[0], "not collected")
                unknown.append(f"{name} could not be read: {reason}")
            else:
                problems.append(f"{name}: no VNet flow log on it or its virtual network")
        metadata["vnetFlowLogCoverage"] = {"covered": covered, "uncovered": problems, "unknown": unknown}
        if attachments and not problems and not unknown:
            yield verdict(group, NSG_TYPE, True, "covered by VNet flow logs: " + "; ".join(covered), metadata)
            continue
        if failed and not own:
            yield verdict(group, NSG_TYPE, None, f"flow logs could not be read: {failed[0]}", metadata)
        elif unknown and not problems and not own:
            yield verdict(group, NSG_TYPE, None, unknown[0], metadata)
        elif own:
            yield verdict(group, NSG_TYPE, False, "; ".join([detail for _, detail in own] + problems), metadata)
        elif problems:
            yield verdict(group, NSG_TYPE, False, "; ".join(problems), metadata)
        else:
            yield verdict(group, NSG_TYPE, False, "no flow log targets this NSG", metadata)
    yield from unreadable(inv, NSG_TYPE, "network security group")


@rule(
    id="AZ-NET-010",
    title="NSG traffic is not flow-logged for 90 days",
    severity="MEDIUM",
    category="network",
    description=(
        "Neither an NSG flow log on the network security group nor a virtual network flow log "
        "on every subnet and network interface it filters (on the interface, the subnet or "
        "their virtual network) is enabled and kept for 90 days or more, so the traffic the NSG "
        "allowed or denied cannot be reconstructed when an intrusion is found weeks later. "
        "Microsoft stopped new NSG flow logs on 2025-06-30 (retired 2027-09-30) in favour of "
        "virtual network flow logs, which count here too; the most specific flow log (interface, "
        "then subnet, then virtual network) decides for each attachment."
    ),
    remediation=(
        "Portal: Network Watcher > Flow logs > Create, flow log type 'Virtual network', target "
        "the virtual network (or subnet / network interface), a storage account and retention of "
        "90 days or more (optionally Traffic Analytics); or `az network watcher flow-log create "
        "-l <region> -n <name> --vnet <vnet id> --storage-account <id> --retention 90`."
    ),
    frameworks={"CIS": ["6.5"], "NIST": ["DE.CM-1", "PR.PT-1"], "ISO27001": ["A.8.15", "A.8.16"]},
    # network interfaces tell which subnet (and so which VNet flow log) covers an NSG attached to
    # a NIC; AZ-CMP-006 reads them already, so a full scan pays nothing more
    needs=Needs(resource_types=frozenset({NSG_TYPE, WATCHER_TYPE, NIC_TYPE}), children=(FLOW_LOGS,)),
)
def nsg_flow_logs(inv: Inventory) -> Iterable[Evaluation]:
    """One verdict per NSG. It passes on one good NSG flow log targeting it, or when every subnet
    and network interface it is attached to (``properties.subnets`` / ``networkInterfaces``, as
    Azure reports them on the NSG) is covered by a good VNet flow log. Flow logs are read under
    every watcher, even one whose own GET failed; an NSG that would fail while some watcher's flow
    logs (or one of its NICs) could not be read is not evaluated."""
    yield from _nsg_flow_log_verdicts(inv, _flow_log_verdict)


# ---------------------------------------------------------------------------------------------
# Azure Bastion, and web ports open to the Internet
# ---------------------------------------------------------------------------------------------

BASTION_TYPE = "Microsoft.Network/bastionHosts"
_VM_TYPE = "Microsoft.Compute/virtualMachines"


@rule(
    id="AZ-NET-012",
    title="No Azure Bastion host while virtual machines exist",
    severity="LOW",
    category="network",
    description=(
        "The subscription runs virtual machines but has no Azure Bastion host, so RDP and SSH "
        "administration needs public IPs, open management ports or a self-managed jump host. "
        "Bastion brokers both over TLS from the portal without exposing the VMs."
    ),
    remediation=(
        "Create an `AzureBastionSubnet` (/26 or larger) in the VMs' virtual network and a Bastion "
        "host in it: `az network bastion create -g <rg> -n <name> --vnet-name <vnet> "
        "--public-ip-address <pip> --location <region>`; then close RDP/SSH to the Internet."
    ),
    frameworks={"CIS": ["7.1"], "NIST": ["PR.AC-3", "PR.MA-2"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({BASTION_TYPE, _VM_TYPE})),
)
@judge_subscription
def bastion_host_exists(inv: Inventory) -> Judgement | None:
    """Judged only when the subscription has virtual machines (listed, readable or not): every
    VM is administered over RDP or SSH. A Bastion host in a failed provisioning state does not
    count; one whose GET failed leaves the question open."""
    vm_count = len(inv.of_type(_VM_TYPE)) + len(inv.unreadable_of_type(_VM_TYPE))
    if vm_count == 0:
        return None
    hosts = inv.of_type(BASTION_TYPE)
    working = [h for h in hosts if str(props(h).get("provisioningState") or "Succeeded").lower() == "succeeded"]
    metadata = {"virtualMachines": vm_count, "bastionHosts": sorted(resource_name(h) for h in hosts)}
    if working:
        return Judgement(True, f"Bastion host {resource_name(working[0])} serves {vm_count} VM(s)", metadata)
    failed = inv.unreadable_of_type(BASTION_TYPE)
    if failed:
        reason = sorted(set(failed.values()))[0]
        return Judgement(None, f"{len(failed)} Bastion host(s) could not be read: {reason}", metadata)
    return Judgement(False, f"{vm_count} virtual machine(s) but no working Azure Bastion host", metadata)


WEB_PORTS = (80, 443)


def _gateway_subnets(inv: Inventory) -> set[str]:
    """Lower-cased ids of the subnets that host an Application Gateway."""
    subnets: set[str] = set()
    for gateway in inv.of_type(APP_GATEWAY_TYPE):
        for config in props(gateway).get("gatewayIPConfigurations") or []:
            subnet_id = as_dict(as_dict(as_dict(config).get("properties")).get("subnet")).get("id")
            if subnet_id:
                subnets.add(str(subnet_id).lower())
    return subnets


@rule(
    id="AZ-NET-013",
    title="Network security group allows HTTP(S) from the Internet to workloads",
    severity="LOW",
    category="network",
    description=(
        "An inbound rule lets anyone on the Internet reach TCP 80 or 443 on the VMs or subnets "
        "the NSG protects, so web servers are published directly instead of behind an "
        "Application Gateway (WAF) or Front Door. Decision: an NSG that protects only subnets "
        "hosting an Application Gateway passes, because the gateway must accept web traffic from "
        "the Internet and fronts the workloads behind it (AZ-NET-007 checks its WAF); every other "
        "NSG that opens 80/443 to the Internet fails, for a reviewer to confirm the exposure is "
        "intended."
    ),
    remediation=(
        "Publish web workloads through an Application Gateway with WAF or Azure Front Door and "
        "restrict the NSG rule's source to the gateway subnet (or the `AzureFrontDoor.Backend` "
        "service tag): `az network nsg rule update -g <rg> --nsg-name <nsg> -n <rule> "
        "--source-address-prefixes <gateway-subnet-cidr>`."
    ),
    frameworks={"CIS": ["6.4"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({NSG_TYPE, APP_GATEWAY_TYPE})),
)
@each_nsg
def web_ports_open_to_internet(inv: Inventory, group: Resource) -> Judgement:
    judgement = _exposed_ports(group, WEB_PORTS)
    if judgement.passed is not False:
        return judgement
    subnets = {str(as_dict(s).get("id") or "").lower() for s in props(group).get("subnets") or []}
    nics = props(group).get("networkInterfaces") or []
    if subnets and not nics and subnets <= _gateway_subnets(inv):
        return Judgement(True, "opens 80/443 only to Application Gateway subnet(s), which front the workloads",
                         {"gatewaySubnets": sorted(subnets)})
    if subnets and not nics and inv.unreadable_of_type(APP_GATEWAY_TYPE):
        return Judgement(None, "opens 80/443 to subnets whose Application Gateways could not be read",
                         {"subnets": sorted(subnets)})
    return judgement


APP_GATEWAY_DIAGNOSTIC_SETTINGS = ChildSpec(APP_GATEWAY_TYPE, "providers/Microsoft.Insights/diagnosticSettings",
                                            is_list=True)


@rule(
    id="AZ-NET-014",
    title="Application gateway access log is not sent anywhere",
    severity="LOW",
    category="network",
    description=(
        "No diagnostic setting of the application gateway sends its access log "
        "(ApplicationGatewayAccessLog: every request with client IP, URI, status and backend) "
        "to a workspace, storage account or event hub, so attacks on the applications behind "
        "the Internet-facing gateway cannot be traced back. WAF gateways should send "
        "ApplicationGatewayFirewallLog as well; the allLogs group covers both."
    ),
    remediation=(
        "Portal: Application gateway > Diagnostic settings > Add diagnostic setting, category "
        "group 'allLogs' (or ApplicationGatewayAccessLog and ApplicationGatewayFirewallLog) to a "
        "Log Analytics workspace; or `az monitor diagnostic-settings create -n logs --resource "
        "<gateway id> --workspace <workspace id> --logs '[{\"categoryGroup\":\"allLogs\",\"enabled\":true}]'`."
    ),
    frameworks={"NIST": ["PR.PT-1", "DE.CM-1"], "ISO27001": ["A.8.15"]},
    # one list per gateway (an extension resource); gateways are few
    needs=Needs(resource_types=frozenset({APP_GATEWAY_TYPE}), children=(APP_GATEWAY_DIAGNOSTIC_SETTINGS,)),
)
@judge_each_resource(APP_GATEWAY_TYPE, "application gateway")
def app_gateway_access_log(inv: Inventory, gateway: Resource) -> Judgement:
    """Passes when a setting with a destination enables ApplicationGatewayAccessLog or the
    ``allLogs`` group."""
    return judge_log_export(inv, APP_GATEWAY_DIAGNOSTIC_SETTINGS, gateway, log="ApplicationGatewayAccessLog",
                            categories={"applicationgatewayaccesslog"}, groups={"alllogs"},
                            metadata_key="accessLogTo")


# ---------------------------------------------------------------------------------------------
# CIS v6: Application Gateway TLS and HTTP/2, WAF policy settings, flow logs per virtual network
# and to Log Analytics
# ---------------------------------------------------------------------------------------------

# Minimum TLS version of each predefined policy (Microsoft Learn, "Application Gateway TLS policy
# overview": 20150501 TLS 1.0, 20170401 TLS 1.1, the others TLS 1.2).
PREDEFINED_TLS_MINIMUM = {
    "appgwsslpolicy20150501": "TLSv1_0",
    "appgwsslpolicy20170401": "TLSv1_1",
    "appgwsslpolicy20170401s": "TLSv1_2",
    "appgwsslpolicy20220101": "TLSv1_2",
    "appgwsslpolicy20220101s": "TLSv1_2",
}
_TLS_OK = frozenset({"tlsv1_2", "tlsv1_3"})


@rule(
    id="AZ-NET-015",
    title="Application Gateway accepts TLS older than 1.2",
    severity="MEDIUM",
    category="network",
    description=(
        "The gateway's SSL policy lets clients negotiate TLS 1.0 or 1.1, whose weaknesses allow "
        "downgrade and decryption attacks. Predefined policies AppGwSslPolicy20150501 (TLS 1.0) "
        "and AppGwSslPolicy20170401 (TLS 1.1) fail; AppGwSslPolicy20170401S, 20220101 and "
        "20220101S (TLS 1.2) pass; a Custom or CustomV2 policy is judged by its "
        "`minProtocolVersion`. A gateway with no `sslPolicy` fails: its default depends on the "
        "api-version that created it (TLS 1.0 before 2023-02-01)."
    ),
    remediation=(
        "Portal: Application Gateway > Listeners > SSL settings > choose AppGwSslPolicy20220101S "
        "(or a custom policy with minimum TLS 1.2), or `az network application-gateway ssl-policy "
        "set -g <rg> --gateway-name <agw> --policy-type Predefined --name AppGwSslPolicy20220101S`."
    ),
    frameworks={"NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({APP_GATEWAY_TYPE})),
)
@judge_each_resource(APP_GATEWAY_TYPE, "application gateway")
def app_gateway_min_tls(inv: Inventory, gateway: Resource) -> Judgement:
    policy = as_dict(props(gateway).get("sslPolicy"))
    kind = str(policy.get("policyType") or "")
    name = str(policy.get("policyName") or "")
    minimum = policy.get("minProtocolVersion")
    metadata = {"policyType": kind or None, "policyName": name or None, "minProtocolVersion": minimum}
    if not policy:
        return Judgement(False, "no SSL policy set (the default of older gateways accepts TLS 1.0)", metadata)
    if kind.lower() == "predefined" or (name and not minimum):
        minimum = PREDEFINED_TLS_MINIMUM.get(name.lower())
        if minimum is None:
            return Judgement(None, f"predefined SSL policy '{name or '?'}' is not known", metadata)
        what = f"predefined policy {name}"
    elif minimum:
        what = f"{kind or 'custom'} policy"
    else:
        return Judgement(None, f"{kind or 'SSL'} policy without minProtocolVersion", metadata)
    if str(minimum).lower() in _TLS_OK:
        return Judgement(True, f"{what}: minimum {minimum}", metadata)
    return Judgement(False, f"{what} accepts {minimum}", metadata)


@rule(
    id="AZ-NET-016",
    title="Application Gateway does not use HTTP/2",
    severity="LOW",
    category="network",
    description=(
        "HTTP/2 is off (`enableHttp2` false or not set, its default), so clients fall back to "
        "HTTP/1.1: no header compression, no multiplexing over one TLS connection, and more "
        "connections held open per client."
    ),
    remediation=(
        "Portal: Application Gateway > Configuration > HTTP2 = Enabled, or `az network "
        "application-gateway update -g <rg> -n <agw> --http2 Enabled`."
    ),
    frameworks={"NIST": ["PR.PT-4"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({APP_GATEWAY_TYPE})),
)
@judge_each_resource(APP_GATEWAY_TYPE, "application gateway")
def app_gateway_http2(inv: Inventory, gateway: Resource) -> Judgement:
    raw = props(gateway).get("enableHttp2")
    metadata = {"enableHttp2": raw}
    if flag(raw) is True:
        return Judgement(True, "HTTP/2 enabled", metadata)
    return Judgement(False, "HTTP/2 disabled" if raw is not None else "enableHttp2 not set (off)", metadata)


WAF_POLICY_TYPE = "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies"
each_waf_policy = judge_each_resource(WAF_POLICY_TYPE, "WAF policy")
BOT_RULE_SET = "microsoft_botmanagerruleset"


@rule(
    id="AZ-NET-017",
    title="WAF policy does not inspect request bodies",
    severity="MEDIUM",
    category="network",
    description=(
        "The Application Gateway WAF policy's request body inspection "
        "(`policySettings.requestBodyCheck`) is off, so SQL injection, cross-site scripting and "
        "other payloads in POST and PUT bodies pass the firewall unexamined."
    ),
    remediation=(
        "Portal: Web Application Firewall policy > Policy settings > Request body inspection = "
        "On, or `az network application-gateway waf-policy policy-setting update -g <rg> "
        "--policy-name <policy> --request-body-check true`."
    ),
    frameworks={"NIST": ["PR.PT-4", "DE.CM-1"], "ISO27001": ["A.8.20", "A.8.26"]},
    needs=Needs(resource_types=frozenset({WAF_POLICY_TYPE})),
)
@each_waf_policy
def waf_request_body_check(inv: Inventory, policy: Resource) -> Judgement:
    settings = props(policy).get("policySettings")
    if not isinstance(settings, dict):
        return Judgement(None, "policySettings not reported")
    raw = settings.get("requestBodyCheck")
    metadata = {"requestBodyCheck": raw, "state": settings.get("state"), "mode": settings.get("mode")}
    value = flag(raw)
    if value is None:
        return Judgement(None, "requestBodyCheck not reported", metadata)
    return Judgement(value, "request body inspection " + ("on" if value else "off"), metadata)


@rule(
    id="AZ-NET-018",
    title="WAF policy has no bot protection",
    severity="LOW",
    category="network",
    description=(
        "The Application Gateway WAF policy does not include the managed bot protection rule "
        "set (`Microsoft_BotManagerRuleSet`), so traffic from known malicious bots (scanners, "
        "scrapers, credential stuffers) reaches the applications unfiltered."
    ),
    remediation=(
        "Portal: Web Application Firewall policy > Managed rules > Assign > Bot Protection "
        "(Microsoft_BotManagerRuleSet), or `az network application-gateway waf-policy "
        "managed-rule rule-set add -g <rg> --policy-name <policy> --type "
        "Microsoft_BotManagerRuleSet --version 1.0`."
    ),
    frameworks={"NIST": ["DE.CM-1"], "ISO27001": ["A.8.20", "A.8.26"]},
    needs=Needs(resource_types=frozenset({WAF_POLICY_TYPE})),
)
@each_waf_policy
def waf_bot_protection(inv: Inventory, policy: Resource) -> Judgement:
    managed = props(policy).get("managedRules")
    sets = as_dict(managed).get("managedRuleSets")
    if not isinstance(sets, list):
        return Judgement(None, "managedRules.managedRuleSets not reported")
    names = [f"{as_dict(s).get('ruleSetType')} {as_dict(s).get('ruleSetVersion')}" for s in sets]
    metadata = {"managedRuleSets": names}
    bot = [n for n, s in zip(names, sets) if str(as_dict(s).get("ruleSetType") or "").lower() == BOT_RULE_SET]
    if bot:
        return Judgement(True, f"bot protection rule set {bot[0]}", metadata)
    return Judgement(False, "no Microsoft_BotManagerRuleSet among the managed rule sets", metadata)


def _traffic_analytics_verdict(flow_log: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether a flow log sends its records to a Log Analytics workspace (traffic analytics)."""
    name = resource_name(flow_log)
    if flag(props(dict(flow_log)).get("enabled")) is not True:
        return False, f"flow log {name} is disabled"
    config = as_dict(as_dict(props(dict(flow_log)).get("flowAnalyticsConfiguration"))
                     .get("networkWatcherFlowAnalyticsConfiguration"))
    workspace = config.get("workspaceResourceId") or config.get("workspaceId")
    if flag(config.get("enabled")) is not True:
        return False, f"flow log {name} has traffic analytics off (not sent to Log Analytics)"
    if not workspace:
        return False, f"flow log {name} has traffic analytics on but no workspace"
    return True, f"flow log {name} sends to workspace {str(workspace).rsplit('/', 1)[-1]}"


_FLOW_NEEDS = Needs(resource_types=frozenset({NSG_TYPE, WATCHER_TYPE, NIC_TYPE}), children=(FLOW_LOGS,))


@rule(
    id="AZ-NET-019",
    title="NSG flow logs are not sent to Log Analytics",
    severity="LOW",
    category="network",
    description=(
        "Neither the network security group's own flow log nor the virtual network flow logs "
        "covering every subnet and network interface it filters send their records to a Log "
        "Analytics workspace (traffic analytics), so the traffic can be kept but not queried, "
        "correlated or alerted on. Coverage is decided as in AZ-NET-010."
    ),
    remediation=(
        "Portal: Network Watcher > Flow logs > <flow log> > Traffic analytics = Enabled with a "
        "Log Analytics workspace, or `az network watcher flow-log update -l <region> -n <name> "
        "--traffic-analytics true --workspace <workspace id>`."
    ),
    # CIS v2.0.0 5.1.6 asks for flow logs *sent to Log Analytics*: this rule, not AZ-NET-010
    frameworks={"CIS": ["5.1.6"], "NIST": ["DE.CM-1", "DE.AE-3"], "ISO27001": ["A.8.15", "A.8.16"]},
    needs=_FLOW_NEEDS,
)
def nsg_flow_logs_to_log_analytics(inv: Inventory) -> Iterable[Evaluation]:
    yield from _nsg_flow_log_verdicts(inv, _traffic_analytics_verdict)


def _vnet_flow_log_verdicts(inv: Inventory, judge: FlowLogJudge) -> Iterable[Evaluation]:
    """One verdict per virtual network: every subnet (or the network itself when it has none)
    covered by a flow log ``judge`` accepts, on the subnet or the virtual network."""
    by_target = _flow_logs_by_target(inv)
    failed = sorted({r for k, r in inv.unreadable.items() if k.startswith(FLOW_LOGS.key + "|")})
    for vnet in inv.of_type(VNET_TYPE):
        vnet_id = str(vnet.get("id", "")).rstrip("/").lower()
        subnets = [str(as_dict(s).get("id") or "") for s in props(vnet).get("subnets") or []]
        scopes = [_subnet_scopes(s) for s in subnets if s] or [[vnet_id]]
        covered: list[str] = []
        problems: list[str] = []
        for chain in scopes:
            ok, detail = _vnet_flow_log_coverage(chain, by_target, judge)
            name = _attachment_name(chain[0])
            if ok:
                covered.append(f"{name}: {detail}")
            else:
                problems.append(f"{name}: {detail or 'no flow log on it or its virtual network'}")
        metadata = {"covered": covered, "uncovered": problems}
        if not problems:
            yield verdict(vnet, VNET_TYPE, True, "; ".join(covered), metadata)
        elif failed:
            yield verdict(vnet, VNET_TYPE, None, f"flow logs could not be read: {failed[0]}", metadata)
        else:
            yield verdict(vnet, VNET_TYPE, False, "; ".join(problems), metadata)
    yield from unreadable(inv, VNET_TYPE, "virtual network")


_VNET_FLOW_NEEDS = Needs(resource_types=frozenset({VNET_TYPE, WATCHER_TYPE}), children=(FLOW_LOGS,))


@rule(
    id="AZ-NET-020",
    title="Virtual network is not flow-logged for 90 days",
    severity="MEDIUM",
    category="network",
    description=(
        "Not every subnet of the virtual network is covered by an enabled virtual network flow "
        "log (on the subnet or on the network) kept 90 days or more, so traffic inside and into "
        "the network cannot be reconstructed weeks after an intrusion. Judged per virtual "
        "network, whether or not its subnets have NSGs (AZ-NET-010 judges per NSG); a subnet's "
        "own flow log overrides the network's."
    ),
    remediation=(
        "`az network watcher flow-log create -l <region> -n <name> --vnet <vnet id> "
        "--storage-account <id> --retention 90` (portal: Network Watcher > Flow logs > Create, "
        "type 'Virtual network')."
    ),
    frameworks={"NIST": ["DE.CM-1", "PR.PT-1"], "ISO27001": ["A.8.15", "A.8.16"]},
    needs=_VNET_FLOW_NEEDS,
)
def vnet_flow_log_retention(inv: Inventory) -> Iterable[Evaluation]:
    yield from _vnet_flow_log_verdicts(inv, _flow_log_verdict)


@rule(
    id="AZ-NET-021",
    title="Virtual network flow logs are not sent to Log Analytics",
    severity="LOW",
    category="network",
    description=(
        "Not every subnet of the virtual network is covered by an enabled virtual network flow "
        "log with traffic analytics sending to a Log Analytics workspace, so its traffic cannot "
        "be queried or alerted on. A subnet's own flow log overrides the network's."
    ),
    remediation=(
        "Portal: Network Watcher > Flow logs > <flow log> > Traffic analytics = Enabled with a "
        "workspace, or `az network watcher flow-log update -l <region> -n <name> "
        "--traffic-analytics true --workspace <workspace id>`."
    ),
    frameworks={"NIST": ["DE.CM-1", "DE.AE-3"], "ISO27001": ["A.8.15", "A.8.16"]},
    needs=_VNET_FLOW_NEEDS,
)
def vnet_flow_logs_to_log_analytics(inv: Inventory) -> Iterable[Evaluation]:
    yield from _vnet_flow_log_verdicts(inv, _traffic_analytics_verdict)


VPN_GATEWAY_TYPE = "Microsoft.Network/virtualNetworkGateways"
# vpnAuthenticationTypes are inferred from the older configuration fields when a gateway does not
# report the list (gateways configured before the field existed)
_INFERRED_AUTH = (("aadTenant", "AAD"), ("vpnClientRootCertificates", "Certificate"),
                  ("radiusServerAddress", "Radius"), ("radiusServers", "Radius"))


def _p2s_authentication(config: Mapping[str, Any]) -> list[str]:
    """The point-to-site authentication types of a ``vpnClientConfiguration``."""
    declared = config.get("vpnAuthenticationTypes")
    if isinstance(declared, list) and declared:
        return sorted({str(t) for t in declared})
    return sorted({kind for key, kind in _INFERRED_AUTH if config.get(key)})


@rule(
    id="AZ-NET-022",
    title="VPN gateway point-to-site accepts authentication other than Entra ID",
    severity="MEDIUM",
    category="network",
    description=(
        "The virtual network gateway's point-to-site configuration "
        "(`vpnClientConfiguration.vpnAuthenticationTypes`) allows certificate or RADIUS "
        "authentication besides, or instead of, Microsoft Entra ID, so a leaked client "
        "certificate or RADIUS password connects to the network without Conditional Access or "
        "MFA. Gateways without point-to-site (no client address pool: ExpressRoute, "
        "site-to-site only) are not judged."
    ),
    remediation=(
        "Portal: Virtual network gateway > Point-to-site configuration > Authentication type = "
        "Azure Active Directory only (tenant, audience, issuer of the Azure VPN client), then "
        "redistribute the client profile; or `az network vnet-gateway update -g <rg> -n <gw> "
        "--vpn-auth-type AAD --aad-tenant <url> --aad-audience <id> --aad-issuer <url>`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.5.17", "A.8.5"]},
    # no subscription-wide list exists for this type: the collector reads each gateway the
    # resource listing names (GROUP_LIST_ONLY in scanner/azure/collector.py)
    needs=Needs(resource_types=frozenset({VPN_GATEWAY_TYPE})),
)
@judge_each_resource(VPN_GATEWAY_TYPE, "virtual network gateway")
def vpn_p2s_entra_only(inv: Inventory, gateway: Resource) -> Judgement | None:
    """Passes when the only authentication type is ``AAD``; not judged without a client address
    pool (no point-to-site)."""
    config = as_dict(props(gateway).get("vpnClientConfiguration"))
    pool = as_dict(config.get("vpnClientAddressPool")).get("addressPrefixes")
    if not pool:
        return None
    types = _p2s_authentication(config)
    metadata = {"vpnAuthenticationTypes": types, "vpnClientAddressPool": pool}
    if types == ["AAD"]:
        return Judgement(True, "point-to-site authenticates with Microsoft Entra ID only", metadata)
    if not types:
        return Judgement(None, "point-to-site authentication types not reported", metadata)
    return Judgement(False, "point-to-site accepts " + ", ".join(t for t in types if t != "AAD")
                     + (" besides Entra ID" if "AAD" in types else " (not Entra ID)"), metadata)
