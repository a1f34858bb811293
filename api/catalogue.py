"""The rule catalogue as the API serves it, built once per app at start-up.

Importing the rules pulls in every rule module; doing it when the app is built means no request
ever imports one, and a broken rule module stops the server at start-up instead of failing the
first request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Catalogue:
    """The rule metadata the routes need."""

    entries: tuple[dict[str, Any], ...]  # Rule.catalogue_entry(), in rule id order
    rule_ids: frozenset[str]
    categories: tuple[str, ...]

    @classmethod
    def load(cls) -> "Catalogue":
        from scanner.rules import all_rules

        entries = tuple(rule.catalogue_entry() for rule in all_rules())
        return cls(
            entries=entries,
            rule_ids=frozenset(e["rule_id"] for e in entries),
            categories=tuple(sorted({e["category"] for e in entries})),
        )

    @cached_property
    def by_id(self) -> dict[str, dict[str, Any]]:
        """Rule id -> catalogue entry."""
        return {e["rule_id"]: e for e in self.entries}

    def controls(self, framework_key: str) -> dict[str, list[str]]:
        """Control id -> ids of the rules mapped to it, for one framework key (``CIS`` …)."""
        mapping: dict[str, list[str]] = {}
        for entry in self.entries:
            for control in entry["frameworks"].get(framework_key, ()):
                mapping.setdefault(control, []).append(entry["rule_id"])
        return mapping
