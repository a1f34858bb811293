"""AZ-IAM-013..021: tenant-wide Entra ID policies (authorization policy, security defaults,
Conditional Access) and the number of Global Administrators."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.engine import evaluate_rule
from scanner.rules.support.base import REGISTRY
from tests.rules.builders import inventory, only, run

GA = "62e90394-69f5-4237-9190-012177145e10"
AZURE_MANAGEMENT = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
OPEN: dict[str, Any] = {
    "id": "authorizationPolicy", "allowInvitesFrom": "everyone", "guestUserRoleId": "a0b1b346-4d3e-4e8b-98f8-753987be4970",
    "defaultUserRolePermissions": {
        "allowedToCreateApps": True, "allowedToCreateSecurityGroups": True, "allowedToCreateTenants": True,
        "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-low"]},
}
LOCKED: dict[str, Any] = {
    "id": "authorizationPolicy", "allowInvitesFrom": "adminsAndGuestInviters",
    "guestUserRoleId": "2af84b1e-32c8-42b7-82bc-daa82404023b",
    "defaultUserRolePermissions": {
        "allowedToCreateApps": False, "allowedToCreateSecurityGroups": False, "allowedToCreateTenants": False,
        "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"]},
}


@pytest.mark.parametrize(("rule_id", "bad_detail", "good_detail"), [
    ("AZ-IAM-013", "users may consent to apps: ManagePermissionGrantsForSelf.microsoft-user-default-low",
     "user consent to applications is not allowed"),
    ("AZ-IAM-014", "users can register applications", "users cannot register applications"),
    ("AZ-IAM-015", "users can create security groups", "users cannot create security groups"),
    ("AZ-IAM-016", "users can create tenants", "users cannot create tenants"),
    ("AZ-IAM-017", "guest invitations allowed from everyone", "guest invitations limited (adminsAndGuestInviters)"),
    ("AZ-IAM-018", "guest access is the same as members", "guest access is restricted to own objects"),
])
def test_authorization_policy_rules(rule_id: str, bad_detail: str, good_detail: str) -> None:
    bad = only(rule_id, inventory(graph={"authorizationPolicy": [OPEN]}))
    assert (bad.passed, bad.detail) == (False, bad_detail)
    assert (bad.resource_id, bad.resource_type) == ("/graph/policies/authorizationPolicy", "Microsoft.Graph/policies")
    good = only(rule_id, inventory(graph={"authorizationPolicy": [LOCKED]}))
    assert (good.passed, good.detail) == (True, good_detail)


def test_absent_user_permission_flags_mean_allowed() -> None:
    result = only("AZ-IAM-014", inventory(graph={"authorizationPolicy": [{"id": "authorizationPolicy"}]}))
    assert result.passed is False and "true by default" in result.detail


def ca(state: str, users: dict[str, list[str]], apps: list[str], controls: list[str]) -> dict[str, Any]:
    return {"id": f"ca-{state}", "displayName": f"ca-{state}-{'-'.join(controls)}", "state": state,
            "conditions": {"users": users, "applications": {"includeApplications": apps}},
            "grantControls": {"builtInControls": controls}}


def mfa_inventory(defaults: bool, *policies: dict[str, Any]) -> Any:
    return inventory(graph={"securityDefaults": [{"id": "x", "isEnabled": defaults}],
                            "conditionalAccessPolicies": list(policies)})


@pytest.mark.parametrize("rule_id", ["AZ-IAM-019", "AZ-IAM-020"])
def test_security_defaults_satisfy_both_mfa_rules(rule_id: str) -> None:
    assert only(rule_id, mfa_inventory(True)).passed is True
    assert only(rule_id, mfa_inventory(False)).passed is False


def test_iam019_conditional_access_for_admins() -> None:
    enforced = ca("enabled", {"includeRoles": [GA]}, ["All"], ["mfa"])
    report_only = ca("enabledForReportingButNotEnforced", {"includeRoles": [GA]}, ["All"], ["mfa"])
    one_app = ca("enabled", {"includeRoles": [GA]}, [AZURE_MANAGEMENT], ["mfa"])
    assert only("AZ-IAM-019", mfa_inventory(False, enforced)).passed is True
    assert only("AZ-IAM-019", mfa_inventory(False, report_only, one_app)).passed is False


def test_iam020_conditional_access_for_azure_management() -> None:
    enforced = ca("enabled", {"includeUsers": ["All"]}, [AZURE_MANAGEMENT], ["mfa"])
    device_only = ca("enabled", {"includeUsers": ["All"]}, [AZURE_MANAGEMENT], ["compliantDevice"])
    assert only("AZ-IAM-020", mfa_inventory(False, enforced)).passed is True
    result = only("AZ-IAM-020", mfa_inventory(False, device_only))
    assert (result.passed, result.detail) == (
        False, "neither security defaults nor an enabled Conditional Access policy require MFA for Azure management")


def test_mfa_rules_not_evaluated_when_conditional_access_is_unreadable_and_defaults_off() -> None:
    inv = inventory(graph={"securityDefaults": [{"id": "x", "isEnabled": False}]})
    inv.unavailable["graph:conditionalAccessPolicies"] = "Microsoft Graph denied conditionalAccessPolicies (HTTP 403): grant Policy.Read.All"
    result = only("AZ-IAM-019", inv)
    assert result.passed is None and "Policy.Read.All" in result.detail


@pytest.mark.parametrize("rule_id", [f"AZ-IAM-0{n}" for n in range(13, 21)])
def test_policy_rules_skip_with_the_permission_when_denied(rule_id: str) -> None:
    inv = inventory()
    for collection in REGISTRY[rule_id].needs.graph:
        inv.unavailable[f"graph:{collection}"] = f"Microsoft Graph denied {collection} (HTTP 403): grant Policy.Read.All"
    outcome, findings = evaluate_rule(REGISTRY[rule_id], inv)
    assert outcome.status == "skipped" and "Policy.Read.All" in (outcome.reason or "") and findings == []


def role(members: int) -> dict[str, Any]:
    return {"id": "role-ga", "roleTemplateId": GA, "displayName": "Global Administrator",
            "members": [{"id": f"u{i}", "userPrincipalName": f"u{i}@contoso.com"} for i in range(members)]}


@pytest.mark.parametrize(("members", "passed"), [(1, False), (2, True), (4, True), (5, False)])
def test_iam021_global_admin_count(members: int, passed: bool) -> None:
    result = only("AZ-IAM-021", inventory(graph={"directoryRoles": [role(members)]}))
    assert result.passed is passed and result.resource_name == "Global Administrator"


def test_iam021_no_activated_role_means_none_and_unread_roles_skip() -> None:
    assert only("AZ-IAM-021", inventory(graph={"directoryRoles": []})).detail == "0 Global Administrator(s) (want 2 to 4)"
    inv = inventory()
    inv.unavailable["graph:directoryRoles"] = "denied"
    assert evaluate_rule(REGISTRY["AZ-IAM-021"], inv)[0].status == "skipped"
    assert run("AZ-IAM-013", inventory()) == []


# --- AZ-IAM-022: User Access Administrator scope -------------------------------------------------
UAA = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"


def assignment(scope: str, role: str = UAA, principal: str = "p1") -> dict[str, Any]:
    from tests.rules.builders import SUB
    return {"id": f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{principal}",
            "properties": {"roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                           "principalId": principal, "principalType": "User", "scope": scope}}


def test_iam022_user_access_administrator_scope() -> None:
    from tests.rules.builders import SUB
    sub = f"/subscriptions/{SUB}"
    inv = inventory(role_assignments=[assignment(sub, principal="on-sub"), assignment("/", principal="on-root"),
                                      assignment(f"{sub}/resourceGroups/rg1", principal="on-rg"),
                                      assignment(sub, role="acdd72a7-3385-48ef-bd42-f606fba81ae7", principal="reader")])
    results = {r.resource_name: (r.passed, r.detail) for r in run("AZ-IAM-022", inv)}
    assert results == {
        "on-sub": (False, f"User Access Administrator at {sub}"),
        "on-root": (False, "User Access Administrator at root (/)"),
        "on-rg": (True, f"User Access Administrator limited to {sub}/resourceGroups/rg1"),
    }
    inv = inventory()
    inv.unavailable["arm:roleAssignments"] = "HTTP 403"
    assert evaluate_rule(REGISTRY["AZ-IAM-022"], inv)[0].status == "skipped"


# --- AZ-IAM-026: security defaults (CIS v6 5.1.1) -------------------------------------------------

def _defaults(on: Any) -> dict[str, Any]:
    return {"id": "00000000-0000-0000-0000-000000000000", "isEnabled": on}


def test_iam027_security_defaults_on_passes() -> None:
    result = only("AZ-IAM-026", inventory(graph={"securityDefaults": [_defaults(True)], "conditionalAccessPolicies": []}))
    assert (result.passed, result.detail) == (True, "security defaults are enabled")
    assert result.resource_id == "/graph/policies/identitySecurityDefaultsEnforcementPolicy"


def test_iam027_off_fails_and_names_conditional_access_in_force() -> None:
    policies = [{"displayName": "Require MFA for admins", "state": "enabled"},
                {"displayName": "Report only", "state": "enabledForReportingButNotEnforced"}]
    with_ca = only("AZ-IAM-026", inventory(graph={"securityDefaults": [_defaults(False)],
                                                  "conditionalAccessPolicies": policies}))
    assert with_ca.passed is False
    assert "1 enabled Conditional Access policy in force instead (Require MFA for admins)" in with_ca.detail
    bare = only("AZ-IAM-026", inventory(graph={"securityDefaults": [_defaults(False)], "conditionalAccessPolicies": []}))
    assert (bare.passed, bare.detail) == (False, "security defaults are disabled and no Conditional Access policy is enabled")
    # Conditional Access unreadable (no P1 licence, or no permission): still judged on the setting
    inv = inventory(graph={"securityDefaults": [_defaults(False)]})
    inv.unavailable["graph:conditionalAccessPolicies"] = "Microsoft Graph denied conditionalAccessPolicies (HTTP 403)"
    assert only("AZ-IAM-026", inv).passed is False


def test_iam027_not_evaluated_or_skipped_when_unreadable() -> None:
    assert only("AZ-IAM-026", inventory(graph={"securityDefaults": [{"id": "x"}]})).passed is None
    inv = inventory()
    inv.unavailable["graph:securityDefaults"] = "Microsoft Graph denied securityDefaults (HTTP 403): grant Policy.Read.All"
    outcome, findings = evaluate_rule(REGISTRY["AZ-IAM-026"], inv)
    assert outcome.status == "skipped" and "Policy.Read.All" in (outcome.reason or "") and findings == []
    assert run("AZ-IAM-026", inv) == []
