"""AZ-RSV-001..003 (Recovery Services vaults) and AZ-CAPP-001..002 (Container Apps ingress)."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.containerapps import CONTAINER_APP_TYPE
from scanner.rules.recoveryservices import VAULT_TYPE
from tests.rules.builders import arm, inventory, only, run, with_unreadable


def _vault(soft: Any = "Enabled", immutable: Any = "Unlocked", public: Any = "Disabled") -> dict[str, Any]:
    security: dict[str, Any] = {}
    if soft is not None:
        security["softDeleteSettings"] = {"softDeleteState": soft, "softDeleteRetentionPeriodInDays": 14}
    if immutable is not None:
        security["immutabilitySettings"] = {"state": immutable}
    properties: dict[str, Any] = {"provisioningState": "Succeeded", "securitySettings": security}
    if public is not None:
        properties["publicNetworkAccess"] = public
    return arm(VAULT_TYPE, "rsv1", properties)


@pytest.mark.parametrize(("soft", "passed"), [("Enabled", True), ("AlwaysON", True), ("Disabled", False),
                                              (None, None)])
def test_rsv001_soft_delete(soft: Any, passed: bool | None) -> None:
    assert only("AZ-RSV-001", inventory(_vault(soft=soft))).passed is passed


@pytest.mark.parametrize(("state", "passed"), [("Locked", True), ("Unlocked", True), ("Disabled", False),
                                               (None, False)])
def test_rsv002_immutability(state: Any, passed: bool) -> None:
    assert only("AZ-RSV-002", inventory(_vault(immutable=state))).passed is passed


@pytest.mark.parametrize(("public", "passed"), [("Disabled", True), ("Enabled", False), (None, False)])
def test_rsv003_public_access(public: Any, passed: bool) -> None:
    assert only("AZ-RSV-003", inventory(_vault(public=public))).passed is passed


def _app(ingress: dict[str, Any] | None) -> dict[str, Any]:
    configuration: dict[str, Any] = {"activeRevisionsMode": "Single", "secrets": []}
    if ingress is not None:
        configuration["ingress"] = {"targetPort": 8080, "transport": "Auto", "traffic": [], **ingress}
    return arm(CONTAINER_APP_TYPE, "ca1", {"provisioningState": "Succeeded", "configuration": configuration})


def test_capp001_insecure_fails_and_secure_passes() -> None:
    assert only("AZ-CAPP-001", inventory(_app({"external": True, "allowInsecure": True}))).passed is False
    assert only("AZ-CAPP-001", inventory(_app({"external": True, "allowInsecure": False}))).passed is True


def test_capp002_open_external_fails_restricted_passes() -> None:
    assert only("AZ-CAPP-002", inventory(_app({"external": True}))).passed is False
    restricted = {"external": True, "ipSecurityRestrictions": [
        {"name": "office", "ipAddressRange": "203.0.113.0/24", "action": "Allow"}]}
    assert only("AZ-CAPP-002", inventory(_app(restricted))).passed is True


@pytest.mark.parametrize("rule_id", ["AZ-CAPP-001", "AZ-CAPP-002"])
def test_capp_without_ingress_or_internal_is_not_judged(rule_id: str) -> None:
    assert run(rule_id, inventory(_app(None))) == []
    if rule_id == "AZ-CAPP-002":
        assert run(rule_id, inventory(_app({"external": False}))) == []


@pytest.mark.parametrize(("rule_id", "rtype"), [("AZ-RSV-001", VAULT_TYPE), ("AZ-RSV-002", VAULT_TYPE),
                                                ("AZ-RSV-003", VAULT_TYPE), ("AZ-CAPP-001", CONTAINER_APP_TYPE),
                                                ("AZ-CAPP-002", CONTAINER_APP_TYPE)])
def test_unreadable_is_not_evaluated(rule_id: str, rtype: str) -> None:
    result = only(rule_id, with_unreadable(rtype, "x9", "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "403" in result.detail


def _app_with_registries(registries: list[dict[str, Any]]) -> dict[str, Any]:
    app = _app({"external": False})
    app["properties"]["configuration"]["registries"] = registries
    return app


def test_capp003_password_registry_fails_identity_passes() -> None:
    password = {"server": "acr1.azurecr.io", "username": "acr1", "passwordSecretRef": "acr-password", "identity": ""}
    identity = {"server": "acr1.azurecr.io", "username": "", "passwordSecretRef": "", "identity": "system"}
    result = only("AZ-CAPP-003", inventory(_app_with_registries([password])))
    assert result.passed is False and "acr1.azurecr.io" in result.detail
    assert only("AZ-CAPP-003", inventory(_app_with_registries([identity]))).passed is True
    assert run("AZ-CAPP-003", inventory(_app_with_registries([]))) == []
    assert only("AZ-CAPP-003", with_unreadable(CONTAINER_APP_TYPE, "x9", "HTTP 403")).passed is None
