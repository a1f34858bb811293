"""AZ-SQL-001..007: Azure SQL firewall, auditing, Entra admin, public access and TDE."""

from __future__ import annotations

import json

import pytest

from scanner.inventory import Inventory
from scanner.rules.sql import SQL_AUDITING, SQL_DATABASE_TYPE, SQL_FIREWALL_RULES, SQL_TDE, SQL_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run, set_child, with_child
from tests.rules.builders import with_failed_child, with_unreadable


def sql_server(name: str = "sql1") -> Resource:
    return arm(SQL_TYPE, name, {"version": "12.0", "publicNetworkAccess": "Enabled"})


def fw_rule(server: Resource, name: str, start: str, end: str) -> Resource:
    return {
        "id": f"{server['id']}/firewallRules/{name}",
        "name": name,
        "type": "Microsoft.Sql/servers/firewallRules",
        "properties": {"startIpAddress": start, "endIpAddress": end},
    }


# --- AZ-SQL-003..006, AZ-PG-002 ---------------------------------------------------------------


def server_with(name: str = "sql1", **properties: object) -> Resource:
    return arm(SQL_TYPE, name, {"version": "12.0", **properties})


def _audited(settings: object) -> Inventory:
    inv = with_child(sql_server(), SQL_AUDITING, settings)
    return inv


# --- AZ-SQL-007: transparent data encryption ------------------------------------------------------

def _db(name: str) -> Resource:
    db = arm(SQL_DATABASE_TYPE, name, {"status": "Online"})
    db["id"] = arm(SQL_TYPE, f"srv/databases/{name}")["id"]  # .../servers/srv/databases/<name>
    return db


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
    inv = with_child(sql_server(), SQL_FIREWALL_RULES, [])
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
    inv = with_child(sql_server(), SQL_FIREWALL_RULES, [{"name": "weird"}, None])
    assert only("AZ-SQL-001", inv).passed is True


def test_sql001_child_unreadable_is_not_evaluated() -> None:
    inv = with_failed_child(sql_server(), SQL_FIREWALL_RULES, "403 Forbidden")
    result = only("AZ-SQL-001", inv)
    assert result.passed is None
    assert "403 Forbidden" in result.detail


def test_sql002_auditing_disabled_fails() -> None:
    inv = with_child(sql_server(), SQL_AUDITING, {"properties": {"state": "Disabled", "retentionDays": 0}})
    result = only("AZ-SQL-002", inv)
    assert result.passed is False
    assert "Disabled" in result.detail


def test_sql002_auditing_enabled_passes() -> None:
    inv = with_child(sql_server(), SQL_AUDITING, {"properties": {"state": "Enabled", "retentionDays": 90}})
    result = only("AZ-SQL-002", inv)
    assert result.passed is True
    assert result.metadata == {"state": "Enabled", "retentionDays": 90}


def test_sql002_missing_state_fails() -> None:
    inv = with_child(sql_server(), SQL_AUDITING, {"name": "default"})
    assert only("AZ-SQL-002", inv).passed is False


def test_sql002_child_not_collected_is_not_evaluated() -> None:
    result = only("AZ-SQL-002", inventory(sql_server()))
    assert result.passed is None
    assert "child not collected" in result.detail


@pytest.mark.parametrize("rule_id", ["AZ-SQL-001", "AZ-SQL-002"])
def test_unreadable_server_is_not_evaluated(rule_id: str) -> None:
    inv = with_unreadable(SQL_TYPE, "locked", "403")
    assert only(rule_id, inv).passed is None


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
    inv = with_failed_child(sql_server(), SQL_FIREWALL_RULES, "403 Forbidden")
    result = only("AZ-SQL-004", inv)
    assert result.passed is None
    assert "403 Forbidden" in result.detail


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
    inv = with_failed_child(sql_server(), SQL_AUDITING, "403 Forbidden")
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
    inv = with_unreadable(SQL_TYPE, "locked", "403")
    assert only(rule_id, inv).passed is None


def test_sql007_tde_states() -> None:
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
    hidden = _db("hidden-tde")
    inv = with_failed_child(hidden, SQL_TDE, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, SQL_TYPE, "srv/databases/gone", "HTTP 500")
    results = {r.resource_name: r for r in run("AZ-SQL-007", inv)}
    assert results["hidden-tde"].passed is None and "403" in results["hidden-tde"].detail
    assert results["gone"].passed is None


# --- AZ-SQL-008 (minimal TLS), AZ-SQL-009 (Entra-only authentication) -------------------------
_ENTRA_ADMIN = {"administratorType": "ActiveDirectory", "login": "grp-sql-admins"}


@pytest.mark.parametrize(("rule_id", "properties", "passed", "detail"), [
    ("AZ-SQL-008", {"minimalTlsVersion": "1.0"}, False, "minimalTlsVersion is 1.0"),
    ("AZ-SQL-008", {"minimalTlsVersion": "None"}, False, "minimalTlsVersion is None"),
    ("AZ-SQL-008", {}, False, "minimalTlsVersion not set (no minimum enforced)"),
    ("AZ-SQL-008", {"minimalTlsVersion": "1.2"}, True, "minimalTlsVersion is 1.2"),
    ("AZ-SQL-009", {"administrators": {**_ENTRA_ADMIN, "azureADOnlyAuthentication": False}}, False,
     "SQL authentication is allowed (azureADOnlyAuthentication is not true)"),
    ("AZ-SQL-009", {}, False, "no Microsoft Entra administrator, so SQL authentication is the only way in"),
    ("AZ-SQL-009", {"administrators": {**_ENTRA_ADMIN, "azureADOnlyAuthentication": True}}, True,
     "Microsoft Entra-only authentication is enabled"),
])
def test_sql008_009_verdicts(rule_id: str, properties: dict[str, object], passed: bool, detail: str) -> None:
    result = only(rule_id, inventory(arm(SQL_TYPE, "sql1", properties)))
    assert (result.passed, result.detail) == (passed, detail)


@pytest.mark.parametrize("rule_id", ["AZ-SQL-008", "AZ-SQL-009"])
def test_sql008_009_unreadable_server_is_not_evaluated(rule_id: str) -> None:
    result = only(rule_id, with_unreadable(SQL_TYPE, "sql-locked", "HTTP 403"))
    assert (result.passed, result.detail) == (None, "server could not be read: HTTP 403")
