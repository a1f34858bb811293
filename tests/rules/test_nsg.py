"""Azure NSG evaluation semantics (scanner.rules.support.nsg): what "reachable from the Internet" means."""

from __future__ import annotations

import pytest

from scanner.rules.support import nsg as nsg_eval
from tests.rules.builders import DEFAULT_SECURITY_RULES, Resource, arm, nsg, sec_rule


def exposed(group: Resource, port: int = 22) -> str | None:
    """Name of the rule exposing TCP ``port``, or None when the port is closed."""
    opener = nsg_eval.exposed_tcp_ports(group, [port]).get(port)
    return opener.name if opener else None


@pytest.mark.parametrize(
    ("spec", "port", "covered"),
    [
        ("22", 22, True),
        ("22", 23, False),
        ("20-30", 22, True),
        ("20-30", 20, True),
        ("20-30", 30, True),
        ("20-30", 31, False),
        ("*", 3389, True),
        (" 3389 ", 3389, True),
        ("0-65535", 6379, True),
        ("30-20", 22, False),  # reversed range is malformed, not "everything"
        ("ssh", 22, False),
        ("", 22, False),
        (None, 22, False),
        (22, 22, True),  # integer in odd REST data
    ],
)
def test_port_spec_covers(spec: object, port: int, covered: bool) -> None:
    assert nsg_eval.port_spec_covers(spec, port) is covered


def test_single_port_allow_exposes() -> None:
    assert exposed(nsg("n", sec_rule("allow-ssh", 200, port="22"))) == "allow-ssh"


def test_range_containing_port_exposes() -> None:
    assert exposed(nsg("n", sec_rule("allow-range", 200, port="10-100"))) == "allow-range"


def test_range_not_containing_port_does_not_expose() -> None:
    assert exposed(nsg("n", sec_rule("allow-range", 200, port="23-100"))) is None


def test_port_list_entry_exposes() -> None:
    rule = sec_rule("allow-list", 200, port=None, ports=["80", "443", "20-25"])
    assert exposed(nsg("n", rule)) == "allow-list"


def test_port_list_without_port_does_not_expose() -> None:
    rule = sec_rule("allow-web", 200, port=None, ports=["80", "443"])
    assert exposed(nsg("n", rule)) is None


def test_star_port_exposes_every_port() -> None:
    group = nsg("n", sec_rule("allow-all-tcp", 200, port="*"))
    assert exposed(group, 22) == "allow-all-tcp"
    assert exposed(group, 5432) == "allow-all-tcp"


@pytest.mark.parametrize(
    "source", ["*", "0.0.0.0/0", "Internet", "internet", "INTERNET", "Any", "any", "::/0"]
)
def test_any_source_forms_expose(source: str) -> None:
    assert exposed(nsg("n", sec_rule("r", 200, source=source))) == "r"


@pytest.mark.parametrize("source", ["10.0.0.0/8", "203.0.113.7/32", "VirtualNetwork", "AzureCloud"])
def test_specific_source_does_not_expose(source: str) -> None:
    assert exposed(nsg("n", sec_rule("r", 200, source=source))) is None


def test_any_source_in_prefixes_list_exposes() -> None:
    rule = sec_rule("r", 200, source=None, sources=["10.0.0.0/8", "Internet"])
    assert exposed(nsg("n", rule)) == "r"


def test_specific_prefixes_list_does_not_expose() -> None:
    rule = sec_rule("r", 200, source=None, sources=["10.0.0.0/8", "192.168.0.0/16"])
    assert exposed(nsg("n", rule)) is None


def test_protocol_star_exposes_tcp() -> None:
    assert exposed(nsg("n", sec_rule("r", 200, protocol="*"))) == "r"


def test_protocol_is_case_insensitive() -> None:
    assert exposed(nsg("n", sec_rule("r", 200, protocol="TCP"))) == "r"


@pytest.mark.parametrize("protocol", ["Udp", "Icmp"])
def test_non_tcp_rule_does_not_expose_tcp(protocol: str) -> None:
    assert exposed(nsg("n", sec_rule("r", 200, protocol=protocol))) is None


def test_higher_priority_deny_shadows_later_allow() -> None:
    group = nsg(
        "n",
        sec_rule("allow-ssh", 300),
        sec_rule("deny-ssh", 100, access="Deny"),  # listed second, processed first
    )
    assert exposed(group) is None


def test_allow_before_deny_is_exposed() -> None:
    group = nsg("n", sec_rule("deny-ssh", 300, access="Deny"), sec_rule("allow-ssh", 100))
    assert exposed(group) == "allow-ssh"


def test_broad_deny_shadows_specific_allow() -> None:
    group = nsg(
        "n",
        sec_rule("deny-all", 100, access="Deny", protocol="*", port="*", source="Internet"),
        sec_rule("allow-ssh", 200),
    )
    assert exposed(group) is None


def test_deny_for_udp_does_not_shadow_tcp_allow() -> None:
    group = nsg("n", sec_rule("deny-udp", 100, access="Deny", protocol="Udp"), sec_rule("a", 200))
    assert exposed(group) == "a"


def test_specific_source_deny_does_not_shadow() -> None:
    group = nsg(
        "n",
        sec_rule("deny-office", 100, access="Deny", source="198.51.100.0/24"),
        sec_rule("allow-ssh", 200),
    )
    assert exposed(group) == "allow-ssh"


