"""AZ-SQL-001 (open firewall), AZ-SQL-002 (auditing), AZ-PG-001 (PostgreSQL public access)."""

from __future__ import annotations

import json

import pytest

from scanner.inventory import Inventory
from scanner.rules.databases import (
    PG_SECURE_TRANSPORT,
    POSTGRES_TYPE,
    SQL_AUDITING,
    SQL_FIREWALL_RULES,
    SQL_TYPE,
)
from tests.rules.builders import (
    Resource,
    arm,
    fail_child,
    fail_resource,
    inventory,
    only,
    run,
    set_child,
)


def sql_server(name: str = "sql1") -> Resource:
    return arm(SQL_TYPE, name, {"version": "12.0", "publicNetworkAccess": "Enabled"})


def fw_rule(server: Resource, name: str, start: str, end: str) -> Resource:
    return {
        "id": f"{server['id']}/firewallRules/{name}",
        "name": name,
        "type": "Microsoft.Sql/servers/firewallRules",
        "properties": {"startIpAddress": start, "endIpAddress": end},
    }


def test_sql001_any_ip_rule_fails() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(
        inv,
        SQL_FIREWALL_RULES,
        server,
        [
            fw_rule(server, "office", "203.0.113.0", "203.0.113.255"),
            fw_rule(server, "everyone", "0.0.0.0", "255.255.255.255"),
        ],
    )
    result = only("AZ-SQL-001", inv)
    assert result.passed is False
    assert "'everyone'" in result.detail
    assert result.metadata["open_rules"] == ["everyone"]
    json.dumps(result.metadata)


def test_sql001_allow_azure_services_is_not_this_finding() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(
        inv,
        SQL_FIREWALL_RULES,
        server,
        [fw_rule(server, "AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0")],
    )
    result = only("AZ-SQL-001", inv)
    assert result.passed is True
    assert result.metadata["allowsAzureServices"] is True


def test_sql001_no_rules_passes() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(inv, SQL_FIREWALL_RULES, server, [])
    assert only("AZ-SQL-001", inv).passed is True


def test_sql001_accepts_raw_value_page() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(
        inv,
        SQL_FIREWALL_RULES,
        server,
        {"value": [fw_rule(server, "all", "0.0.0.0", "255.255.255.255")]},
    )
    assert only("AZ-SQL-001", inv).passed is False


def test_sql001_tolerates_rules_without_properties() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(inv, SQL_FIREWALL_RULES, server, [{"name": "weird"}, None])
    assert only("AZ-SQL-001", inv).passed is True


def test_sql001_child_unreadable_is_not_evaluated() -> None:
    server = sql_server()
    inv = inventory(server)
    fail_child(inv, SQL_FIREWALL_RULES, server, "403 Forbidden")
    result = only("AZ-SQL-001", inv)
    assert result.passed is None
    assert "403 Forbidden" in result.detail


def test_sql002_auditing_disabled_fails() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(inv, SQL_AUDITING, server, {"properties": {"state": "Disabled", "retentionDays": 0}})
    result = only("AZ-SQL-002", inv)
    assert result.passed is False
    assert "Disabled" in result.detail


def test_sql002_auditing_enabled_passes() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(inv, SQL_AUDITING, server, {"properties": {"state": "Enabled", "retentionDays": 90}})
    result = only("AZ-SQL-002", inv)
    assert result.passed is True
    assert result.metadata == {"state": "Enabled", "retentionDays": 90}


def test_sql002_missing_state_fails() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(inv, SQL_AUDITING, server, {"name": "default"})
    assert only("AZ-SQL-002", inv).passed is False


def test_sql002_child_not_collected_is_not_evaluated() -> None:
    result = only("AZ-SQL-002", inventory(sql_server()))
    assert result.passed is None
    assert "child not collected" in result.detail


