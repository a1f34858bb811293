"""PostgreSQL flexible server rules: public network access, encrypted connections, firewall
rules admitting all of Azure or the Internet, and major versions past end of support.

Server parameters and firewall rules are child resources, not part of the server GET, so rules
reading them report "not evaluated" when the child could not be read.
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.databases import (
    ALL_END,
    ALL_START,
    firewall_entries,
    flexible_public_access,
    ip_range,
    secure_transport,
    server_parameters,
)
from scanner.rules.support.end_of_support import judge_version
from scanner.rules.support.helpers import Judgement, Resource, as_dict, child_of, judge_each_resource, unread_child

POSTGRES_TYPE = "Microsoft.DBforPostgreSQL/flexibleServers"
PG_SECURE_TRANSPORT = ChildSpec(POSTGRES_TYPE, "configurations/require_secure_transport")
PG_FIREWALL_RULES = ChildSpec(POSTGRES_TYPE, "firewallRules", is_list=True)

each_server = judge_each_resource(POSTGRES_TYPE, "server")


@rule(
    id="AZ-PG-001",
    title="PostgreSQL flexible server allows public network access",
    severity="HIGH",
    category="database",
    description=(
        "The server has a public endpoint, so it is reachable from the Internet subject only to "
        "its firewall rules; one broad rule or weak password exposes the database."
    ),
    remediation=(
        "Use private access (VNet integration) or private endpoints and turn public access "
        "off: portal: PostgreSQL flexible server > Networking > clear 'Allow public access', "
        "or `az postgres flexible-server update -g <rg> -n <server> --public-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({POSTGRES_TYPE})),
)
@each_server
def postgres_public_access(inv: Inventory, server: Resource) -> Judgement:
    """Absent ``network.publicNetworkAccess`` is reported as not evaluated, not as compliant."""
    return flexible_public_access(server)


@rule(
    id="AZ-PG-002",
    title="PostgreSQL flexible server does not require encrypted connections",
    severity="MEDIUM",
    category="database",
    description=(
        "The server parameter require_secure_transport is off, so clients may connect without "
        "TLS and send passwords and query results in clear text over the network."
    ),
    remediation=(
        "Portal: PostgreSQL flexible server > Server parameters > require_secure_transport = ON, "
        "or `az postgres flexible-server parameter set -g <rg> -s <server> -n "
        "require_secure_transport --value on`."
    ),
    frameworks={"CIS": ["4.3.1"], "NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({POSTGRES_TYPE}), children=(PG_SECURE_TRANSPORT,)),
)
@each_server
def postgres_secure_transport(inv: Inventory, server: Resource) -> Judgement:
    """The parameter always exists on a flexible server, so an absent ``value`` is not
    evaluated rather than assumed to be the default (on)."""
    return secure_transport(inv, server, PG_SECURE_TRANSPORT, "on", "off")


@rule(
    id="AZ-PG-003",
    title="PostgreSQL flexible server runs a major version past end of support",
    severity="MEDIUM",
    category="database",
    description=(
        "The server's PostgreSQL major version is past the community's five-year support window, "
        "so vulnerabilities found since then are not fixed; Azure moves such servers to paid "
        "extended support and eventually forces an upgrade."
    ),
    remediation=(
        "Upgrade in place to a supported major version: portal: PostgreSQL flexible server > "
        "Overview > Upgrade, or `az postgres flexible-server upgrade -g <rg> -n <server> "
        "--version <major>` (test the application against the new version first)."
    ),
    frameworks={"NIST": ["PR.IP-12", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({POSTGRES_TYPE})),
)
@each_server
def postgres_version_out_of_support(inv: Inventory, server: Resource) -> Judgement:
    return judge_version("postgresql", props(server).get("version"), inv.collected_at.date())


@rule(
    id="AZ-PG-004",
    title="PostgreSQL flexible server firewall allows all Azure services or every address",
    severity="HIGH",
    category="database",
    description=(
        "A firewall rule 0.0.0.0-0.0.0.0 ('Allow public access from any Azure service') admits "
        "connections from every Azure tenant's resources, not just yours; 0.0.0.0-255.255.255.255 "
        "admits the whole Internet. Either leaves only the password between attackers and data."
    ),
    remediation=(
        "Delete the rule (`az postgres flexible-server firewall-rule delete -g <rg> -n <server> "
        "--rule-name <rule>`) and allow the specific client ranges, or switch the server to "
        "private access."
    ),
    frameworks={"CIS": ["4.3.7"], "NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({POSTGRES_TYPE}), children=(PG_FIREWALL_RULES,)),
)
@each_server
def postgres_broad_firewall(inv: Inventory, server: Resource) -> Judgement:
    """Servers with private access (public network access Disabled) pass: firewall rules only
    govern the public endpoint. Absent ``publicNetworkAccess`` is judged by the rules."""
    access = as_dict(props(server).get("network")).get("publicNetworkAccess")
    if str(access or "").strip().lower() == "disabled":
        return Judgement(True, "public network access is disabled", {"publicNetworkAccess": access})
    entries = firewall_entries(child_of(inv, PG_FIREWALL_RULES, server))
    if entries is None:
        return unread_child(inv, PG_FIREWALL_RULES, server, "firewall rules")
    broad: list[str] = []
    for entry in entries:
        start, end = ip_range(entry)
        if start == ALL_START and end in (ALL_START, ALL_END):
            label = "all Azure services" if end == ALL_START else f"{ALL_START}-{ALL_END}"
            broad.append(f"'{entry.get('name') or ''}' ({label})")
    metadata = {"broad_rules": broad, "rule_count": len(entries)}
    if broad:
        return Judgement(False, "firewall rule " + ", ".join(broad) + " is too broad", metadata)
    return Judgement(True, "no firewall rule admits all Azure services or addresses", metadata)


# Server parameters, read once per server as the ``configurations`` list (one paged request
# instead of one GET per parameter)
PG_CONFIGURATIONS = ChildSpec(POSTGRES_TYPE, "configurations", is_list=True)
_PARAM_NEEDS = Needs(resource_types=frozenset({POSTGRES_TYPE}), children=(PG_CONFIGURATIONS,))
_PARAM_REMEDIATION = (
    "Portal: Azure Database for PostgreSQL flexible server > Settings > Server parameters > "
    "{name} = {value}, or `az postgres flexible-server parameter set -g <rg> -s <server> -n "
    "{name} --value {value}`."
)


def _parameter(inv: Inventory, server: Resource, name: str) -> tuple[Any, Judgement | None]:
    """The parameter's value, or the "not evaluated" judgement when it cannot be known."""
    params = server_parameters(child_of(inv, PG_CONFIGURATIONS, server))
    if params is None:
        return None, unread_child(inv, PG_CONFIGURATIONS, server, "server parameters")
    if name not in params:
        return None, Judgement(None, f"server parameter {name} not reported")
    return params[name], None


