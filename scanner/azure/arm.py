"""Azure Resource Manager reads through azure-mgmt-resource's async ``ResourceManagementClient``.

The subscription listing uses the SDK's typed pager (it follows ``nextLink``). Resource, child
and role GETs go through the same client's ``send_request``: the request still passes the
client's pipeline (bearer token, azure-core ``AsyncRetryPolicy`` honouring ``Retry-After`` on
429 and retrying 5xx), but the body stays the REST JSON the rules read, and we skip a model
round-trip that would cost CPU on subscriptions with thousands of resources.

Async rather than threads: a scan is thousands of small I/O-bound requests, and on the aiohttp
transport each costs about half the CPU of a requests call on a thread pool, where 32 threads
also fight over the GIL (measured in docs/benchmarks.md).
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from typing import Any, AsyncIterator

import aiohttp
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.resource.resources.aio import ResourceManagementClient

from scanner.azure.api_versions import (
    AUTHORIZATION_API_VERSION,
    RESOURCE_API_VERSIONS,
    child_api_version,
    subscription_read_api_version,
)
from scanner.azure.endpoints import AzureEndpoints
from scanner.azure.pacing import PacingPolicy, ReadPacer
from scanner.inventory import ChildSpec, SubscriptionRead

# azure-core logs every request at INFO through these loggers; at thousands of requests a scan
# that cost measurable CPU and filled scan.log with noise.
for _name in ("azure.core.pipeline.policies.http_logging_policy", "azure.identity", "azure.mgmt"):
    logging.getLogger(_name).setLevel(logging.WARNING)


# methods azure-core may retry on a 429 / 5xx: its defaults plus POST, for Resource Graph queries
_RETRIED_METHODS = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"})

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def proxy_configured() -> bool:
    """Whether the environment names a proxy. Only then does aiohttp need ``trust_env``: with it
    on, every request looks up proxies and ``~/.netrc`` through two thread-pool hops, which cost
    about a quarter of a scan's CPU for nothing when no proxy is set."""
    return any(os.environ.get(name) for name in _PROXY_VARIABLES)


