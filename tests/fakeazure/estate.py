"""A tenant with several subscriptions: the data, and the app that routes between them.

Why a module of its own: ``server.App`` serves one subscription's index. An estate is one
``App`` per subscription sharing the tokens, faults, statistics and fake NVD of the tenant;
:class:`EstateApp` (the tenant's primary subscription, the one named in the env file) sends
``/subscriptions/<other>/...`` to the other subscription's app and answers the tenant-level
lists, ``GET /subscriptions`` and ``GET /tenants``. ``server.py`` is not changed.

Tenant file shape (all optional; a file without ``subscriptions`` is one subscription, as
before)::

    {"subscriptionId": "...", "subscriptionName": "...", "subscriptionState": "Enabled",
     "resources": [...], ...,                      # the primary subscription, as before
     "subscriptions": [                             # the others
        {"subscriptionId": "...", "displayName": "...", "state": "Enabled|Disabled|Warned|PastDue|Deleted",
         "denied": false,                           # the principal has no role on it
         "resources": [...], "children": {...}, "roleAssignments": [...], "roleDefinitions": [...]}]}

A denied subscription is absent from ``GET /subscriptions`` and every read under it answers
403 ``AuthorizationFailed``, as ARM answers a principal without a role there (Microsoft Learn,
"Troubleshoot Azure RBAC": "The client ... does not have authorization to perform action ...
over scope ...").
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

from . import breadth as B
from . import tenants as T
from .breadth import app_insights, default_policy_assignment
from .server import JSON, App, Request, Response, TenantIndex, dumps

STATES = ("Enabled", "Disabled", "Warned", "PastDue", "Deleted")
SUBSCRIPTION_LIST_PAGE = 100  # the emulator's page for GET /subscriptions (nextLink beyond it)

# the demo's other two subscriptions (the primary keeps T.SUBSCRIPTION_ID and its resources)
DEMO_PRIMARY_NAME = "Contoso Production"
DEMO_CLEAN_ID = "2c5d8e13-7f4a-4b69-9e21-4a6f0b8c3d75"
DEMO_CLEAN_NAME = "Contoso Platform Shared Services"
DEMO_BAD_ID = "7a9f1e42-3c6b-4d58-8e07-b5c2d9a1f364"
DEMO_BAD_NAME = "Contoso Dev Sandbox (legacy)"


class EstateError(ValueError):
    """A tenant's ``subscriptions`` are malformed."""


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


def other_subscriptions(tenant: dict[str, Any], source: str = "tenant") -> list[dict[str, Any]]:
    """The tenant's non-primary subscriptions, checked and filled (raises :class:`EstateError`)."""
    subs = tenant.get("subscriptions") or []
    if not isinstance(subs, list):
        raise EstateError(f"{source}: subscriptions must be a JSON array")
    seen = {str(tenant.get("subscriptionId", T.SUBSCRIPTION_ID)).lower()}
    out = []
    for i, sub in enumerate(subs):
        if not isinstance(sub, dict) or not isinstance(sub.get("subscriptionId"), str) or not sub["subscriptionId"]:
            raise EstateError(f"{source}: subscriptions[{i}] needs a string subscriptionId")
        sid = sub["subscriptionId"]
        if sid.lower() in seen:
            raise EstateError(f"{source}: duplicate subscription {sid}")
        seen.add(sid.lower())
        state = sub.get("state", "Enabled")
        if state not in STATES:
            raise EstateError(f"{source}: subscriptions[{i}].state must be one of {', '.join(STATES)}")
        filled = {"displayName": f"Subscription {sid[:8]}", "state": "Enabled", "denied": False,
                  "resources": [], "children": {}, "roleAssignments": [], "roleDefinitions": [], **sub}
        out.append(filled)
    return out


def with_subscriptions(tenant: dict[str, Any]) -> dict[str, Any]:
    """Fill in the primary subscription's name and state (kept when already set)."""
    tenant.setdefault("subscriptionName", "OpenShield Demo Subscription")
    tenant.setdefault("subscriptionState", "Enabled")
    return tenant


