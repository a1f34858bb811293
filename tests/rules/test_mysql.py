"""AZ-MYSQL-001..003: MySQL flexible server public access, secure transport and version."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from scanner.inventory import Inventory
from scanner.rules.mysql import MYSQL_SECURE_TRANSPORT, MYSQL_TYPE
from tests.rules.builders import Resource, arm, fail_resource, inventory, only, run, set_child, with_failed_child


def mysql(public: str | None = "Enabled", *, name: str = "mysql1", network: bool = True) -> Resource:
    props: dict[str, object] = {"version": "8.0.21", "state": "Ready"}
    if network:
        props["network"] = {} if public is None else {"publicNetworkAccess": public}
    return arm(MYSQL_TYPE, name, props)


def _mysql_param(value: object) -> Inventory:
    server = mysql("Disabled")
    inv = inventory(server)
    payload: dict[str, object] = {}
    if value is not None:
        payload = {"name": "require_secure_transport",
                   "properties": {"value": value, "defaultValue": "ON", "allowedValues": "ON,OFF"}}
    set_child(inv, MYSQL_SECURE_TRANSPORT, server, payload)
    return inv

NOV_2026 = datetime(2026, 11, 28, tzinfo=timezone.utc)

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
    inv = with_failed_child(mysql("Enabled"), MYSQL_SECURE_TRANSPORT, "403 Forbidden")
    fail_resource(inv, MYSQL_TYPE, "locked", "403")
    results = run("AZ-MYSQL-002", inv)
    assert [r.passed for r in results] == [None, None]
    assert "403 Forbidden" in results[0].detail

def test_mysql003_prefers_full_version() -> None:
    old = arm(MYSQL_TYPE, "old", {"version": "5.7"})
    eight = arm(MYSQL_TYPE, "eight", {"version": "8.0.21", "fullVersion": "8.0.40"})
    lts = arm(MYSQL_TYPE, "lts", {"version": "8.4"})
    results = {r.resource_name: r for r in run("AZ-MYSQL-003", inventory(old, eight, lts, collected_at=NOV_2026))}
    assert results["old"].passed is False
    assert results["old"].metadata["software"] == {"vendor": "oracle", "product": "mysql", "version": "5.7"}
    assert results["eight"].passed is False and results["eight"].metadata["software"]["version"] == "8.0.40"
    assert results["lts"].passed is True


def test_mysql003_unreadable() -> None:
    inv = inventory(collected_at=NOV_2026)
    fail_resource(inv, MYSQL_TYPE, "hidden", "HTTP 403")
    assert only("AZ-MYSQL-003", inv).passed is None


# --- AZ-MYSQL-004..006: server parameters from the configurations list --------------------------
from scanner.rules.mysql import MYSQL_CONFIGURATIONS  # noqa: E402
from tests.rules.builders import with_child as _with_child, with_failed_child as _with_failed_child  # noqa: E402


def mysql_params(**values: str) -> list[dict[str, object]]:
    return [{"name": name, "properties": {"value": value}} for name, value in values.items()]


_GOOD = {"tls_version": "TLSv1.2,TLSv1.3", "audit_log_enabled": "ON", "audit_log_events": "CONNECTION,DDL"}


@pytest.mark.parametrize(("rule_id", "overrides", "detail"), [
    ("AZ-MYSQL-004", {"tls_version": "TLSv1,TLSv1.1,TLSv1.2"}, "tls_version allows TLSv1, TLSv1.1"),
    ("AZ-MYSQL-005", {"audit_log_enabled": "OFF"}, "audit_log_enabled is OFF"),
    ("AZ-MYSQL-006", {"audit_log_events": "ADMIN,DDL"}, "audit_log_events is ADMIN,DDL (no CONNECTION)"),
    ("AZ-MYSQL-006", {"audit_log_enabled": "OFF"}, "audit log is OFF, so no event is audited"),
])
def test_mysql_parameters(rule_id: str, overrides: dict[str, str], detail: str) -> None:
    server = arm(MYSQL_TYPE, "mysql1", {"version": "8.0.21"})
    assert only(rule_id, _with_child(server, MYSQL_CONFIGURATIONS, mysql_params(**_GOOD))).passed is True
    failing = only(rule_id, _with_child(server, MYSQL_CONFIGURATIONS, mysql_params(**{**_GOOD, **overrides})))
    assert (failing.passed, failing.detail) == (False, detail)
    unread = only(rule_id, _with_failed_child(server, MYSQL_CONFIGURATIONS, "HTTP 403"))
    assert (unread.passed, unread.detail) == (None, "server parameters could not be read: HTTP 403")
    assert only(rule_id, _with_child(server, MYSQL_CONFIGURATIONS, [])).passed is None
