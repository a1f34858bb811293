"""Which Azure credential a scan uses (async: the collector runs on one event loop).

A service principal from the environment when ``AZURE_CLIENT_SECRET`` is set, otherwise
``DefaultAzureCredential`` (managed identity on App Service, the Azure CLI on a laptop).

The service-principal credential is built explicitly rather than through
``EnvironmentCredential``: with a non-public ``AZURE_AUTHORITY_HOST`` the latter still asks the
public cloud for instance discovery, which fails on an isolated network (sovereign clouds, the
emulator). ``disable_instance_discovery`` avoids that for authorities we were told to trust.
"""

from __future__ import annotations

from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import ClientSecretCredential, DefaultAzureCredential

from scanner.azure.endpoints import AzureEndpoints


def build_credential(endpoints: AzureEndpoints) -> AsyncTokenCredential:
    if endpoints.client_secret:
        if not endpoints.tenant_id or not endpoints.client_id:
            raise ValueError("AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID or AZURE_CLIENT_ID is missing")
        return ClientSecretCredential(
            endpoints.tenant_id,
            endpoints.client_id,
            endpoints.client_secret,
            authority=endpoints.authority,
            disable_instance_discovery=not endpoints.is_public_authority,
            connection_verify=endpoints.connection_verify,
        )
    return DefaultAzureCredential(authority=endpoints.authority, connection_verify=endpoints.connection_verify)
