"""Azure Resource Manager reads through azure-mgmt-resource's ``ResourceManagementClient``.

The subscription listing uses the SDK's typed pager (it follows ``nextLink``). Resource, child
and role GETs go through the same client's ``send_request``: the request still passes the
client's pipeline (bearer token, azure-core ``RetryPolicy`` honouring ``Retry-After`` on 429 and
retrying 5xx), but the body stays the REST JSON the rules read, and we skip a model
round-trip that would cost CPU on subscriptions with thousands of resources.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Iterator

import requests
from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.resource.resources import ResourceManagementClient
from requests.adapters import HTTPAdapter

from scanner.azure.api_versions import AUTHORIZATION_API_VERSION, RESOURCE_API_VERSIONS
from scanner.azure.endpoints import AzureEndpoints

# azure-core logs every request at INFO through these loggers; at thousands of requests a scan
# that cost measurable CPU and filled scan.log with noise.
for _name in ("azure.core.pipeline.policies.http_logging_policy", "azure.identity", "azure.mgmt"):
    logging.getLogger(_name).setLevel(logging.WARNING)



class ArmReader:
    """Reads one subscription. Thread-safe: detail GETs run on a thread pool."""

    def __init__(
        self,
        credential: TokenCredential,
        endpoints: AzureEndpoints,
        subscription_id: str,
        *,
        max_connections: int = 32,
        retry_total: int = 6,
        retry_backoff_factor: float = 0.5,
        timeout_seconds: float = 60,
    ) -> None:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max_connections)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self._base = endpoints.arm
        self.subscription_id = subscription_id
        self.client = ResourceManagementClient(
            credential,
            subscription_id,
            base_url=endpoints.arm,
            credential_scopes=[endpoints.arm_scope],
            transport=RequestsTransport(session=session, session_owner=True),
            retry_total=retry_total,
            retry_backoff_factor=retry_backoff_factor,
            read_timeout=timeout_seconds,
            connection_timeout=min(timeout_seconds, 20),
        )

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ listing
    def list_resources(self) -> Iterator[dict[str, Any]]:
        """Every resource of the subscription (without properties), page by page."""
        for item in self.client.resources.list():
            yield {
                "id": item.id,
                "name": item.name,
                "type": item.type,
                "location": item.location,
                "kind": item.kind,
                "tags": item.tags,
                "managedBy": item.managed_by,
            }

    # ------------------------------------------------------------------ raw GETs
    def get_json(self, path_or_url: str, api_version: str | None) -> dict[str, Any]:
        """GET an ARM path (or an absolute ``nextLink``) and return its JSON body.

        Raises ``HttpResponseError`` (with the ARM error code parsed) for 4xx/5xx answers that
        survived the retry policy.
        """
        url = path_or_url if path_or_url.startswith("https://") or path_or_url.startswith("http://") else self._base + path_or_url
        params = {"api-version": api_version} if api_version and "api-version=" not in url else None
        response = self.client.send_request(HttpRequest("GET", url, params=params))
        if response.status_code >= 400:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        body = response.content
        return json.loads(body) if body else {}

    def get_collection(self, path: str, api_version: str) -> list[dict[str, Any]]:
        """An ARM collection (``{"value": [...]}``), following ``nextLink``."""
        items: list[dict[str, Any]] = []
        page = self.get_json(path, api_version)
        while True:
            items.extend(page.get("value") or [])
            next_link = page.get("nextLink")
            if not next_link:
                return items
            page = self.get_json(next_link, None)

    def get_resource(self, resource_id: str, resource_type: str) -> dict[str, Any]:
        return self.get_json(resource_id, self.api_version_for(resource_type))

    def api_version_for(self, resource_type: str) -> str:
        version = RESOURCE_API_VERSIONS.get(resource_type.lower())
        if version is None:
            version = self._provider_api_version(resource_type)
        return version

    def _provider_api_version(self, resource_type: str) -> str:
        namespace, _, rest = resource_type.partition("/")
        provider = self.client.providers.get(namespace)
        for rt in provider.resource_types or []:
            if (rt.resource_type or "").lower() == rest.lower() and rt.api_versions:
                stable = [v for v in rt.api_versions if "preview" not in v]
                return max(stable or rt.api_versions)
        raise LookupError(f"no api-version known for {resource_type}")

    # ------------------------------------------------------------- authorization
    def role_assignments(self) -> list[dict[str, Any]]:
        return self.get_collection(
            f"/subscriptions/{self.subscription_id}/providers/Microsoft.Authorization/roleAssignments",
            AUTHORIZATION_API_VERSION,
        )

    def role_definitions(self) -> list[dict[str, Any]]:
        return self.get_collection(
            f"/subscriptions/{self.subscription_id}/providers/Microsoft.Authorization/roleDefinitions",
            AUTHORIZATION_API_VERSION,
        )
