"""AZ-APP-001 (HTTPS only), AZ-APP-002 (minimum TLS), AZ-APP-003 (FTP state), AZ-APP-004
(remote debugging), AZ-APP-005 (managed identity)."""

from __future__ import annotations

import pytest

from scanner.inventory import Inventory
from scanner.rules.appservice import SITE_TYPE, WEB_CONFIG
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


def site(**properties: object) -> Resource:
    return arm(SITE_TYPE, "app1", {"state": "Running", **properties}, kind="app")


def with_config(**config: object) -> Inventory:
    s = site(httpsOnly=True)
    inv = inventory(s)
    set_child(inv, WEB_CONFIG, s, {"name": "web", "properties": dict(config)})
    return inv


def test_app001_http_allowed_fails() -> None:
    result = only("AZ-APP-001", inventory(site(httpsOnly=False)))
    assert result.passed is False
    assert result.resource_type == SITE_TYPE


def test_app001_https_only_passes() -> None:
    assert only("AZ-APP-001", inventory(site(httpsOnly=True))).passed is True


def test_app001_absent_fails() -> None:
    assert only("AZ-APP-001", inventory(site())).passed is False


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_app002_old_tls_fails(version: str) -> None:
    result = only("AZ-APP-002", with_config(minTlsVersion=version))
    assert result.passed is False
    assert version in result.detail


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_app002_modern_tls_passes(version: str) -> None:
    assert only("AZ-APP-002", with_config(minTlsVersion=version)).passed is True


def test_app002_absent_version_is_not_evaluated() -> None:
    result = only("AZ-APP-002", with_config(ftpsState="Disabled"))
    assert result.passed is None
    assert result.detail == "minTlsVersion not reported"


def test_app002_garbage_version_is_not_evaluated() -> None:
    assert only("AZ-APP-002", with_config(minTlsVersion="TLS1_2")).passed is None


@pytest.mark.parametrize("rule_id", ["AZ-APP-002", "AZ-APP-003"])
def test_config_unreadable_is_not_evaluated(rule_id: str) -> None:
    s = site()
    inv = inventory(s)
    fail_child(inv, WEB_CONFIG, s, "404 NotFound")
    result = only(rule_id, inv)
    assert result.passed is None
    assert "404 NotFound" in result.detail


@pytest.mark.parametrize("rule_id", ["AZ-APP-002", "AZ-APP-003"])
def test_config_not_collected_is_not_evaluated(rule_id: str) -> None:
    result = only(rule_id, inventory(site()))
    assert result.passed is None
    assert "child not collected" in result.detail


def test_app003_all_allowed_fails() -> None:
    result = only("AZ-APP-003", with_config(ftpsState="AllAllowed"))
    assert result.passed is False
    assert result.metadata == {"ftpsState": "AllAllowed"}


@pytest.mark.parametrize("state", ["FtpsOnly", "Disabled"])
def test_app003_ftps_only_or_disabled_passes(state: str) -> None:
    assert only("AZ-APP-003", with_config(ftpsState=state)).passed is True


def test_app003_absent_state_is_not_evaluated() -> None:
    assert only("AZ-APP-003", with_config(minTlsVersion="1.2")).passed is None


@pytest.mark.parametrize("rule_id", ["AZ-APP-001", "AZ-APP-002", "AZ-APP-003"])
def test_site_without_properties_and_unreadable_site(rule_id: str) -> None:
    inv = inventory(arm(SITE_TYPE, "bare"))
    fail_resource(inv, SITE_TYPE, "locked", "403")
    results = {r.resource_name: r.passed for r in run(rule_id, inv)}
    assert results["locked"] is None
    assert set(results) == {"bare", "locked"}


def test_app004_remote_debugging_enabled_fails() -> None:
    result = only("AZ-APP-004", with_config(remoteDebuggingEnabled=True, remoteDebuggingVersion="VS2022"))
    assert result.passed is False
    assert result.metadata == {"remoteDebuggingEnabled": True, "remoteDebuggingVersion": "VS2022"}


def test_app004_remote_debugging_off_passes() -> None:
    assert only("AZ-APP-004", with_config(remoteDebuggingEnabled=False)).passed is True


def test_app004_absent_means_off() -> None:
    result = only("AZ-APP-004", with_config(minTlsVersion="1.2"))
    assert result.passed is True
    assert "default off" in result.detail


def test_app004_config_unreadable_is_not_evaluated() -> None:
    s = site()
    inv = inventory(s)
    fail_child(inv, WEB_CONFIG, s, "403 Forbidden")
    fail_resource(inv, SITE_TYPE, "locked", "403")
    results = run("AZ-APP-004", inv)
    assert [r.passed for r in results] == [None, None]
    assert "403 Forbidden" in results[0].detail


@pytest.mark.parametrize("identity_type", ["SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned"])
def test_app005_managed_identity_passes(identity_type: str) -> None:
    s = arm(SITE_TYPE, "app1", {}, identity={"type": identity_type, "principalId": "p"})
    result = only("AZ-APP-005", inventory(s))
    assert result.passed is True
    assert result.metadata == {"identityType": identity_type}


@pytest.mark.parametrize("identity", [{"type": "None"}, None, {}])
def test_app005_no_identity_fails(identity: object) -> None:
    assert only("AZ-APP-005", inventory(arm(SITE_TYPE, "app1", {}, identity=identity))).passed is False


def test_app005_absent_identity_fails_and_unreadable_is_not_evaluated() -> None:
    inv = inventory(site())
    fail_resource(inv, SITE_TYPE, "locked", "403")
    assert sorted((r.resource_name, r.passed) for r in run("AZ-APP-005", inv)) == [
        ("app1", False), ("locked", None)
    ]
