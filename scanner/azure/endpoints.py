"""Cloud endpoints and service-principal settings, read from the environment.

The same variables serve sovereign clouds and the test emulator: ``AZURE_ARM_ENDPOINT``,
``AZURE_GRAPH_ENDPOINT`` and azure-identity's own ``AZURE_AUTHORITY_HOST``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

PUBLIC_ARM = "https://management.azure.com"
PUBLIC_GRAPH = "https://graph.microsoft.com"
PUBLIC_AUTHORITY = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class AzureEndpoints:
    arm: str
    graph: str
    authority: str
    tenant_id: str | None
    client_id: str | None
    client_secret: str | None
    # extra CA bundle (sovereign clouds behind a TLS-inspecting proxy, the emulator)
    ca_bundle: str | None = None

    @classmethod
    def from_env(cls) -> "AzureEndpoints":
        def url(name: str, default: str) -> str:
            return (os.environ.get(name) or default).rstrip("/")

        return cls(
            arm=url("AZURE_ARM_ENDPOINT", PUBLIC_ARM),
            graph=url("AZURE_GRAPH_ENDPOINT", PUBLIC_GRAPH),
            authority=url("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
            tenant_id=os.environ.get("AZURE_TENANT_ID") or None,
            client_id=os.environ.get("AZURE_CLIENT_ID") or None,
            client_secret=os.environ.get("AZURE_CLIENT_SECRET") or None,
            ca_bundle=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or None,
        )

    @property
    def connection_verify(self) -> str | bool:
        """What azure-core transports should verify TLS against.

        Passed explicitly because aiohttp builds its default TLS context when it is imported,
        so a CA named in the environment later (or only in ``REQUESTS_CA_BUNDLE``, which
        aiohttp ignores) would not be trusted.
        """
        return self.ca_bundle or True

    @property
    def arm_scope(self) -> str:
        return f"{self.arm}/.default"

    @property
    def graph_scope(self) -> str:
        return f"{self.graph}/.default"

    @property
    def graph_host(self) -> str:
        return urlparse(self.graph).hostname or ""

    @property
    def is_public_authority(self) -> bool:
        return self.authority == PUBLIC_AUTHORITY

    def __repr__(self) -> str:  # never show the secret, even in a debugger or a log line
        return (
            f"AzureEndpoints(arm={self.arm!r}, graph={self.graph!r}, authority={self.authority!r}, "
            f"tenant_id={self.tenant_id!r}, client_id={self.client_id!r}, client_secret=***)"
        )