def tls_context(verify: str | bool) -> ssl.SSLContext:
    """Verify against ``verify`` when it names a CA bundle, else the system's trust store."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()


class ArmReader:
    """Reads one subscription; use as ``async with ArmReader(...) as arm``."""

    def __init__(
        self,
        credential: AsyncTokenCredential,
        endpoints: AzureEndpoints,
        subscription_id: str,
        *,
        max_connections: int = 32,
        retry_total: int = 6,
        retry_backoff_factor: float = 0.5,
        timeout_seconds: float = 60,
        pacer: ReadPacer | None = None,
    ) -> None:
        self._base = endpoints.arm
        self.subscription_id = subscription_id
        self._max_connections = max_connections
        self._client_kwargs: dict[str, Any] = {
            "base_url": endpoints.arm,
            "credential_scopes": [endpoints.arm_scope],
            "retry_total": retry_total,
            # azure-core retries a bad status only retry_status times (default 3): keep them equal
            "retry_status": retry_total,
            "retry_backoff_factor": retry_backoff_factor,
            "read_timeout": timeout_seconds,
            "connection_timeout": min(timeout_seconds, 20),
        }
        # one pacer per subscription and principal: ARM's read bucket is kept per both
        self.pacer = pacer or ReadPacer()
        self._client_kwargs["per_retry_policies"] = [PacingPolicy(self.pacer)]
        self._credential = credential
        self._connection_verify = endpoints.connection_verify
        self.client: ResourceManagementClient | None = None

    async def __aenter__(self) -> "ArmReader":
        # One TLS context for the whole scan, set on the connector. Handing azure-core a CA
        # path instead makes it build a new SSLContext per request, which also defeats
        # connection reuse (measured: 4x slower and 2.7 GB RSS on large:10000).
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=tls_context(self._connection_verify)),
            trust_env=proxy_configured(),
        )
        transport = AioHttpTransport(session=session, session_owner=True)
        self.client = ResourceManagementClient(
            self._credential, self.subscription_id, transport=transport, **self._client_kwargs
        )
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.__aexit__(*exc)

    @property
    def _c(self) -> ResourceManagementClient:
        assert self.client is not None, "use ArmReader as an async context manager"
        return self.client

    # ------------------------------------------------------------------ listing
    async def list_resources(self) -> AsyncIterator[dict[str, Any]]:
        """Every resource of the subscription (without properties), page by page."""
        async for item in self._c.resources.list():
            yield {
                "id": item.id,
                "name": item.name,
                "type": item.type,
                "location": item.location,
                "kind": item.kind,
                "tags": item.tags,
                "managedBy": item.managed_by,
            }

    async def list_resources_raw(self) -> AsyncIterator[dict[str, Any]]:
        """The same listing as :meth:`list_resources`, as REST JSON (no model round-trip): the
        list path only needs each item's id, type and location."""
        api_version = self._c._config.api_version
        async for item in self.iterate_collection(f"/subscriptions/{self.subscription_id}/resources", api_version):
            yield item

    async def iterate_collection(self, path: str, api_version: str) -> AsyncIterator[dict[str, Any]]:
        """An ARM collection's items, page by page (``nextLink``)."""
        page = await self.get_json(path, api_version)
        while True:
            for item in page.get("value") or []:
                yield item
            next_link = page.get("nextLink")
            if not next_link:
                return
            page = await self.get_json(next_link, None)

    async def list_type(self, resource_type: str) -> list[dict[str, Any]]:
        """Every resource of a top-level type in the subscription, full properties, at the
        type's pinned api-version (``GET /subscriptions/{id}/providers/{ns}/{type}``)."""
        return await self.get_collection(f"/subscriptions/{self.subscription_id}/providers/{resource_type}",
                                         await self.api_version_for(resource_type))

    # ------------------------------------------------------------------ raw GETs
    async def get_json(self, path_or_url: str, api_version: str | None) -> dict[str, Any]:
        """GET an ARM path (or an absolute ``nextLink``) and return its JSON body.

        Raises ``HttpResponseError`` (with the ARM error code parsed) for 4xx/5xx answers that
        survived the retry policy.
        """
        url = path_or_url if path_or_url.startswith(("https://", "http://")) else self._base + path_or_url
        params = {"api-version": api_version} if api_version and "api-version=" not in url else None
        # Straight to the client's pipeline (same policies: token, retry, pacing): the generated
        # ``send_request`` deep-copies every request and re-formats its URL, and without
        # ``stream=True`` azure-core's ContentDecodePolicy parses each JSON body once more before
        # we do; at thousands of requests (and 1,000-resource list pages) both were pure CPU cost.
        pipeline = self._c._client  # noqa: SLF001 - azure-mgmt's AsyncARMPipelineClient
        response = await pipeline.send_request(HttpRequest("GET", url, params=params), stream=True)
        body = await response.read()
        if response.status_code >= 400:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return json.loads(body) if body else {}

    async def post_json(self, path: str, api_version: str, payload: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """POST a read-only query (Resource Graph) through the same pipeline; returns the JSON
        body and the answer's headers. The retry policy is told to retry this POST on 429 and
        5xx like a GET (azure-core retries POSTs only on 500/503/504 by default): it only reads."""
        request = HttpRequest("POST", self._base + path, params={"api-version": api_version}, json=payload)
        pipeline = self._c._client  # noqa: SLF001 - azure-mgmt's AsyncARMPipelineClient
        response = await pipeline.send_request(request, stream=True, retry_on_methods=_RETRIED_METHODS)
        body = await response.read()
        if response.status_code >= 400:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return (json.loads(body) if body else {}), response.headers

    async def get_collection(self, path: str, api_version: str) -> list[dict[str, Any]]:
        """An ARM collection (``{"value": [...]}``), following ``nextLink``."""
        items: list[dict[str, Any]] = []
        page = await self.get_json(path, api_version)
        while True:
            items.extend(page.get("value") or [])
            next_link = page.get("nextLink")
            if not next_link:
                return items
            page = await self.get_json(next_link, None)

    async def get_resource(self, resource_id: str, resource_type: str) -> dict[str, Any]:
        return await self.get_json(resource_id, await self.api_version_for(resource_type))

    async def api_version_for(self, resource_type: str) -> str:
        version = RESOURCE_API_VERSIONS.get(resource_type.lower())
        if version is None:
            version = await self._provider_api_version(resource_type)
        return version

    async def _provider_api_version(self, resource_type: str) -> str:
        namespace, _, rest = resource_type.partition("/")
        provider = await self._c.providers.get(namespace)
        for rt in provider.resource_types or []:
            if (rt.resource_type or "").lower() == rest.lower() and rt.api_versions:
                stable = [v for v in rt.api_versions if "preview" not in v]
                return max(stable or rt.api_versions)
        raise LookupError(f"no api-version known for {resource_type}")

    async def get_child(self, parent_id: str, spec: ChildSpec) -> Any:
        """A child read of one parent at its pinned api-version: the list of a collection
        (``is_list``, following ``nextLink``) or the one object."""
        path = f"{parent_id}/{spec.path}"
        if spec.is_list:
            return await self.get_collection(path, child_api_version(spec))
        return await self.get_json(path, child_api_version(spec))

    async def subscription_collection(self, read: SubscriptionRead) -> list[dict[str, Any]]:
        """A subscription-scope collection at its pinned api-version (``read.path`` is relative
        to ``/subscriptions/{id}/``; a tenant-level one, starting with ``/``, is read as is)."""
        path = read.path if read.tenant_level else f"/subscriptions/{self.subscription_id}/{read.path}"
        return await self.get_collection(path, subscription_read_api_version(read))

    # ------------------------------------------------------------- authorization
    async def role_assignments(self) -> list[dict[str, Any]]:
        return await self.get_collection(
            f"/subscriptions/{self.subscription_id}/providers/Microsoft.Authorization/roleAssignments",
            AUTHORIZATION_API_VERSION,
        )

    async def role_definitions(self) -> list[dict[str, Any]]:
        return await self.get_collection(
            f"/subscriptions/{self.subscription_id}/providers/Microsoft.Authorization/roleDefinitions",
            AUTHORIZATION_API_VERSION,
        )
