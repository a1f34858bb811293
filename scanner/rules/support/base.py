"""Rule metadata, the result a rule yields per resource, and the rule registry.

A rule is metadata plus a pure function ``evaluate(inventory) -> Iterable[Evaluation]``: one
:class:`Evaluation` per resource (or Entra object) it judged. ``passed=False`` becomes a finding;
``passed=None`` means the rule could not read what decides that resource (it is counted as not
evaluated, never as compliant).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from scanner.inventory import Inventory, Needs
from scanner.rules.support.cis_v6 import with_v6
from scanner.rules.support.frameworks import FRAMEWORK_KEYS as FRAMEWORKS
from store.result_keys import finding_key
from store.status import SEVERITIES, ResultStatus

_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


class Evaluation(NamedTuple):
    """One rule's verdict on one resource.

    Every verdict is stored (``status``): a failure as a finding, a pass and a "could not read"
    as a compact result row, so a resource that was judged compliant is distinguishable from one
    nobody looked at.

    Immutable, and a NamedTuple rather than a frozen dataclass because a scan makes one per rule
    per resource (~70,000 at ``large:10000``): a frozen dataclass sets each field through
    ``object.__setattr__`` and took three times as long to build (issue 17's evaluation budget).
    The default ``metadata`` is a read-only empty mapping, shared safely.
    """

    resource_id: str
    resource_name: str
    resource_type: str
    passed: bool | None
    detail: str = ""
    metadata: Mapping[str, Any] = _NO_METADATA
    # the resource's region as ARM reports it ('' for global resources and Entra objects)
    location: str = ""

    @property
    def status(self) -> ResultStatus:
        if self.passed is None:
            return ResultStatus.NOT_EVALUATED
        return ResultStatus.PASS if self.passed else ResultStatus.FAIL

    def key(self, rule_id: str) -> str:
        """The finding key of this verdict under ``rule_id`` (:mod:`store.result_keys`)."""
        return finding_key(rule_id, self.resource_id)


Evaluator = Callable[[Inventory], Iterable[Evaluation]]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    category: str
    description: str
    remediation: str
    frameworks: Mapping[str, tuple[str, ...]]
    needs: Needs
    evaluate: Evaluator

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: unknown severity {self.severity}")
        unknown = set(self.frameworks) - set(FRAMEWORKS)
        if unknown:
            raise ValueError(f"{self.id}: unknown frameworks {sorted(unknown)}")

    def catalogue_entry(self) -> dict[str, Any]:
        """The rule's metadata as JSON-ready data (API catalogue, docs)."""
        return {
            "rule_id": self.id,
            "title": self.title,
            "severity": self.severity,
            "category": self.category,
            "description": self.description,
            "remediation": self.remediation,
            "frameworks": {k: list(v) for k, v in self.frameworks.items()},
        }


REGISTRY: dict[str, Rule] = {}


def rule(
    *,
    id: str,
    title: str,
    severity: str,
    category: str,
    description: str,
    remediation: str,
    frameworks: Mapping[str, Iterable[str]],
    needs: Needs,
) -> Callable[[Evaluator], Evaluator]:
    """Register the decorated evaluator as a rule; the function itself is returned unchanged.

    The rule's CIS v6.0.0 controls come from :mod:`scanner.rules.support.cis_v6` and are merged
    into ``frameworks`` here, so every reader of ``Rule.frameworks`` sees them."""

    def register(func: Evaluator) -> Evaluator:
        if id in REGISTRY:
            raise ValueError(f"duplicate rule id {id}")
        REGISTRY[id] = Rule(
            id=id,
            title=title,
            severity=severity,
            category=category,
            description=description,
            remediation=remediation,
            frameworks=with_v6(id, frameworks),
            needs=needs,
            evaluate=func,
        )
        return func

    return register


def resource_name(resource: Mapping[str, Any]) -> str:
    return str(resource.get("name") or str(resource.get("id", "")).rsplit("/", 1)[-1])
