"""AZ-PG-001..004: PostgreSQL flexible server public access, secure transport, version and
firewall rules."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from scanner.inventory import Inventory
from scanner.rules.postgresql import PG_FIREWALL_RULES, PG_SECURE_TRANSPORT, POSTGRES_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run, set_child, with_failed_child


def pg(access: object = None, with_network: bool = True) -> Resource:
    props: Resource = {"version": "16", "state": "Ready"}
    if with_network:
        props["network"] = {} if access is None else {"publicNetworkAccess": access}
    return arm(POSTGRES_TYPE, "pg1", props)


def _pg_param(value: object) -> Inventory:
    server = pg("Disabled")
    inv = inventory(server)
    payload = {"name": "require_secure_transport", "properties": {"defaultValue": "on", "source": "user-override"}}
    if value is not None:
        payload["properties"]["value"] = value  # type: ignore[index]
    set_child(inv, PG_SECURE_TRANSPORT, server, payload)
    return inv


# --- AZ-PG-004: PostgreSQL firewall admitting all Azure services or every address ---------------

def _pg(name: str, access: str | None = "Enabled") -> Resource:
    network = {} if access is None else {"publicNetworkAccess": access}
    return arm(POSTGRES_TYPE, name, {"version": "16", "network": network})


def _pg_rule(server: Resource, name: str, start: str, end: str) -> Resource:
    return {"id": f"{server['id']}/firewallRules/{name}", "name": name,
            "type": "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules",
            "properties": {"startIpAddress": start, "endIpAddress": end}}

NOV_2026 = datetime(2026, 11, 28, tzinfo=timezone.utc)

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
    inv = with_failed_child(pg("Enabled"), PG_SECURE_TRANSPORT, "403 Forbidden")
    fail_resource(inv, POSTGRES_TYPE, "locked", "403")
    results = run("AZ-PG-002", inv)
    assert [r.passed for r in results] == [None, None]
    assert "403 Forbidden" in results[0].detail


def test_pg004_azure_services_and_allow_all_fail() -> None:
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
    inv = with_failed_child(_pg("hidden-rules"), PG_FIREWALL_RULES, "HTTP 403 AuthorizationFailed")
    fail_resource(inv, POSTGRES_TYPE, "hidden", "HTTP 403")
    results = {r.resource_name: r for r in run("AZ-PG-004", inv)}
    assert results["hidden-rules"].passed is None and "403" in results["hidden-rules"].detail
    assert results["hidden"].passed is None

# --- PostgreSQL / MySQL ------------------------------------------------------------------------

def test_pg003_verdicts_follow_the_collection_date() -> None:
    pg14 = arm(POSTGRES_TYPE, "pg14", {"version": "14"})
    assert only("AZ-PG-003", inventory(pg14, collected_at=datetime(2026, 11, 1, tzinfo=timezone.utc))).passed is True
    late = only("AZ-PG-003", inventory(pg14, collected_at=NOV_2026))
    assert late.passed is False and late.metadata["end_of_support"] == "2026-11-12"
    assert late.metadata["software"]["product"] == "postgresql"


def test_pg003_compliant_and_unreadable() -> None:
    inv = inventory(arm(POSTGRES_TYPE, "pg16", {"version": "16"}), arm(POSTGRES_TYPE, "pgnone", {}),
                    collected_at=NOV_2026)
    fail_resource(inv, POSTGRES_TYPE, "pghidden", "HTTP 403")
    results = {r.resource_name: r.passed for r in run("AZ-PG-003", inv)}
    assert results == {"pg16": True, "pgnone": None, "pghidden": None}


# --- AZ-PG-005..009: server parameters from the configurations list -----------------------------
from scanner.rules.postgresql import PG_CONFIGURATIONS  # noqa: E402
from tests.rules.builders import with_child as _with_child, with_failed_child as _with_failed_child  # noqa: E402


def configurations(**values: str) -> list[dict[str, object]]:
    return [{"name": name.replace("__", "."), "properties": {"value": value}} for name, value in values.items()]


_GOOD = {"log_checkpoints": "on", "log_connections": "on", "log_disconnections": "on",
         "connection_throttle__enable": "on", "logfiles__retention_days": "7"}


@pytest.mark.parametrize(("rule_id", "name", "bad"), [
    ("AZ-PG-005", "log_checkpoints", "off"), ("AZ-PG-006", "log_connections", "off"),
    ("AZ-PG-007", "log_disconnections", "off"), ("AZ-PG-008", "connection_throttle__enable", "off"),
    ("AZ-PG-009", "logfiles__retention_days", "3"),
])
def test_pg_parameters(rule_id: str, name: str, bad: str) -> None:
    server = arm(POSTGRES_TYPE, "pg1", {"version": "16"})
    assert only(rule_id, _with_child(server, PG_CONFIGURATIONS, configurations(**_GOOD))).passed is True
    failing = only(rule_id, _with_child(server, PG_CONFIGURATIONS, configurations(**{**_GOOD, name: bad})))
    assert failing.passed is False
    missing = only(rule_id, _with_child(server, PG_CONFIGURATIONS, configurations()))
    assert (missing.passed, missing.detail) == (None, f"server parameter {name.replace('__', '.')} not reported")
    unread = only(rule_id, _with_failed_child(server, PG_CONFIGURATIONS, "HTTP 403"))
    assert (unread.passed, unread.detail) == (None, "server parameters could not be read: HTTP 403")
