"""CIS Microsoft Azure Foundations Benchmark v6.0.0: which rules test which recommendation.

The v6 mapping is one table here instead of a ``frameworks`` entry in every rule module: v6
renumbered the benchmark by service (and moved Entra ID settings, App Service and databases out
to other CIS benchmarks), so it is reviewed as a whole against the v6 list, and rule modules keep
their v2.0.0 ``CIS`` claims that existing reports rely on. :func:`with_v6` merges a rule's row
into its frameworks when the rule registers (:func:`scanner.rules.support.base.rule`), so the
catalogue, the API's ``/api/compliance/cis-v6``, the exports and the dashboard see it like any
other framework.

Adding a mapping is one line in :data:`RULE_CONTROLS`; ``docs/compliance-coverage-v6.md`` must
then name the rule on the control's row (``tests/rules/test_compliance_coverage_v6.py`` holds
the two equal, and fails when a rule module names ``CIS6`` itself: this table is the one place). Claim a control only when the rule's verdict answers what the recommendation
asks, not a neighbouring or looser question.
"""

from __future__ import annotations

from typing import Iterable, Mapping

KEY = "CIS6"

# Every recommendation number of v6.0.0 (127), by section. Verified where two independent public
# catalogues agree (sources in docs/compliance-coverage-v6.md).
CONTROL_IDS: tuple[str, ...] = tuple(
    """
    2.1.1 2.1.2 2.1.3 2.1.4 2.1.5 2.1.6 2.1.7 2.1.8 2.1.9 2.1.10 2.1.11 2.1.12
    3.1.1
    5.1.1 5.1.2 5.1.3 5.1.4 5.3.1 5.3.2 5.3.3 5.3.4 5.3.5 5.3.6 5.3.7 5.4 5.5 5.6 5.7
    6.1.1.1 6.1.1.2 6.1.1.3 6.1.1.4 6.1.1.5 6.1.1.6 6.1.1.7 6.1.1.8 6.1.1.9
    6.1.2.1 6.1.2.2 6.1.2.3 6.1.2.4 6.1.2.5 6.1.2.6 6.1.2.7 6.1.2.8 6.1.2.9 6.1.2.10 6.1.2.11
    6.1.3.1 6.1.4 6.1.5 6.2
    7.1 7.2 7.3 7.4 7.5 7.6 7.7 7.8 7.9 7.10 7.11 7.12 7.13 7.14 7.15 7.16
    8.1.1.1 8.1.2.1 8.1.3.1 8.1.3.2 8.1.3.3 8.1.3.4 8.1.3.5 8.1.4.1 8.1.5.1 8.1.5.2 8.1.6.1
    8.1.7.1 8.1.7.2 8.1.7.3 8.1.7.4 8.1.8.1 8.1.9.1 8.1.10 8.1.11 8.1.12 8.1.13 8.1.14 8.1.15
    8.1.16 8.2.1
    8.3.1 8.3.2 8.3.3 8.3.4 8.3.5 8.3.6 8.3.7 8.3.8 8.3.9 8.3.10 8.3.11 8.4.1 8.5
    9.1.1 9.1.2 9.1.3 9.2.1 9.2.2 9.2.3 9.3.1.1 9.3.1.2 9.3.1.3 9.3.2.1 9.3.2.2 9.3.2.3 9.3.3.1
    9.3.4 9.3.5 9.3.6 9.3.7 9.3.8 9.3.9 9.3.10 9.3.11
    """.split()
)

