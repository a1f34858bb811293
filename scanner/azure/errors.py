"""Turn SDK exceptions into short, specific messages a person can act on.

Messages never contain a secret, a token or a traceback (those go to scan.log).
"""

from __future__ import annotations

import re

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError


class CollectionError(Exception):
    """Collection cannot go on at all (authentication, subscription unreadable)."""


_AADSTS_MESSAGES = {
    "7000215": "invalid client secret",
    "7000222": "client secret has expired",
    "700016": "application (client id) not found in the tenant",
    "90002": "tenant not found",
    "900023": "tenant id is not valid",
    "50034": "user account not found",
}


def auth_failure_message(exc: BaseException) -> str:
    """``Azure authentication failed: <reason>`` from an azure-identity error."""
    text = str(exc)
    match = re.search(r"AADSTS(\d+)", text)
    if match:
        reason = _AADSTS_MESSAGES.get(match.group(1), f"Entra ID error AADSTS{match.group(1)}")
    elif "ManagedIdentityCredential" in text or "DefaultAzureCredential failed" in text:
        reason = "no credential available (set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or enable a managed identity)"
    elif "Failed to resolve" in text or "Connection" in text or "connect" in text.lower():
        reason = "cannot reach the Entra ID authority"
    else:
        reason = type(exc).__name__
    return f"Azure authentication failed: {reason}"


def http_error_summary(exc: BaseException) -> str:
    """``403 AuthorizationFailed`` style summary of an HTTP error from either SDK."""
    if isinstance(exc, ClientAuthenticationError):
        return auth_failure_message(exc)
    if isinstance(exc, HttpResponseError):
        code = getattr(getattr(exc, "error", None), "code", None)
        status = exc.status_code
        return f"HTTP {status} {code}" if code else f"HTTP {status}"
    if isinstance(exc, ServiceRequestError):
        return "connection failed"
    status = getattr(exc, "response_status_code", None)
    if status:
        code = getattr(getattr(exc, "error", None), "code", None)
        return f"HTTP {status} {code}" if code else f"HTTP {status}"
    return type(exc).__name__
