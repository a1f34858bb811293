"""AZ-IAM-024: subscriptions can neither leave nor enter the tenant (ARM tenant-scope
``Microsoft.Subscription/policies/default``, CIS 1.25)."""

from __future__ import annotations

from typing import Any

from scanner.engine import evaluate_rule
from scanner.rules.identity import SUBSCRIPTION_POLICY
from scanner.rules.support.base import REGISTRY
from tests.rules.builders import inventory, only, run


def with_policy(**properties: Any) -> Any:
    inv = inventory()
    inv.tenant_reads[SUBSCRIPTION_POLICY.key] = {
        "id": "/providers/Microsoft.Subscription/policies/default", "name": "default",
        "type": "Microsoft.Subscription/policies", "properties": {"policyId": "p-1", **properties}}
    return inv


def test_default_policy_allows_both_and_fails() -> None:
    result = only("AZ-IAM-024", with_policy())  # never set: both flags absent (false)
    assert (result.passed, result.detail) == (False, "subscriptions may leave and enter the tenant")
    assert (result.resource_id, result.resource_type) == ("/providers/Microsoft.Subscription/policies/default",
                                                          "Microsoft.Subscription/policies")
    half = only("AZ-IAM-024", with_policy(blockSubscriptionsLeavingTenant=True, blockSubscriptionsIntoTenant=False))
    assert (half.passed, half.detail) == (False, "subscriptions may enter the tenant")


def test_both_blocked_passes_and_reports_exemptions() -> None:
    result = only("AZ-IAM-024", with_policy(blockSubscriptionsLeavingTenant=True, blockSubscriptionsIntoTenant=True,
                                            exemptedPrincipals=["0f1e2d3c-0000-0000-0000-000000000001"]))
    assert (result.passed, result.detail) == (True, "subscriptions can neither leave nor enter the tenant "
                                                    "(1 exempted principal(s))")


def test_forbidden_policy_read_skips_naming_the_action() -> None:
    inv = inventory()
    reason = ("could not read the tenant's subscription policy (HTTP 403 AuthorizationFailed): grant the identity "
              "Microsoft.Subscription/policies/read at the tenant root scope (/)")
    inv.unavailable[SUBSCRIPTION_POLICY.key] = reason
    outcome, findings = evaluate_rule(REGISTRY["AZ-IAM-024"], inv)
    assert (outcome.status, outcome.reason, findings) == ("skipped", reason, [])
    assert run("AZ-IAM-024", inventory()) == []