@pytest.mark.parametrize("rule_id", ["AZ-SQL-001", "AZ-SQL-002"])
def test_unreadable_server_is_not_evaluated(rule_id: str) -> None:
    inv = inventory()
    fail_resource(inv, SQL_TYPE, "locked", "403")
    assert only(rule_id, inv).passed is None


def pg(access: object = None, with_network: bool = True) -> Resource:
    props: Resource = {"version": "16", "state": "Ready"}
    if with_network:
        props["network"] = {} if access is None else {"publicNetworkAccess": access}
    return arm(POSTGRES_TYPE, "pg1", props)


def test_pg001_public_access_enabled_fails() -> None:
    result = only("AZ-PG-001", inventory(pg("Enabled")))
    assert result.passed is False
    assert result.resource_type == POSTGRES_TYPE


def test_pg001_public_access_disabled_passes() -> None:
    assert only("AZ-PG-001", inventory(pg("Disabled"))).passed is True


@pytest.mark.parametrize("with_network", [True, False])
def test_pg001_absent_setting_is_not_evaluated(with_network: bool) -> None:
    result = only("AZ-PG-001", inventory(pg(None, with_network=with_network)))
    assert result.passed is None
    assert "not reported" in result.detail


def test_pg001_tolerates_missing_properties_and_unreadable() -> None:
    inv = inventory(arm(POSTGRES_TYPE, "bare"))
    fail_resource(inv, POSTGRES_TYPE, "locked", "403")
    assert [r.passed for r in run("AZ-PG-001", inv)] == [None, None]


def test_sql001_public_network_access_disabled_passes() -> None:
    from scanner.inventory import Inventory
    from scanner.rules import REGISTRY

    inv = Inventory(subscription_id="s")
    inv.resources["microsoft.sql/servers"] = [{
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Sql/servers/private-sql",
        "name": "private-sql", "type": "Microsoft.Sql/servers",
        "properties": {"publicNetworkAccess": "Disabled"},
    }]
    [ev] = list(REGISTRY["AZ-SQL-001"].evaluate(inv))
    assert ev.passed is True


# --- AZ-SQL-003..006, AZ-PG-002 ---------------------------------------------------------------


def server_with(name: str = "sql1", **properties: object) -> Resource:
    return arm(SQL_TYPE, name, {"version": "12.0", **properties})


def test_sql003_sql_login_only_fails() -> None:
    result = only("AZ-SQL-003", inventory(server_with(administratorLogin="sqladmin")))
    assert result.passed is False
    assert result.metadata["administratorType"] is None


def test_sql003_entra_admin_passes() -> None:
    admins = {"administratorType": "ActiveDirectory", "principalType": "Group", "login": "sql-admins",
              "sid": "0000", "tenantId": "t", "azureADOnlyAuthentication": False}
    result = only("AZ-SQL-003", inventory(server_with(administrators=admins)))
    assert result.passed is True
    assert "sql-admins" in result.detail


@pytest.mark.parametrize("admins", [None, {}, {"administratorType": "SqlLogin"}])
def test_sql003_absent_or_other_admin_type_fails(admins: object) -> None:
    assert only("AZ-SQL-003", inventory(server_with(administrators=admins))).passed is False


def test_sql004_allow_azure_services_fails() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(inv, SQL_FIREWALL_RULES, server, [
        fw_rule(server, "AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0"),
        fw_rule(server, "office", "203.0.113.0", "203.0.113.255"),
    ])
    result = only("AZ-SQL-004", inv)
    assert result.passed is False
    assert result.metadata == {"azure_services_rules": ["AllowAllWindowsAzureIps"]}


def test_sql004_narrow_rules_pass_and_allow_all_is_not_this_finding() -> None:
    server = sql_server()
    inv = inventory(server)
    set_child(inv, SQL_FIREWALL_RULES, server, [
        fw_rule(server, "office", "203.0.113.0", "203.0.113.255"),
        fw_rule(server, "all", "0.0.0.0", "255.255.255.255"),  # AZ-SQL-001's finding
    ])
    assert only("AZ-SQL-004", inv).passed is True


