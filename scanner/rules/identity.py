"""Entra ID and RBAC rules: MFA registration, privileged guests, stale app secrets, SP owners.

Graph objects have no ARM id, so evaluations name them ``/graph/<collection>/<object id>``
(e.g. ``/graph/users/1f0c...``, ``/graph/applications/9a2e...``) with resource types
``Microsoft.Graph/users`` and ``Microsoft.Graph/applications``. A user judged by two rules gets
the same id in both, so reports can group findings per user.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from scanner.inventory import Inventory, Needs, props
from scanner.rules.base import Evaluation, rule

GRAPH_USER_TYPE = "Microsoft.Graph/users"
GRAPH_APPLICATION_TYPE = "Microsoft.Graph/applications"
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"

OWNER_ROLE_ID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
SECRET_MAX_AGE = timedelta(days=90)

# Directory-role template ids of the roles that can take over the tenant or its apps.
PRIVILEGED_ROLES: dict[str, str] = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
}
_PRIVILEGED_NAMES = frozenset(name.lower() for name in PRIVILEGED_ROLES.values())


def _graph_id(collection: str, obj: dict[str, Any]) -> str:
    return f"/graph/{collection}/{obj.get('id') or ''}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _objects(items: Any) -> list[dict[str, Any]]:
    """The dict entries of a collection (a stray null in a page must not stop the rule)."""
    return [item for item in _list(items) if isinstance(item, dict)]


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (Graph and ARM timestamps are UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


@rule(
    id="AZ-IAM-001",
    title="User has not registered multi-factor authentication",
    severity="HIGH",
    category="identity",
    description=(
        "The account can sign in with a password alone. A phished, guessed or reused password "
        "is then enough to take it over; for an administrator, to take over the tenant."
    ),
    remediation=(
        "Require MFA registration and use: enable Security defaults or a Conditional Access "
        "policy requiring MFA for all users (Entra admin center > Protection > Conditional "
        "Access), and run an authentication-methods registration campaign; check progress in "
        "Protection > Authentication methods > User registration details."
    ),
    frameworks={"CIS": ["1.1.2", "1.1.3"], "NIST": ["PR.AC-7"], "ISO27001": ["A.8.5"]},
    needs=Needs(graph=frozenset({"userRegistrationDetails"})),
)
def mfa_not_registered(inv: Inventory) -> Iterable[Evaluation]:
    """Members and guests alike; CIS 1.1.2 applies to admins, 1.1.3 to everyone else."""
    for entry in _objects(inv.graph_objects("userRegistrationDetails")):
        upn = _text(entry.get("userPrincipalName"))
        is_admin = entry.get("isAdmin") is True
        registered = entry.get("isMfaRegistered")
        metadata = {
            "userPrincipalName": upn,
            "userType": entry.get("userType"),
            "isAdmin": is_admin,
            "isMfaCapable": entry.get("isMfaCapable"),
            "methodsRegistered": list(_list(entry.get("methodsRegistered"))),
            "cis": "1.1.2" if is_admin else "1.1.3",
        }
        who = "administrator" if is_admin else "user"
        if registered is True:
            passed: bool | None = True
            detail = f"{who} has registered MFA"
        elif registered is False:
            passed = False
            detail = f"{who} {upn or entry.get('id')} has not registered MFA"
        else:
            passed = None
            detail = "isMfaRegistered not reported"
        yield Evaluation(
            resource_id=_graph_id("users", entry),
            resource_name=_text(entry.get("userDisplayName")) or upn or str(entry.get("id", "")),
            resource_type=GRAPH_USER_TYPE,
            passed=passed,
            detail=detail,
            metadata=metadata,
        )


def _is_privileged(role: dict[str, Any]) -> bool:
    """By template id; by display name when the id is absent or unknown (e.g. trimmed data)."""
    template = _text(role.get("roleTemplateId")).lower()
    name = _text(role.get("displayName")).lower()
    return template in PRIVILEGED_ROLES or name in _PRIVILEGED_NAMES


def _is_guest(user: dict[str, Any]) -> bool:
    return (
        _text(user.get("userType")).lower() == "guest"
        or "#ext#" in _text(user.get("userPrincipalName")).lower()
    )


@rule(
    id="AZ-IAM-002",
    title="Guest user holds a privileged directory role",
    severity="HIGH",
    category="identity",
    description=(
        "An external (B2B guest) account is a member of a privileged Entra role. Its security "
        "depends on another organisation's account hygiene and offboarding, and compromising it "
        "gives administrative control over this tenant."
    ),
    remediation=(
        "Remove the guest from the role (Entra admin center > Roles & admins > <role> > "
        "Assignments > Remove) or give the person a managed member account; use PIM with "
        "access reviews for any administrative access that must remain."
    ),
    frameworks={"CIS": ["1.5"], "NIST": ["PR.AC-4"], "ISO27001": ["A.8.2"]},
    needs=Needs(graph=frozenset({"users", "directoryRoles"})),
)
def privileged_guests(inv: Inventory) -> Iterable[Evaluation]:
    """Direct role members only: a guest privileged through a role-assignable group is not seen."""
    roles_of: dict[str, list[dict[str, Any]]] = {}
    for role in _objects(inv.graph_objects("directoryRoles")):
        if not _is_privileged(role):
            continue
        for member in _list(role.get("members")):
            if isinstance(member, dict) and member.get("id"):
                roles_of.setdefault(str(member["id"]), []).append(role)
    for user in _objects(inv.graph_objects("users")):
        if not _is_guest(user):
            continue
        upn = _text(user.get("userPrincipalName"))
        held = roles_of.get(str(user.get("id", "")), [])
        names = sorted(
            {_text(r.get("displayName")) or _text(r.get("roleTemplateId")) for r in held}
        )
        metadata = {
            "userPrincipalName": upn,
            "userType": user.get("userType"),
            "accountEnabled": user.get("accountEnabled"),
            "roles": names,
        }
        if names:
            passed = False
            detail = f"guest {upn or user.get('id')} is a member of {', '.join(names)}"
        else:
            passed = True
            detail = "guest holds no privileged directory role"
        yield Evaluation(
            resource_id=_graph_id("users", user),
            resource_name=_text(user.get("displayName")) or upn or str(user.get("id", "")),
            resource_type=GRAPH_USER_TYPE,
            passed=passed,
            detail=detail,
            metadata=metadata,
        )


@rule(
    id="AZ-IAM-003",
    title="Application client secret is older than 90 days",
    severity="MEDIUM",
    category="identity",
    description=(
        "The app registration has a client secret created more than 90 days ago. Long-lived "
        "secrets accumulate in config files, pipelines and laptops, and a leaked one gives an "
        "attacker the app's permissions until it is removed."
    ),
    remediation=(
        "Add a new secret (`az ad app credential reset --id <appId> --append`), roll it out, "
        "then delete the old one (`az ad app credential delete --id <appId> --key-id <keyId>`); "
        "prefer certificates, federated credentials or managed identities over secrets."
    ),
    frameworks={"NIST": ["PR.AC-1"], "ISO27001": ["A.5.17"]},
    needs=Needs(graph=frozenset({"applications"})),
)
def stale_app_secrets(inv: Inventory) -> Iterable[Evaluation]:
    """Age is measured against ``inv.collected_at``, never the wall clock, so the rule is pure.
    Secrets that have already expired are ignored: they cannot be used, so there is no risk
    to rotate away."""
    now = _utc(inv.collected_at)
    for app in _objects(inv.graph_objects("applications")):
        stale: list[dict[str, Any]] = []
        undated = 0
        for cred in _list(app.get("passwordCredentials")):
            if not isinstance(cred, dict):
                continue
            ends = _parse_time(cred.get("endDateTime"))
            if ends is not None and ends <= now:
                continue  # already expired: it can no longer sign in, nothing to rotate
            started = _parse_time(cred.get("startDateTime"))
            if started is None:
                undated += 1
            elif now - started > SECRET_MAX_AGE:
                stale.append(
                    {
                        "keyId": cred.get("keyId"),
                        "displayName": cred.get("displayName"),
                        "startDateTime": cred.get("startDateTime"),
                        "endDateTime": cred.get("endDateTime"),
                        "age_days": (now - started).days,
                    }
                )
        if stale:
            oldest = max(stale, key=lambda c: c["age_days"])
            label = oldest["displayName"] or oldest["keyId"] or "unnamed"
            passed: bool | None = False
            detail = (
                f"{len(stale)} client secret(s) older than 90 days; oldest '{label}' created "
                f"{oldest['age_days']} days before the scan"
            )
        elif undated:
            passed = None
            detail = f"{undated} client secret(s) without a readable startDateTime"
        else:
            passed = True
            detail = "no client secret older than 90 days"
        yield Evaluation(
            resource_id=_graph_id("applications", app),
            resource_name=_text(app.get("displayName")) or _text(app.get("appId")),
            resource_type=GRAPH_APPLICATION_TYPE,
            passed=passed,
            detail=detail,
            metadata={"appId": app.get("appId"), "stale_credentials": stale},
        )


def _scope_of(assignment: dict[str, Any]) -> str:
    """``properties.scope``; derived from the assignment id when absent."""
    scope = _text(props(assignment).get("scope"))
    if not scope:
        marker = "/providers/microsoft.authorization/roleassignments/"
        assignment_id = _text(assignment.get("id"))
        cut = assignment_id.lower().find(marker)
        scope = assignment_id[:cut] if cut >= 0 else ""
    return scope.rstrip("/")


@rule(
    id="AZ-IAM-004",
    title="Service principal is Owner of the subscription",
    severity="HIGH",
    category="identity",
    description=(
        "A service principal holds the Owner role on the whole subscription. Anyone who obtains "
        "its secret or certificate (often stored in CI systems) can change or delete every "
        "resource and grant access to others."
    ),
    remediation=(
        "Replace the assignment with a least-privilege role at the narrowest scope the "
        "automation needs, e.g. `az role assignment create --assignee <appId> --role "
        "Contributor --scope <resource-group-id>` then `az role assignment delete --assignee "
        "<appId> --role Owner --scope /subscriptions/<sub>`."
    ),
    frameworks={"NIST": ["PR.AC-4"], "ISO27001": ["A.8.2"]},
    needs=Needs(role_assignments=True, optional_graph=frozenset({"servicePrincipals"})),
)
def service_principal_owner(inv: Inventory) -> Iterable[Evaluation]:
    """Judges service-principal assignments made exactly at subscription scope; the Owner role
    is recognised by its built-in definition GUID, so no role-definition lookup is needed."""
    subscription_scope = f"/subscriptions/{inv.subscription_id}".lower()
    principals = {
        str(sp.get("id")): sp
        for sp in _objects(inv.graph_objects("servicePrincipals"))
        if sp.get("id")
    }
    for assignment in _objects(inv.role_assignments):
        assignment_props = props(assignment)
        if _text(assignment_props.get("principalType")).lower() != "serviceprincipal":
            continue
        scope = _scope_of(assignment)
        if scope.lower() != subscription_scope:
            continue
        role_id = _text(assignment_props.get("roleDefinitionId"))
        is_owner = role_id.rstrip("/").rsplit("/", 1)[-1].lower() == OWNER_ROLE_ID
        principal_id = str(assignment_props.get("principalId") or "")
        principal = principals.get(principal_id, {})
        sp_name = _text(principal.get("displayName"))
        shown = f"'{sp_name}'" if sp_name else principal_id
        metadata = {
            "principalId": principal_id,
            "servicePrincipalName": sp_name or None,
            "appId": principal.get("appId"),
            "roleDefinitionId": role_id,
            "scope": scope,
        }
        if is_owner:
            passed = False
            detail = f"service principal {shown} is Owner at subscription scope"
        else:
            passed = True
            detail = "role assignment at subscription scope is not Owner"
        yield Evaluation(
            resource_id=_text(assignment.get("id")),
            resource_name=sp_name or principal_id,
            resource_type=ROLE_ASSIGNMENT_TYPE,
            passed=passed,
            detail=detail,
            metadata=metadata,
        )
