"""AZ-IAM-001..004: MFA registration, privileged guests, stale secrets, SP subscription owners."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.rules.builders import COLLECTED_AT, SUB, Resource, inventory, only, run

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"  # Directory Readers: not privileged
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3629-48ce-ae10-99a99f18d77d"


# --- AZ-IAM-001 ---------------------------------------------------------------------------


def registration(user_id: str = "u1", **fields: object) -> Resource:
    return {
        "id": user_id,
        "userPrincipalName": f"{user_id}@contoso.com",
        "userDisplayName": f"User {user_id}",
        "userType": "member",
        "isAdmin": False,
        "isMfaCapable": False,
        "methodsRegistered": [],
        **fields,
    }


def test_iam001_unregistered_user_fails_with_cis_113() -> None:
    inv = inventory(graph={"userRegistrationDetails": [registration(isMfaRegistered=False)]})
    result = only("AZ-IAM-001", inv)
    assert result.passed is False
    assert result.resource_id == "/graph/users/u1"
    assert result.resource_type == "Microsoft.Graph/users"
    assert result.resource_name == "User u1"
    assert result.metadata["cis"] == "1.1.3"
    assert "u1@contoso.com" in result.detail
    json.dumps(result.metadata)


def test_iam001_unregistered_admin_maps_to_cis_112() -> None:
    entry = registration(isAdmin=True, isMfaRegistered=False)
    result = only("AZ-IAM-001", inventory(graph={"userRegistrationDetails": [entry]}))
    assert result.passed is False
    assert result.metadata["cis"] == "1.1.2"
    assert "administrator" in result.detail


def test_iam001_guest_is_judged_too() -> None:
    entry = registration("g1", userType="guest", isMfaRegistered=False)
    assert only("AZ-IAM-001", inventory(graph={"userRegistrationDetails": [entry]})).passed is False


def test_iam001_registered_user_passes() -> None:
    entry = registration(isMfaRegistered=True, methodsRegistered=["microsoftAuthenticatorPush"])
    result = only("AZ-IAM-001", inventory(graph={"userRegistrationDetails": [entry]}))
    assert result.passed is True
    assert result.metadata["methodsRegistered"] == ["microsoftAuthenticatorPush"]


def test_iam001_missing_flag_is_not_evaluated() -> None:
    entry = {"id": "u9", "methodsRegistered": None}
    result = only("AZ-IAM-001", inventory(graph={"userRegistrationDetails": [entry]}))
    assert result.passed is None
    assert result.resource_name == "u9"


def test_iam001_empty_collection_yields_nothing() -> None:
    assert run("AZ-IAM-001", inventory()) == []


# --- AZ-IAM-002 ---------------------------------------------------------------------------


def user(user_id: str, user_type: str = "Member", upn: str | None = None) -> Resource:
    return {
        "id": user_id,
        "displayName": f"User {user_id}",
        "userPrincipalName": upn or f"{user_id}@contoso.com",
        "userType": user_type,
        "accountEnabled": True,
    }


def role(name: str, template_id: str | None, *member_ids: str) -> Resource:
    entry = {
        "id": f"role-{name}",
        "displayName": name,
        "members": [{"@odata.type": "#microsoft.graph.user", "id": m} for m in member_ids],
    }
    if template_id is not None:
        entry["roleTemplateId"] = template_id
    return entry


def test_iam002_guest_global_admin_fails() -> None:
    inv = inventory(
        graph={
            "users": [user("m1"), user("g1", "Guest")],
            "directoryRoles": [
                role("Global Administrator", GLOBAL_ADMIN, "m1", "g1"),
                role("Directory Readers", READERS, "g1"),
            ],
        }
    )
    result = only("AZ-IAM-002", inv)  # only guests are judged
    assert result.passed is False
    assert result.resource_id == "/graph/users/g1"
    assert result.metadata["roles"] == ["Global Administrator"]
    assert "Global Administrator" in result.detail


def test_iam002_ext_upn_counts_as_guest() -> None:
    guest = user("g2", "Member", upn="bob_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    inv = inventory(
        graph={
            "users": [guest],
            "directoryRoles": [role("Global Administrator", GLOBAL_ADMIN, "g2")],
        }
    )
    assert only("AZ-IAM-002", inv).passed is False


def test_iam002_display_name_fallback_without_template_id() -> None:
    inv = inventory(
        graph={
            "users": [user("g1", "guest")],
            "directoryRoles": [role("Privileged Role Administrator", None, "g1")],
        }
    )
    assert only("AZ-IAM-002", inv).metadata["roles"] == ["Privileged Role Administrator"]


def test_iam002_guest_in_unprivileged_role_passes() -> None:
    inv = inventory(
        graph={
            "users": [user("g1", "Guest")],
            "directoryRoles": [role("Directory Readers", READERS, "g1")],
        }
    )
    result = only("AZ-IAM-002", inv)
    assert result.passed is True
    assert result.metadata["roles"] == []


def test_iam002_tolerates_null_members_and_fields() -> None:
    odd_role = {"id": "r", "displayName": "Global Administrator", "members": None}
    inv = inventory(
        graph={"users": [{"id": "g1", "userType": "Guest"}], "directoryRoles": [odd_role]}
    )
    assert only("AZ-IAM-002", inv).passed is True


# --- AZ-IAM-003 ---------------------------------------------------------------------------


def app(*started_days_ago: int | None) -> Resource:
    creds = []
    for index, days in enumerate(started_days_ago):
        start = (
            None
            if days is None
            else (COLLECTED_AT - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        )
        creds.append(
            {
                "keyId": f"k{index}",
                "displayName": f"secret-{index}",
                "startDateTime": start,
                "endDateTime": "2099-01-01T00:00:00Z",
            }
        )
    return {
        "id": "obj1",
        "appId": "app-guid",
        "displayName": "ci-deployer",
        "passwordCredentials": creds,
        "keyCredentials": [],
    }


def test_iam003_old_secret_fails() -> None:
    result = only("AZ-IAM-003", inventory(graph={"applications": [app(10, 200)]}))
    assert result.passed is False
    assert result.resource_id == "/graph/applications/obj1"
    assert result.resource_type == "Microsoft.Graph/applications"
    assert [c["keyId"] for c in result.metadata["stale_credentials"]] == ["k1"]
    assert "'secret-1'" in result.detail and "200 days" in result.detail
    json.dumps(result.metadata)


def test_iam003_recent_secret_passes() -> None:
    assert only("AZ-IAM-003", inventory(graph={"applications": [app(10, 90)]})).passed is True


def test_iam003_app_without_secrets_passes() -> None:
    bare = {"id": "obj2", "displayName": "no-secrets", "passwordCredentials": None}
    assert only("AZ-IAM-003", inventory(graph={"applications": [bare]})).passed is True


def test_iam003_undated_secret_is_not_evaluated() -> None:
    assert only("AZ-IAM-003", inventory(graph={"applications": [app(None)]})).passed is None


def test_iam003_uses_collected_at_not_wall_clock() -> None:
    inv = inventory(
        graph={"applications": [app(100)]}, collected_at=COLLECTED_AT - timedelta(days=20)
    )
    assert only("AZ-IAM-003", inv).passed is True


def test_iam003_parses_graph_seven_digit_fractions() -> None:
    entry = app(0)
    entry["passwordCredentials"][0]["startDateTime"] = "2020-03-01T18:46:01.5830446Z"
    assert only("AZ-IAM-003", inventory(graph={"applications": [entry]})).passed is False


# --- AZ-IAM-004 ---------------------------------------------------------------------------


def assignment(
    name: str,
    role_guid: str,
    principal_type: str = "ServicePrincipal",
    scope: str | None = f"/subscriptions/{SUB}",
    principal_id: str = "sp-obj-1",
) -> Resource:
    props: Resource = {
        "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{role_guid}",
        "principalId": principal_id,
        "principalType": principal_type,
    }
    if scope is not None:
        props["scope"] = scope
    base = scope if scope is not None else f"/subscriptions/{SUB}"
    return {
        "id": f"{base}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": props,
    }


SP = {
    "id": "sp-obj-1",
    "appId": "app-1",
    "displayName": "terraform-ci",
    "servicePrincipalType": "Application",
}


def test_iam004_sp_owner_at_subscription_fails_with_name() -> None:
    inv = inventory(role_assignments=[assignment("ra1", OWNER)], graph={"servicePrincipals": [SP]})
    result = only("AZ-IAM-004", inv)
    assert result.passed is False
    assert result.resource_type == "Microsoft.Authorization/roleAssignments"
    assert result.resource_name == "terraform-ci"
    assert "'terraform-ci'" in result.detail
    assert result.metadata["appId"] == "app-1"


def test_iam004_without_service_principals_uses_principal_id() -> None:
    result = only("AZ-IAM-004", inventory(role_assignments=[assignment("ra1", OWNER)]))
    assert result.passed is False
    assert result.resource_name == "sp-obj-1"


def test_iam004_scope_is_case_insensitive_and_derivable() -> None:
    upper = assignment("ra1", OWNER, scope=f"/SUBSCRIPTIONS/{SUB.upper()}")
    derived = assignment("ra2", OWNER, scope=None)
    results = run("AZ-IAM-004", inventory(role_assignments=[upper, derived]))
    assert [r.passed for r in results] == [False, False]


def test_iam004_non_owner_sp_passes() -> None:
    result = only("AZ-IAM-004", inventory(role_assignments=[assignment("ra1", READER)]))
    assert result.passed is True


@pytest.mark.parametrize(
    "other",
    [
        assignment("ra-user", OWNER, principal_type="User"),
        assignment("ra-rg", OWNER, scope=f"/subscriptions/{SUB}/resourceGroups/rg1"),
        assignment("ra-mg", OWNER, scope="/providers/Microsoft.Management/managementGroups/root"),
        {"id": "x", "properties": None},
        {},
    ],
)
def test_iam004_other_principals_and_scopes_are_not_judged(other: Resource) -> None:
    assert run("AZ-IAM-004", inventory(role_assignments=[other])) == []


def test_iam003_expired_secret_is_ignored() -> None:
    from datetime import datetime, timezone

    from scanner.inventory import Inventory
    from scanner.rules import REGISTRY

    inv = Inventory(subscription_id="s", collected_at=datetime(2026, 6, 1, tzinfo=timezone.utc))
    inv.graph["applications"] = [{
        "id": "a1", "appId": "x", "displayName": "old-app",
        "passwordCredentials": [{"keyId": "k", "startDateTime": "2024-01-01T00:00:00Z",
                                 "endDateTime": "2025-01-01T00:00:00Z"}],
    }]
    [ev] = list(REGISTRY["AZ-IAM-003"].evaluate(inv))
    assert ev.passed is True
