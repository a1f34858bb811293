"""Small helpers shared by rule modules: tolerant REST readers and verdict builders."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from scanner.inventory import Inventory
from scanner.rules.support.base import Evaluation, resource_name


def flag(value: Any) -> bool | None:
    """A REST boolean (tolerating "true"/"false" strings); None when absent or unreadable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def unreadable(inv: Inventory, resource_type: str, noun: str = "resource") -> Iterator[Evaluation]:
    """Resources that were listed but whose GET failed: not evaluated, never silently compliant."""
    for rid, reason in sorted(inv.unreadable_of_type(resource_type).items()):
        yield Evaluation(
            resource_id=rid,
            resource_name=rid.rsplit("/", 1)[-1],
            resource_type=resource_type,
            passed=None,
            detail=f"{noun} could not be read: {reason}",
        )


def verdict(
    resource: Mapping[str, Any],
    resource_type: str,
    passed: bool | None,
    detail: str,
    metadata: Mapping[str, Any] | None = None,
) -> Evaluation:
    """An Evaluation for an ARM resource in REST shape."""
    return Evaluation(
        resource_id=str(resource.get("id", "")),
        resource_name=resource_name(resource),
        resource_type=resource_type,
        passed=passed,
        detail=detail,
        metadata=dict(metadata or {}),
    )


SUBSCRIPTION_TYPE = "Microsoft.Resources/subscriptions"


def subscription_verdict(
    inv: Inventory, passed: bool | None, detail: str, metadata: Mapping[str, Any] | None = None
) -> Evaluation:
    """The one verdict of a subscription-level rule: the resource is the subscription."""
    return Evaluation(
        resource_id=f"/subscriptions/{inv.subscription_id}",
        resource_name=inv.subscription_id,
        resource_type=SUBSCRIPTION_TYPE,
        passed=passed,
        detail=detail,
        metadata=dict(metadata or {}),
    )
