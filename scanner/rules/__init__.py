"""The rule catalogue. Importing this package registers every rule.

Each module of this package (other than :mod:`scanner.rules.support`) holds one family of rules,
``AZ-<FAMILY>-nnn`` (the table is :mod:`scanner.rules.support.families`). Modules are found by
listing the package, so a new family is a new module: nothing here names them.
"""

from __future__ import annotations

import importlib
import pkgutil

from scanner.rules.support.base import REGISTRY, Rule

SUPPORT_PACKAGE = "support"


def rule_modules() -> list[str]:
    """Dotted names of the rule modules, sorted."""
    return sorted(f"{__name__}.{info.name}" for info in pkgutil.iter_modules(__path__)
                  if info.name != SUPPORT_PACKAGE)


for _module in rule_modules():
    importlib.import_module(_module)


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