def test_specific_source_allow_is_skipped_for_later_deny() -> None:
    group = nsg(
        "n",
        sec_rule("allow-office", 100, source="198.51.100.0/24"),
        sec_rule("deny-rest", 200, access="Deny"),
        sec_rule("allow-late", 300),
    )
    assert exposed(group) is None


def test_outbound_rules_are_ignored() -> None:
    assert exposed(nsg("n", sec_rule("out", 100, direction="Outbound"))) is None


def test_outbound_deny_does_not_shadow_inbound_allow() -> None:
    group = nsg(
        "n",
        sec_rule("deny-out", 100, access="Deny", direction="Outbound"),
        sec_rule("allow-in", 200),
    )
    assert exposed(group) == "allow-in"


def test_default_security_rules_alone_do_not_expose() -> None:
    group = nsg("n")
    assert group["properties"]["defaultSecurityRules"] == DEFAULT_SECURITY_RULES
    for port in (22, 3389, 1433):
        assert exposed(group, port) is None


def test_tolerates_missing_and_null_fields() -> None:
    assert exposed(arm("Microsoft.Network/networkSecurityGroups", "bare")) is None
    assert (
        exposed(arm("Microsoft.Network/networkSecurityGroups", "n", {"securityRules": None}))
        is None
    )
    odd = {"name": "odd", "properties": {"direction": "Inbound", "access": "Allow"}}
    no_props = {"name": "np"}
    group = arm(
        "Microsoft.Network/networkSecurityGroups", "n", {"securityRules": [odd, no_props, "x"]}
    )
    assert exposed(group) is None


def test_rule_without_priority_is_processed_last() -> None:
    unprioritised = sec_rule("allow-ssh", 0)
    unprioritised["properties"]["priority"] = None
    group = nsg("n", unprioritised, sec_rule("deny-ssh", 4000, access="Deny"))
    assert exposed(group) is None


def test_allow_all_rule_detected() -> None:
    group = nsg("n", sec_rule("any-any", 100, protocol="*", port="*"))
    opener = nsg_eval.allow_all_rule(group)
    assert opener is not None and opener.name == "any-any"


def test_allow_all_with_full_range_detected() -> None:
    group = nsg("n", sec_rule("any-any", 100, protocol="*", port="0-65535", source="0.0.0.0/0"))
    assert nsg_eval.allow_all_rule(group) is not None


def test_allow_all_shadowed_by_broad_deny() -> None:
    group = nsg(
        "n",
        sec_rule("deny-all", 100, access="Deny", protocol="*", port="*"),
        sec_rule("any-any", 200, protocol="*", port="*"),
    )
    assert nsg_eval.allow_all_rule(group) is None


def test_allow_all_not_shadowed_by_narrow_deny() -> None:
    group = nsg(
        "n",
        sec_rule("deny-ssh", 100, access="Deny"),
        sec_rule("any-any", 200, protocol="*", port="*"),
    )
    assert nsg_eval.allow_all_rule(group) is not None


def test_allow_all_tcp_only_is_not_all_protocols() -> None:
    assert nsg_eval.allow_all_rule(nsg("n", sec_rule("tcp-all", 100, port="*"))) is None


# --- UDP exposure (AZ-NET-011) -------------------------------------------------------------------

def udp_open(group: Resource) -> tuple[str, list[tuple[int, int]]] | None:
    found = nsg_eval.udp_exposure(group)
    return None if found is None else (found[0].name, found[1])


def test_udp_allow_from_internet_is_exposed() -> None:
    group = nsg("n", sec_rule("dns", 100, protocol="Udp", port="53", source="Internet"))
    assert udp_open(group) == ("dns", [(53, 53)])


def test_tcp_only_allow_is_not_udp_exposure() -> None:
    assert udp_open(nsg("n", sec_rule("ssh", 100, protocol="Tcp", port="22"))) is None


def test_udp_deny_ranges_are_subtracted_from_a_later_allow() -> None:
    group = nsg(
        "n",
        sec_rule("deny-low", 100, access="Deny", protocol="Udp", port="0-1000"),
        sec_rule("deny-high", 110, access="Deny", protocol="*", port="2001-65535"),
        sec_rule("allow-all", 200, protocol="*", port="*"),
    )
    assert udp_open(group) == ("allow-all", [(1001, 2000)])


def test_udp_allow_fully_shadowed_by_earlier_denies() -> None:
    group = nsg(
        "n",
        sec_rule("deny-a", 100, access="Deny", protocol="Udp", port=None, ports=["500-600", "4500"]),
        sec_rule("allow-ipsec", 200, protocol="Udp", port=None, ports=["500", "4500"]),
        sec_rule("allow-private", 300, protocol="Udp", port="*", source="10.0.0.0/8"),
    )
    assert udp_open(group) is None


def test_tcp_deny_does_not_shadow_udp_allow() -> None:
    group = nsg("n", sec_rule("deny-tcp", 100, access="Deny", protocol="Tcp", port="*"),
                sec_rule("allow-udp", 200, protocol="Udp", port="123"))
    assert udp_open(group) == ("allow-udp", [(123, 123)])