# rule id -> the v6.0.0 recommendations its verdicts answer. One line per rule.
RULE_CONTROLS: dict[str, tuple[str, ...]] = {
    # 2 Analytics services: Azure Databricks
    "AZ-DBW-001": ("2.1.10",),
    "AZ-DBW-002": ("2.1.9",),
    "AZ-DBW-004": ("2.1.1",),
    "AZ-DBW-006": ("2.1.2",),
    "AZ-DBW-005": ("2.1.11",),
    "AZ-DBW-007": ("2.1.7",),
    # 3 Compute services
    "AZ-IAM-027": ("3.1.1",),
    # 5 Identity services
    "AZ-IAM-026": ("5.1.1",),
    "AZ-IAM-001": ("5.1.3",),
    "AZ-IAM-022": ("5.3.3",),
    "AZ-IAM-025": ("5.3.5",),
    "AZ-IAM-010": ("5.4",),
    "AZ-IAM-024": ("5.6",),
    "AZ-IAM-011": ("5.7",),
    # 6 Management and governance: logging and monitoring
    "AZ-MON-001": ("6.1.1.1",),
    "AZ-MON-002": ("6.1.1.2",),
    "AZ-MON-014": ("6.1.1.3",),
    "AZ-KV-005": ("6.1.1.4",),
    "AZ-NET-019": ("6.1.1.5",),
    "AZ-NET-021": ("6.1.1.6",),
    "AZ-MON-017": ("6.1.1.7",),
    "AZ-MON-018": ("6.1.1.8",),
    "AZ-MON-003": ("6.1.2.1", "6.1.2.2"),
    "AZ-MON-004": ("6.1.2.3", "6.1.2.4"),
    "AZ-MON-005": ("6.1.2.5", "6.1.2.6"),
    "AZ-MON-007": ("6.1.2.7", "6.1.2.8"),
    "AZ-MON-008": ("6.1.2.9", "6.1.2.10"),
    "AZ-MON-009": ("6.1.2.11",),
    "AZ-MON-016": ("6.1.3.1",),
    # 7 Networking services
    "AZ-NET-002": ("7.1",),
    "AZ-NET-001": ("7.2",),
    "AZ-NET-011": ("7.3",),
    "AZ-NET-013": ("7.4",),
    "AZ-NET-010": ("7.5",),
    "AZ-NET-009": ("7.6",),
    "AZ-NET-007": ("7.10",),
    "AZ-NET-005": ("7.11",),
    "AZ-NET-020": ("7.8",),
    "AZ-NET-022": ("7.9",),
    "AZ-NET-015": ("7.12",),
    "AZ-NET-016": ("7.13",),
    "AZ-NET-017": ("7.14",),
    "AZ-NET-018": ("7.15",),
    # 8 Security services: Defender for Cloud, Key Vault, Bastion, DDoS
    "AZ-MON-006": ("8.1.1.1", "8.1.2.1", "8.1.3.1", "8.1.4.1", "8.1.5.1", "8.1.6.1", "8.1.7.1", "8.1.7.2",
                   "8.1.7.3", "8.1.7.4", "8.1.8.1", "8.1.9.1"),
    "AZ-DEF-008": ("8.1.11",),
    "AZ-DEF-004": ("8.1.12",),
    "AZ-DEF-001": ("8.1.13",),
    "AZ-DEF-003": ("8.1.14",),
    "AZ-DEF-007": ("8.1.3.3",),
    "AZ-DEF-012": ("8.1.3.2",),
    "AZ-DEF-009": ("8.1.3.4",),
    "AZ-DEF-010": ("8.1.3.5",),
    "AZ-DEF-011": ("8.1.15",),
    "AZ-DEF-013": ("8.2.1",),
    "AZ-CMP-010": ("8.1.10",),
    "AZ-KV-006": ("8.3.1", "8.3.2"),
    "AZ-KV-008": ("8.3.3", "8.3.4"),
    "AZ-KV-002": ("8.3.5",),
    "AZ-KV-003": ("8.3.6",),
    "AZ-KV-011": ("8.3.7",),
    "AZ-KV-010": ("8.3.8",),
    "AZ-KV-009": ("8.3.9",),
    "AZ-NET-012": ("8.4.1",),
    "AZ-NET-008": ("8.5",),
    # 9 Storage services
    "AZ-STOR-017": ("9.1.1",),
    "AZ-STOR-018": ("9.1.2",),
    "AZ-STOR-019": ("9.1.3",),
    "AZ-STOR-020": ("9.3.2.2",),
    "AZ-STOR-021": ("9.3.3.1",),
    "AZ-STOR-022": ("9.3.9",),
    "AZ-STOR-005": ("9.2.1", "9.2.2"),
    "AZ-STOR-007": ("9.2.3",),
    "AZ-STOR-013": ("9.3.1.1",),
    "AZ-STOR-012": ("9.3.1.2",),
    "AZ-STOR-006": ("9.3.1.3",),
    "AZ-STOR-011": ("9.3.2.1",),
    "AZ-STOR-004": ("9.3.2.3",),
    "AZ-STOR-002": ("9.3.4",),
    "AZ-STOR-015": ("9.3.5",),
    "AZ-STOR-003": ("9.3.6",),
    "AZ-STOR-010": ("9.3.7",),
    "AZ-STOR-001": ("9.3.8",),
}


def with_v6(rule_id: str, frameworks: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """``frameworks`` plus the rule's v6 row, if it has one (a ``CIS6`` list the rule module
    gives itself is kept, and the table's controls are added to it)."""
    merged = {k: tuple(v) for k, v in frameworks.items()}
    extra = RULE_CONTROLS.get(rule_id, ())
    if extra:
        own = merged.get(KEY, ())
        merged[KEY] = own + tuple(c for c in extra if c not in own)
    return merged
