"""Small helpers shared by rule modules: tolerant REST readers, verdict builders, and the two
shapes almost every rule has.

Most rules judge *each resource of one type* (:func:`judge_each_resource`) or give *one verdict
on the subscription* (:func:`judge_subscription`). Both are decorators around a decision function
that returns a :class:`Judgement`, so a rule is its metadata plus that decision, and the loop,
the resource naming and the "could not be read" entries are written once, here.
"""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, NamedTuple

from scanner.inventory import ChildSpec, Inventory, props, resource_type_of_id
from scanner.rules.support.base import Evaluation, Evaluator, resource_name
from scanner.rules.support.memo import per_object

Resource = dict[str, Any]  # one ARM resource in REST shape
SUBSCRIPTION_TYPE = "Microsoft.Resources/subscriptions"


class Judgement(NamedTuple):
    """A rule's decision on one thing: passed (True), failed (False) or not evaluated (None:
    what decides it could not be read), why in words, and the facts it rests on."""

    passed: bool | None
    detail: str
    metadata: Mapping[str, Any] = MappingProxyType({})


def flag(value: Any) -> bool | None:
    """A REST boolean (tolerating "true"/"false" strings); None when absent or unreadable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def public_network_access(resource: Mapping[str, Any]) -> Judgement:
    """The verdict on ``publicNetworkAccess`` for types whose default is Enabled: absent or
    Enabled fails, any other value (Disabled, SecuredByPerimeter) passes."""
    access = props(resource).get("publicNetworkAccess")
    metadata = {"publicNetworkAccess": access}
    if str(access or "Enabled").strip().lower() == "enabled":
        return Judgement(False, f"public network access is {access or 'Enabled (default)'}", metadata)
    return Judgement(True, f"public network access is {access}", metadata)


def approved_private_endpoints(resource: Mapping[str, Any]) -> list[str]:
    """Names of a resource's private endpoint connections (``properties.privateEndpointConnections``,
    the shape storage, Key Vault, Cosmos DB and others share) whose state is Approved."""
    names = []
    for connection in as_dict(resource.get("properties")).get("privateEndpointConnections") or []:
        connection = as_dict(connection)
        state = as_dict(as_dict(connection.get("properties")).get("privateLinkServiceConnectionState"))
        if str(state.get("status") or "").lower() == "approved":
            names.append(str(connection.get("name") or connection.get("id") or "?").rsplit("/", 1)[-1])
    return names


@per_object
def _unreadable_by_type(inv: Inventory) -> dict[str, list[tuple[str, str]]]:
    """Failed resource reads grouped by (lower-cased) type, each group sorted by id: one pass
    over ``inv.unreadable`` per evaluating phase instead of one per rule."""
    by_type: dict[str, list[tuple[str, str]]] = {}
    for rid, reason in inv.unreadable.items():
        if "|" not in rid:  # not a child's failure
            by_type.setdefault(resource_type_of_id(rid), []).append((rid, reason))
    return {rtype: sorted(reads) for rtype, reads in by_type.items()}


def unreadable(inv: Inventory, resource_type: str, noun: str = "resource") -> Iterator[Evaluation]:
    """Resources that were listed but whose GET failed: not evaluated, never silently compliant."""
    for rid, reason in _unreadable_by_type(inv).get(resource_type.lower(), ()):
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
    """An Evaluation for an ARM resource in REST shape (positional: built once per rule and
    resource, so it stays lean)."""
    rid = str(resource.get("id", ""))
    name = resource.get("name")
    return Evaluation(
        rid,
        str(name) if name else rid.rsplit("/", 1)[-1],  # base.resource_name, inlined
        resource_type,
        passed,
        detail,
        dict(metadata) if metadata else {},
        str(resource.get("location") or ""),
    )


def child_of(inv: Inventory, spec: ChildSpec, resource: Mapping[str, Any]) -> Any:
    """The child payload read under ``resource``, or ``MISSING`` (falsy) when it was not read."""
    return inv.child(spec, str(resource.get("id", "")))


def unread_child(inv: Inventory, spec: ChildSpec, resource: Mapping[str, Any], what: str,
                 *, unknown: str = "child not collected") -> Judgement:
    """Not evaluated, because the child that decides (``what``, in words) could not be read: the
    read's error, or ``unknown`` when the inventory holds neither payload nor error."""
    reason = inv.child_error(spec, str(resource.get("id", ""))) or unknown
    return Judgement(None, f"{what} could not be read: {reason}")


ResourceJudge = Callable[[Inventory, Resource], Judgement | None]


def judge_each_resource(resource_type: str, noun: str = "resource") -> Callable[[ResourceJudge], Evaluator]:
    """Make a rule of a decision on one resource: ``judge(inv, resource) -> Judgement | None``.

    The rule then yields one verdict per readable resource of ``resource_type`` (None from the
    judge: the resource is outside the rule's scope, e.g. a Windows VM for a Linux-only rule),
    followed by one "not evaluated" verdict per listed resource whose GET failed (``<noun> could
    not be read: <reason>``). Written once so that no rule can forget the unreadable ones, which
    would otherwise vanish from the counts instead of being reported as not evaluated.
    """

    def decorate(judge: ResourceJudge) -> Evaluator:
        @functools.wraps(judge)
        def evaluate(inv: Inventory) -> Iterator[Evaluation]:
            for resource in inv.of_type(resource_type):
                judgement = judge(inv, resource)
                if judgement is not None:
                    yield verdict(resource, resource_type, *judgement)
            yield from unreadable(inv, resource_type, noun)

        return evaluate

    return decorate


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


def judge_subscription(judge: Callable[[Inventory], Judgement | None]) -> Evaluator:
    """Make a rule of a decision on the whole subscription: ``judge(inv) -> Judgement | None``.

    CIS asks some questions of the subscription itself ("is the activity log exported", "are
    there more than three Owners"): such a rule yields one verdict whose resource is
    ``/subscriptions/<id>`` (type ``Microsoft.Resources/subscriptions``), so findings and counts
    treat the subscription like any resource. The judge returns None when the data it needs was
    not collected: the rule then says nothing rather than judge data it did not see.
    """

    @functools.wraps(judge)
    def evaluate(inv: Inventory) -> Iterator[Evaluation]:
        judgement = judge(inv)
        if judgement is not None:
            yield subscription_verdict(inv, *judgement)

    return evaluate
