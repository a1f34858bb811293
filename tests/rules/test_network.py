"""AZ-NET-001..004: NSG findings, their wording and metadata."""

from __future__ import annotations

import json

import pytest

from tests.rules.builders import fail_resource, inventory, nsg, only, run, sec_rule

NSG_TYPE = "Microsoft.Network/networkSecurityGroups"


def test_net001_ssh_open_names_rule() -> None:
    result = only(
        "AZ-NET-001", inventory(nsg("web-nsg", sec_rule("allow-ssh", 200, source="Internet")))
    )
    assert result.passed is False
    assert result.resource_type == NSG_TYPE
    assert result.resource_name == "web-nsg"
    assert (
        result.detail == "inbound TCP 22 allowed from Internet by rule 'allow-ssh' (priority 200)"
    )
    assert result.metadata["open_ports"] == [22]
    assert result.metadata["rules"][0]["rule"] == "allow-ssh"
    json.dumps(result.metadata)


def test_net001_compliant_when_ssh_restricted() -> None:
    group = nsg("web-nsg", sec_rule("allow-ssh", 200, source="10.0.0.0/8"))
    assert only("AZ-NET-001", inventory(group)).passed is True


def test_net001_shadowed_allow_is_compliant() -> None:
    group = nsg("n", sec_rule("deny", 100, access="Deny"), sec_rule("allow", 200))
    assert only("AZ-NET-001", inventory(group)).passed is True


@pytest.mark.parametrize("rule_id", ["AZ-NET-001", "AZ-NET-002", "AZ-NET-003", "AZ-NET-004"])
def test_unreadable_nsg_is_not_evaluated(rule_id: str) -> None:
    inv = inventory(nsg("ok"))
    rid = fail_resource(inv, NSG_TYPE, "locked", "403 Forbidden")
    results = {r.resource_id: r for r in run(rule_id, inv)}
    assert results[rid].passed is None
    assert "403 Forbidden" in results[rid].detail
    assert results[nsg("ok")["id"]].passed is True


@pytest.mark.parametrize("rule_id", ["AZ-NET-001", "AZ-NET-002", "AZ-NET-003", "AZ-NET-004"])
def test_nsg_without_properties_is_compliant(rule_id: str) -> None:
    bare = nsg("n")
    del bare["properties"]
    assert only(rule_id, inventory(bare)).passed is True


def test_net002_rdp_open() -> None:
    group = nsg("n", sec_rule("rdp", 300, port="3389", source="0.0.0.0/0"))
    result = only("AZ-NET-002", inventory(group))
    assert result.passed is False
    assert "TCP 3389" in result.detail and "'rdp' (priority 300)" in result.detail


def test_net002_compliant_when_only_ssh_open() -> None:
    assert only("AZ-NET-002", inventory(nsg("n", sec_rule("ssh", 300)))).passed is True


def test_net003_lists_every_open_database_port() -> None:
    group = nsg(
        "db-nsg",
        sec_rule("sql", 100, port="1433-1434"),
        sec_rule("pg-mysql", 110, port=None, ports=["5432", "3306"]),
        sec_rule("deny-redis", 120, access="Deny", port="6379"),
        sec_rule("redis", 130, port="6379"),
    )
    result = only("AZ-NET-003", inventory(group))
    assert result.passed is False
    assert result.metadata["open_ports"] == [1433, 1434, 3306, 5432]
    assert "TCP 3306, 5432 allowed from any source ('*') by rule 'pg-mysql'" in result.detail
    assert "6379" not in result.detail
    json.dumps(result.metadata)


def test_net003_compliant_for_web_ports() -> None:
    group = nsg("n", sec_rule("web", 100, port=None, ports=["80", "443"]))
    assert only("AZ-NET-003", inventory(group)).passed is True


def test_net004_allow_all_is_critical_finding() -> None:
    group = nsg("n", sec_rule("any-any", 4000, protocol="*", port="*", source="Any"))
    result = only("AZ-NET-004", inventory(group))
    assert result.passed is False
    assert "'any-any' (priority 4000)" in result.detail
    assert result.metadata["rule"] == "any-any"


def test_net004_compliant_for_single_port_allow() -> None:
    assert only("AZ-NET-004", inventory(nsg("n", sec_rule("ssh", 100)))).passed is True


def test_one_evaluation_per_nsg() -> None:
    inv = inventory(nsg("a", sec_rule("ssh", 100)), nsg("b"), nsg("c", sec_rule("ssh", 100)))
    verdicts = {r.resource_name: r.passed for r in run("AZ-NET-001", inv)}
    assert verdicts == {"a": False, "b": True, "c": False}
