"""The demo tenant plants a violating and a compliant case of every CIS v6 network, storage and
Databricks rule (AZ-NET-015..022, AZ-STOR-018..022, AZ-DBW-004..007, AZ-IAM-027, AZ-DEF-013, AZ-CMP-010), evaluated over the inventory
a scan would collect from it (no HTTP: tests/test_scan_run.py runs the real scan)."""

from __future__ import annotations

import pytest

from scanner.rules.support.base import REGISTRY
from tests.bench.bench_rules import inventory_of
from tests.fakeazure import tenants as T

# rule -> (resources that pass, resources that fail; None = every other one of its kind)
EXPECTED: dict[str, tuple[set[str], set[str] | None]] = {
    "AZ-NET-015": ({"appgw-waf-policy-01"}, {"appgw-standard-01"}),
    "AZ-NET-016": ({"appgw-waf-policy-01"}, {"appgw-standard-01"}),
    "AZ-NET-017": ({"wafpol-appgw-waf-policy-01"}, {"wafpol-legacy-01"}),
    "AZ-NET-018": ({"wafpol-appgw-waf-policy-01"}, {"wafpol-legacy-01"}),
    "AZ-NET-019": ({"nsg-web-only"}, None),
    "AZ-NET-020": ({"vnet-flowlogs-ta"}, {"vnet-data", "vnet-flowlogs", "vnet-prod"}),
    "AZ-NET-021": ({"vnet-flowlogs-ta"}, {"vnet-data", "vnet-flowlogs", "vnet-prod"}),
    "AZ-NET-022": ({"vgw-p2s-entra-01"}, {"vgw-p2s-cert-01"}),  # vgw-s2s-01 has no point-to-site
    "AZ-DEF-013": ({"iot-defended-01"}, {"iot-undefended-01"}),
    "AZ-CMP-010": ({"vm-linux-sshkey-only"}, None),  # assessment goes with platform patching (tenants.vm)
    # VM login role assignments, named by their user (v6_cases.plant_assignments)
    "AZ-IAM-027": ({f"dave.user@{T.TENANT_DOMAIN}"}, {f"bob.nomfa@{T.TENANT_DOMAIN}"}),
    **{f"AZ-STOR-0{n}": ({"stsecure01", "stsecure02"}, None) for n in range(18, 23)},
    "AZ-DBW-004": ({"dbw-private-01", "dbw-injected-01"}, {"dbw-open-01"}),
    "AZ-DBW-005": ({"dbw-private-01"}, {"dbw-open-01", "dbw-injected-01"}),
    "AZ-DBW-006": ({"dbw-private-01"}, {"dbw-injected-01"}),  # dbw-open-01 is not injected
    # no setting, and a setting with the dbfs category only (resource_reads.RESOURCE_LOGS)
    "AZ-DBW-007": ({"dbw-injected-01"}, {"dbw-open-01", "dbw-private-01"}),
}


@pytest.fixture(scope="module")
def tenant() -> dict:
    return T.demo_tenant()


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_demo_holds_a_violating_and_a_compliant_case(tenant: dict, rule_id: str) -> None:
    rule = REGISTRY[rule_id]
    verdicts = {e.resource_name: e.passed for e in rule.evaluate(inventory_of(tenant, rule.needs))}
    passed, failed = EXPECTED[rule_id]
    assert {n for n, ok in verdicts.items() if ok} == passed
    assert None not in verdicts.values()
    if failed is not None:
        assert {n for n, ok in verdicts.items() if ok is False} == failed
    assert len(verdicts) > len(passed)