def demo_estate(now: datetime | None = None) -> dict[str, Any]:
    """The demo tenant with three subscriptions of clearly different postures: the current
    demo (unchanged id and resources), a nearly clean one, and a small, bad, ``Warned`` one."""
    tenant = T.demo_tenant(now)
    tenant["subscriptionName"] = DEMO_PRIMARY_NAME
    tenant["subscriptionState"] = "Enabled"
    tenant["subscriptions"] = [_nearly_clean(DEMO_CLEAN_ID), _small_and_bad(DEMO_BAD_ID)]
    return tenant


def _owner_assignments(sub: str, count: int) -> list[dict[str, Any]]:
    scope = f"/subscriptions/{sub}"
    return [T._assignment(sub, f"{sub}-owner-{i}", scope, T.OWNER, T.guid("user", f"{sub}-owner-{i}"), "User")
            for i in range(count)]


def _nearly_clean(sub: str) -> dict[str, Any]:
    arm = T._Arm(sub)
    rg, loc = "rg-shared", "westeurope"
    logs = arm.storage(rg, "stsharedlogs01", loc, cmk=True)  # AZ-MON-014/015 compliant
    arm.storage(rg, "stsharedartifacts", loc)
    arm.nsg(rg, "nsg-shared-bastion", loc, [T.rule("allow-https-vnet", 100, src="VirtualNetwork", ports="443")])
    arm.vault(rg, "kv-shared-platform", loc, T.TENANT_ID)
    workspace = arm.rid(rg, "Microsoft.OperationalInsights/workspaces", "law-shared")
    base = f"/subscriptions/{sub}/providers/microsoft.insights/diagnosticSettings"
    setting = T.diagnostic_setting(f"{base}/activity-log-to-law", "activity-log-to-law",
                                   [{"category": c, "enabled": True} for c in T._ACTIVITY_CATEGORIES],
                                   workspace=workspace)
    T.activity_log_to_storage(arm, setting, logs, "None")
    arm.subscription_read("Microsoft.Insights/diagnosticSettings", [setting])
    app_insights(arm, rg, "appi-shared-portal", loc, workspace_id=workspace, public="Disabled",
                 local_auth_off=True)  # AZ-MON-016 compliant (the bad subscription has none)
    default_policy_assignment(arm, {"diskEncryptionMonitoringEffect": "AuditIfNotExists"})  # AZ-DEF-008 compliant
    arm.subscription_read("Microsoft.Security/pricings", [
        {"id": f"/subscriptions/{sub}/providers/Microsoft.Security/pricings/{name}", "name": name,
         "type": "Microsoft.Security/pricings", "properties": {
             "pricingTier": "Standard", "freeTrialRemainingTime": "PT0S",
             # AZ-DEF-009 and AZ-DEF-010 compliant
             **({"subPlan": "P2", "extensions": T.servers_extensions(agentless=True, fim=True)}
                if name == "VirtualMachines" else {})}}
        for name, _, _ in T.DEFENDER_TIERS])
    # AZ-DEF-012 compliant (the primary and the sandbox have no setting: violating)
    arm.subscription_read("Microsoft.Security/serverVulnerabilityAssessmentsSettings", [{
        "id": f"/subscriptions/{sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/azureServersSetting",
        "name": "azureServersSetting", "type": "Microsoft.Security/serverVulnerabilityAssessmentsSettings",
        "kind": "AzureServersSetting", "properties": {"selectedProvider": "MdeTvm"}}])
    # AZ-DEF-001..004 and AZ-DEF-011 compliant
    arm.subscription_read("Microsoft.Security/securityContacts", [B.security_contact(
        sub, emails="secops@contoso.example", phone="+1-555-0100", roles=["Owner"],
        sources=[{"sourceType": "Alert", "minimalSeverity": "Medium"},
                 {"sourceType": "AttackPath", "minimalRiskLevel": "High"}])])
    return {"subscriptionId": sub, "displayName": DEMO_CLEAN_NAME, "state": "Enabled",
            "resources": arm.resources, "children": arm.children,
            "roleAssignments": _owner_assignments(sub, 2), "roleDefinitions": T._role_definitions(sub)}