def _on_parameter(inv: Inventory, server: Resource, name: str) -> Judgement:
    value, unknown = _parameter(inv, server, name)
    if unknown:
        return unknown
    metadata = {name: value}
    if str(value).strip().lower() in ("on", "true", "1"):
        return Judgement(True, f"{name} is {value}", metadata)
    return Judgement(False, f"{name} is {value}", metadata)


def _parameter_rule(rule_id: str, name: str, cis: str, title: str, description: str) -> None:
    @rule(
        id=rule_id,
        title=title,
        severity="LOW",
        category="database",
        description=description,
        remediation=_PARAM_REMEDIATION.format(name=name, value="on"),
        frameworks={"CIS": [cis], "NIST": ["DE.CM-1", "PR.PT-1"], "ISO27001": ["A.8.15"]},
        needs=_PARAM_NEEDS,
    )
    @each_server
    def judge(inv: Inventory, server: Resource) -> Judgement:
        return _on_parameter(inv, server, name)

    judge.__name__ = f"parameter_{name.replace('.', '_')}"


_parameter_rule(
    "AZ-PG-005", "log_checkpoints", "4.3.2", "PostgreSQL flexible server does not log checkpoints",
    "log_checkpoints is off, so checkpoints and restart points are missing from the server log; "
    "they help tell a crash or I/O problem apart from an attack when an incident is investigated.")
_parameter_rule(
    "AZ-PG-006", "log_connections", "4.3.3", "PostgreSQL flexible server does not log connections",
    "log_connections is off, so successful and attempted connections (who, from where) leave no "
    "trace: brute-force attempts and unexpected clients go unnoticed.")
_parameter_rule(
    "AZ-PG-007", "log_disconnections", "4.3.4", "PostgreSQL flexible server does not log disconnections",
    "log_disconnections is off, so session ends and durations are not logged and sessions cannot "
    "be reconstructed after an incident.")
_parameter_rule(
    "AZ-PG-008", "connection_throttle.enable", "4.3.5",
    "PostgreSQL flexible server does not throttle failed connections",
    "connection_throttle.enable is off, so repeated failed logins from one address are not slowed "
    "down and password guessing runs at full speed.")

PG_MIN_LOG_RETENTION_DAYS = 4  # CIS: more than 3 days


@rule(
    id="AZ-PG-009",
    title="PostgreSQL flexible server keeps its logs 3 days or less",
    severity="LOW",
    category="database",
    description=(
        "logfiles.retention_days is 3 or less, so the server's own logs are gone before an "
        "incident found after a weekend can be investigated."
    ),
    remediation=_PARAM_REMEDIATION.format(name="logfiles.retention_days", value="7"),
    frameworks={"CIS": ["4.3.6"], "NIST": ["PR.PT-1"], "ISO27001": ["A.8.15"]},
    needs=_PARAM_NEEDS,
)
@each_server
def log_retention(inv: Inventory, server: Resource) -> Judgement:
    value, unknown = _parameter(inv, server, "logfiles.retention_days")
    if unknown:
        return unknown
    metadata = {"logfiles.retention_days": value}
    try:
        days = int(str(value).strip())
    except ValueError:
        return Judgement(None, f"logfiles.retention_days is not a number ({value})", metadata)
    if days >= PG_MIN_LOG_RETENTION_DAYS:
        return Judgement(True, f"logs kept {days} days", metadata)
    return Judgement(False, f"logs kept {days} day(s), want more than 3", metadata)
