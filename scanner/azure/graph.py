"""Microsoft Graph (Entra ID) collections through msgraph-sdk.

We use ``GraphServiceClient``'s request adapter (authentication, kiota's retry handler honouring
``Retry-After`` on 429/503/504, redirects) but ask it for raw bytes: rules read the REST JSON,
and parsing into kiota models and back would lose fields the SDK does not model and cost CPU.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options.retry_handler_option import RetryHandlerOption
from msgraph import GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph_core import GraphClientFactory

from scanner.azure.arm import tls_context
from scanner.azure.endpoints import AzureEndpoints


@dataclass(frozen=True)
class GraphCollection:
    path: str
    query: dict[str, str]
    permission: str  # the application permission that reads it, for the "skipped" reason
    # a singleton (``/policies/authorizationPolicy``): the answer is the object itself, kept as
    # a one-item collection so that rules read every Graph input the same way
    single: bool = False


COLLECTIONS: dict[str, GraphCollection] = {
    "users": GraphCollection(
        "users",
        {"$select": "id,displayName,userPrincipalName,userType,accountEnabled,createdDateTime,"
                    # invitation state, not signInActivity: that one needs Entra ID P1 and would
                    # turn the whole collection into a 403 in tenants without it (AZ-IAM-005)
                    "externalUserState,externalUserStateChangeDateTime", "$top": "999"},
        "User.Read.All",
    ),
    "userRegistrationDetails": GraphCollection(
        "reports/authenticationMethods/userRegistrationDetails", {"$top": "999"}, "AuditLog.Read.All"
    ),
    "directoryRoles": GraphCollection("directoryRoles", {"$expand": "members"}, "RoleManagement.Read.Directory"),
    "applications": GraphCollection("applications", {"$top": "999"}, "Application.Read.All"),
    # owners in a collection of their own, so a refused $expand cannot take the credential and
    # redirect-URI rules down with it; Graph caps $expand on directory objects at 100 a page
    # (and 20 owners an app, enough to tell "none")
    "applicationOwners": GraphCollection(
        "applications",
        {"$select": "id,appId,displayName", "$expand": "owners($select=id,displayName)", "$top": "100"},
        "Application.Read.All",
    ),
    "servicePrincipals": GraphCollection("servicePrincipals", {"$top": "999"}, "Application.Read.All"),
    # tenant-wide policies (AZ-IAM-013..020)
    "authorizationPolicy": GraphCollection("policies/authorizationPolicy", {}, "Policy.Read.All", single=True),
    "securityDefaults": GraphCollection("policies/identitySecurityDefaultsEnforcementPolicy", {}, "Policy.Read.All",
                                        single=True),
    "conditionalAccessPolicies": GraphCollection("identity/conditionalAccess/policies", {}, "Policy.Read.All"),
    # tenant-wide group settings (Group.Unified: EnableGroupCreation, AZ-IAM-023); not paged in
    # practice (one object per template) but read as a collection
    "groupSettings": GraphCollection("groupSettings", {}, "GroupSettings.Read.All"),
}

# kiota's ceiling (10): Graph throttles a busy tenant for minutes at a time, and a page given up
# on makes every rule that needs the collection skip, so patience is cheaper than a skipped rule
PAGE_RETRY = RetryHandlerOption(delay=1.0, max_retries=RetryHandlerOption.MAX_MAX_RETRIES)


class GraphReader:
    def __init__(self, credential: AsyncTokenCredential, endpoints: AzureEndpoints) -> None:
        auth = AzureIdentityAuthenticationProvider(
            credential, scopes=[endpoints.graph_scope], allowed_hosts=[endpoints.graph_host]
        )
        # the HTTP client is built here so that it trusts the same CA bundle as the ARM side
        self._http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(verify=tls_context(endpoints.connection_verify), timeout=httpx.Timeout(60.0))
        )
        self.client = GraphServiceClient(request_adapter=GraphRequestAdapter(auth, client=self._http))
        self.base = f"{endpoints.graph}/v1.0"
        self.client.request_adapter.base_url = self.base

    async def collection(self, name: str) -> list[dict[str, Any]]:
        """Every object of a collection, following ``@odata.nextLink``."""
        spec = COLLECTIONS[name]
        url: str | None = f"{self.base}/{spec.path}?{urlencode(spec.query)}" if spec.query else f"{self.base}/{spec.path}"
        items: list[dict[str, Any]] = []
        while url:
            info = RequestInformation(Method.GET)
            info.url = url
            info.headers.try_add("Accept", "application/json")
            info.add_request_options([PAGE_RETRY])
            raw: Any = await self.client.request_adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
            page: dict[str, Any] = json.loads(raw) if raw else {}
            if spec.single:
                return [{k: v for k, v in page.items() if not k.startswith("@odata.")}] if page else []
            items.extend(page.get("value") or [])
            url = page.get("@odata.nextLink")
        return items

    async def collect(self, names: list[str]) -> dict[str, list[dict[str, Any]] | BaseException]:
        """Fetch several collections concurrently; a failure is returned, not raised."""
        try:
            results = await asyncio.gather(*(self.collection(n) for n in names), return_exceptions=True)
        finally:
            await self._http.aclose()
        return dict(zip(names, results))


def graph_error_summary(exc: BaseException) -> str:
    status = getattr(exc, "response_status_code", None)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    if status:
        return f"HTTP {status} {code}" if code else f"HTTP {status}"
    return type(exc).__name__
