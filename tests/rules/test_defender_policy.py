"""AZ-DEF-008: Defender for Cloud's default initiative assigned, enforced, no policy Disabled
(CIS 2.1.14)."""

from __future__ import annotations

from typing import Any

from scanner.engine import evaluate_rule
from scanner.rules.defender import POLICY_ASSIGNMENTS
from scanner.rules.support.base import REGISTRY
from scanner.rules.support.helpers import SUBSCRIPTION_TYPE
from tests.rules.builders import SUB, inventory, only, run

SCOPE = f"/subscriptions/{SUB}"
MCSB = "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"


def assignment(name: str = "SecurityCenterBuiltIn", definition: str = MCSB, mode: str | None = "Default",
               **parameters: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"policyDefinitionId": definition, "scope": SCOPE,
                                  "parameters": {k: {"value": v} for k, v in parameters.items()}}
    if mode is not None:
        properties["enforcementMode"] = mode
    return {"id": f"{SCOPE}/providers/Microsoft.Authorization/policyAssignments/{name}", "name": name,
            "type": "Microsoft.Authorization/policyAssignments", "properties": properties}


def with_assignments(*items: dict[str, Any]) -> Any:
    inv = inventory()
    inv.subscription_reads[POLICY_ASSIGNMENTS.key] = list(items)
    return inv


def test_disabled_effects_and_do_not_enforce_fail() -> None:
    result = only("AZ-DEF-008", with_assignments(assignment(
        mode="DoNotEnforce", systemUpdatesMonitoringEffect="Disabled", diskEncryptionMonitoringEffect="Audit",
        endpointProtectionMonitoringEffect="disabled", listOfAllowedLocations=["westeurope"])))
    assert (result.passed, result.resource_type) == (False, SUBSCRIPTION_TYPE)
    assert result.detail == ("enforcement is DoNotEnforce; 2 policies set to Disabled: "
                             "endpointProtectionMonitoringEffect, systemUpdatesMonitoringEffect")


def test_missing_default_assignment_fails() -> None:
    other = assignment("allowed-locations", "/providers/Microsoft.Authorization/policyDefinitions/e56962a6")
    result = only("AZ-DEF-008", with_assignments(other))
    assert (result.passed, result.detail) == (
        False, "Defender for Cloud's default initiative (SecurityCenterBuiltIn) is not assigned")


def test_enforced_assignment_without_disabled_effects_passes() -> None:
    good = only("AZ-DEF-008", with_assignments(assignment(mode=None, diskEncryptionMonitoringEffect="AuditIfNotExists")))
    assert (good.passed, good.metadata["enforcementMode"]) == (True, "Default")
    # the initiative assigned under another name (e.g. at a management group) is found by its id
    renamed = only("AZ-DEF-008", with_assignments(assignment("mcsb-at-root")))
    assert renamed.passed is True and renamed.metadata["assignment"] == "mcsb-at-root"


def test_unreadable_assignments_skip_the_rule() -> None:
    inv = inventory()
    reason = ("could not read Azure Policy assignments of the subscription (HTTP 403 AuthorizationFailed): "
              "grant the identity Reader on the subscription")
    inv.unavailable[POLICY_ASSIGNMENTS.key] = reason
    outcome, findings = evaluate_rule(REGISTRY["AZ-DEF-008"], inv)
    assert (outcome.status, outcome.reason, findings) == ("skipped", reason, [])
    assert run("AZ-DEF-008", inventory()) == []
