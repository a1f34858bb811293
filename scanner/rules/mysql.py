"""MySQL flexible server rules: public network access, encrypted connections and versions past
end of support.

The ``require_secure_transport`` server parameter is a child resource, not part of the server
GET, so AZ-MYSQL-002 reports "not evaluated" when it could not be read.
"""

from __future__ import annotations

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.databases import flexible_public_access, secure_transport
from scanner.rules.support.end_of_support import judge_version
from scanner.rules.support.helpers import Judgement, Resource, judge_each_resource

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
