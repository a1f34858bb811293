"""AZ-APP-001 (HTTPS only), AZ-APP-002 (minimum TLS), AZ-APP-003 (FTP state), AZ-APP-004
(remote debugging), AZ-APP-005 (managed identity), AZ-APP-006 (runtime past end of support)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from scanner.inventory import Inventory
from scanner.rules.appservice import SITE_TYPE, WEB_CONFIG
from tests.rules.builders import Resource, arm, fail_child, fail_resource, inventory, only, run, set_child
from tests.rules.builders import with_child, with_failed_child


def site(**properties: object) -> Resource:
    return arm(SITE_TYPE, "app1", {"state": "Running", **properties}, kind="app")


def with_config(**config: object) -> Inventory:
    inv = with_child(site(httpsOnly=True), WEB_CONFIG, {"name": "web", "properties": dict(config)})
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
    inv = with_failed_child(site(), WEB_CONFIG, "404 NotFound")
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
    inv = with_failed_child(site(), WEB_CONFIG, "403 Forbidden")
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


# --- AZ-APP-006: runtime stacks past end of support --------------------------------------------

NOV_2026 = datetime(2026, 11, 28, tzinfo=timezone.utc)


# --- App Service ---------------------------------------------------------------------------------

def site_with(inv_sites: list[tuple[str, dict]]) -> list:
    sites = [arm(SITE_TYPE, name, {}) for name, _ in inv_sites]
    inv = inventory(*sites, collected_at=NOV_2026)
    for site, (_, config) in zip(sites, inv_sites):
        set_child(inv, WEB_CONFIG, site, {"properties": config})
    return run("AZ-APP-006", inv)


def test_app006_linux_stacks() -> None:
    results = {r.resource_name: r for r in site_with([
        ("py38", {"linuxFxVersion": "PYTHON|3.8"}),
        ("node14", {"linuxFxVersion": "NODE|14-lts"}),
        ("py312", {"linuxFxVersion": "PYTHON|3.12"}),
        ("dotnet8", {"linuxFxVersion": "DOTNETCORE|8.0"}),
        ("php84", {"linuxFxVersion": "php|8.4"}),
    ])}
    assert results["py38"].passed is False
    assert results["py38"].metadata["software"] == {"vendor": "python", "product": "python", "version": "3.8"}
    assert results["node14"].passed is False
    assert results["node14"].metadata["software"] == {"vendor": "nodejs", "product": "node.js", "version": "14-lts"}
    assert results["py312"].passed is True
    assert results["dotnet8"].passed is False and "2026-11-10" in results["dotnet8"].detail
    assert results["php84"].passed is True


def test_app006_windows_fields_and_out_of_scope_stacks() -> None:
    results = {r.resource_name: r for r in site_with([
        ("winphp", {"netFrameworkVersion": "v4.0", "phpVersion": "7.4"}),
        ("winnet", {"netFrameworkVersion": "v8.0", "phpVersion": "OFF"}),
        ("winfx", {"netFrameworkVersion": "v4.0", "phpVersion": ""}),
        ("container", {"linuxFxVersion": "DOCKER|nginx:1.27"}),
        ("java", {"linuxFxVersion": "JAVA|17-java17"}),
        ("empty", {"linuxFxVersion": ""}),
        ("odd", {"linuxFxVersion": "COBOL|85"}),
    ])}
    assert results["winphp"].passed is False and "PHP 7.4" in results["winphp"].detail
    assert results["winnet"].passed is False and results["winnet"].metadata["software"]["version"] == "8.0"
    # outside the rule's scope: neither compliant nor failing
    assert "winfx" not in results and "container" not in results and "java" not in results
    assert results["empty"].passed is None and "no runtime stack" in results["empty"].detail
    assert results["odd"].passed is None


def test_app006_supported_stacks_on_one_windows_site_pass_together() -> None:
    [result] = site_with([("both", {"phpVersion": "8.4", "pythonVersion": "3.12"})])
    assert result.passed is True and "PHP 8.4" in result.detail and "Python 3.12" in result.detail


def test_app006_config_unreadable() -> None:
    site = arm(SITE_TYPE, "hidden-config", {})
    inv = inventory(site, collected_at=NOV_2026)
    fail_child(inv, WEB_CONFIG, site, "HTTP 403 AuthorizationFailed")
    result = only("AZ-APP-006", inv)
    assert result.passed is None and "403" in result.detail


# --- AZ-APP-007 (client certificates), 008 (HTTP/2), 009 (App Service Authentication) ----------
from scanner.rules.appservice import AUTH_SETTINGS  # noqa: E402


@pytest.mark.parametrize(("properties", "passed", "detail"), [
    ({"clientCertEnabled": False}, False, "client certificates are off (clientCertEnabled is not true)"),
    ({"clientCertEnabled": True, "clientCertMode": "Optional"}, False, "client certificate mode is Optional (not enforced)"),
    ({"clientCertEnabled": True, "clientCertMode": "Required"}, True, "client certificates required"),
    ({"clientCertEnabled": True}, True, "client certificates required"),
])
def test_app007_client_certificates(properties: dict[str, object], passed: bool, detail: str) -> None:
    result = only("AZ-APP-007", inventory(site(**properties)))
    assert (result.passed, result.detail) == (passed, detail)


@pytest.mark.parametrize(("config", "passed"), [({"http20Enabled": False}, False), ({}, False),
                                                 ({"http20Enabled": True}, True)])
def test_app008_http2(config: dict[str, object], passed: bool) -> None:
    assert only("AZ-APP-008", with_config(**config)).passed is passed


@pytest.mark.parametrize(("platform", "passed"), [({"enabled": False}, False), ({}, False), ({"enabled": True}, True)])
def test_app009_app_service_authentication(platform: dict[str, object], passed: bool) -> None:
    inv = with_child(site(), AUTH_SETTINGS, {"properties": {"platform": platform}})
    assert only("AZ-APP-009", inv).passed is passed


def test_app007_009_not_evaluated_when_unreadable() -> None:
    unreadable = only("AZ-APP-009", with_failed_child(site(), AUTH_SETTINGS, "HTTP 403"))
    assert (unreadable.passed, unreadable.detail) == (None, "authentication settings could not be read: HTTP 403")
    config_unread = only("AZ-APP-008", with_failed_child(site(), WEB_CONFIG, "HTTP 404"))
    assert config_unread.passed is None
    inv = inventory()
    fail_resource(inv, SITE_TYPE, "app-locked", "HTTP 403")
    assert only("AZ-APP-007", inv).detail == "site could not be read: HTTP 403"
