"""Network security group rules: management and database ports open to the Internet.

All four rules judge each NSG with the priority-ordered evaluation in :mod:`scanner.rules.nsg`,
so a port that an Allow opens but an earlier any-source Deny closes is reported as closed, and
rules restricted to a specific source are ignored (they do not expose the port to the Internet).
"""

from __future__ import annotations

from typing import Iterable, Iterator

from scanner.inventory import Inventory, Needs
from scanner.rules import nsg
from scanner.rules.base import Evaluation, rule
from scanner.rules.helpers import unreadable, verdict

NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
_NEEDS = Needs(resource_types=frozenset({NSG_TYPE}))

# Default ports of SQL Server (+ browser), MySQL, PostgreSQL, MongoDB, Redis, Cassandra,
# CouchDB and Oracle: services that should never face the whole Internet.
DATABASE_PORTS = (1433, 1434, 3306, 5432, 27017, 6379, 9042, 5984, 1521)


def _source_text(opener: nsg.NsgRule) -> str:
    source = opener.any_source or "*"
    return "Internet" if source.lower() == "internet" else f"any source ('{source}')"


def _evaluate_ports(inv: Inventory, ports: tuple[int, ...]) -> Iterator[Evaluation]:
    """One evaluation per NSG: failed when any of ``ports`` is reachable over TCP from anywhere."""
    for group in inv.of_type(NSG_TYPE):
        exposed = nsg.exposed_tcp_ports(group, ports)
        if not exposed:
            listed = ", ".join(str(p) for p in ports)
            yield verdict(group, NSG_TYPE, True, f"inbound TCP {listed} not reachable from the Internet")
            continue
        # one clause per opening rule: "TCP 1433, 1434 allowed from ... by rule 'sql' (...)"
        by_rule: dict[nsg.NsgRule, list[int]] = {}
        for port, opener in exposed.items():
            by_rule.setdefault(opener, []).append(port)
        parts = [
            f"TCP {', '.join(map(str, open_ports))} allowed from {_source_text(opener)} "
            f"by rule {opener.describe()}"
            for opener, open_ports in by_rule.items()
        ]
        yield verdict(
            group,
            NSG_TYPE,
            False,
            "inbound " + "; ".join(parts),
            {
                "open_ports": sorted(exposed),
                "rules": [
                    {"port": port, **opener.as_metadata()} for port, opener in exposed.items()
                ],
            },
        )


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
def ssh_open_to_internet(inv: Inventory) -> Iterable[Evaluation]:
    yield from _evaluate_ports(inv, (22,))
    yield from unreadable(inv, NSG_TYPE, "network security group")


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
def rdp_open_to_internet(inv: Inventory) -> Iterable[Evaluation]:
    yield from _evaluate_ports(inv, (3389,))
    yield from unreadable(inv, NSG_TYPE, "network security group")


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
def database_ports_open_to_internet(inv: Inventory) -> Iterable[Evaluation]:
    yield from _evaluate_ports(inv, DATABASE_PORTS)
    yield from unreadable(inv, NSG_TYPE, "network security group")


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
def all_traffic_open_to_internet(inv: Inventory) -> Iterable[Evaluation]:
    for group in inv.of_type(NSG_TYPE):
        opener = nsg.allow_all_rule(group)
        if opener is None:
            yield verdict(group, NSG_TYPE, True, "no unshadowed allow-all inbound rule")
            continue
        yield verdict(
            group,
            NSG_TYPE,
            False,
            f"inbound traffic on all protocols and ports allowed from "
            f"{_source_text(opener)} by rule {opener.describe()}",
            opener.as_metadata(),
        )
    yield from unreadable(inv, NSG_TYPE, "network security group")
