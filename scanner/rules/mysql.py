"""MySQL flexible server rules: public network access, encrypted connections and versions past
end of support.

The ``require_secure_transport`` server parameter is a child resource, not part of the server
GET, so AZ-MYSQL-002 reports "not evaluated" when it could not be read.
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.databases import flexible_public_access, secure_transport, server_parameters
from scanner.rules.support.end_of_support import judge_version
from scanner.rules.support.helpers import Judgement, Resource, child_of, judge_each_resource, unread_child

MYSQL_TYPE = "Microsoft.DBforMySQL/flexibleServers"
MYSQL_SECURE_TRANSPORT = ChildSpec(MYSQL_TYPE, "configurations/require_secure_transport")

each_server = judge_each_resource(MYSQL_TYPE, "server")


@rule(
    id="AZ-MYSQL-001",
    title="MySQL flexible server allows public network access",
    severity="HIGH",
    category="database",
    description=(
        "The server has a public endpoint, so it is reachable from the Internet subject only to "
        "its firewall rules; one broad rule or a weak password exposes the database."
    ),
    remediation=(
        "Use private access (VNet integration) or private endpoints and turn public access "
        "off: portal: MySQL flexible server > Networking > clear 'Allow public access', or "
        "`az mysql flexible-server update -g <rg> -n <server> --public-access Disabled`."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=Needs(resource_types=frozenset({MYSQL_TYPE})),
)
@each_server
def mysql_public_access(inv: Inventory, server: Resource) -> Judgement:
    """Absent ``network.publicNetworkAccess`` is not evaluated: the GET of the pinned
    api-version always reports it, and its value depends on how the server was created."""
    return flexible_public_access(server)


@rule(
    id="AZ-MYSQL-002",
    title="MySQL flexible server does not require encrypted connections",
    severity="MEDIUM",
    category="database",
    description=(
        "The server parameter require_secure_transport is OFF, so clients may connect without "
        "TLS and send passwords and query results in clear text over the network."
    ),
    remediation=(
        "Portal: MySQL flexible server > Server parameters > require_secure_transport = ON, or "
        "`az mysql flexible-server parameter set -g <rg> -s <server> -n "
        "require_secure_transport --value ON`."
    ),
    frameworks={"CIS": ["4.4.1"], "NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({MYSQL_TYPE}), children=(MYSQL_SECURE_TRANSPORT,)),
)
@each_server
def mysql_secure_transport(inv: Inventory, server: Resource) -> Judgement:
    """The parameter exists on every flexible server, so an absent ``value`` (including a 404,
    which the collector stores as ``{}``) is not evaluated rather than assumed to be ON."""
    return secure_transport(inv, server, MYSQL_SECURE_TRANSPORT, "ON", "OFF")


@rule(
    id="AZ-MYSQL-003",
    title="MySQL flexible server runs a version past end of support",
    severity="MEDIUM",
    category="database",
    description=(
        "The server's MySQL release is past Oracle's Premier Support, so security fixes are no "
        "longer released for it; Azure charges for extended support and eventually upgrades it."
    ),
    remediation=(
        "Upgrade the major version: portal: MySQL flexible server > Overview > Upgrade, or "
        "`az mysql flexible-server upgrade -g <rg> -n <server> --version 8.4` after testing the "
        "application against it."
    ),
    frameworks={"NIST": ["PR.IP-12", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({MYSQL_TYPE})),
)
@each_server
def mysql_version_out_of_support(inv: Inventory, server: Resource) -> Judgement:
    """``fullVersion`` (e.g. ``8.0.21``) when reported, else ``version`` (``5.7``, ``8.0.21``)."""
    server_props = props(server)
    raw = server_props.get("fullVersion") or server_props.get("version")
    return judge_version("mysql", raw, inv.collected_at.date())


# Server parameters, read once per server as the ``configurations`` list (one paged request
# instead of one GET per parameter)
MYSQL_CONFIGURATIONS = ChildSpec(MYSQL_TYPE, "configurations", is_list=True)
_PARAM_NEEDS = Needs(resource_types=frozenset({MYSQL_TYPE}), children=(MYSQL_CONFIGURATIONS,))
_WEAK_TLS = ("tlsv1", "tlsv1.1")


def _parameter(inv: Inventory, server: Resource, name: str) -> tuple[Any, Judgement | None]:
    params = server_parameters(child_of(inv, MYSQL_CONFIGURATIONS, server))
    if params is None:
        return None, unread_child(inv, MYSQL_CONFIGURATIONS, server, "server parameters")
    if name not in params:
        return None, Judgement(None, f"server parameter {name} not reported")
    return params[name], None


def _remediation(name: str, value: str) -> str:
    return (f"Portal: Azure Database for MySQL flexible server > Settings > Server parameters > {name} "
            f"= {value}, or `az mysql flexible-server parameter set -g <rg> -s <server> -n {name} "
            f"--value {value}`.")


@rule(
    id="AZ-MYSQL-004",
    title="MySQL flexible server accepts TLS versions below 1.2",
    severity="MEDIUM",
    category="database",
    description=(
        "tls_version still lists TLSv1 or TLSv1.1, so clients may connect with deprecated "
        "protocols that a network attacker can downgrade and attack."
    ),
    remediation=_remediation("tls_version", "TLSv1.2,TLSv1.3"),
    frameworks={"CIS": ["4.4.2"], "NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=_PARAM_NEEDS,
)
@each_server
def mysql_tls_version(inv: Inventory, server: Resource) -> Judgement:
    value, unknown = _parameter(inv, server, "tls_version")
    if unknown:
        return unknown
    versions = [v.strip() for v in str(value or "").split(",") if v.strip()]
    weak = [v for v in versions if v.lower() in _WEAK_TLS]
    metadata = {"tls_version": value}
    if not versions:
        return Judgement(None, "tls_version is empty", metadata)
    if weak:
        return Judgement(False, "tls_version allows " + ", ".join(weak), metadata)
    return Judgement(True, f"tls_version is {value}", metadata)


@rule(
    id="AZ-MYSQL-005",
    title="MySQL flexible server audit log is off",
    severity="MEDIUM",
    category="database",
    description=(
        "audit_log_enabled is OFF, so connections and queries are not audited and misuse of the "
        "database cannot be traced."
    ),
    remediation=_remediation("audit_log_enabled", "ON") + " Then send the MySqlAuditLogs category to a "
                "Log Analytics workspace with a diagnostic setting.",
    frameworks={"CIS": ["4.4.3"], "NIST": ["DE.CM-3", "PR.PT-1"], "ISO27001": ["A.8.15"]},
    needs=_PARAM_NEEDS,
)
@each_server
def mysql_audit_log(inv: Inventory, server: Resource) -> Judgement:
    value, unknown = _parameter(inv, server, "audit_log_enabled")
    if unknown:
        return unknown
    metadata = {"audit_log_enabled": value}
    if str(value).strip().upper() == "ON":
        return Judgement(True, "audit log is ON", metadata)
    return Judgement(False, f"audit_log_enabled is {value}", metadata)


@rule(
    id="AZ-MYSQL-006",
    title="MySQL flexible server audit log does not record connections",
    severity="LOW",
    category="database",
    description=(
        "The audit log is off or audit_log_events does not include CONNECTION, so logins (who, "
        "from where, failed or not) are not audited."
    ),
    remediation=_remediation("audit_log_events", "CONNECTION") + " (keep the other event classes you audit).",
    frameworks={"CIS": ["4.4.4"], "NIST": ["DE.CM-3"], "ISO27001": ["A.8.15"]},
    needs=_PARAM_NEEDS,
)
@each_server
def mysql_audit_connections(inv: Inventory, server: Resource) -> Judgement:
    enabled, unknown = _parameter(inv, server, "audit_log_enabled")
    if unknown:
        return unknown
    events, unknown = _parameter(inv, server, "audit_log_events")
    if unknown:
        return unknown
    classes = {e.strip().upper() for e in str(events or "").split(",") if e.strip()}
    metadata = {"audit_log_enabled": enabled, "audit_log_events": events}
    if str(enabled).strip().upper() != "ON":
        return Judgement(False, f"audit log is {enabled}, so no event is audited", metadata)
    if "CONNECTION" in classes:
        return Judgement(True, f"audit_log_events is {events}", metadata)
    return Judgement(False, f"audit_log_events is {events or 'empty'} (no CONNECTION)", metadata)