def test_sql004_public_access_disabled_passes_without_reading_rules() -> None:
    assert only("AZ-SQL-004", inventory(server_with(publicNetworkAccess="Disabled"))).passed is True


def test_sql004_child_unreadable_is_not_evaluated() -> None:
    server = sql_server()
    inv = inventory(server)
    fail_child(inv, SQL_FIREWALL_RULES, server, "403 Forbidden")
    result = only("AZ-SQL-004", inv)
    assert result.passed is None
    assert "403 Forbidden" in result.detail


def _audited(settings: object) -> Inventory:
    server = sql_server()
    inv = inventory(server)
    set_child(inv, SQL_AUDITING, server, settings)
    return inv


@pytest.mark.parametrize("days", [1, 30, 89])
def test_sql005_short_retention_fails(days: int) -> None:
    result = only("AZ-SQL-005", _audited({"properties": {"state": "Enabled", "retentionDays": days}}))
    assert result.passed is False
    assert f"{days} days" in result.detail


@pytest.mark.parametrize("days", [0, 90, 365, "120"])
def test_sql005_long_or_unlimited_retention_passes(days: object) -> None:
    inv = _audited({"properties": {"state": "Enabled", "retentionDays": days}})
    assert only("AZ-SQL-005", inv).passed is True


def test_sql005_disabled_auditing_is_not_judged() -> None:
    inv = _audited({"properties": {"state": "Disabled", "retentionDays": 7}})
    assert run("AZ-SQL-005", inv) == []


def test_sql005_absent_retention_is_not_evaluated() -> None:
    result = only("AZ-SQL-005", _audited({"properties": {"state": "Enabled"}}))
    assert result.passed is None
    assert "not reported" in result.detail


def test_sql005_child_unreadable_is_not_evaluated() -> None:
    server = sql_server()
    inv = inventory(server)
    fail_child(inv, SQL_AUDITING, server, "403 Forbidden")
    assert only("AZ-SQL-005", inv).passed is None


def test_sql006_public_access_enabled_fails() -> None:
    result = only("AZ-SQL-006", inventory(server_with(publicNetworkAccess="Enabled")))
    assert result.passed is False


@pytest.mark.parametrize("access", ["Disabled", "SecuredByPerimeter"])
def test_sql006_public_access_off_passes(access: str) -> None:
    assert only("AZ-SQL-006", inventory(server_with(publicNetworkAccess=access))).passed is True


def test_sql006_absent_means_enabled() -> None:
    result = only("AZ-SQL-006", inventory(server_with()))
    assert result.passed is False
    assert "by default" in result.detail


@pytest.mark.parametrize("rule_id", ["AZ-SQL-003", "AZ-SQL-004", "AZ-SQL-005", "AZ-SQL-006"])
def test_new_sql_rules_unreadable_server_is_not_evaluated(rule_id: str) -> None:
    inv = inventory()
    fail_resource(inv, SQL_TYPE, "locked", "403")
    assert only(rule_id, inv).passed is None


def _pg_param(value: object) -> Inventory:
    server = pg("Disabled")
    inv = inventory(server)
    payload = {"name": "require_secure_transport", "properties": {"defaultValue": "on", "source": "user-override"}}
    if value is not None:
        payload["properties"]["value"] = value  # type: ignore[index]
    set_child(inv, PG_SECURE_TRANSPORT, server, payload)
    return inv


@pytest.mark.parametrize("value", ["off", "OFF"])
def test_pg002_secure_transport_off_fails(value: str) -> None:
    result = only("AZ-PG-002", _pg_param(value))
    assert result.passed is False
    assert result.metadata == {"require_secure_transport": value}


def test_pg002_secure_transport_on_passes() -> None:
    assert only("AZ-PG-002", _pg_param("on")).passed is True


def test_pg002_absent_value_is_not_evaluated() -> None:
    result = only("AZ-PG-002", _pg_param(None))
    assert result.passed is None
    assert "not reported" in result.detail


