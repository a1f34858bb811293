"""AZ-SQL-001 (open firewall), AZ-SQL-002 (auditing), AZ-PG-001 (PostgreSQL public access)."""

from __future__ import annotations

import json

import pytest

from scanner.rules.databases import POSTGRES_TYPE, SQL_AUDITING, SQL_FIREWALL_RULES, SQL_TYPE
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
