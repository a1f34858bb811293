"""AZ-IAM-001..004: MFA registration, privileged guests, stale secrets, SP subscription owners."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from scanner.inventory import Inventory
from tests.rules.builders import COLLECTED_AT, SUB, Resource, inventory, only, run

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"  # Directory Readers: not privileged
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


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


def test_iam001_disabled_accounts_are_left_out() -> None:
    """The registration report lists disabled accounts too; they cannot sign in, so no finding."""
    users = [{"id": "u1", "accountEnabled": False}, {"id": "u2", "accountEnabled": True}]
    entries = [registration("u1", isMfaRegistered=False), registration("u2", isMfaRegistered=False),
               registration("u3", isMfaRegistered=False)]  # u3: not among users (deleted since): judged
    results = run("AZ-IAM-001", inventory(graph={"userRegistrationDetails": entries, "users": users}))
    assert [(r.resource_id, r.passed) for r in results] == [("/graph/users/u2", False), ("/graph/users/u3", False)]


def test_iam001_needs_users_so_it_skips_rather_than_flag_disabled_accounts() -> None:
    from scanner.rules.support.base import REGISTRY
    assert REGISTRY["AZ-IAM-001"].needs.graph == frozenset({"userRegistrationDetails", "users"})


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


# --- AZ-IAM-005 ---------------------------------------------------------------------------


def _ago(days: int) -> str:
    return (COLLECTED_AT - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def guest(state: str | None, invited_days_ago: int | None = 45, **fields: object) -> Resource:
    entry = {
        **user("g1", "Guest"),
        "externalUserState": state,
        "createdDateTime": _ago(400),
        **fields,
    }
    if invited_days_ago is not None:
        entry["externalUserStateChangeDateTime"] = _ago(invited_days_ago)
    return entry


def test_iam005_invitation_pending_over_30_days_fails() -> None:
    result = only(
        "AZ-IAM-005", inventory(graph={"users": [user("m1"), guest("PendingAcceptance")]})
    )
    assert result.passed is False  # members are not judged
    assert result.resource_id == "/graph/users/g1"
    assert result.metadata["invitation_age_days"] == 45
    assert "45 days" in result.detail
    json.dumps(result.metadata)


def test_iam005_recent_invitation_and_accepted_guest_pass() -> None:
    recent = only("AZ-IAM-005", inventory(graph={"users": [guest("PendingAcceptance", 10)]}))
    accepted = only("AZ-IAM-005", inventory(graph={"users": [guest("Accepted", 900)]}))
    assert recent.passed is True and accepted.passed is True
    assert "sign-in activity is not assessed" in accepted.detail


def test_iam005_falls_back_to_created_date() -> None:
    entry = guest("PendingAcceptance", None)  # createdDateTime 400 days ago
    assert only("AZ-IAM-005", inventory(graph={"users": [entry]})).passed is False


def test_iam005_uses_collected_at() -> None:
    inv = inventory(
        graph={"users": [guest("PendingAcceptance", 45)]},
        collected_at=COLLECTED_AT - timedelta(days=20),
    )
    assert only("AZ-IAM-005", inv).passed is True


@pytest.mark.parametrize(
    "entry",
    [
        guest(None),
        guest("PendingAcceptance", None, createdDateTime=None),
        guest("PendingAcceptance", None, createdDateTime="soon"),
    ],
)
def test_iam005_missing_state_or_date_is_not_evaluated(entry: Resource) -> None:
    assert only("AZ-IAM-005", inventory(graph={"users": [entry]})).passed is None


# --- AZ-IAM-006 ---------------------------------------------------------------------------


def cred(name: str, ends_in_days: int | None) -> Resource:
    end = (
        None if ends_in_days is None else (COLLECTED_AT + timedelta(days=ends_in_days)).isoformat()
    )
    return {
        "keyId": f"k-{name}",
        "displayName": name,
        "startDateTime": _ago(10),
        "endDateTime": end,
    }


def creds_app(passwords: list[Resource], keys: list[Resource] | None = None) -> Resource:
    return {
        "id": "obj6",
        "appId": "a6",
        "displayName": "billing-api",
        "passwordCredentials": passwords,
        "keyCredentials": keys or [],
    }


def test_iam006_expiring_secret_and_expired_cert_fail() -> None:
    entry = creds_app([cred("ok", 200), cred("soon", 10)], [cred("old-cert", -35)])
    result = only("AZ-IAM-006", inventory(graph={"applications": [entry]}))
    assert result.passed is False
    flagged = {c["displayName"]: c for c in result.metadata["credentials"]}
    assert set(flagged) == {"soon", "old-cert"}
    assert flagged["old-cert"]["expired"] is True and flagged["old-cert"]["kind"] == "certificate"
    assert flagged["soon"]["expired"] is False
    assert "1 expired and 1 expiring" in result.detail and "'old-cert'" in result.detail
    json.dumps(result.metadata)


def test_iam006_boundary_is_30_days() -> None:
    assert (
        only("AZ-IAM-006", inventory(graph={"applications": [creds_app([cred("s", 30)])]})).passed
        is False
    )
    assert (
        only("AZ-IAM-006", inventory(graph={"applications": [creds_app([cred("s", 31)])]})).passed
        is True
    )


def test_iam006_app_without_credentials_passes() -> None:
    bare = {
        "id": "obj7",
        "displayName": "no-creds",
        "passwordCredentials": None,
        "keyCredentials": None,
    }
    assert only("AZ-IAM-006", inventory(graph={"applications": [bare]})).passed is True


def test_iam006_undated_credential_is_not_evaluated_unless_another_fails() -> None:
    undated = only("AZ-IAM-006", inventory(graph={"applications": [creds_app([cred("u", None)])]}))
    assert undated.passed is None
    both = creds_app([cred("u", None), cred("soon", 5)])
    assert only("AZ-IAM-006", inventory(graph={"applications": [both]})).passed is False


# --- AZ-IAM-008 / AZ-IAM-009 --------------------------------------------------------------


def web_app(
    redirects: list[str] | None = None, access: object = False, id_tokens: object = False
) -> Resource:
    return {
        "id": "obj8",
        "appId": "a8",
        "displayName": "portal",
        "web": {
            "redirectUris": redirects or [],
            "implicitGrantSettings": {
                "enableAccessTokenIssuance": access,
                "enableIdTokenIssuance": id_tokens,
            },
        },
    }


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("http://portal.contoso.com/signin-oidc", "plain http"),
        ("https://*.contoso.com/callback", "wildcard"),
        ("https://bit.ly/abc123", "URL shortener"),
        ("https://www.TinyURL.com/x", "URL shortener"),
    ],
)
def test_iam008_insecure_redirect_fails(uri: str, problem: str) -> None:
    entry = web_app(["https://portal.contoso.com/ok", uri])
    result = only("AZ-IAM-008", inventory(graph={"applications": [entry]}))
    assert result.passed is False
    assert result.metadata["insecure_redirect_uris"] == [{"uri": uri, "problem": problem}]
    assert uri in result.detail


def test_iam008_https_loopback_and_custom_schemes_pass() -> None:
    entry = web_app(
        [
            "https://portal.contoso.com/cb",
            "http://localhost:5000/cb",
            "HTTP://127.0.0.1/cb",
            "http://[::1]:8400/",
            "msal1234://auth",
        ]
    )
    assert only("AZ-IAM-008", inventory(graph={"applications": [entry]})).passed is True


def test_iam008_localhost_lookalike_is_not_loopback() -> None:
    entry = web_app(["http://localhost.evil.example/cb"])
    assert only("AZ-IAM-008", inventory(graph={"applications": [entry]})).passed is False


def test_iam008_without_web_is_not_evaluated() -> None:
    bare = {"id": "obj9", "displayName": "trimmed"}
    assert only("AZ-IAM-008", inventory(graph={"applications": [bare]})).passed is None


def test_iam009_access_token_issuance_fails() -> None:
    result = only(
        "AZ-IAM-009", inventory(graph={"applications": [web_app(access=True, id_tokens=True)]})
    )
    assert result.passed is False
    assert result.metadata["enableIdTokenIssuance"] is True


def test_iam009_id_tokens_only_pass_with_note() -> None:
    result = only("AZ-IAM-009", inventory(graph={"applications": [web_app(id_tokens=True)]}))
    assert result.passed is True
    assert "ID tokens" in result.detail


@pytest.mark.parametrize(
    "entry", [web_app(access=None), {"id": "x", "web": None}, {"id": "y", "web": {}}]
)
def test_iam009_unreported_setting_is_not_evaluated(entry: Resource) -> None:
    assert only("AZ-IAM-009", inventory(graph={"applications": [entry]})).passed is None


# --- AZ-IAM-010 ---------------------------------------------------------------------------


def role_definition(name: str, kind: str, *actions: str, permissions: object = None) -> Resource:
    return {
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{name}-guid",
        "name": f"{name}-guid",
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": kind,
            "assignableScopes": [f"/subscriptions/{SUB}"],
            "permissions": [{"actions": list(actions), "notActions": []}]
            if permissions is None
            else permissions,
        },
    }


def definitions_inventory(*definitions: Resource) -> Inventory:
    inv = inventory()
    inv.role_definitions.extend(definitions)
    return inv


def test_iam010_custom_star_role_fails_builtins_not_judged() -> None:
    inv = definitions_inventory(
        role_definition("Owner", "BuiltInRole", "*"),
        role_definition("Sub Admin", "CustomRole", "Microsoft.Compute/*/read", " * "),
    )
    result = only("AZ-IAM-010", inv)
    assert result.passed is False
    assert result.resource_name == "Sub Admin"
    assert result.resource_type == "Microsoft.Authorization/roleDefinitions"
    assert result.metadata["assignableScopes"] == [f"/subscriptions/{SUB}"]


def test_iam010_specific_actions_pass() -> None:
    inv = definitions_inventory(
        role_definition("VM Operator", "CustomRole", "Microsoft.Compute/*", "*/read")
    )
    assert only("AZ-IAM-010", inv).passed is True


def test_iam010_unreported_permissions_are_not_evaluated() -> None:
    inv = definitions_inventory(role_definition("Odd", "CustomRole", permissions="n/a"))
    assert only("AZ-IAM-010", inv).passed is None


# --- AZ-IAM-012 ---------------------------------------------------------------------------

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
MI = {
    "id": "mi-1",
    "appId": "mi-app",
    "displayName": "id-vm-web",
    "servicePrincipalType": "ManagedIdentity",
}


def test_iam012_managed_identity_contributor_and_owner_fail() -> None:
    inv = inventory(
        role_assignments=[
            assignment("ra1", CONTRIBUTOR, principal_id="mi-1"),
            assignment("ra2", OWNER, principal_id="mi-1"),
        ],
        graph={"servicePrincipals": [MI]},
    )
    results = run("AZ-IAM-012", inv)
    assert [(r.passed, r.metadata["role"]) for r in results] == [
        (False, "Contributor"),
        (False, "Owner"),
    ]
    assert results[0].resource_name == "id-vm-web"
    assert "'id-vm-web' is Contributor" in results[0].detail


def test_iam012_reader_managed_identity_passes_and_app_sp_is_not_judged() -> None:
    inv = inventory(
        role_assignments=[
            assignment("ra1", READER, principal_id="mi-1"),
            assignment("ra2", OWNER, principal_id="sp-obj-1"),
            assignment(
                "ra3", OWNER, principal_id="mi-1", scope=f"/subscriptions/{SUB}/resourceGroups/rg1"
            ),
        ],
        graph={"servicePrincipals": [MI, SP]},
    )
    assert [r.passed for r in run("AZ-IAM-012", inv)] == [True]


def test_iam012_unknown_principal_with_broad_role_is_not_evaluated() -> None:
    untyped = {"id": "sp-2", "displayName": "who-knows"}
    inv = inventory(
        role_assignments=[
            assignment("ra1", OWNER, principal_id="ghost"),
            assignment("ra2", CONTRIBUTOR, principal_id="sp-2"),
            assignment("ra3", READER, principal_id="ghost"),
        ],
        graph={"servicePrincipals": [untyped]},
    )
    assert [r.passed for r in run("AZ-IAM-012", inv)] == [None, None]


def test_iam012_needs_service_principals_so_the_engine_skips_without_them() -> None:
    from scanner.rules import REGISTRY

    assert "graph:servicePrincipals" in REGISTRY["AZ-IAM-012"].needs.required_keys()
    assert REGISTRY["AZ-IAM-010"].needs.required_keys() == ["arm:roleDefinitions"]
    for rule_id in ("AZ-IAM-006", "AZ-IAM-008", "AZ-IAM-009"):
        assert REGISTRY[rule_id].needs.required_keys() == ["graph:applications"]
    assert REGISTRY["AZ-IAM-005"].needs.required_keys() == ["graph:users"]


# --- AZ-IAM-007 ---------------------------------------------------------------------------


def owned_app(owners: object) -> Resource:
    return {"id": "obj10", "appId": "a10", "displayName": "legacy-sync", "owners": owners}


def test_iam007_app_without_owners_fails() -> None:
    result = only("AZ-IAM-007", inventory(graph={"applicationOwners": [owned_app([])]}))
    assert result.passed is False
    assert result.resource_id == "/graph/applications/obj10"
    assert "'legacy-sync' has no owner" in result.detail


def test_iam007_owned_app_passes() -> None:
    owners = [
        {"@odata.type": "#microsoft.graph.user", "id": "u1", "displayName": "Grace"},
        {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp1"},
        None,
    ]
    result = only("AZ-IAM-007", inventory(graph={"applicationOwners": [owned_app(owners)]}))
    assert result.passed is True
    assert result.metadata["owners"] == ["Grace", "sp1"]


def test_iam007_unexpanded_owners_are_not_evaluated() -> None:
    bare = {"id": "obj11", "displayName": "no-expand"}
    assert only("AZ-IAM-007", inventory(graph={"applicationOwners": [bare]})).passed is None


def test_iam007_reads_its_own_collection() -> None:
    from scanner.azure.graph import COLLECTIONS
    from scanner.rules import REGISTRY

    assert REGISTRY["AZ-IAM-007"].needs.required_keys() == ["graph:applicationOwners"]
    spec = COLLECTIONS["applicationOwners"]
    assert spec.path == "applications" and spec.query["$expand"].startswith("owners")
    # the applications rules do not depend on the $expand query
    assert "$expand" not in COLLECTIONS["applications"].query


# --- AZ-IAM-011: not two or three subscription Owners ----------------------------------------------

def _owners(n: int, **kw: object) -> list[Resource]:
    return [assignment(f"ra-owner-{i}", OWNER, principal_id=f"user-{i}", principal_type="User", **kw)  # type: ignore[arg-type]
            for i in range(n)]


def test_iam011_four_owners_fail() -> None:
    result = only("AZ-IAM-011", inventory(role_assignments=_owners(4)))
    assert result.passed is False
    assert result.resource_id == f"/subscriptions/{SUB}"
    assert "4 principals hold Owner" in result.detail
    assert result.metadata["owner_count"] == 4
    json.dumps(result.metadata)


def test_iam011_three_owners_and_other_scopes_pass() -> None:
    others = [
        assignment("rg-owner", OWNER, principal_id="rg-admin", scope=f"/subscriptions/{SUB}/resourceGroups/rg1"),
        assignment("reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", principal_id="reader-1"),
        # the same principal twice (subscription + derived scope) counts once
        assignment("dup", OWNER, principal_id="user-0", principal_type="User", scope=None),
    ]
    result = only("AZ-IAM-011", inventory(role_assignments=_owners(3) + others))
    assert result.passed is True and result.metadata["owner_count"] == 3


@pytest.mark.parametrize(("count", "passed"), [(1, False), (2, True), (3, True), (4, False)])
def test_iam011_wants_two_or_three_owners(count: int, passed: bool) -> None:
    """CIS v6 5.7: between two and three; a single Owner fails as well as a fourth."""
    reader = assignment("reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", principal_id="reader-1")
    result = only("AZ-IAM-011", inventory(role_assignments=_owners(count) + [reader]))
    assert (result.passed, result.metadata["owner_count"]) == (passed, count)
    if count == 1:
        assert "at least 2 recommended" in result.detail


def test_iam011_management_group_owners_are_inherited() -> None:
    mg = assignment("mg-owner", OWNER, principal_id="mg-admin",
                    scope="/providers/Microsoft.Management/managementGroups/contoso")
    result = only("AZ-IAM-011", inventory(role_assignments=_owners(3) + [mg]))
    assert result.passed is False and result.metadata["owner_count"] == 4


def test_iam011_needs_role_assignments_so_the_engine_skips_without_them() -> None:
    from scanner.rules import REGISTRY

    assert REGISTRY["AZ-IAM-011"].needs.required_keys() == ["arm:roleAssignments"]


def test_iam011_across_the_demo_estate() -> None:
    """Primary and sandbox subscriptions hold too many Owners, shared services two (compliant)."""
    from tests.fakeazure import estate as E

    tenant = E.demo_estate()
    by_sub = {s["subscriptionId"]: s["roleAssignments"] for s in tenant["subscriptions"]}
    by_sub[tenant["subscriptionId"]] = tenant["roleAssignments"]
    verdicts = {}
    for sub, assignments in by_sub.items():
        inv = inventory(role_assignments=assignments)
        inv.subscription_id = sub
        verdicts[sub] = only("AZ-IAM-011", inv).passed
    assert verdicts == {tenant["subscriptionId"]: False, E.DEMO_CLEAN_ID: True, E.DEMO_BAD_ID: False}


# --- AZ-IAM-025: disabled accounts holding role assignments ----------------------------------------



def _users(**enabled: bool) -> list[Resource]:
    return [{"id": f"user-{name}", "userPrincipalName": f"{name}@contoso.com", "accountEnabled": on}
            for name, on in enabled.items()]


def test_iam026_disabled_user_with_a_reader_assignment_fails() -> None:
    inv = inventory(graph={"users": _users(alice=True, frank=False)}, role_assignments=[
        assignment("alice-owner", OWNER, "User", principal_id="user-alice"),
        assignment("frank-reader", READER, "User", scope=f"/subscriptions/{SUB}/resourceGroups/rg1",
                   principal_id="user-frank")])
    result = only("AZ-IAM-025", inv)
    assert (result.passed, result.resource_id) == (False, f"/subscriptions/{SUB}")
    assert result.detail == "1 role assignment(s) held by disabled account(s): frank@contoso.com"
    assert result.metadata["assignments"] == [{"principalId": "user-frank", "user": "frank@contoso.com",
                                               "role": "Reader", "scope": f"/subscriptions/{SUB}/resourceGroups/rg1"}]


def test_iam026_disabled_users_without_assignments_pass() -> None:
    inv = inventory(graph={"users": _users(alice=True, frank=False)},
                    role_assignments=[assignment("alice-owner", OWNER, "User", principal_id="user-alice"),
                                      # a service principal sharing nothing with the disabled user
                                      assignment("sp", READER)])
    result = only("AZ-IAM-025", inv)
    assert result.passed is True and result.metadata["disabledUsers"] == 1


def test_iam026_skipped_when_users_cannot_be_read() -> None:
    from scanner.engine import evaluate_rule
    from scanner.rules import REGISTRY

    inv = inventory(role_assignments=[assignment("x", READER, "User", principal_id="user-frank")])
    inv.unavailable["graph:users"] = "Microsoft Graph denied users (HTTP 403): grant User.Read.All"
    outcome, findings = evaluate_rule(REGISTRY["AZ-IAM-025"], inv)
    assert outcome.status == "skipped" and "User.Read.All" in (outcome.reason or "") and findings == []


def test_iam026_across_the_demo_estate() -> None:
    """The primary subscription keeps frank.disabled's Reader role (violating); the shared
    services and sandbox subscriptions give no role to a disabled account (compliant)."""
    from tests.fakeazure import estate as E

    tenant = E.demo_estate()
    by_sub = {s["subscriptionId"]: s["roleAssignments"] for s in tenant["subscriptions"]}
    by_sub[tenant["subscriptionId"]] = tenant["roleAssignments"]
    verdicts = {}
    for sub, assignments in by_sub.items():
        inv = inventory(graph={"users": tenant["graph"]["users"]}, role_assignments=assignments)
        inv.subscription_id = sub
        result = only("AZ-IAM-025", inv)
        verdicts[sub] = (result.passed, sorted({h["user"] for h in result.metadata["assignments"]}))
    frank = next(u["userPrincipalName"] for u in tenant["graph"]["users"] if u["userPrincipalName"].startswith("frank."))
    assert verdicts == {tenant["subscriptionId"]: (False, [frank]), E.DEMO_CLEAN_ID: (True, []),
                        E.DEMO_BAD_ID: (True, [])}


# --- AZ-IAM-027: VM login roles held only by MFA-capable users -------------------------------------

VM_ADMIN_LOGIN = "1c0163c0-47e6-4577-8991-ea5c82e286e4"
VM_USER_LOGIN = "fb879df8-f326-4884-b1cf-06f3ad86be52"


def test_iam027_vm_login_without_mfa_fails_with_mfa_passes() -> None:
    rg = f"/subscriptions/{SUB}/resourceGroups/rg-vms"
    inv = inventory(
        graph={"users": _users(alice=True, bob=True, frank=False),
               "userRegistrationDetails": [
                   registration("user-alice", userPrincipalName="alice@contoso.com", isMfaCapable=True,
                                isMfaRegistered=True),
                   registration("user-bob", userPrincipalName="bob@contoso.com", isMfaCapable=False,
                                isMfaRegistered=False),
                   registration("user-frank", userPrincipalName="frank@contoso.com")]},
        role_assignments=[
            assignment("alice-vm-admin", VM_ADMIN_LOGIN, "User", principal_id="user-alice"),
            assignment("bob-vm-user", VM_USER_LOGIN, "User", scope=rg, principal_id="user-bob"),
            assignment("bob-reader", READER, "User", principal_id="user-bob"),          # not a VM login role
            assignment("frank-vm-user", VM_USER_LOGIN, "User", principal_id="user-frank"),  # disabled: left out
            assignment("sp-vm-user", VM_USER_LOGIN, "ServicePrincipal"),               # not judged
        ])
    results = {r.resource_name: (r.passed, r.detail) for r in run("AZ-IAM-027", inv)}
    assert results == {
        "alice@contoso.com": (True, f"alice@contoso.com is MFA-capable (Virtual Machine Administrator Login "
                                    f"at /subscriptions/{SUB})"),
        "bob@contoso.com": (False, f"bob@contoso.com holds Virtual Machine User Login at {rg} without being "
                                   "MFA-capable"),
    }


def test_iam027_unreported_user_and_groups_not_evaluated() -> None:
    inv = inventory(graph={"users": _users(carol=True), "userRegistrationDetails": []}, role_assignments=[
        assignment("carol-vm", VM_USER_LOGIN, "User", principal_id="user-carol"),
        assignment("grp-vm", VM_ADMIN_LOGIN, "Group", principal_id="grp-ops")])
    results = sorted((r.passed, r.detail) for r in run("AZ-IAM-027", inv))
    assert results == [
        (None, f"Virtual Machine Administrator Login held by a group at /subscriptions/{SUB}: members are not expanded"),
        (None, f"carol@contoso.com: MFA registration not reported (Virtual Machine User Login at /subscriptions/{SUB})"),
    ]


def test_iam027_is_mfa_registered_used_when_capability_not_reported() -> None:
    entry = registration("user-dave", isMfaRegistered=True)
    del entry["isMfaCapable"]
    inv = inventory(graph={"users": _users(dave=True), "userRegistrationDetails": [entry]},
                    role_assignments=[assignment("dave-vm", VM_USER_LOGIN, "User", principal_id="user-dave")])
    assert only("AZ-IAM-027", inv).passed is True


def test_iam027_skipped_when_registration_details_cannot_be_read() -> None:
    from scanner.engine import evaluate_rule
    from scanner.rules import REGISTRY

    inv = inventory(graph={"users": _users(bob=True)},
                    role_assignments=[assignment("bob-vm", VM_USER_LOGIN, "User", principal_id="user-bob")])
    inv.unavailable["graph:userRegistrationDetails"] = "Microsoft Graph denied userRegistrationDetails (HTTP 403)"
    outcome, findings = evaluate_rule(REGISTRY["AZ-IAM-027"], inv)
    assert outcome.status == "skipped" and "userRegistrationDetails" in (outcome.reason or "") and findings == []