def test_pg002_child_unreadable_is_not_evaluated() -> None:
    server = pg("Enabled")
    inv = inventory(server)
    fail_child(inv, PG_SECURE_TRANSPORT, server, "403 Forbidden")
    fail_resource(inv, POSTGRES_TYPE, "locked", "403")
    results = run("AZ-PG-002", inv)
    assert [r.passed for r in results] == [None, None]
    assert "403 Forbidden" in results[0].detail


# --- MySQL flexible server (AZ-MYSQL-001, AZ-MYSQL-002) ----------------------------------------

from scanner.rules.databases import MYSQL_SECURE_TRANSPORT, MYSQL_TYPE


def mysql(public: str | None = "Enabled", *, name: str = "mysql1", network: bool = True) -> Resource:
    props: dict[str, object] = {"version": "8.0.21", "state": "Ready"}
    if network:
        props["network"] = {} if public is None else {"publicNetworkAccess": public}
    return arm(MYSQL_TYPE, name, props)


def test_mysql001_public_access_enabled_fails() -> None:
    result = only("AZ-MYSQL-001", inventory(mysql("Enabled")))
    assert result.passed is False
    assert result.resource_type == MYSQL_TYPE
    assert result.metadata == {"publicNetworkAccess": "Enabled"}


def test_mysql001_public_access_disabled_passes() -> None:
    assert only("AZ-MYSQL-001", inventory(mysql("Disabled"))).passed is True


@pytest.mark.parametrize("with_network", [True, False])
def test_mysql001_absent_setting_is_not_evaluated(with_network: bool) -> None:
    result = only("AZ-MYSQL-001", inventory(mysql(None, network=with_network)))
    assert result.passed is None
    assert "not reported" in result.detail


def test_mysql001_unreadable_server_is_not_evaluated() -> None:
    inv = inventory(arm(MYSQL_TYPE, "bare"))
    fail_resource(inv, MYSQL_TYPE, "locked", "403")
    got = sorted((r.resource_name, r.passed) for r in run("AZ-MYSQL-001", inv))
    assert got == [("bare", None), ("locked", None)]


def _mysql_param(value: object) -> Inventory:
    server = mysql("Disabled")
    inv = inventory(server)
    payload: dict[str, object] = {}
    if value is not None:
        payload = {"name": "require_secure_transport",
                   "properties": {"value": value, "defaultValue": "ON", "allowedValues": "ON,OFF"}}
    set_child(inv, MYSQL_SECURE_TRANSPORT, server, payload)
    return inv


@pytest.mark.parametrize("value", ["OFF", "off"])
def test_mysql002_secure_transport_off_fails(value: str) -> None:
    result = only("AZ-MYSQL-002", _mysql_param(value))
    assert result.passed is False
    assert result.metadata == {"require_secure_transport": value}


def test_mysql002_secure_transport_on_passes() -> None:
    assert only("AZ-MYSQL-002", _mysql_param("ON")).passed is True


def test_mysql002_404_child_reads_as_not_reported() -> None:
    """The collector stores a 404 on the parameter as ``{}``."""
    result = only("AZ-MYSQL-002", _mysql_param(None))
    assert result.passed is None
    assert "not reported" in result.detail


def test_mysql002_child_unreadable_is_not_evaluated() -> None:
    server = mysql("Enabled")
    inv = inventory(server)
    fail_child(inv, MYSQL_SECURE_TRANSPORT, server, "403 Forbidden")
    fail_resource(inv, MYSQL_TYPE, "locked", "403")
    results = run("AZ-MYSQL-002", inv)
    assert [r.passed for r in results] == [None, None]
    assert "403 Forbidden" in results[0].detail


# --- AZ-PG-004: PostgreSQL firewall admitting all Azure services or every address ---------------

