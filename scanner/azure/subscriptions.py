"""Which subscriptions the identity can see: ARM ``GET /subscriptions`` through
azure-mgmt-resource-subscriptions' ``SubscriptionClient`` (it follows ``nextLink``).

An identity sees a subscription when it holds a role on it or above it: give it Reader at the
tenant root management group to see every subscription (docs/deploy-app-service.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from azure.core.exceptions import AzureError
from azure.mgmt.resource.subscriptions.aio import SubscriptionClient

from scanner.azure.credential import build_credential
from scanner.azure.endpoints import AzureEndpoints
from scanner.azure.errors import http_error_summary

# Subscription states in which ARM still serves reads (Microsoft Learn, "Azure subscription
# states"): Disabled and Deleted subscriptions are listed but not scanned.
SCANNABLE_STATES = frozenset({"Enabled", "Warned", "PastDue"})


class DiscoveryError(Exception):
    """Listing subscriptions failed (the message is short and safe to show)."""


@dataclass(frozen=True)
class DiscoveredSubscription:
    subscription_id: str
    display_name: str
    state: str
    tenant_id: str | None = None

    @property
    def scannable(self) -> bool:
        return self.state in SCANNABLE_STATES


def _state(value: object) -> str:
    raw = getattr(value, "value", value)
    return str(raw) if raw else "Unknown"


async def _list(endpoints: AzureEndpoints) -> list[DiscoveredSubscription]:
    credential = build_credential(endpoints)
    async with credential, SubscriptionClient(credential, base_url=endpoints.arm,
                                              credential_scopes=[endpoints.arm_scope],
                                              connection_verify=endpoints.connection_verify) as client:
        found = [DiscoveredSubscription(str(s.subscription_id).lower(), s.display_name or "", _state(s.state),
                                        s.tenant_id) async for s in client.subscriptions.list()]
    return sorted(found, key=lambda s: (s.display_name.lower(), s.subscription_id))


def list_subscriptions(endpoints: AzureEndpoints | None = None) -> list[DiscoveredSubscription]:
    """Every subscription the identity can see, sorted by name; :class:`DiscoveryError` on failure."""
    try:
        return asyncio.run(_list(endpoints or AzureEndpoints.from_env()))
    except (AzureError, ValueError, OSError) as exc:
        raise DiscoveryError(f"could not list subscriptions: {http_error_summary(exc)}") from exc
