"""AZ-SQL-010..014: SQL server vulnerability assessment settings and the TDE protector key."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.sql import SQL_ENCRYPTION_PROTECTOR, SQL_TYPE, SQL_VA_EXPRESS, SQL_VULNERABILITY_ASSESSMENT
from tests.rules.builders import (
    Resource,
    arm,
    fail_child,
    only,
    run,
    set_child,
    with_child,
    with_failed_child,
    with_unreadable,
)

VA_RULES = ["AZ-SQL-010", "AZ-SQL-011", "AZ-SQL-012", "AZ-SQL-013"]


def _server() -> Resource:
    return arm(SQL_TYPE, "sql1", {"version": "12.0"})


def _va(server: Resource, *, path: str | None = "https://stva.blob.core.windows.net/vulnerability-assessment/",
        recurring: bool = True, admins: bool = True, emails: list[str] | None = None) -> dict[str, Any]:
    """``GET .../servers/{name}/vulnerabilityAssessments/default`` (api-version 2021-11-01)."""
    properties: dict[str, Any] = {"recurringScans": {
        "isEnabled": recurring, "emailSubscriptionAdmins": admins,
        "emails": ["secops@contoso.example"] if emails is None else emails}}
    if path is not None:
        properties["storageContainerPath"] = path
    return {"id": f"{server['id']}/vulnerabilityAssessments/default", "name": "default",
            "type": "Microsoft.Sql/servers/vulnerabilityAssessments", "properties": properties}


def _express(server: Resource, state: str) -> dict[str, Any]:
    """``GET .../servers/{name}/sqlVulnerabilityAssessments/default`` (api-version 2023-08-01)."""
    return {"id": f"{server['id']}/sqlVulnerabilityAssessments/default", "name": "default",
            "type": "Microsoft.Sql/servers/sqlVulnerabilityAssessments", "properties": {"state": state}}


def test_sql010_no_storage_container_and_express_off_fails() -> None:
    server = _server()
    inv = with_child(server, SQL_VULNERABILITY_ASSESSMENT, _va(server, path=None))
    set_child(inv, SQL_VA_EXPRESS, server, _express(server, "Disabled"))
    result = only("AZ-SQL-010", inv)
    assert result.passed is False
    assert "not enabled" in result.detail and "Disabled" in result.detail


def test_sql010_express_configuration_passes_and_leaves_classic_details_unjudged() -> None:
    server = _server()
    inv = with_child(server, SQL_VULNERABILITY_ASSESSMENT, _va(server, path=None))
    set_child(inv, SQL_VA_EXPRESS, server, _express(server, "Enabled"))
    result = only("AZ-SQL-010", inv)
    assert result.passed is True and result.metadata == {"expressState": "Enabled"}
    assert all(run(r, inv) == [] for r in VA_RULES[1:])


def test_sql010_express_unreadable_without_classic_is_not_evaluated() -> None:
    server = _server()
    inv = with_child(server, SQL_VULNERABILITY_ASSESSMENT, _va(server, path=None))
    fail_child(inv, SQL_VA_EXPRESS, server, "HTTP 403 AuthorizationFailed")
    result = only("AZ-SQL-010", inv)
    assert (result.passed, result.detail) == (
        None, "vulnerability assessment express configuration could not be read: HTTP 403 AuthorizationFailed")
    # a classic storage container decides without it
    set_child(inv, SQL_VULNERABILITY_ASSESSMENT, server, _va(server))
    assert only("AZ-SQL-010", inv).passed is True


def test_sql010_storage_container_passes() -> None:
    server = _server()
    assert only("AZ-SQL-010", with_child(server, SQL_VULNERABILITY_ASSESSMENT, _va(server))).passed is True


def test_va_settings_compliant_pass() -> None:
    server = _server()
    inv = with_child(server, SQL_VULNERABILITY_ASSESSMENT, _va(server))
    assert [only(r, inv).passed for r in VA_RULES] == [True, True, True, True]


@pytest.mark.parametrize(("rule_id", "kw"), [
    ("AZ-SQL-011", {"recurring": False}),
    ("AZ-SQL-012", {"emails": []}),
    ("AZ-SQL-012", {"emails": ["  "]}),
    ("AZ-SQL-013", {"admins": False}),
])
def test_va_setting_off_fails(rule_id: str, kw: dict[str, Any]) -> None:
    server = _server()
    assert only(rule_id, with_child(server, SQL_VULNERABILITY_ASSESSMENT, _va(server, **kw))).passed is False


@pytest.mark.parametrize("rule_id", ["AZ-SQL-011", "AZ-SQL-012", "AZ-SQL-013"])
def test_va_details_not_judged_without_va(rule_id: str) -> None:
    """A server without VA is AZ-SQL-010's finding only."""
    server = _server()
    inv = with_child(server, SQL_VULNERABILITY_ASSESSMENT, _va(server, path="", recurring=False, admins=False, emails=[]))
    assert run(rule_id, inv) == []


@pytest.mark.parametrize("rule_id", VA_RULES)
def test_va_unreadable_is_not_evaluated(rule_id: str) -> None:
    result = only(rule_id, with_failed_child(_server(), SQL_VULNERABILITY_ASSESSMENT, "HTTP 403 AuthorizationFailed"))
    assert result.passed is None
    assert "403" in result.detail


def _protector(server: Resource, key_type: object) -> dict[str, Any]:
    """``GET .../servers/{name}/encryptionProtector/current`` (api-version 2021-11-01)."""
    kms = str(key_type).lower() == "azurekeyvault"
    return {"id": f"{server['id']}/encryptionProtector/current", "name": "current",
            "type": "Microsoft.Sql/servers/encryptionProtector",
            "kind": "azurekeyvault" if kms else "servicemanaged",
            "properties": {"serverKeyName": "kv_key_v1" if kms else "ServiceManaged",
                           "serverKeyType": key_type, "autoRotationEnabled": kms}}


def test_sql014_service_managed_fails() -> None:
    server = _server()
    result = only("AZ-SQL-014", with_child(server, SQL_ENCRYPTION_PROTECTOR, _protector(server, "ServiceManaged")))
    assert result.passed is False
    assert "service-managed" in result.detail


def test_sql014_key_vault_key_passes() -> None:
    server = _server()
    assert only("AZ-SQL-014", with_child(server, SQL_ENCRYPTION_PROTECTOR, _protector(server, "AzureKeyVault"))).passed


def test_sql014_unknown_key_type_is_not_evaluated() -> None:
    server = _server()
    assert only("AZ-SQL-014", with_child(server, SQL_ENCRYPTION_PROTECTOR, _protector(server, None))).passed is None


def test_sql014_unreadable_is_not_evaluated() -> None:
    assert only("AZ-SQL-014", with_failed_child(_server(), SQL_ENCRYPTION_PROTECTOR, "HTTP 500")).passed is None
    assert only("AZ-SQL-014", with_unreadable(SQL_TYPE, "sql9", "HTTP 403")).passed is None
