"""docs/compliance-coverage-v6.md, the v6.0.0 mapping table and the rule registry agree: every
v6 recommendation has exactly one row, a row names a rule exactly when the table maps that rule
to it, every mapped rule exists and every mapped control is a v6 number."""

from __future__ import annotations

import re
from pathlib import Path

from scanner.rules import all_rules, rule_ids
from scanner.rules.support.cis_v6 import CONTROL_IDS, KEY, RULE_CONTROLS, with_v6
from scanner.rules.support.frameworks import BY_SLUG, FRAMEWORK_KEYS

DOC = Path(__file__).resolve().parents[2] / "docs" / "compliance-coverage-v6.md"
ROW = re.compile(r"^\|\s*(\d+(?:\.\d+)*)\s*\|[^|]*\|\s*(.*?)\s*\|\s*$")
RULE_ID = re.compile(r"AZ-[A-Z]+-\d{3}")
UNCLAIMED = ("manual:", "not covered yet:")
COUNT = re.compile(r"^\| (automated|manual|not covered yet)\b[^|]*\| (\d+) \|$")


def doc_rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            control, coverage = match.groups()
            assert control not in rows, f"{control} listed twice"
            rows[control] = coverage
    return rows


def claimed_by_doc(coverage: str) -> set[str]:
    """The rule ids a row's coverage names before any note (`` — ``); none for unclaimed rows."""
    if coverage.startswith(UNCLAIMED):
        return set()
    ids = set(RULE_ID.findall(coverage.split(" — ", 1)[0]))
    assert ids, f"a covered row must name its rule(s): {coverage!r}"
    return ids


def test_every_v6_recommendation_has_one_row() -> None:
    assert len(CONTROL_IDS) == len(set(CONTROL_IDS)) == 127
    assert list(doc_rows()) == list(CONTROL_IDS)


def test_the_doc_names_exactly_the_rules_the_table_maps() -> None:
    from_doc = {c: claimed_by_doc(cov) for c, cov in doc_rows().items()}
    from_table: dict[str, set[str]] = {}
    for rule_id, controls in RULE_CONTROLS.items():
        for control in controls:
            from_table.setdefault(control, set()).add(rule_id)
    assert {c: ids for c, ids in from_doc.items() if ids} == from_table


def test_mapped_rules_exist_and_controls_are_v6_numbers() -> None:
    assert set(RULE_CONTROLS) <= rule_ids(), sorted(set(RULE_CONTROLS) - rule_ids())
    unknown = {r: c for r, cs in RULE_CONTROLS.items() for c in cs if c not in CONTROL_IDS}
    assert not unknown


def test_registered_rules_carry_their_v6_controls() -> None:
    for r in all_rules():
        assert tuple(r.frameworks.get(KEY, ())) == RULE_CONTROLS.get(r.id, ()), r.id
    assert BY_SLUG["cis-v6"].key == KEY and KEY in FRAMEWORK_KEYS
    # the v2.0.0 claims stay as they were
    assert [c for r in all_rules() if r.id == "AZ-NET-002" for c in r.frameworks["CIS"]] == ["6.1"]


def test_merge_keeps_a_rules_own_v6_claims_and_adds_the_tables() -> None:
    some_rule = next(iter(RULE_CONTROLS))
    merged = with_v6(some_rule, {"CIS": ["1.1"], KEY: ["9.9.9"]})
    assert merged["CIS"] == ("1.1",)
    assert merged[KEY] == ("9.9.9", *RULE_CONTROLS[some_rule])
    assert with_v6("AZ-NOT-000", {"CIS": ["1.1"]}) == {"CIS": ("1.1",)}


def test_counts_match_the_rows() -> None:
    rows = doc_rows()
    expected = {
        "automated": sum(1 for cov in rows.values() if not cov.startswith(UNCLAIMED)),
        "manual": sum(1 for cov in rows.values() if cov.startswith("manual:")),
        "not covered yet": sum(1 for cov in rows.values() if cov.startswith("not covered yet:")),
    }
    stated = {m.group(1): int(m.group(2)) for line in DOC.read_text().splitlines() if (m := COUNT.match(line))}
    assert stated == expected