def _small_and_bad(sub: str) -> dict[str, Any]:
    arm = T._Arm(sub)
    rg, loc = "rg-sandbox", "eastus"
    public = arm.storage(rg, "stsandboxpublic", loc, public=True, https=False, tls="TLS1_0", acl="Allow",
                         soft_delete=False, versioning=False, shared_key=True, infra_encryption=False)
    # the activity log (Administrative only) lands in the public account, in a public container,
    # under a Microsoft-managed key: AZ-MON-014 and 015 violated
    setting = T.diagnostic_setting(f"/subscriptions/{sub}/providers/microsoft.insights/diagnosticSettings/"
                                   "activity-log-legacy", "activity-log-legacy",
                                   [{"category": "Administrative", "enabled": True}], workspace=None)
    T.activity_log_to_storage(arm, setting, public, "Container")
    arm.subscription_read("Microsoft.Insights/diagnosticSettings", [setting])
    arm.nsg(rg, "nsg-sandbox-open", loc, [T.rule("allow-rdp-any", 100, ports="3389"),
                                          T.rule("allow-ssh-any", 110, ports="22")])
    arm.vault(rg, "kv-sandbox-legacy", loc, T.TENANT_ID, soft_delete=False, purge_protection=False,
              rbac=False, network="open")
    arm.subscription_read("Microsoft.Security/pricings", [
        {"id": f"/subscriptions/{sub}/providers/Microsoft.Security/pricings/{name}", "name": name,
         "type": "Microsoft.Security/pricings", "properties": {"pricingTier": "Free", "freeTrialRemainingTime": "PT0S"}}
        for name, _, _ in T.DEFENDER_TIERS])
    return {"subscriptionId": sub, "displayName": DEMO_BAD_NAME, "state": "Warned",
            "resources": arm.resources, "children": arm.children,
            "roleAssignments": _owner_assignments(sub, 5), "roleDefinitions": T._role_definitions(sub)}


def large_subscription_id(i: int) -> str:
    """The i-th subscription of ``large:N --subscriptions K`` (0 is the primary)."""
    return T.SUBSCRIPTION_ID if i == 0 else T.guid("subscription", f"large-{i}")


def large_estate(n: int, k: int, now: datetime | None = None) -> dict[str, Any]:
    """``large:N`` spread over ``k`` subscriptions (sizes differ by at most one)."""
    if k < 1:
        raise ValueError("--subscriptions must be >= 1")
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    tenant = T.large_tenant(sizes[0], now)
    tenant["name"] = f"large:{n}"
    tenant["subscriptionName"] = "Large Estate 000"
    others = []
    for i in range(1, k):
        sid = large_subscription_id(i)
        # the same generator under another subscription id (ids are the only place it appears)
        one = json.loads(json.dumps(T.large_tenant(sizes[i], now)).replace(T.SUBSCRIPTION_ID, sid))
        others.append({"subscriptionId": sid, "displayName": f"Large Estate {i:03d}", "state": "Enabled",
                       "resources": one["resources"], "children": one["children"],
                       "roleAssignments": one["roleAssignments"], "roleDefinitions": one["roleDefinitions"]})
    tenant["subscriptions"] = others
    return tenant


def load(spec: str, subscriptions: int = 1, now: datetime | None = None) -> tuple[str, dict[str, Any]]:
    """Like ``tenants.load_tenant``, with the estate: ``demo`` has three subscriptions and
    ``large:N`` is spread over ``subscriptions``."""
    if spec == "demo":
        return "demo", demo_estate(now)
    if spec.startswith("large:") and subscriptions > 1:
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            raise T.TenantError(f"bad tenant spec {spec!r}: expected large:N") from None
        return spec, large_estate(n, subscriptions, now)
    if subscriptions > 1:
        raise T.TenantError("--subscriptions K applies to large:N only (a tenant file lists its subscriptions)")
    name, tenant = T.load_tenant(spec, now)
    return name, with_subscriptions(tenant)


# ---------------------------------------------------------------------------------------------
# serving
# ---------------------------------------------------------------------------------------------


def _subscription_doc(index: TenantIndex, name: str, state: str) -> bytes:
    """The Subscriptions - Get shape (api-version 2022-12-01)."""
    return dumps({
        "id": f"/subscriptions/{index.subscription_id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": index.subscription_id,
        "tenantId": index.tenant_id,
        "displayName": name,
        "state": state,
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                 "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
    })