def _pg(name: str, access: str | None = "Enabled") -> Resource:
    network = {} if access is None else {"publicNetworkAccess": access}
    return arm(POSTGRES_TYPE, name, {"version": "16", "network": network})


def _pg_rule(server: Resource, name: str, start: str, end: str) -> Resource:
    return {"id": f"{server['id']}/firewallRules/{name}", "name": name,
            "type": "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules",
            "properties": {"startIpAddress": start, "endIpAddress": end}}


def test_pg004_azure_services_and_allow_all_fail() -> None:
    from scanner.rules.databases import PG_FIREWALL_RULES

    azure, everyone, narrow = _pg("azure"), _pg("everyone", None), _pg("narrow")
    inv = inventory(azure, everyone, narrow)
    set_child(inv, PG_FIREWALL_RULES, azure,
              [_pg_rule(azure, "AllowAllAzureServicesAndResourcesWithinAzureIps_2024", "0.0.0.0", "0.0.0.0")])
    set_child(inv, PG_FIREWALL_RULES, everyone, {"value": [_pg_rule(everyone, "all", "0.0.0.0", "255.255.255.255")]})
    set_child(inv, PG_FIREWALL_RULES, narrow, [_pg_rule(narrow, "office", "198.51.100.0", "198.51.100.255")])
    results = {r.resource_name: r for r in run("AZ-PG-004", inv)}
    assert results["azure"].passed is False and "all Azure services" in results["azure"].detail
    assert results["everyone"].passed is False and "255.255.255.255" in results["everyone"].detail
    assert results["narrow"].passed is True
    json.dumps(results["azure"].metadata)


def test_pg004_private_server_passes_without_reading_rules() -> None:
    assert only("AZ-PG-004", inventory(_pg("private", "Disabled"))).passed is True


def test_pg004_rules_unreadable_is_not_evaluated() -> None:
    from scanner.rules.databases import PG_FIREWALL_RULES

    server = _pg("hidden-rules")
    inv = inventory(server)
    fail_child(inv, PG_FIREWALL_RULES, server, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, POSTGRES_TYPE, "hidden", "HTTP 403")
    results = {r.resource_name: r for r in run("AZ-PG-004", inv)}
    assert results["hidden-rules"].passed is None and "403" in results["hidden-rules"].detail
    assert results["hidden"].passed is None


# --- AZ-SQL-007: transparent data encryption ------------------------------------------------------

def _db(name: str) -> Resource:
    from scanner.rules.databases import SQL_DATABASE_TYPE

    db = arm(SQL_DATABASE_TYPE, name, {"status": "Online"})
    db["id"] = arm(SQL_TYPE, f"srv/databases/{name}")["id"]  # .../servers/srv/databases/<name>
    return db


def test_sql007_tde_states() -> None:
    from scanner.rules.databases import SQL_TDE

    on, off, odd, master = _db("on"), _db("off"), _db("odd"), _db("master")
    inv = inventory(on, off, odd, master)
    set_child(inv, SQL_TDE, on, {"properties": {"state": "Enabled"}})
    set_child(inv, SQL_TDE, off, {"properties": {"state": "Disabled"}})
    set_child(inv, SQL_TDE, odd, {})  # 404: the collector stores an empty singleton
    results = {r.resource_name: r for r in run("AZ-SQL-007", inv)}
    assert results["on"].passed is True
    assert results["off"].passed is False and "Disabled" in results["off"].detail
    assert results["odd"].passed is None and "not reported" in results["odd"].detail
    assert "master" not in results


def test_sql007_unreadable() -> None:
    from scanner.rules.databases import SQL_TDE

    hidden = _db("hidden-tde")
    inv = inventory(hidden)
    fail_child(inv, SQL_TDE, hidden, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, SQL_TYPE, "srv/databases/gone", "HTTP 500")
    results = {r.resource_name: r for r in run("AZ-SQL-007", inv)}
    assert results["hidden-tde"].passed is None and "403" in results["hidden-tde"].detail
    assert results["gone"].passed is None
