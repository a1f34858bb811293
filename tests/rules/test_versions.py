"""AZ-AKS-007, AZ-PG-003, AZ-MYSQL-003, AZ-APP-006: software past upstream end of support."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from scanner.rules.support import lifecycle
from scanner.rules.appservice import SITE_TYPE, WEB_CONFIG
from scanner.rules.databases import MYSQL_TYPE, POSTGRES_TYPE
from scanner.rules.versions import AKS_TYPE
from tests.rules.builders import arm, fail_child, fail_resource, inventory, only, run, set_child

NOV_2026 = datetime(2026, 11, 28, tzinfo=timezone.utc)


def cluster(name: str, version: str | None, **extra: object) -> dict:
    properties: dict = dict(extra)
    if version is not None:
        properties["currentKubernetesVersion"] = version
    return arm(AKS_TYPE, name, properties)


# --- lifecycle table ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, parsed", [
    ("1.30.5", (1, 30, 5)), ("14-lts", (14,)), ("~18", (18,)), ("v8.0", (8, 0)), ("3.8", (3, 8)),
    ("", None), ("latest", None), (None, None),
])
def test_parse_version(text: object, parsed: object) -> None:
    assert lifecycle.parse_version(text) == parsed


def test_support_status_edges() -> None:
    # inside the table
    assert lifecycle.support_status("postgresql", (14,)).ends == date(2026, 11, 12)  # type: ignore[union-attr]
    # older than the table: past support; newer: supported (released after the table)
    assert lifecycle.support_status("postgresql", (9,)).past(date(2020, 1, 1)) is False  # type: ignore[union-attr]
    assert lifecycle.support_status("postgresql", (9,)).past(date(2023, 1, 1))  # type: ignore[union-attr]
    assert lifecycle.support_status("postgresql", (40,)).ends is None  # type: ignore[union-attr]
    # a version that names no release of a minor-released product, or a gap: no verdict
    assert lifecycle.support_status("kubernetes", (1,)) is None
    assert lifecycle.support_status("dotnet", (4, 0)) is None


# --- AKS -----------------------------------------------------------------------------------------

def test_aks007_old_minor_fails_with_software_metadata() -> None:
    result = only("AZ-AKS-007", inventory(cluster("old", "1.26.6"), collected_at=NOV_2026))
    assert result.passed is False
    assert "1.26.6" in result.detail and "2024-02-28" in result.detail
    assert result.metadata["software"] == {"vendor": "kubernetes", "product": "kubernetes", "version": "1.26.6"}
    json.dumps(result.metadata)


def test_aks007_supported_minor_passes_and_alias_version_is_read() -> None:
    new = arm(AKS_TYPE, "new", {"kubernetesVersion": "1.36"})
    result = only("AZ-AKS-007", inventory(new, collected_at=NOV_2026))
    assert result.passed is True and "2027-06-28" in result.detail


def test_aks007_long_term_support_adds_a_year() -> None:
    lts = cluster("lts", "1.33.2", supportPlan="AKSLongTermSupport")
    official = cluster("official", "1.33.2", supportPlan="KubernetesOfficial")
    results = {r.resource_name: r for r in run("AZ-AKS-007", inventory(lts, official, collected_at=NOV_2026))}
    assert results["lts"].passed is True and "Long Term Support" in results["lts"].detail
    assert results["official"].passed is False


def test_aks007_cannot_read() -> None:
    inv = inventory(cluster("noversion", None), cluster("garbled", "next"), collected_at=NOV_2026)
    fail_resource(inv, AKS_TYPE, "hidden", "HTTP 403 AuthorizationFailed")
    results = {r.resource_name: r for r in run("AZ-AKS-007", inv)}
    assert all(r.passed is None for r in results.values())
    assert "not reported" in results["noversion"].detail
    assert "unrecognised" in results["garbled"].detail
    assert "403" in results["hidden"].detail


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