class SubscriptionApp(App):
    """One non-primary subscription; when ``denied``, every ARM read under it is 403."""

    def __init__(self, index: TenantIndex, *, denied: bool = False, **kwargs: Any) -> None:
        super().__init__(index, **kwargs)
        self.denied = denied

    def classify(self, req: Request) -> tuple[str, str, Any]:
        group, route, handler = super().classify(req)
        if self.denied and group == "arm":
            return "arm", "arm.denied", self._denied
        return group, route, handler

    def _denied(self, req: Request) -> Response:
        sub = self.index.subscription_id
        return self._error(
            "arm", 403, "AuthorizationFailed",
            f"The client '{self.index.client_id}' with object id '{self.index.client_id}' does not have "
            f"authorization to perform action 'Microsoft.Resources/subscriptions/read' over scope "
            f"'/subscriptions/{sub}' or the scope is invalid. If access was recently granted, please "
            "refresh your credentials.")


class EstateApp(App):
    """The primary subscription's app, routing the tenant's other subscriptions to theirs."""

    def __init__(self, index: TenantIndex, tenant: dict[str, Any], *, deny: tuple[str, ...] = (),
                 subscription_page: int = SUBSCRIPTION_LIST_PAGE, **kwargs: Any) -> None:
        super().__init__(index, **kwargs)
        self.subscription_page = subscription_page
        denied = {d.lower() for d in deny}
        index.subscription = _subscription_doc(index, tenant.get("subscriptionName", "OpenShield Demo Subscription"),
                                               tenant.get("subscriptionState", "Enabled"))
        self.others: dict[str, SubscriptionApp] = {}
        visible = [index.subscription]
        base = {k: v for k, v in tenant.items() if k != "subscriptions"}
        base["graph"] = {}  # Graph is tenant-wide: the primary serves it
        kwargs = {k: v for k, v in kwargs.items() if k != "any_subscription"}
        for sub in other_subscriptions(tenant):
            part = {**base, "subscriptionId": sub["subscriptionId"], "resources": sub["resources"],
                    "children": sub["children"], "roleAssignments": sub["roleAssignments"],
                    "roleDefinitions": sub["roleDefinitions"]}
            idx = TenantIndex(part, f"{index.name}/{sub['subscriptionId']}")
            idx.subscription = _subscription_doc(idx, sub["displayName"], sub["state"])
            is_denied = bool(sub["denied"]) or sub["subscriptionId"].lower() in denied
            app = SubscriptionApp(idx, denied=is_denied, **kwargs)
            app.tokens, app.faults, app.stats, app.nvd = self.tokens, self.faults, self.stats, self.nvd
            self.others[idx.sub] = app
            if not is_denied:
                visible.append(idx.subscription)
        self.visible = visible
        t = index.tenant
        self.tenant_doc = dumps({
            "id": f"/tenants/{index.tenant_id}", "tenantId": index.tenant_id, "countryCode": "US",
            "displayName": t.get("organizationName", "OpenShield Demo"), "domains": [index.domain],
            "tenantCategory": "Home", "defaultDomain": index.domain, "tenantType": "AAD"})

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        if self.others:
            segs = unquote(urlsplit(target).path).lower().strip("/").split("/")
            if len(segs) >= 2 and segs[0] == "subscriptions":
                other = self.others.get(segs[1])
                if other is not None:
                    other.base_url = self.base_url
                    return other.handle(method, target, headers, body)
        return super().handle(method, target, headers, body)

    def classify(self, req: Request) -> tuple[str, str, Any]:
        if req.segs == ["tenants"]:
            return "arm", "arm.tenants", self._arm_tenants
        return super().classify(req)

    def _arm_subscriptions(self, req: Request) -> Response:
        return self._api_version(req) or self._arm_page(req, self.visible, self.subscription_page)

    def _arm_tenants(self, req: Request) -> Response:
        return self._api_version(req) or (200, JSON, [], b'{"value":[' + self.tenant_doc + b"]}")

    def summary(self) -> dict[str, Any]:
        """Per subscription: name, state, denied, resource count (for ``/_admin`` and logs)."""
        rows = [{"subscriptionId": self.index.subscription_id, "resources": len(self.index.resource_bytes),
                 "denied": False}]
        rows += [{"subscriptionId": a.index.subscription_id, "resources": len(a.index.resource_bytes),
                  "denied": a.denied} for a in self.others.values()]
        return {"subscriptions": rows}
