"""The rule catalogue. Importing this package registers every rule module."""

from __future__ import annotations

from scanner.rules import (  # noqa: F401
    appservice,
    compute,
    containers,
    databases,
    identity,
    keyvault,
    keyvault_secrets,
    monitoring,
    network,
    storage,
    versions,
    vm_exposure,
)
from scanner.rules.support.base import REGISTRY, Rule


def all_rules() -> list[Rule]:
    """Every rule, in id order."""
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def rule_ids() -> frozenset[str]:
    """Every rule id of the catalogue."""
    return frozenset(REGISTRY)


def select_rules(rule_ids: list[str] | None) -> list[Rule]:
    """The rules named (all when ``rule_ids`` is empty); unknown ids raise ``KeyError``."""
    if not rule_ids:
        return all_rules()
    unknown = [r for r in rule_ids if r not in REGISTRY]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [REGISTRY[r] for r in sorted(set(rule_ids))]
