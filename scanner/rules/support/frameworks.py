"""The compliance frameworks rules map to: one table for the API, the docs and the exports.

``key`` is how a rule names the framework in ``Rule.frameworks``; ``slug`` how a URL names it
(``/api/compliance/cis``); ``name`` how people name it, with the version the mappings follow.

Two CIS versions live side by side: ``CIS`` keeps the v2.0.0 numbering existing reports use, and
``CIS6`` follows v6.0.0, whose mapping is one table (:mod:`scanner.rules.support.cis_v6`) merged
into each rule's frameworks when the rule registers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    key: str
    slug: str
    name: str


FRAMEWORKS: tuple[Framework, ...] = (
    Framework("CIS", "cis", "CIS Microsoft Azure Foundations Benchmark v2.0.0"),
    Framework("CIS6", "cis-v6", "CIS Microsoft Azure Foundations Benchmark v6.0.0"),
    Framework("NIST", "nist", "NIST Cybersecurity Framework 1.1"),
    Framework("ISO27001", "iso27001", "ISO/IEC 27001:2022 Annex A"),
)
FRAMEWORK_KEYS: tuple[str, ...] = tuple(f.key for f in FRAMEWORKS)
BY_SLUG: dict[str, Framework] = {f.slug: f for f in FRAMEWORKS}


def by_slug(raw: str) -> Framework | None:
    """The framework a URL or query parameter names (any case), or None."""
    return BY_SLUG.get(raw.lower())
