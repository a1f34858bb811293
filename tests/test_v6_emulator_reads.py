"""The two subscription-wide reads the CIS v6 network and storage rules added, through the real
collector against the emulator: the management-locks list (AZ-STOR-022) and the per-type list of
Application Gateway WAF policies (AZ-NET-017/020), with their pinned api-versions; a denied locks
read skips only AZ-STOR-022, with a reason naming the read."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from scanner.azure.collector import Collector
from scanner.engine import evaluate_rule
from scanner.inventory import Inventory, Needs
from scanner.rules.storage import MANAGEMENT_LOCKS
from scanner.rules.support.base import REGISTRY
from tests.collect_helpers import endpoints
from tests.fakeazure.harness import Emulator, start_emulator

RULES = ("AZ-STOR-021", "AZ-STOR-022", "AZ-NET-017", "AZ-NET-018")
ENV_KEYS = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo", page_size=2) as emu:
        saved = {k: os.environ.get(k) for k in ENV_KEYS}
        os.environ.update({k: emu.env[k] for k in ENV_KEYS})  # the SDKs read these from the environment
        yield emu
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _collect(emu: Emulator) -> Inventory:
    needs = Needs.union(REGISTRY[r].needs for r in RULES)
    return Collector(emu.env["AZURE_SUBSCRIPTION_ID"], needs, endpoints=endpoints(emu)).collect()


def test_locks_and_waf_policies_are_read_once_per_subscription(emulator: Emulator) -> None:
    emulator.set_faults(forbid_arm=[])
    emulator.reset_stats()
    inv = _collect(emulator)
    locks = inv.subscription_read(MANAGEMENT_LOCKS)
    assert sorted(lock["properties"]["level"] for lock in locks) == ["CanNotDelete", "NotSpecified", "ReadOnly"]
    routes = emulator.stats()["by_route"]
    assert routes["arm.subscription.locks"] == 2  # three locks at page size 2: nextLink followed
    policies = inv.of_type("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies")
    assert sorted(p["name"] for p in policies) == ["wafpol-appgw-waf-policy-01", "wafpol-legacy-01"]
    outcome, findings = evaluate_rule(REGISTRY["AZ-STOR-022"], inv)
    assert outcome.status == "ok" and outcome.evaluated > outcome.failed == len(findings) > 0


def test_denied_locks_skip_only_the_lock_rule(emulator: Emulator) -> None:
    emulator.set_faults(forbid_arm=["locks"])
    try:
        inv = _collect(emulator)
    finally:
        emulator.set_faults(forbid_arm=[])
    reason = inv.unavailable[MANAGEMENT_LOCKS.key]
    assert "management locks" in reason and "403 AuthorizationFailed" in reason
    outcome, findings = evaluate_rule(REGISTRY["AZ-STOR-022"], inv)
    assert outcome.status == "skipped" and outcome.reason == reason and findings == []
    outcome, _ = evaluate_rule(REGISTRY["AZ-STOR-021"], inv)
    assert outcome.status == "ok"
