"""Who a request acts for, the two roles, and the errors authentication can raise.

Kept apart from the verifiers so that the HS256, Entra ID and App Service paths all produce the
same :class:`Principal` and raise the same errors, whatever kind of credential came in.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("reader", "operator")
# ``operator`` includes ``reader``: a route needs a rank at least its role's.
RANK = {"reader": 1, "operator": 2}


class TokenError(Exception):
    """A presented credential is not acceptable (401); the message is safe to return to the client."""


class NoRoleError(Exception):
    """A valid credential that carries no OpenShield role (403); the message is safe to return."""


class AuthUnavailable(Exception):
    """The credential cannot be checked right now (503): the revocation list or the identity
    provider's keys are out of reach. The message is safe to return; the cause goes to the log."""


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str | None
    # "service" (HS256 token), "entra" (Entra ID access token) or "easyauth" (App Service header)
    kind: str = "service"


def higher_role(roles: list[str]) -> str | None:
    """The highest of ``roles`` (``operator`` beats ``reader``), or None when there is none."""
    known = [role for role in roles if role in RANK]
    return max(known, key=RANK.__getitem__) if known else None
